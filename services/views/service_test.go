package views_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

type fixture struct {
	env    *testenv.Env
	svc    *views.Service
	client *svc.Client
	head   uint64
	stop   func() // stops the service and waits for it (also at cleanup)
}

func registry() *events.Registry {
	r := events.NewRegistry()
	sim.Register(r)
	dealsapi.Register(r)
	insuranceapi.Register(r)
	return r
}

// setUp writes a small history and serves the views over it.
func setUp(t *testing.T) *fixture {
	t.Helper()
	env := testenv.Start(t, registry())
	ctx := context.Background()
	if _, err := sim.Write(ctx, env.Store, sim.Config{Seed: 11, Companies: 12, Funds: 6}); err != nil {
		t.Fatal(err)
	}
	return serve(t, env, t.TempDir())
}

// serve runs the views service over env's log, its snapshots in dir,
// until the test ends or the returned fixture's stop is called.
func serve(t *testing.T, env *testenv.Env, dir string, opts ...views.Option) *fixture {
	t.Helper()
	ctx := context.Background()
	head, err := env.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := views.New(env.Store, registry(), dir, append([]views.Option{views.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	served := make(chan error, 1)
	go func() { ran <- srv.Run(runCtx) }()
	go func() { served <- svc.Serve(runCtx, env.Conn, srv.Runtime()) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := <-ran; err != nil {
			t.Errorf("run: %v", err)
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, err := env.Conn.Request(svc.Subject(views.Name, "status"), []byte("{"), time.Second)
		if !errors.Is(err, nats.ErrNoResponders) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the views service never came up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &fixture{env: env, svc: srv, client: svc.NewClient(env.Conn, 10*time.Second), head: head, stop: stop}
}

func (f *fixture) call(t *testing.T, actor fundbridge.Actor, op string, payload any, out any) error {
	t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.Call(context.Background(), views.Name, op, &svc.Request{Actor: actor, Payload: data}, out)
	return err
}

func actor(user string, role fundbridge.Role, org string) fundbridge.Actor {
	return fundbridge.Actor{UserID: user, Role: role, OrgID: org}
}

func TestRoles(t *testing.T) {
	f := setUp(t)
	company, otherCompany := sim.CompanyID(0), sim.CompanyID(1)
	fund := sim.FundID(0)
	var (
		operator   = actor("u-op", fundbridge.RoleOperator, "")
		system     = actor("saga", fundbridge.RoleSystem, "")
		owner      = actor("u-"+company, fundbridge.RoleStartup, company)
		stranger   = actor("u-"+otherCompany, fundbridge.RoleStartup, otherCompany)
		manager    = actor("u-mgr", fundbridge.RoleFundManager, sim.ManagerOrg(0))
		competitor = actor("u-rival", fundbridge.RoleFundManager, sim.ManagerOrg(4))
		bank       = actor("u-bank", fundbridge.RoleBank, "bank-1")
		insurer    = actor("u-ins", fundbridge.RoleInsurer, "ins-1")
	)
	after := map[string]any{"after": f.head}
	cases := []struct {
		op      string
		payload any
		allowed []fundbridge.Actor
		hidden  []fundbridge.Actor // ENOTFOUND: someone else's
		denied  []fundbridge.Actor // EFORBIDDEN: never theirs to see
	}{
		{"lifecycle_stages", after, []fundbridge.Actor{operator, system}, nil, []fundbridge.Actor{owner, manager, bank, insurer}},
		{"market_overview", after, []fundbridge.Actor{operator, system}, nil, []fundbridge.Actor{owner, manager, bank, insurer}},
		{"status", nil, []fundbridge.Actor{operator, system}, nil, []fundbridge.Actor{owner, manager, bank, insurer}},
		{"company_timeline", map[string]any{"company_id": company, "after": f.head}, []fundbridge.Actor{operator, owner}, []fundbridge.Actor{stranger},
			[]fundbridge.Actor{manager, bank, insurer, system}},
		{"deal_board", map[string]any{"fund_id": fund, "after": f.head}, []fundbridge.Actor{operator, manager}, []fundbridge.Actor{competitor},
			[]fundbridge.Actor{owner, bank, insurer, system}},
	}
	for _, c := range cases {
		for _, a := range c.allowed {
			var out map[string]any
			if err := f.call(t, a, c.op, c.payload, &out); err != nil {
				t.Errorf("%s as %s: %v", c.op, a.Role, err)
			} else if _, ok := out["items"].([]any); !ok {
				t.Errorf("%s as %s: no items list in %v", c.op, a.Role, out)
			}
		}
		for _, a := range c.hidden {
			if err := f.call(t, a, c.op, c.payload, nil); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
				t.Errorf("%s as %s of %s: %v, want not found", c.op, a.Role, a.OrgID, err)
			}
		}
		for _, a := range c.denied {
			if err := f.call(t, a, c.op, c.payload, nil); fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
				t.Errorf("%s as %s: %v, want forbidden", c.op, a.Role, err)
			}
		}
	}
	// Nothing there, for someone who could see it.
	if err := f.call(t, operator, "company_timeline", map[string]any{"company_id": "nosuch"}, nil); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("timeline of an unknown company: %v", err)
	}
	if err := f.call(t, operator, "deal_board", map[string]any{"fund_id": "nosuch"}, nil); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("board of an unknown fund: %v", err)
	}
	// A startup may leave out its own company.
	var own viewsapi.TimelineResult
	if err := f.call(t, owner, "company_timeline", map[string]any{"after": f.head}, &own); err != nil || own.Company.ID != company {
		t.Errorf("own timeline without an ID: %+v %v", own.Company, err)
	}
}

func TestAnswers(t *testing.T) {
	f := setUp(t)
	operator := actor("u-op", fundbridge.RoleOperator, "")

	var raw struct {
		Items []map[string]any `json:"items"`
	}
	if err := f.call(t, operator, "lifecycle_stages", map[string]any{"after": f.head}, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Items) != len(fundbridge.Stages) {
		t.Fatalf("%d rows, want one per stage", len(raw.Items))
	}
	for _, field := range []string{"amount_requested", "amount_funded", "raised_equity", "raised_patent_insurance", "conversion_funded_submitted"} {
		if _, ok := raw.Items[0][field].(string); !ok {
			t.Errorf("%s is %T, want a string", field, raw.Items[0][field])
		}
	}
	var life viewsapi.LifecycleResult
	if err := f.call(t, operator, "lifecycle_stages", map[string]any{"period": "month", "after": f.head}, &life); err != nil {
		t.Fatal(err)
	}
	month := projections.MonthOf(time.Now()).Label()
	submitted := 0
	for _, r := range life.Items {
		if r.Period != month {
			t.Errorf("row of period %q, want %s (all events are this month's)", r.Period, month)
		}
		submitted += r.Submitted
	}
	if submitted == 0 || life.Position < f.head {
		t.Fatalf("nothing submitted (%d) or position %d behind %d", submitted, life.Position, f.head)
	}
	if err := f.call(t, operator, "lifecycle_stages", map[string]any{"as_of": "2020-01-01"}, &life); err != nil {
		t.Fatal(err)
	}
	for _, r := range life.Items {
		if r.Submitted != 0 || r.MatchedOfSubmitted != "0" || !r.AmountRequested.IsZero() {
			t.Errorf("as of 2020 the funnel was empty, got %+v", r)
		}
	}

	// Read your writes: a submission shows once the query waits for it.
	company := sim.CompanyID(3)
	payload, _ := json.Marshal(applicationsapi.ApplicationSubmitted{
		ApplicationID: "fresh", CompanyName: "Fresh AI",
		Slice:            applicationsapi.Slice{CompanyID: company, Stage: fundbridge.StageGrowth, Layer: fundbridge.LayerApplication, Sector: "robotics", City: "hefei"},
		ApplicationTerms: applicationsapi.ApplicationTerms{AmountRequested: money.MustParse("5000000.00"), Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity, fundbridge.InstrumentVentureLoan}, UseOfFunds: "robots"},
	})
	res, err := f.env.Store.Append(context.Background(), events.AppendRequest{
		StreamID: "application-fresh", Expected: events.NoStream,
		Events: []events.NewEvent{{Type: applicationsapi.ApplicationSubmitted{}.EventType(), Payload: payload}},
		Meta:   events.Meta{Actor: actor("u-"+company, fundbridge.RoleStartup, company)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.call(t, operator, "lifecycle_stages", map[string]any{"city": "hefei", "sector": "robotics", "after": res.Position}, &life); err != nil {
		t.Fatal(err)
	}
	if r := life.Items[2]; r.Stage != fundbridge.StageGrowth || r.Submitted < 1 || r.AmountRequested.LessThan(money.MustParse("5000000.00")) {
		t.Errorf("growth row after the submission: %+v", r)
	}
	var tl viewsapi.TimelineResult
	if err := f.call(t, operator, "company_timeline", map[string]any{"company_id": company, "after": res.Position}, &tl); err != nil {
		t.Fatal(err)
	}
	if first := tl.Items[0]; first.Type != (applicationsapi.CompanyRegistered{}).EventType() || !strings.HasPrefix(first.Summary, "Registered ") {
		t.Errorf("first entry %+v", first)
	}
	last := tl.Items[len(tl.Items)-1]
	if last.Summary != "Applied for ¥5m: equity, venture_loan" || last.Stage != fundbridge.StageGrowth ||
		last.ActorRole != fundbridge.RoleStartup || last.Amount == nil || last.Amount.String() != "5000000.00" {
		t.Errorf("last entry %+v", last)
	}

	var mk viewsapi.MarketResult
	if err := f.call(t, operator, "market_overview", map[string]any{"after": res.Position}, &mk); err != nil {
		t.Fatal(err)
	}
	if top := mk.Items[0]; top.Dimension != "total" || top.Applications == 0 || top.FundsRegistered != 6 || top.DryPowder == nil {
		t.Errorf("market total %+v", top)
	}
	var board viewsapi.DealBoardResult
	if err := f.call(t, operator, "deal_board", map[string]any{"fund_id": sim.FundID(0)}, &board); err != nil {
		t.Fatal(err)
	}
	deals := 0
	for _, s := range board.Items {
		deals += s.Deals
	}
	if len(board.Items) != 8 || deals == 0 || len(board.Recent) == 0 || len(board.Recent) > 20 || board.ManagerOrg != sim.ManagerOrg(0) {
		t.Errorf("board %+v", board)
	}

	// Bad input names the field.
	for _, c := range []struct {
		payload string
		field   string
	}{
		{`{"period":"week"}`, "period"},
		{`{"layer":"foundation","sector":"robotics"}`, "sector"},
		{`{"city":"paris"}`, "city"},
		{`{"from":"2026-13-01"}`, "from"},
		{`{"from":"2026-11-02","to":"2026-11-01"}`, "to"},
		{`{"as_of":"yesterday"}`, "as_of"},
		{`{"colour":"red"}`, "colour"},
	} {
		_, err := f.client.Call(context.Background(), views.Name, "lifecycle_stages", &svc.Request{Actor: operator, Payload: json.RawMessage(c.payload)}, nil)
		fields := fundbridge.ErrorFields(err)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fields) == 0 || fields[0].Field != c.field {
			t.Errorf("%s: %v %v, want invalid naming %s", c.payload, err, fields, c.field)
		}
	}

	// A rebuild of the running service ends where it was.
	before, _ := json.Marshal(life)
	if err := f.svc.Rebuild(context.Background(), "lifecycle", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.call(t, operator, "lifecycle_stages", map[string]any{"city": "hefei", "sector": "robotics", "after": res.Position}, &life); err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(life); string(after) != string(before) {
		t.Errorf("after a rebuild:\n%s\nwant\n%s", after, before)
	}
}

// TestStatusReportsAStoppedProjection: an event that breaks the timeline
// stops it, and views.status says where.
func TestStatusReportsAStoppedProjection(t *testing.T) {
	f := setUp(t)
	operator := actor("u-op", fundbridge.RoleOperator, "")
	bad, _ := json.Marshal(applicationsapi.CompanyRegistered{Stage: "unicorn", CompanyProfile: applicationsapi.CompanyProfile{Name: "Nobody"}})
	res, err := f.env.Store.Append(context.Background(), events.AppendRequest{
		StreamID: "company-nobody", Expected: events.NoStream,
		Events: []events.NewEvent{{Type: applicationsapi.CompanyRegistered{}.EventType(), Payload: bad}},
		Meta:   events.Meta{Actor: operator},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.call(t, operator, "market_overview", map[string]any{"after": res.Position}, nil); err != nil {
		t.Fatalf("the market view should carry on: %v", err)
	}
	err = f.call(t, operator, "company_timeline", map[string]any{"company_id": sim.CompanyID(0), "after": res.Position}, nil)
	if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
		t.Errorf("timeline past the broken event: %v, want unavailable", err)
	}
	var st viewsapi.StatusResult
	if err := f.call(t, operator, "status", nil, &st); err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Items {
		switch {
		case s.Name == "timeline":
			if s.State != projections.StateStopped || s.ErrorPosition != res.Position || s.Error == "" || s.Position >= res.Position {
				t.Errorf("timeline status %+v, want stopped at %d", s, res.Position)
			}
		case s.State != projections.StateRunning || s.Position < res.Position:
			t.Errorf("%s status %+v, want running past %d", s.Name, s, res.Position)
		}
	}
}
