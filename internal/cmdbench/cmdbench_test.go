package cmdbench

import (
	"context"
	"testing"
	"time"
)

// The figures are the benchmark's business; this checks that a run
// measures every scenario against a baseline from the same run.
func TestRunMeasuresEveryScenario(t *testing.T) {
	rs, err := Run(context.Background(), Config{DataDir: t.TempDir(), Duration: 150 * time.Millisecond, Concurrency: []int{1, 8}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2", len(rs))
	}
	for _, r := range rs {
		if r.Value <= 0 || r.Baseline <= 0 || r.Ratio <= 0 || r.Met == nil {
			t.Errorf("%+v: want a value, a baseline, a ratio and a verdict", r)
		}
	}
}
