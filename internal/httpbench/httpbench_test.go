package httpbench

import (
	"context"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// A quick run against the product started in this process: every step
// reports what it asked and achieved, each workload its highest rate held
// beside the raw publish rate of the same run, and the lag its percentiles.
// It asserts nothing about speed.
func TestRunAndLagQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole product: not under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := Config{DataDir: t.TempDir(), Quick: true, Workloads: []string{"writes", "read-lifecycle"}, Companies: 4,
		Step: 300 * time.Millisecond, MaxSteps: 2}
	rs, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var steps, held int
	var raw, floor, rawOpen, vsFloor, vsRawOpen bool
	for _, r := range rs {
		switch {
		case r.Scenario == "http/floor" || r.Scenario == "http/raw-open":
			ok := r.Metric == "held_per_sec" && r.Value > 0 && r.Met == nil
			floor, rawOpen = floor || ok && r.Scenario == "http/floor", rawOpen || ok && r.Scenario == "http/raw-open"
		case r.Metric == "held_vs_floor":
			vsFloor = r.Scenario == "http/read-lifecycle" && r.Baseline > 0 && r.Ratio == r.Value/r.Baseline
		case r.Metric == "held_vs_raw_open":
			vsRawOpen = r.Scenario == "http/writes" && r.Baseline > 0 && r.Ratio == r.Value/r.Baseline
		case strings.Contains(r.Scenario, "/at-"):
			steps++
			if r.Value <= 0 || !strings.Contains(r.Note, "asked") || !strings.Contains(r.Note, "p99") {
				t.Errorf("step %s: %v %q", r.Scenario, r.Value, r.Note)
			}
		case r.Metric == "held_per_sec":
			held++
			if r.Target == "" || r.Met == nil || r.Baseline <= 0 {
				t.Errorf("%s: target %q, met %v, baseline %v", r.Scenario, r.Target, r.Met, r.Baseline)
			}
		case r.Scenario == "http/raw-publish/fsync/c64":
			raw = r.Value > 0
		}
	}
	if steps < 2 || held != 2 || !raw {
		t.Errorf("%d steps, %d held figures, raw figure %v: want >= 2, 2, true", steps, held, raw)
	}
	// Each workload is measured beside its baseline held just before it:
	// the writes beside raw open-loop publishes, the read beside the floor.
	if !floor || !rawOpen || !vsFloor || !vsRawOpen {
		t.Errorf("floor %v, raw open loop %v, read against the floor %v, writes against raw open loop %v: want all", floor, rawOpen, vsFloor, vsRawOpen)
	}

	cfg.LagDuration, cfg.LagRate = time.Second, 50
	rs, err = Lag(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].Metric != "p50" || rs[1].Metric != "p99" || rs[1].Met == nil || rs[2].Scenario != "lag/load/at-50" {
		t.Errorf("lag figures: %+v", rs)
	}
}

// The workloads' requests: a write carries its own idempotency key and
// the caller's token; an unknown workload is refused by name.
func TestTargeter(t *testing.T) {
	p := &product{base: "http://fb", operator: "op", startups: []startup{{token: "a", companyID: "c1"}, {token: "b", companyID: "c2"}}}
	tr, err := p.targeter("writes")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for range 4 {
		var tgt vegeta.Target
		if err := tr(&tgt); err != nil {
			t.Fatal(err)
		}
		k := tgt.Header.Get("Idempotency-Key")
		if tgt.Method != "POST" || tgt.URL != "http://fb/api/v1/applications" || k == "" || keys[k] || !strings.HasPrefix(tgt.Header.Get("Authorization"), "Bearer ") {
			t.Errorf("write target %+v", tgt)
		}
		keys[k] = true
	}
	mix, err := p.targeter("mix")
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	for range 100 {
		var tgt vegeta.Target
		if err := mix(&tgt); err != nil {
			t.Fatal(err)
		}
		if tgt.Method == "POST" {
			writes++
		}
	}
	if writes != 10 {
		t.Errorf("mix: %d writes in 100, want 10", writes)
	}
	if _, err := p.targeter("deletes"); err == nil || !strings.Contains(err.Error(), `"deletes"`) {
		t.Errorf("unknown workload: %v", err)
	}
}

// Stepping up finds the highest rate a server holds to within about 10%:
// past the first rate not held, it bisects the gap to the last one held.
func TestStepUpNarrowsTheRateHeld(t *testing.T) {
	for _, capacity := range []float64{130, 2200, 2500, 9000} {
		var asked []float64
		hold := func(rate float64) (step, error) {
			asked = append(asked, rate)
			return step{asked: rate, achieved: rate, held: rate <= capacity}, nil
		}
		steps, err := stepUp(Config{StartRate: 100, MaxSteps: 14}, "writes", hold, func() error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		var held float64
		for _, s := range steps {
			if s.held {
				held = max(held, s.achieved)
			}
		}
		if held > capacity || held < capacity/1.11 {
			t.Errorf("capacity %.0f/s: held %.0f/s after asking %v; want within 10%% below", capacity, held, asked)
		}
		if n := len(asked); n < 2 || asked[n-1] >= asked[n-2]*rateFactor {
			t.Errorf("capacity %.0f/s: asked %v; want the last steps between a rate held and one not", capacity, asked)
		}
	}
}
