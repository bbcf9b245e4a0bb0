package matching

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
	"github.com/fundbridge/fundbridge/services/svc/viewstate/viewstatetest"
)

// instance is one start of the service's views for viewstatetest.
type instance struct{ *Service }

func (i instance) WaitFor(ctx context.Context, p uint64) error { return i.follower.WaitFor(ctx, p) }
func (i instance) Stats() viewstate.Stats                      { return i.follower.Stats() }

// State is everything the views answer with, keyed so that equal views
// encode equally: the engine's inputs (applications by ID: handles differ
// between a restored engine and one folded from 0), every fund's,
// application's and programme's board, the lifecycles and the deals.
func (i instance) State() ([]byte, error) {
	v := i.views
	v.mu.RLock()
	defer v.mu.RUnlock()
	e := v.engine.state()
	slices.SortFunc(e.Apps, func(a, b applicationsapi.ApplicationSubmitted) int {
		return strings.Compare(a.ApplicationID, b.ApplicationID)
	})
	boards := map[string]any{}
	for id := range v.engine.funds {
		boards["fund "+id] = v.engine.FundBoard(id)
	}
	for id := range v.engine.apps {
		boards["application "+id] = v.engine.ApplicationBoard(id)
		boards["programmes of "+id] = v.engine.ApplicationProgrammes(id)
	}
	apps := map[string]appCheckpoint{}
	for id, a := range v.apps {
		apps[id] = appCheckpoint{CompanyID: a.companyID, Status: a.status, Matched: sortedKeys(a.matched), MatchEvents: a.matchEvents, Reviewing: sortedKeys(a.reviewing)}
	}
	return json.Marshal(map[string]any{"engine": e, "boards": boards, "apps": apps, "deals": v.deals,
		"by_fund": v.dealsByFund, "by_app": v.dealsByApp, "by_owner": v.dealsByOwner})
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func checkpointEnv(t *testing.T) (*testenv.Env, *events.Registry) {
	reg := events.NewRegistry()
	sim.Register(reg)
	return testenv.Start(t, reg), reg
}

// Matching's views restart from their checkpoint, fold only the log's
// tail, and reach the state (engine, boards, lifecycles, deals) a fold
// from 0 reaches, over a random market written in phases.
func TestViewsResumeFromTheirCheckpoint(t *testing.T) {
	env, reg := checkpointEnv(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	write := func(between func(int)) error {
		cfg := sim.Config{Seed: seed, Companies: 60, Funds: 6, Phases: 4, Between: func(phase int) error {
			appendOpenApplications(t, env.Store, phase)
			between(phase)
			return nil
		}}
		if _, err := sim.Write(context.Background(), env.Store, cfg); err != nil {
			return err
		}
		appendOpenApplications(t, env.Store, cfg.Phases)
		return nil
	}
	viewstatetest.CheckResume(t, env.Store, write, func(dir string) viewstatetest.Instance {
		return instance{New(env.Store, reg, WithCheckpoints(dir), WithLogger(quietLogger()))}
	})
}

// A damaged checkpoint is ignored: the views fold the log from 0 and
// reach the same state; an intact one resumes where it stopped.
func TestDamagedCheckpointRefoldsFromZero(t *testing.T) {
	env, reg := checkpointEnv(t)
	if _, err := sim.Write(context.Background(), env.Store, sim.Config{Seed: 7, Companies: 40, Funds: 5}); err != nil {
		t.Fatal(err)
	}
	appendOpenApplications(t, env.Store, 0)
	appendOpenApplications(t, env.Store, 1)
	head, err := env.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	open := func() instance { return instance{New(env.Store, reg, WithCheckpoints(dir), WithLogger(quietLogger()))} }
	first := viewstatetest.Start(t, open(), head)
	want, err := first.State()
	if err != nil {
		t.Fatal(err)
	}
	if matched := matchedPairs(first.Instance.(instance)); matched == 0 {
		t.Fatal("the market matched nothing: the check would prove nothing")
	}
	first.Stop(t)

	resumed := viewstatetest.Start(t, open(), head)
	if st := resumed.Stats(); st.RestoredFrom != head || st.Folded != 0 {
		t.Fatalf("intact checkpoint: restored from %d and folded %d, want from %d and 0", st.RestoredFrom, st.Folded, head)
	}
	if got, err := resumed.State(); err != nil || string(got) != string(want) {
		t.Fatalf("resumed state differs from the fold (%v):\ngot  %.2000s\nwant %.2000s", err, got, want)
	}
	resumed.Stop(t)

	path := viewstate.Path(dir, Name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	refolded := viewstatetest.Start(t, open(), head)
	defer refolded.Stop(t)
	if st := refolded.Stats(); st.RestoredFrom != 0 || st.Folded == 0 {
		t.Fatalf("damaged checkpoint: restored from %d and folded %d, want from 0 and the whole log", st.RestoredFrom, st.Folded)
	}
	got, err := refolded.State()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("refolded state differs from the first fold:\ngot  %.2000s\nwant %.2000s", got, want)
	}
}

func matchedPairs(i instance) int {
	i.views.mu.RLock()
	defer i.views.mu.RUnlock()
	n := 0
	for _, id := range slices.Collect(maps.Keys(i.views.engine.funds)) {
		n += len(i.views.engine.FundBoard(id))
	}
	return n
}

// appendOpenApplications sets a fund's mandate (the simulated funds have
// no dry powder left) and submits five applications it may take (the
// simulated market closes all of its own), and withdraws the first of the previous batch, so the engine holds open
// applications, matches, and a freed handle when the views stop.
func appendOpenApplications(t *testing.T, store events.Store, batch int) {
	t.Helper()
	appendTo := func(stream string, p events.Payload) {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = store.Append(context.Background(), events.AppendRequest{StreamID: stream, Expected: events.Any,
			Events: []events.NewEvent{{Type: p.EventType(), Payload: data}},
			Meta:   events.Meta{Actor: fundbridge.Actor{UserID: "seed", Role: fundbridge.RoleSystem}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The fund's ticket range narrows and widens batch by batch, so its
	// board is rebuilt on the way.
	appendTo("fund-open-fund", fundsapi.FundRegistered{FundID: "open-fund", ManagerOrg: "org-open", Name: "Open Fund", Type: fundsapi.FundVC, CommittedCapital: money.Yuan(1_000_000_000)})
	appendTo("fund-open-fund", fundsapi.MandateSet{FundID: "open-fund", Mandate: fundsapi.Mandate{Stages: fundbridge.Stages,
		TicketMin: money.Yuan(1_000_000), TicketMax: money.Yuan(int64(15+10*(batch%2)) * 1_000_000), MaxOwnership: decimal.RequireFromString("0.30")}})
	valuation := money.Yuan(150_000_000)
	for i := range 5 {
		id := fmt.Sprintf("open-%d-%d", batch, i)
		appendTo("application-"+id, applicationsapi.ApplicationSubmitted{ApplicationID: id, CompanyName: "Company " + id,
			Slice: applicationsapi.Slice{CompanyID: "co-" + id, Stage: fundbridge.Stages[i%len(fundbridge.Stages)], Layer: fundbridge.LayerTechnology, Sector: "computer_vision", City: "beijing"},
			ApplicationTerms: applicationsapi.ApplicationTerms{AmountRequested: money.Yuan(int64(5+i*5) * 1_000_000),
				Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity}, ValuationAsk: &valuation}})
	}
	if batch > 0 {
		id := fmt.Sprintf("open-%d-0", batch-1)
		appendTo("application-"+id, applicationsapi.ApplicationWithdrawn{ApplicationID: id, Reason: "changed our plans",
			Slice: applicationsapi.Slice{CompanyID: "co-" + id, Stage: fundbridge.Stages[0], Layer: fundbridge.LayerTechnology, Sector: "computer_vision", City: "beijing"}})
	}
}
