package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/dealboard"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/projections/market"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/projections/timeline"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// noise is an event type only the writer knows: readers must skip it.
type noise struct {
	N int `json:"n"`
}

func (noise) EventType() string { return "test.noise.v1" }

func readerRegistry() *events.Registry {
	r := events.NewRegistry()
	sim.Register(r)
	return r
}

func writerRegistry() *events.Registry {
	r := readerRegistry()
	events.Register[noise](r, noise{}.EventType())
	return r
}

// set is one of each projection.
type set struct {
	lifecycle *lifecycle.Projection
	timeline  *timeline.Projection
	market    *market.Projection
	dealboard *dealboard.Projection
}

func newSet() set {
	return set{lifecycle.New(), timeline.New(), market.New(), dealboard.New()}
}

func (s set) all() []projections.Projection {
	return []projections.Projection{s.lifecycle, s.timeline, s.market, s.dealboard}
}

// quiet drops the runner's logs: the tests assert what matters.
func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func names() []string { return []string{lifecycle.Name, timeline.Name, market.Name, dealboard.Name} }

// running is a runner going in the background.
type running struct {
	*projections.Runner
	set  set
	stop func()
}

func start(t *testing.T, store events.Store, dir string, opts projections.RunnerOptions) *running {
	t.Helper()
	s := newSet()
	opts.Dir = dir
	opts.Logger = quiet()
	r := projections.NewRunner(store, readerRegistry(), opts, s.all()...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &running{Runner: r, set: s, stop: stop}
}

// caughtUp waits until every named projection reflects position p.
func caughtUp(t *testing.T, r *projections.Runner, p uint64, names ...string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for _, name := range names {
		for {
			err := r.WaitFor(context.Background(), name, p)
			if err == nil {
				break
			}
			if r.Err(name) != nil || time.Now().After(deadline) {
				t.Fatalf("%s never reached %d: %v (status %+v)", name, p, err, r.Status())
			}
		}
	}
}

func states(t *testing.T, s set) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range s.all() {
		data, err := p.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		out[p.Name()] = data
	}
	return out
}

func sameStates(t *testing.T, what string, want, got map[string][]byte) {
	t.Helper()
	for name, w := range want {
		if !bytes.Equal(w, got[name]) {
			t.Errorf("%s: %s state differs (%d bytes, want %d)", what, name, len(got[name]), len(w))
		}
	}
}

// cutStore shows a store's log only up to a position: the log as it was.
type cutStore struct {
	events.Store
	max uint64
}

func (c cutStore) Head(context.Context) (uint64, error) { return c.max, nil }

func (c cutStore) Subscribe(ctx context.Context, after uint64, fn func(events.Event) error) error {
	return c.Store.Subscribe(ctx, after, func(e events.Event) error {
		if e.Position > c.max {
			return nil
		}
		return fn(e)
	})
}

type cut struct {
	at       time.Time
	position uint64
}

func queries() []lifecycle.Query {
	return []lifecycle.Query{
		{},
		{Period: projections.ByMonth},
		{Period: projections.ByQuarter},
		{Period: projections.ByYear},
		{Layer: fundbridge.LayerTechnology},
		{City: "beijing", Period: projections.ByMonth},
		{Sector: "robotics", Layer: fundbridge.LayerApplication},
	}
}

func lifecycleJSON(t *testing.T, p *lifecycle.Projection, q lifecycle.Query) string {
	t.Helper()
	rows, err := p.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestLiveRestartRebuildAndAsOf writes a history of several thousand
// events of every type in four phases while one runner follows it live
// and another is stopped half-way; then restarts that one, rebuilds a
// third from zero, and folds the log as it was at each cut between
// phases. The live, restarted and rebuilt states must be the same bytes,
// and every lifecycle query "as of" a cut must equal the answer from the
// log cut there.
func TestLiveRestartRebuildAndAsOf(t *testing.T) {
	env := testenv.Start(t, writerRegistry())
	ctx := context.Background()
	base := t.TempDir()
	opts := projections.RunnerOptions{SaveEvery: 500}

	live := start(t, env.Store, filepath.Join(base, "live"), opts)
	var half *running
	var cuts []cut
	stats, err := sim.Write(ctx, env.Store, sim.Config{
		Seed: 7, Companies: 130, Phases: 4, Workers: 16,
		Between: func(phase int) error {
			// An event type the readers' registry does not know.
			if _, err := env.Store.Append(ctx, events.AppendRequest{
				StreamID: fmt.Sprintf("noise-%d", phase), Expected: events.NoStream,
				Events: []events.NewEvent{{Type: noise{}.EventType(), Payload: json.RawMessage(`{"n":1}`)}},
				Meta:   events.Meta{Actor: fundbridge.Actor{UserID: "tester", Role: fundbridge.RoleSystem}},
			}); err != nil {
				return err
			}
			time.Sleep(5 * time.Millisecond)
			head, err := env.Store.Head(ctx)
			if err != nil {
				return err
			}
			cuts = append(cuts, cut{at: time.Now(), position: head})
			time.Sleep(5 * time.Millisecond)
			switch phase {
			case 0:
				half = start(t, env.Store, filepath.Join(base, "half"), opts)
			case 1:
				caughtUp(t, half.Runner, head, names()...)
				half.stop()
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("history: %d events in %d appends; cuts %+v", stats.Events, stats.Appends, cuts)
	for _, typ := range readerRegistry().Types() {
		if stats.ByType[typ] == 0 {
			t.Errorf("the history has no %s event", typ)
		}
	}
	head, err := env.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}

	resumedFrom := half.Position(lifecycle.Name)
	if resumedFrom == 0 {
		t.Fatal("the runner stopped half-way saved no checkpoint")
	}
	restarted := start(t, env.Store, filepath.Join(base, "half"), opts)
	caughtUp(t, live.Runner, head, names()...)
	caughtUp(t, restarted.Runner, head, names()...)
	for _, s := range restarted.Status() {
		if s.RestoredFrom == 0 || s.RestoredFrom > head {
			t.Errorf("%s restarted from %d, want its checkpoint (> 0)", s.Name, s.RestoredFrom)
		}
		if s.State != projections.StateRunning || s.Position != head {
			t.Errorf("restarted %s: %+v, want running at %d", s.Name, s, head)
		}
	}
	if got := restarted.Status()[0].RestoredFrom; got != resumedFrom {
		t.Errorf("lifecycle resumed from %d, want %d where it stopped", got, resumedFrom)
	}

	rebuilt := newSet()
	rb := projections.NewRunner(env.Store, readerRegistry(), projections.RunnerOptions{Dir: filepath.Join(base, "rebuilt"), Logger: quiet()}, rebuilt.all()...)
	var calls int
	var last [2]uint64
	if err := rb.Rebuild(ctx, "", func(done, total uint64, rate float64) {
		calls++
		last = [2]uint64{done, total}
	}); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last != [2]uint64{head, head} {
		t.Errorf("progress called %d times, last %v; want a final call at %d of %d", calls, last, head, head)
	}

	want := states(t, live.set)
	sameStates(t, "restarted", want, states(t, restarted.set))
	sameStates(t, "rebuilt", want, states(t, rebuilt))
	for _, s := range live.Status() {
		if s.State != projections.StateRunning || s.Error != "" {
			t.Errorf("live %s: %+v (an unknown event type must be skipped, not fatal)", s.Name, s)
		}
	}

	// As of each cut, the full log answers as the log cut there does.
	for i, c := range cuts {
		past := newSet()
		pr := projections.NewRunner(cutStore{env.Store, c.position}, readerRegistry(), projections.RunnerOptions{Logger: quiet()}, past.lifecycle)
		if err := pr.Rebuild(ctx, lifecycle.Name, nil); err != nil {
			t.Fatal(err)
		}
		for _, q := range queries() {
			then := lifecycleJSON(t, past.lifecycle, q)
			q.AsOf = c.at
			if now := lifecycleJSON(t, live.set.lifecycle, q); now != then {
				t.Errorf("cut %d, query %+v:\nas of: %s\nlog cut: %s", i, q, now, then)
			}
		}
	}
	if first, now := lifecycleJSON(t, live.set.lifecycle, lifecycle.Query{AsOf: cuts[0].at}), lifecycleJSON(t, live.set.lifecycle, lifecycle.Query{}); first == now {
		t.Error("the funnel as of the first cut is the funnel now: the cuts prove nothing")
	}
	crossCheck(t, live.set, stats)
}

// crossCheck compares what the projections count with each other and with
// what was written.
func crossCheck(t *testing.T, s set, stats sim.Stats) {
	rows, _ := s.lifecycle.Query(lifecycle.Query{})
	var total lifecycle.Row
	funded := projections.Total{}
	for _, r := range rows {
		if r.Submitted == 0 {
			t.Errorf("no application submitted at the %s stage", r.Stage)
		}
		total.Submitted += r.Submitted
		total.Funded += r.Funded
		total.Expired += r.Expired
		total.Rejected += r.Rejected
		total.Withdrawn += r.Withdrawn
		fen, _ := projections.ToFen("funded", r.AmountFunded)
		funded.Add(fen)
	}
	if total.Submitted == 0 || total.Funded == 0 || total.Expired == 0 || total.Rejected == 0 || total.Withdrawn == 0 {
		t.Errorf("funnel totals %+v: some outcome never happened", total)
	}
	mt := s.market.Overview()[0]
	if int64(total.Submitted) != stats.ByType[applicationsapi.ApplicationSubmitted{}.EventType()] || mt.Applications != total.Submitted ||
		mt.Funded != total.Funded || !mt.AmountFunded.Equal(funded.Amount()) {
		t.Errorf("lifecycle counts %d submitted, %d funded for %s; market %+v; %d submissions written",
			total.Submitted, total.Funded, funded.Amount(), mt, stats.ByType[applicationsapi.ApplicationSubmitted{}.EventType()])
	}
	deals := 0
	for f := range int(stats.ByType["fund.registered.v1"]) {
		b, ok := s.dealboard.Board(sim.FundID(f))
		if !ok {
			t.Fatalf("no board for fund %d", f)
		}
		for _, row := range b.Items {
			deals += row.Deals
		}
	}
	if int64(deals) != stats.ByType[matchingapi.DealSourced{}.EventType()] {
		t.Errorf("boards hold %d deals, %d were sourced", deals, stats.ByType[matchingapi.DealSourced{}.EventType()])
	}
}

// TestBrokenInvariantStopsOnlyThatProjection appends an event that decodes
// but breaks the timeline's invariants (a company without an ID). The
// timeline stops there and says where; the others go on; a restart stops
// it at the same place again rather than skipping the event.
func TestBrokenInvariantStopsOnlyThatProjection(t *testing.T) {
	env := testenv.Start(t, writerRegistry())
	ctx := context.Background()
	if _, err := sim.Write(ctx, env.Store, sim.Config{Seed: 3, Companies: 4, Funds: 4}); err != nil {
		t.Fatal(err)
	}
	bad, err := json.Marshal(applicationsapi.CompanyRegistered{USCC: "91110000000000000X", Stage: fundbridge.StageSeed})
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.Store.Append(ctx, events.AppendRequest{
		StreamID: "company-broken", Expected: events.NoStream,
		Events: []events.NewEvent{{Type: applicationsapi.CompanyRegistered{}.EventType(), Payload: bad}},
		Meta:   events.Meta{Actor: fundbridge.Actor{UserID: "tester", Role: fundbridge.RoleOperator}},
	})
	if err != nil {
		t.Fatal(err)
	}
	more, err := env.Store.Append(ctx, events.AppendRequest{
		StreamID: "deal-f0000_x", Expected: events.NoStream,
		Events: []events.NewEvent{{Type: matchingapi.DealSourced{}.EventType(), Payload: json.RawMessage(
			`{"deal_id":"f0000_x","fund_id":"f0000","application_id":"x","score":50,"company_id":"c000000","stage":"seed","layer":"technology","sector":"nlp","city":"beijing"}`)}},
		Meta: events.Meta{Actor: fundbridge.Actor{UserID: "tester", Role: fundbridge.RoleFundManager, OrgID: "org0000"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for round := range 2 {
		r := start(t, env.Store, dir, projections.RunnerOptions{})
		caughtUp(t, r.Runner, more.Position, lifecycle.Name, market.Name, dealboard.Name)
		err := r.WaitFor(ctx, timeline.Name, more.Position)
		if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
			t.Fatalf("round %d: waiting on the stopped timeline: %v, want unavailable", round, err)
		}
		var ae *projections.ApplyError
		if !errors.As(r.Err(timeline.Name), &ae) || ae.Position != res.Position || ae.StreamID != "company-broken" {
			t.Fatalf("round %d: timeline error %v, want an ApplyError at %d", round, r.Err(timeline.Name), res.Position)
		}
		st := r.Status()[1]
		if st.Name != timeline.Name || st.State != projections.StateStopped || st.ErrorPosition != res.Position ||
			st.Position >= res.Position || st.Error == "" || st.ErrorEvent == "" {
			t.Errorf("round %d: timeline status %+v, want stopped before %d", round, st, res.Position)
		}
		r.stop()
	}
}

// TestLiveRebuild rebuilds one projection while the runner runs; the
// others keep their state, and the rebuilt one ends where it was.
func TestLiveRebuild(t *testing.T) {
	env := testenv.Start(t, writerRegistry())
	ctx := context.Background()
	if _, err := sim.Write(ctx, env.Store, sim.Config{Seed: 5, Companies: 20}); err != nil {
		t.Fatal(err)
	}
	head, _ := env.Store.Head(ctx)
	r := start(t, env.Store, t.TempDir(), projections.RunnerOptions{})
	caughtUp(t, r.Runner, head, names()...)
	before := states(t, r.set)
	if err := r.Rebuild(ctx, market.Name, nil); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, r.Runner, head, names()...)
	sameStates(t, "after a live rebuild", before, states(t, r.set))
	if s := r.Status()[2]; s.Name != market.Name || s.State != projections.StateRunning || s.Events == 0 {
		t.Errorf("market after rebuild: %+v", s)
	}
	if err := r.Rebuild(ctx, "nosuch", nil); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("rebuild of an unknown projection: %v", err)
	}
}

// TestDamagedSnapshotFoldsFromZero: a snapshot that fails its checksum is
// ignored, not trusted.
func TestDamagedSnapshotFoldsFromZero(t *testing.T) {
	env := testenv.Start(t, writerRegistry())
	ctx := context.Background()
	if _, err := sim.Write(ctx, env.Store, sim.Config{Seed: 6, Companies: 5}); err != nil {
		t.Fatal(err)
	}
	head, _ := env.Store.Head(ctx)
	dir := t.TempDir()
	r := start(t, env.Store, dir, projections.RunnerOptions{})
	caughtUp(t, r.Runner, head, names()...)
	want := states(t, r.set)
	r.stop()
	path := filepath.Join(dir, lifecycle.Name+".snapshot")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	again := start(t, env.Store, dir, projections.RunnerOptions{})
	caughtUp(t, again.Runner, head, names()...)
	if s := again.Status()[0]; s.RestoredFrom != 0 {
		t.Errorf("lifecycle restored from a damaged snapshot at %d", s.RestoredFrom)
	}
	if s := again.Status()[1]; s.RestoredFrom != head {
		t.Errorf("timeline restored from %d, want %d", s.RestoredFrom, head)
	}
	sameStates(t, "after a damaged snapshot", want, states(t, again.set))
}
