package cmdbench

import (
	"context"
	"testing"
	"time"
)

// The figures are the benchmark's business; this checks that a run
// measures every scenario against a baseline from the same run, in at
// least five pairs of rounds.
func TestRunMeasuresEveryScenario(t *testing.T) {
	rs, err := Run(context.Background(), Config{DataDir: t.TempDir(), Round: 50 * time.Millisecond, Concurrency: []int{1, 8}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 {
		t.Fatalf("%d results, want 4", len(rs))
	}
	for i, r := range rs {
		if r.Value <= 0 {
			t.Errorf("%+v: no figure", r)
		}
		if i%2 == 1 && (r.Baseline <= 0 || r.Ratio <= 0 || r.Met == nil || r.Pairs < 5) {
			t.Errorf("%+v: want a baseline, a ratio from >= 5 pairs and a verdict", r)
		}
	}
}
