package bench_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events/bench"
)

// TestRunQuick checks the shape of a quick run: every scenario, in order,
// with a figure and, where one applies, a baseline, ratios from at least
// five pairs and a target verdict. It asserts nothing about speed.
func TestRunQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole benchmark run, if quick: not under -short (the race pass)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	mem := bench.NewMemory()
	rs, err := bench.Run(ctx, bench.Config{DataDir: t.TempDir(), Quick: true, Progress: &progress, Memory: mem})
	if err != nil {
		t.Fatal(err)
	}
	rs = append(rs, bench.MemoryResults("store", mem, 0)...)

	type want struct {
		scenario string
		pairs    bool // compared round by round with a baseline
		budget   bool // compared with a fixed budget
	}
	var wants []want
	for _, sync := range []string{"fsync", "lazy"} {
		for _, c := range []string{"c1", "c8", "c64"} {
			tag := sync + "/" + c
			wants = append(wants, want{scenario: "raw/publish/" + tag})
			if sync == "fsync" {
				wants = append(wants, want{scenario: "raw/atomic-batches/" + tag})
			}
			wants = append(wants, want{scenario: "append/single/" + tag, pairs: true})
			if sync == "fsync" {
				wants = append(wants, want{scenario: "append/single/" + tag + "/vs-batched", pairs: true})
			}
			wants = append(wants, want{scenario: "append/three/" + tag, pairs: true})
		}
	}
	wants = append(wants,
		want{scenario: "load/snapshot+tail0-99", budget: true},
		want{scenario: "load/snapshot+tail0-99"},
		want{scenario: "load/fold1000", budget: true},
		want{scenario: "load/fold1000"},
		want{scenario: "replay/raw"},
		want{scenario: "replay/store", pairs: true},
		want{scenario: "store/memory"},
		want{scenario: "store/memory"},
	)

	if len(rs) != len(wants) {
		var got []string
		for _, r := range rs {
			got = append(got, r.Scenario+" "+r.Metric)
		}
		t.Fatalf("%d results, want %d:\n%s", len(rs), len(wants), strings.Join(got, "\n"))
	}
	for i, w := range wants {
		r := rs[i]
		if r.Scenario != w.scenario {
			t.Errorf("result %d is %q, want %q", i, r.Scenario, w.scenario)
			continue
		}
		if r.Metric == "" || r.Unit == "" || !(r.Value > 0) {
			t.Errorf("%s: metric %q, unit %q, value %v", r.Scenario, r.Metric, r.Unit, r.Value)
		}
		switch {
		case w.pairs:
			if r.Pairs < 5 || !(r.Baseline > 0) || r.Met == nil || r.Target == "" {
				t.Errorf("%s: %d pairs, baseline %v, target %q, met %v; want >= 5 pairs, a baseline and a verdict", r.Scenario, r.Pairs, r.Baseline, r.Target, r.Met)
			}
			if r.RatioMin > r.Ratio || r.Ratio > r.RatioMax {
				t.Errorf("%s: ratio %v outside its min %v and max %v", r.Scenario, r.Ratio, r.RatioMin, r.RatioMax)
			}
		case w.budget:
			if !(r.Baseline > 0) || r.Met == nil {
				t.Errorf("%s: budget %v, met %v", r.Scenario, r.Baseline, r.Met)
			}
		default:
			if r.Baseline != 0 || r.Met != nil {
				t.Errorf("%s %s: baseline %v, met %v; want none", r.Scenario, r.Metric, r.Baseline, r.Met)
			}
		}
	}

	var table strings.Builder
	bench.PrintTable(&table, rs)
	for _, w := range wants {
		if !strings.Contains(table.String(), w.scenario) {
			t.Errorf("table lacks %s", w.scenario)
		}
	}
	t.Logf("\n%s", table.String())
}

func TestRunNeedsDataDir(t *testing.T) {
	if _, err := bench.Run(context.Background(), bench.Config{}); err == nil {
		t.Fatal("Run without DataDir succeeded")
	}
}

// Interleave never lets one workload always go first, and Pair takes the
// median of the per-round ratios.
func TestInterleaveAlternatesAndPairs(t *testing.T) {
	var order []string
	rate := map[string][]float64{"raw": {10, 10, 10, 10, 10, 10}, "ours": {5, 8, 9, 20, 9, 9}}
	next := map[string]int{}
	m := func(name string) bench.Measure {
		return func(context.Context) (float64, error) {
			order = append(order, name)
			v := rate[name][next[name]]
			next[name]++
			return v, nil
		}
	}
	rs, err := bench.Interleave(context.Background(), 5, []string{"raw", "ours"}, m("raw"), m("ours"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "raw,ours,raw,ours,ours,raw,raw,ours,ours,raw,raw,ours" {
		t.Errorf("order %s", got)
	}
	p := rs.Compare(1, 0)
	// Warm-up (10, 5) dropped; ratios .8 .9 2 .9 .9: median .9.
	if p.Pairs != 5 || p.Ratio != 0.9 || p.Min != 0.8 || p.Max != 2 {
		t.Errorf("paired %+v", p)
	}
}
