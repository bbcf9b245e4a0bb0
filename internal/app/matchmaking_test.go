package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/services/applications"
	"github.com/fundbridge/fundbridge/services/deals"
	"github.com/fundbridge/fundbridge/services/funds"
	"github.com/fundbridge/fundbridge/services/insurance"
	"github.com/fundbridge/fundbridge/services/matching"
	"github.com/fundbridge/fundbridge/services/process"
)

// The matchmaking process (services/matching/matchmaking.go) across stops
// and beside a second instance: every match the board holds reaches the
// application, and each is recorded once.

// waitUntil polls until ok; the machine may be loaded, so it waits long.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// matchFund registers a fund for growth companies asking ¥5m–¥80m.
func (p *product) matchFund(fm, name string) string {
	p.t.Helper()
	f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": name, "type": "vc", "committed_capital": "500000000.00"})
	if f.status != 201 {
		p.t.Fatalf("register %s = %d %s", name, f.status, f.raw)
	}
	id := f.body["fund_id"].(string)
	m := p.do("PUT", "/api/v1/funds/"+id+"/mandate", fm, map[string]any{"stages": []string{"growth"}, "layers": []string{"technology"},
		"ticket_min": "5000000.00", "ticket_max": "80000000.00", "max_ownership": "0.25"})
	if m.status != 200 {
		p.t.Fatalf("mandate %s = %d %s", name, m.status, m.raw)
	}
	return id
}

// apply signs startup n up and submits its application; it returns the
// startup's token and the application's ID.
func (p *product) apply(n int) (string, string) {
	p.t.Helper()
	startup, _ := p.signUp(n, "growth")
	d := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"},
		"use_of_funds": "Training cluster", "valuation_ask": "150000000.00", "credit_data_consent": true})
	if d.status != 201 {
		p.t.Fatalf("draft = %d %s", d.status, d.raw)
	}
	appID := d.body["application_id"].(string)
	if s := p.do("POST", "/api/v1/applications/"+appID+"/submit", startup, map[string]any{}); s.status != 200 {
		p.t.Fatalf("submit = %d %s", s.status, s.raw)
	}
	return startup, appID
}

// stream reads a stream's events from the product's log.
func (p *product) stream(id string) []events.Event {
	p.t.Helper()
	evs, err := p.app.Store.ReadStream(context.Background(), id, 1)
	if err != nil {
		p.t.Fatal(err)
	}
	return evs
}

// matchedOnce requires the application's stream to record the match to
// each fund exactly once, and no other.
func (p *product) matchedOnce(appID string, funds ...string) {
	p.t.Helper()
	count := map[string]int{}
	for _, e := range p.stream("application-" + appID) {
		if e.Type != "application.matched.v1" {
			continue
		}
		var m struct {
			FundIDs []string `json:"fund_ids"`
		}
		if err := json.Unmarshal(e.Payload, &m); err != nil {
			p.t.Fatal(err)
		}
		for _, f := range m.FundIDs {
			count[f]++
		}
	}
	want := map[string]int{}
	for _, f := range funds {
		want[f] = 1
	}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		p.t.Errorf("application %s recorded matches %v, want each of %v once", appID, count, funds)
	}
}

// fundIDs is the application's fund_ids; none while it has none (the
// field is left out) or the product does not answer yet.
func (p *product) fundIDs(startup, appID string) []string {
	var out []string
	ids, _ := p.do("GET", "/api/v1/applications/"+appID, startup, nil).body["fund_ids"].([]any)
	for _, f := range ids {
		out = append(out, f.(string))
	}
	slices.Sort(out)
	return out
}

// shows reports whether a process stream holds an event of type typ for
// step.
func shows(evs []events.Event, typ, step string) bool {
	for _, e := range evs {
		var s struct {
			Step string `json:"step"`
		}
		if e.Type == typ && json.Unmarshal(e.Payload, &s) == nil && s.Step == step {
			return true
		}
	}
	return false
}

// The product is stopped (in-process, as app.Close stops it) once the
// application's matchmaking instance shows each point: the plan asked,
// the plan answered, the match sent, the match answered. After the
// restart the application holds its fund, recorded once. The stop comes
// when the stream shows the point, so at it or shortly after.
func TestMatchmakingAcrossRestarts(t *testing.T) {
	p := start(t)
	fm, _ := p.onboard("Qiming", "fund_manager", "fm@qiming.cn")
	fund := p.matchFund(fm, "Growth")
	for i, point := range []struct{ name, typ, step string }{
		{"plan asked", "process.command_issued.v1", "plan_1"},
		{"plan answered", "process.command_succeeded.v1", "plan_1"},
		{"match sent", "process.command_issued.v1", "plan_1_1"},
		{"match answered", "process.command_succeeded.v1", "plan_1_1"},
	} {
		t.Run(point.name, func(t *testing.T) {
			startup, appID := p.apply(60 + i)
			instance := matching.MatchmakingAggregate + "-" + matching.MatchmakingName + "-application-" + appID
			waitUntil(t, point.name, func() bool { return shows(p.stream(instance), point.typ, point.step) })
			p.resume()
			waitUntil(t, "the match after the restart", func() bool { return slices.Equal(p.fundIDs(startup, appID), []string{fund}) })
			waitUntil(t, "the instance to rest", func() bool { return shows(p.stream(instance), "process.command_succeeded.v1", "plan_1_1") })
			p.matchedOnce(appID, fund)
		})
	}
}

// runMatching starts another instance of the matching service on the
// product's NATS, as `fundbridge serve matching` would, until the returned
// stop is called.
func runMatching(t *testing.T, p *product) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	nc, err := app.ConnectAs(p.app.NATSURL, p.app.Credentials, matching.Name, natsauth.TLSFiles{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	reg := app.NewRegistry()
	store, err := jetstream.Open(ctx, nc, reg, jetstream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := app.Builders()[matching.Name](app.Deps{Store: store, Registry: reg, NC: nc, Log: slog.New(slog.DiscardHandler)})
	done := make(chan error, 1)
	go func() { done <- app.RunComponent(ctx, nc, c, slog.New(slog.DiscardHandler)) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("second matching: %v", err)
		}
		store.Close()
		nc.Close()
	}
	t.Cleanup(stop)
	return stop
}

// Two matching instances run together: one matchmaking manager acts, the
// other stands by and takes over when the second instance stops; every
// application holds both funds, each recorded once.
func TestMatchmakingOnTwoInstances(t *testing.T) {
	p := start(t)
	fm, _ := p.onboard("Qiming", "fund_manager", "fm@qiming.cn")
	funds := []string{p.matchFund(fm, "Growth A"), p.matchFund(fm, "Growth B")}
	slices.Sort(funds)
	stop := runMatching(t, p)
	type applied struct{ startup, id string }
	var apps []applied
	for i := range 4 {
		startup, id := p.apply(70 + i)
		apps = append(apps, applied{startup, id})
	}
	stop() // if its manager was the active one, the product's takes over
	for i := range 2 {
		startup, id := p.apply(80 + i)
		apps = append(apps, applied{startup, id})
	}
	for _, a := range apps {
		waitUntil(t, "both funds on "+a.id, func() bool { return slices.Equal(p.fundIDs(a.startup, a.id), funds) })
	}
	for _, a := range apps {
		p.matchedOnce(a.id, funds...)
	}
}

// The matchmaking process's streams, checkpoint key and lease are
// matching's: every other service's NATS user is refused each, and
// matching may not move another process's checkpoint.
func TestMatchmakingPermissions(t *testing.T) {
	p := start(t)
	publish := func(u *natsUser, subject string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := u.js.Publish(ctx, subject, []byte(`1`))
			return err
		}
	}
	ownCheckpoint := "$KV." + process.CheckpointBucket + "." + matching.MatchmakingName
	lease := "$KV." + process.LeaseBucket(matching.MatchmakingName) + ".active"
	stream := "fb.ev." + matching.MatchmakingAggregate + ".forged"
	for _, other := range []string{deals.Name, insurance.Name, applications.Name, funds.Name} {
		t.Run(other, func(t *testing.T) {
			u := connectAs(t, p, other)
			for _, subject := range []string{ownCheckpoint, lease, stream} {
				u.refused(t, subject, publish(u, subject))
			}
		})
	}
	t.Run("matching", func(t *testing.T) {
		u := connectAs(t, p, matching.Name)
		subject := "$KV." + process.CheckpointBucket + "." + deals.SyndicationName
		u.refused(t, subject, publish(u, subject))
	})
}
