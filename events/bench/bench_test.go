package bench_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events/bench"
)

// TestRunQuick checks the shape of a quick run: every scenario, in order,
// with a figure and, where one applies, a baseline and a target verdict.
// It asserts nothing about speed.
func TestRunQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole benchmark run, if quick: not under -short (the race pass)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	rs, err := bench.Run(ctx, bench.Config{DataDir: t.TempDir(), Quick: true, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}

	type want struct {
		scenario string
		baseline bool // has a baseline, a target and a verdict
	}
	var wants []want
	for _, sync := range []string{"fsync", "lazy"} {
		for _, c := range []string{"c1", "c8", "c64"} {
			wants = append(wants,
				want{"raw/publish/" + sync + "/" + c, false},
				want{"append/single/" + sync + "/" + c, true},
				want{"append/three/" + sync + "/" + c, true},
			)
		}
		if sync == "fsync" {
			wants = append(wants, want{"append/single/fsync/c64/vs-raw-c1", true})
		}
	}
	wants = append(wants,
		want{"load/10", false},
		want{"load/1000", false},
		want{"load/1000/snapshot+tail3", true},
		want{"replay/raw", false},
		want{"replay/store", true},
	)

	if len(rs) != len(wants) {
		var got []string
		for _, r := range rs {
			got = append(got, r.Scenario)
		}
		t.Fatalf("%d results, want %d:\n%s", len(rs), len(wants), strings.Join(got, "\n"))
	}
	for i, w := range wants {
		r := rs[i]
		if r.Scenario != w.scenario {
			t.Errorf("result %d is %q, want %q", i, r.Scenario, w.scenario)
			continue
		}
		if r.Metric == "" || r.Unit == "" {
			t.Errorf("%s: metric %q, unit %q", r.Scenario, r.Metric, r.Unit)
		}
		if !(r.Value > 0) {
			t.Errorf("%s: value %v, want > 0", r.Scenario, r.Value)
		}
		if !w.baseline {
			if r.Baseline != 0 || r.Met != nil {
				t.Errorf("%s: baseline %v, met %v; want none", r.Scenario, r.Baseline, r.Met)
			}
			continue
		}
		if !(r.Baseline > 0) {
			t.Errorf("%s: baseline %v, want > 0", r.Scenario, r.Baseline)
			continue
		}
		if r.Target == "" || r.Met == nil {
			t.Errorf("%s: target %q, met %v; want a target and a verdict", r.Scenario, r.Target, r.Met)
		}
		if d := r.Ratio - r.Value/r.Baseline; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: ratio %v, want value/baseline %v", r.Scenario, r.Ratio, r.Value/r.Baseline)
		}
	}

	var table strings.Builder
	bench.PrintTable(&table, rs)
	for _, w := range wants {
		if !strings.Contains(table.String(), w.scenario) {
			t.Errorf("table lacks %s", w.scenario)
		}
		if !strings.Contains(progress.String(), w.scenario) {
			t.Errorf("progress lacks %s", w.scenario)
		}
	}
	t.Logf("\n%s", table.String())
}

func TestRunNeedsDataDir(t *testing.T) {
	if _, err := bench.Run(context.Background(), bench.Config{}); err == nil {
		t.Fatal("Run without DataDir succeeded")
	}
}
