package restartbench

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge/events/bench"
)

// The one-shot run at a small size: one start per case, each with its
// time to ready, every service's own, and its peak RSS.
func TestRunOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a log and starts the product three times")
	}
	mem := bench.NewMemory()
	defer mem.Stop()
	rs, err := RunOnce(context.Background(), Config{DataDir: t.TempDir(), Quick: true, Memory: mem})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, r := range rs {
		got[r.Scenario+" "+r.Metric] = r.Value
	}
	for _, s := range onceStarts {
		for _, key := range []string{"restart/once/" + s.name + " start_to_ready_ms", "restart/once/" + s.name + "/matching ready_ms", "restart/once/" + s.name + " peak_rss_mib"} {
			if got[key] <= 0 {
				t.Errorf("no %s in %v", key, got)
			}
		}
	}
	i := slices.IndexFunc(rs, func(r bench.Result) bool { return r.Scenario == "restart/once/cold" })
	if i < 0 || !strings.Contains(rs[i].Note, "5000 events") {
		t.Errorf("cold start's note does not name the log's size: %+v", rs)
	}
}
