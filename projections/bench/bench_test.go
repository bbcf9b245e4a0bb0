package bench_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/projections/bench"
)

// TestRunTiny checks the shape of a run on a tiny log: every scenario,
// with a figure, and a verdict where there is a target. It asserts
// nothing about speed.
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole benchmark run, if tiny: not under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs, err := bench.Run(ctx, bench.Config{DataDir: t.TempDir(), Events: 1500, Writers: 16})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Scenario+" "+r.Metric)
		// Rates and sizes are never zero; a CPU time or a latency may round
		// to zero on a tiny log on a coarse clock.
		counted := strings.HasSuffix(r.Metric, "_per_sec") || strings.HasSuffix(r.Metric, "bytes") || strings.HasSuffix(r.Metric, "size")
		if r.Value < 0 || (counted && r.Value == 0) {
			t.Errorf("%s %s: no figure (%v)", r.Scenario, r.Metric, r.Value)
		}
		if r.Target != "" && r.Met == nil {
			t.Errorf("%s %s: a target without a verdict", r.Scenario, r.Metric)
		}
	}
	want := []string{
		"setup/append appends_per_sec", "replay/raw msgs_per_sec", "rebuild/all events_per_sec",
		"replay/raw cpu_per_msg", "rebuild/all cpu_per_event", "rebuild/all+save took", "rebuild/all state_heap",
		"snapshot/lifecycle bytes", "snapshot/timeline bytes", "snapshot/market bytes", "snapshot/dealboard bytes",
		"codec/lifecycle/gob encode+decode", "codec/lifecycle/gob size", "codec/timeline/gob encode+decode", "codec/timeline/gob size",
		"restart/snapshots ready",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("scenarios:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var table strings.Builder
	bench.PrintTable(&table, rs)
	if !strings.Contains(table.String(), "targets: ") {
		t.Errorf("table without a verdict line:\n%s", table.String())
	}
}
