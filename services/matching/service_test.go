package matching_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// responder is a test stand-in on real NATS for a service matching
// sends commands to: it records what it receives and answers OK, or
// with the refusal it was told to give.
type responder struct {
	mu      sync.Mutex
	got     []svc.Request
	ops     []string
	refusal map[string]*fundbridge.Error
}

func (r *responder) service(name string, ops ...string) svc.Service {
	srv := svc.Service{Name: name, Operations: map[string]svc.Handler{}, Logger: quiet()}
	for _, op := range ops {
		srv.Operations[op] = func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.got, r.ops = append(r.got, *req), append(r.ops, op)
			if e := r.refusal[op]; e != nil {
				return svc.Result[any]{}, e
			}
			return svc.Result[any]{}, nil
		}
	}
	return srv
}

func (r *responder) refuse(op string, e *fundbridge.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refusal == nil {
		r.refusal = map[string]*fundbridge.Error{}
	}
	r.refusal[op] = e
}

// requests lists what op received so far.
func (r *responder) requests(op string) []svc.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []svc.Request
	for i, o := range r.ops {
		if o == op {
			out = append(out, r.got[i])
		}
	}
	return out
}

// await waits until op has received n requests.
func (r *responder) await(t *testing.T, op string, n int) []svc.Request {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.requests(op)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s received %d requests, want %d", op, len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *responder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

type harness struct {
	t      *testing.T
	env    *testenv.Env
	client *svc.Client
	last   uint64 // position of the last write, for read-your-writes
}

func serve(t *testing.T, nc *nats.Conn, s svc.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, nc, s) }()
	t.Cleanup(func() { cancel(); <-done })
}

func runService(t *testing.T, env *testenv.Env, reg *events.Registry) {
	srv := matching.New(env.Store, reg, matching.WithLogger(quiet()),
		matching.WithClient(svc.NewClient(env.Connect(t), 5*time.Second)), matching.WithClosingProcess(env.Connect(t)),
		matching.WithRetryBackoff(20*time.Millisecond, 200*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	serve(t, env.Connect(t), srv.Runtime())
}

func (h *harness) append(stream string, p events.Payload) {
	h.t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := h.env.Store.Append(context.Background(), events.AppendRequest{
		StreamID: stream, Expected: events.Any,
		Events: []events.NewEvent{{Type: p.EventType(), Payload: data}},
		Meta:   events.Meta{Actor: fundbridge.Actor{UserID: "seed", Role: fundbridge.RoleSystem}},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.last = max(h.last, res.Position)
}

// call sends an op to matching, retrying only until it is serving.
func (h *harness) call(op string, actor fundbridge.Actor, payload any, out any, key ...string) error {
	h.t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	for range 200 {
		req := &svc.Request{Actor: actor, Payload: data}
		if len(key) > 0 {
			req.IdempotencyKey = key[0]
		}
		var reply svc.Reply
		reply, err = h.client.Call(context.Background(), matching.Name, op, req, out)
		if err == nil {
			h.last = max(h.last, reply.Position)
		}
		if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE || !strings.Contains(err.Error(), "not running") {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// refused checks a call fails with code.
func (h *harness) refused(op string, actor fundbridge.Actor, payload any, code string) error {
	h.t.Helper()
	err := h.call(op, actor, payload, nil)
	if fundbridge.ErrorCode(err) != code {
		h.t.Errorf("%s as %s %s: %v, want %s", op, actor.Role, actor.OrgID, err, code)
	}
	return err
}

func (h *harness) deal(id string) matchingapi.Deal {
	h.t.Helper()
	var d matchingapi.Deal
	if err := h.call(matchingapi.OpGet, operator, matchingapi.GetDeal{DealID: id, After: h.last}, &d); err != nil {
		h.t.Fatal(err)
	}
	return d
}

var (
	operator = fundbridge.Actor{UserID: "op", Role: fundbridge.RoleOperator}
	manager1 = fundbridge.Actor{UserID: "m1", Role: fundbridge.RoleFundManager, OrgID: "org-fm1"}
	manager2 = fundbridge.Actor{UserID: "m2", Role: fundbridge.RoleFundManager, OrgID: "org-fm2"}
	startup1 = fundbridge.Actor{UserID: "s1", Role: fundbridge.RoleStartup, OrgID: "co-1"}
	startup2 = fundbridge.Actor{UserID: "s2", Role: fundbridge.RoleStartup, OrgID: "co-2"}
	banker   = fundbridge.Actor{UserID: "b1", Role: fundbridge.RoleBank, OrgID: "bank-1"}
)

func yuanM(n int64) money.Amount { return money.Yuan(n * 1_000_000) }

func submitted(id, company string, stage fundbridge.Stage, amountM int64) applicationsapi.ApplicationSubmitted {
	v := yuanM(150)
	return applicationsapi.ApplicationSubmitted{
		ApplicationID: id, CompanyName: "Company " + company,
		Slice: applicationsapi.Slice{CompanyID: company, Stage: stage, Layer: fundbridge.LayerTechnology, Sector: "computer_vision", City: "beijing"},
		ApplicationTerms: applicationsapi.ApplicationTerms{
			AmountRequested: yuanM(amountM), Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity}, ValuationAsk: &v,
		},
	}
}

func slice(company string) applicationsapi.Slice {
	return applicationsapi.Slice{CompanyID: company, Stage: fundbridge.StageGrowth, Layer: fundbridge.LayerTechnology, Sector: "computer_vision", City: "beijing"}
}

func TestMatchingOverNATS(t *testing.T) {
	reg := events.NewRegistry()
	applicationsapi.Register(reg)
	fundsapi.Register(reg)
	matchingapi.Register(reg)
	matching.RegisterClosing(reg)
	env := testenv.Start(t, reg)
	h := &harness{t: t, env: env, client: svc.NewClient(env.Conn, 5*time.Second)}

	apps, fundsSvc := &responder{}, &responder{}
	serve(t, env.Connect(t), apps.service("applications", "application.mark_matched", "application.mark_under_review", "application.mark_funded",
		"application.reserve", "application.release_reservation"))
	serve(t, env.Connect(t), fundsSvc.service("funds", "fund.commit", "fund.release"))

	// The market, as the applications and funds services record it.
	h.append("fund-fund1", fundsapi.FundRegistered{FundID: "fund1", ManagerOrg: "org-fm1", Name: "Fund One", Type: fundsapi.FundVC, CommittedCapital: yuanM(1000)})
	h.append("fund-fund1", fundsapi.MandateSet{FundID: "fund1", Mandate: fundsapi.Mandate{
		Stages: []fundbridge.Stage{fundbridge.StageGrowth, fundbridge.StageExpansion}, Sectors: []fundbridge.Sector{"computer_vision"},
		Cities: []fundbridge.City{"beijing", "shanghai"}, TicketMin: yuanM(10), TicketMax: yuanM(50), MaxOwnership: decimal.RequireFromString("0.20"),
	}})
	h.append("fund-fund2", fundsapi.FundRegistered{FundID: "fund2", ManagerOrg: "org-fm2", Name: "Seed Two", Type: fundsapi.FundSeed, CommittedCapital: yuanM(100)})
	h.append("fund-fund2", fundsapi.MandateSet{FundID: "fund2", Mandate: fundsapi.Mandate{
		Stages: []fundbridge.Stage{fundbridge.StageSeed}, TicketMin: yuanM(1), TicketMax: yuanM(5), MaxOwnership: decimal.RequireFromString("0.15"),
	}})
	h.append("application-app1", submitted("app1", "co-1", fundbridge.StageGrowth, 30))
	h.append("application-app2", submitted("app2", "co-2", fundbridge.StageSeed, 30))
	h.append("application-app3", submitted("app3", "co-3", fundbridge.StageGrowth, 45))
	runService(t, env, reg)

	// New matches go to the applications service, as the platform, keyed
	// by the matchmaking process's instance and step.
	matched := apps.await(t, "application.mark_matched", 2)
	byApp := map[string]svc.Request{}
	for _, req := range matched {
		var p struct {
			ApplicationID string   `json:"application_id"`
			FundIDs       []string `json:"fund_ids"`
		}
		if err := json.Unmarshal(req.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.FundIDs, []string{"fund1"}) {
			t.Errorf("mark_matched %s: funds %v, want [fund1]", p.ApplicationID, p.FundIDs)
		}
		if req.Actor.Role != fundbridge.RoleSystem || req.Actor.UserID != "matching" || !strings.HasPrefix(req.IdempotencyKey, "process/matchmaking/") {
			t.Errorf("mark_matched %s: actor %+v, key %q", p.ApplicationID, req.Actor, req.IdempotencyKey)
		}
		byApp[p.ApplicationID] = req
	}
	if _, ok := byApp["app1"]; !ok || len(byApp) != 2 || byApp["app3"].IdempotencyKey == "" {
		t.Fatalf("mark_matched went to %v, want app1 and app3", byApp)
	}
	// ... which records them.
	h.append("application-app1", applicationsapi.ApplicationMatched{ApplicationID: "app1", FundIDs: []string{"fund1"}, Slice: slice("co-1")})
	h.append("application-app3", applicationsapi.ApplicationMatched{ApplicationID: "app3", FundIDs: []string{"fund1"}, Slice: slice("co-3")})

	t.Run("match.for_fund", func(t *testing.T) {
		var page1, page2 matchingapi.FundMatches
		if err := h.call(matchingapi.OpMatchesForFund, manager1, matchingapi.MatchesForFund{FundID: "fund1", Limit: 1, After: h.last}, &page1); err != nil {
			t.Fatal(err)
		}
		if len(page1.Items) != 1 || page1.Items[0].ID != "app1" || page1.Items[0].Score != 100 || page1.NextCursor == "" {
			t.Fatalf("page 1 = %+v", page1)
		}
		if !slices.Contains(page1.Items[0].For, "sector computer_vision is a focus sector") || !slices.Contains(page1.Items[0].For, "stage growth is in mandate") {
			t.Errorf("reasons for = %q", page1.Items[0].For)
		}
		if err := h.call(matchingapi.OpMatchesForFund, manager1, matchingapi.MatchesForFund{FundID: "fund1", Limit: 1, Cursor: page1.NextCursor}, &page2); err != nil {
			t.Fatal(err)
		}
		if len(page2.Items) != 1 || page2.Items[0].ID != "app3" || page2.Items[0].Score >= 100 || page2.NextCursor != "" {
			t.Fatalf("page 2 = %+v", page2)
		}
		if !slices.Contains(page2.Items[0].Against, "ownership 23.08% at the valuation ask is above fund maximum 20.00%") {
			t.Errorf("reasons against = %q", page2.Items[0].Against)
		}
		var all matchingapi.FundMatches
		if err := h.call(matchingapi.OpMatchesForFund, operator, matchingapi.MatchesForFund{FundID: "fund1"}, &all); err != nil || len(all.Items) != 2 {
			t.Errorf("operator sees %+v, %v", all, err)
		}
		h.refused(matchingapi.OpMatchesForFund, manager2, matchingapi.MatchesForFund{FundID: "fund1"}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpMatchesForFund, startup1, matchingapi.MatchesForFund{FundID: "fund1"}, fundbridge.EFORBIDDEN)
		h.refused(matchingapi.OpMatchesForFund, banker, matchingapi.MatchesForFund{FundID: "fund1"}, fundbridge.EFORBIDDEN)
		h.refused(matchingapi.OpMatchesForFund, manager1, matchingapi.MatchesForFund{FundID: "fund1", Limit: 500}, fundbridge.EINVALID)
		h.refused(matchingapi.OpMatchesForFund, manager1, map[string]any{"fund_id": "fund1", "colour": "red"}, fundbridge.EINVALID)
	})

	t.Run("match.for_application", func(t *testing.T) {
		var got matchingapi.ApplicationMatches
		if err := h.call(matchingapi.OpMatchesForApplication, startup1, matchingapi.MatchesForApplication{ApplicationID: "app1", After: h.last}, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != 1 || got.Items[0].FundID != "fund1" || got.Items[0].FundName != "Fund One" || got.Status != "matched" {
			t.Fatalf("matches = %+v", got)
		}
		var none matchingapi.ApplicationMatches
		if err := h.call(matchingapi.OpMatchesForApplication, startup2, matchingapi.MatchesForApplication{ApplicationID: "app2"}, &none); err != nil || len(none.Items) != 0 {
			t.Errorf("app2 matches = %+v, %v; want none", none, err)
		}
		if err := h.call(matchingapi.OpMatchesForApplication, operator, matchingapi.MatchesForApplication{ApplicationID: "app1"}, &got); err != nil {
			t.Error(err)
		}
		h.refused(matchingapi.OpMatchesForApplication, startup2, matchingapi.MatchesForApplication{ApplicationID: "app1"}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpMatchesForApplication, manager1, matchingapi.MatchesForApplication{ApplicationID: "app1"}, fundbridge.EFORBIDDEN)
	})

	deal := matchingapi.DealID("fund1", "app1")
	t.Run("deal.source", func(t *testing.T) {
		// An application off the fund's board is one its manager cannot
		// see: not found, as an unknown one, and no word of why it does
		// not match (its stage, ticket or city).
		err := h.refused(matchingapi.OpSource, manager1, matchingapi.SourceDeal{FundID: "fund1", ApplicationID: "app2"}, fundbridge.ENOTFOUND)
		if msg := fundbridge.ErrorMessage(err); msg != "no open application app2" {
			t.Errorf("sourcing an application off the board says %q", msg)
		}
		h.refused(matchingapi.OpSource, manager2, matchingapi.SourceDeal{FundID: "fund1", ApplicationID: "app1"}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpSource, manager1, matchingapi.SourceDeal{FundID: "fund1", ApplicationID: "nope"}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpSource, startup1, matchingapi.SourceDeal{FundID: "fund1", ApplicationID: "app1"}, fundbridge.EFORBIDDEN)
		h.refused(matchingapi.OpSource, operator, matchingapi.SourceDeal{FundID: "fund1", ApplicationID: "app1"}, fundbridge.EFORBIDDEN)
		h.refused(matchingapi.OpSource, manager1, matchingapi.SourceDeal{FundID: "fund1"}, fundbridge.EINVALID)

		var d, again matchingapi.Deal
		if err := h.call(matchingapi.OpSource, manager1, matchingapi.SourceDeal{FundID: "fund1", ApplicationID: "app1"}, &d, "source-1"); err != nil {
			t.Fatal(err)
		}
		if d.ID != deal || d.Step != matchingapi.StepSourced || d.Score != 100 || d.CompanyID != "co-1" || d.Stage != fundbridge.StageGrowth || d.Version != 1 {
			t.Fatalf("sourced deal = %+v", d)
		}
		if err := h.call(matchingapi.OpSource, manager1, matchingapi.SourceDeal{FundID: "fund1", ApplicationID: "app1"}, &again, "source-1"); err != nil || again.Version != 1 {
			t.Errorf("a retry with the same key: %+v, %v; want the first result", again, err)
		}
		h.refused(matchingapi.OpSource, manager1, matchingapi.SourceDeal{FundID: "fund1", ApplicationID: "app1"}, fundbridge.ECONFLICT)
	})

	t.Run("deal.advance", func(t *testing.T) {
		h.refused(matchingapi.OpAdvance, manager1, matchingapi.AdvanceDeal{DealID: deal, To: matchingapi.StepFirstMeeting}, fundbridge.ECONFLICT)
		h.refused(matchingapi.OpAdvance, manager2, matchingapi.AdvanceDeal{DealID: deal, To: matchingapi.StepScreening}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpAdvance, startup1, matchingapi.AdvanceDeal{DealID: deal, To: matchingapi.StepScreening}, fundbridge.EFORBIDDEN)
		h.refused(matchingapi.OpAdvance, manager1, matchingapi.AdvanceDeal{DealID: "fund1_nope", To: matchingapi.StepScreening}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpAdvance, manager1, matchingapi.AdvanceDeal{DealID: deal, To: "signed"}, fundbridge.EINVALID)
		for _, to := range []matchingapi.Step{matchingapi.StepScreening, matchingapi.StepFirstMeeting, matchingapi.StepDueDiligence, matchingapi.StepICReview} {
			var d matchingapi.Deal
			if err := h.call(matchingapi.OpAdvance, manager1, matchingapi.AdvanceDeal{DealID: deal, To: to}, &d); err != nil || d.Step != to {
				t.Fatalf("advance to %s: %+v, %v", to, d, err)
			}
		}
		// Screening puts the application under review with the fund.
		rev := apps.await(t, "application.mark_under_review", 1)
		if string(rev[0].Payload) != `{"application_id":"app1","fund_id":"fund1"}` || rev[0].IdempotencyKey != "process/matchmaking/deal-"+deal+"/plan_1_1" {
			t.Errorf("mark_under_review = %s, key %q", rev[0].Payload, rev[0].IdempotencyKey)
		}
		h.append("application-app1", applicationsapi.ApplicationUnderReview{ApplicationID: "app1", FundID: "fund1", Slice: slice("co-1")})
	})

	// Regression: the authorization check ran inside the decide step, after
	// the repository's If-Match check and idempotent replay, so another
	// fund's manager learned that the deal exists and its version.
	t.Run("a stranger learns nothing from If-Match or a reused key", func(t *testing.T) {
		payload, _ := json.Marshal(matchingapi.AdvanceDeal{DealID: deal, To: matchingapi.StepTermSheet})
		stale := uint64(1)
		_, err := h.client.Call(context.Background(), matching.Name, matchingapi.OpAdvance,
			&svc.Request{Actor: manager2, Payload: payload, ExpectedVersion: &stale}, nil)
		if fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND || strings.Contains(err.Error(), "version") {
			t.Errorf("stale If-Match from another fund's manager = %v; want a 404 that names no version", err)
		}
		// "source-1" is the key manager1 sourced this deal with.
		err = h.call(matchingapi.OpAdvance, manager2, matchingapi.AdvanceDeal{DealID: deal, To: matchingapi.StepICReview}, nil, "source-1")
		if fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
			t.Errorf("another fund's manager reusing a key = %v; want a 404, not the first result", err)
		}
	})

	t.Run("term sheets", func(t *testing.T) {
		err := h.refused(matchingapi.OpIssueTermSheet, manager1, matchingapi.IssueTermSheet{DealID: deal, Amount: yuanM(12), PreMoney: yuanM(40)}, fundbridge.EUNPROCESSABLE)
		if msg := fundbridge.ErrorMessage(err); !strings.Contains(msg, "ownership 23.08%") || !strings.Contains(msg, "fund maximum 20.00%") {
			t.Errorf("refusal = %q: name both ownerships", msg)
		}
		h.refused(matchingapi.OpIssueTermSheet, manager1, matchingapi.IssueTermSheet{DealID: deal, Amount: yuanM(60), PreMoney: yuanM(600)}, fundbridge.EUNPROCESSABLE)
		h.refused(matchingapi.OpIssueTermSheet, manager1, map[string]any{"deal_id": deal, "amount": 10000000, "pre_money": "50000000.00"}, fundbridge.EINVALID)
		h.refused(matchingapi.OpIssueTermSheet, manager1, matchingapi.IssueTermSheet{DealID: deal, PreMoney: yuanM(40)}, fundbridge.EINVALID)
		h.refused(matchingapi.OpIssueTermSheet, manager2, matchingapi.IssueTermSheet{DealID: deal, Amount: yuanM(10), PreMoney: yuanM(50)}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpIssueTermSheet, startup1, matchingapi.IssueTermSheet{DealID: deal, Amount: yuanM(10), PreMoney: yuanM(50)}, fundbridge.EFORBIDDEN)

		var d matchingapi.Deal
		if err := h.call(matchingapi.OpIssueTermSheet, manager1, matchingapi.IssueTermSheet{DealID: deal, Amount: yuanM(10), PreMoney: yuanM(40)}, &d); err != nil {
			t.Fatal(err)
		}
		if d.Step != matchingapi.StepTermSheet || d.TermSheet.Percent != "20.00%" || !d.TermSheet.PostMoney.Equal(yuanM(50)) {
			t.Fatalf("deal = %+v, term sheet %+v", d, d.TermSheet)
		}
		h.refused(matchingapi.OpDeclineTermSheet, startup2, matchingapi.DeclineTermSheet{DealID: deal, Reason: "no"}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpDeclineTermSheet, manager1, matchingapi.DeclineTermSheet{DealID: deal, Reason: "no"}, fundbridge.EFORBIDDEN)
		h.refused(matchingapi.OpDeclineTermSheet, startup1, matchingapi.DeclineTermSheet{DealID: deal}, fundbridge.EINVALID)
		var declined, reissued, accepted matchingapi.Deal
		if err := h.call(matchingapi.OpDeclineTermSheet, startup1, matchingapi.DeclineTermSheet{DealID: deal, Reason: "valuation too low"}, &declined); err != nil ||
			declined.Step != matchingapi.StepICReview || declined.TermSheet != nil || declined.DeclineNote != "valuation too low" {
			t.Fatalf("declined: %+v, %v", declined, err)
		}
		if err := h.call(matchingapi.OpIssueTermSheet, manager1, matchingapi.IssueTermSheet{DealID: deal, Amount: yuanM(10), PreMoney: yuanM(50)}, &reissued); err != nil || reissued.TermSheet.Percent != "16.67%" {
			t.Fatalf("reissued: %+v, %v", reissued, err)
		}
		h.refused(matchingapi.OpClose, manager1, matchingapi.CloseDeal{DealID: deal}, fundbridge.ECONFLICT) // not accepted yet
		h.refused(matchingapi.OpAcceptTermSheet, startup2, matchingapi.AcceptTermSheet{DealID: deal}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpAcceptTermSheet, manager1, matchingapi.AcceptTermSheet{DealID: deal}, fundbridge.EFORBIDDEN)
		if err := h.call(matchingapi.OpAcceptTermSheet, startup1, matchingapi.AcceptTermSheet{DealID: deal}, &accepted); err != nil || !accepted.TermSheet.Accepted {
			t.Fatalf("accepted: %+v, %v", accepted, err)
		}
	})

	t.Run("deal.close refused by funds", func(t *testing.T) {
		fundsSvc.refuse("fund.commit", fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "commitment ¥10m beyond dry powder ¥5m"))
		err := h.refused(matchingapi.OpClose, manager1, matchingapi.CloseDeal{DealID: deal}, fundbridge.EUNPROCESSABLE)
		want := "deal fund1_app1 did not close: the fund cannot commit the capital: commitment ¥10m beyond dry powder ¥5m"
		if fundbridge.ErrorMessage(err) != want {
			t.Errorf("refusal = %q, want %q", fundbridge.ErrorMessage(err), want)
		}
		// The reservation taken before the commit is released; the commit,
		// refused, has nothing to release.
		if n := len(apps.requests("application.release_reservation")); n != 1 {
			t.Errorf("%d reservations released, want 1", n)
		}
		if n := len(fundsSvc.requests("fund.release")); n != 0 {
			t.Errorf("%d releases of a commitment that never was", n)
		}
		fundsSvc.refuse("fund.commit", fundbridge.Errorf(fundbridge.ECONFLICT, "fund fund1 is closed"))
		h.refused(matchingapi.OpClose, manager1, matchingapi.CloseDeal{DealID: deal}, fundbridge.ECONFLICT)
		if d := h.deal(deal); d.Step != matchingapi.StepTermSheet || d.Closed != nil || d.ClosingProcess != "" ||
			!strings.Contains(d.LastClosingFailure, "fund fund1 is closed") {
			t.Errorf("deal = %+v, want it back at term_sheet, saying why", d)
		}
		h.refused(matchingapi.OpClose, manager2, matchingapi.CloseDeal{DealID: deal}, fundbridge.ENOTFOUND)
		h.refused(matchingapi.OpClose, startup1, matchingapi.CloseDeal{DealID: deal}, fundbridge.EFORBIDDEN)
		// The closing steps are the platform's alone.
		h.refused(matchingapi.OpCompleteClosing, manager1, matchingapi.ClosingStep{DealID: deal, Process: "x"}, fundbridge.EFORBIDDEN)
	})

	t.Run("deal.close", func(t *testing.T) {
		fundsSvc.refuse("fund.commit", nil)
		var d matchingapi.Deal
		if err := h.call(matchingapi.OpClose, manager1, matchingapi.CloseDeal{DealID: deal}, &d); err != nil {
			t.Fatal(err)
		}
		if d.Step != matchingapi.StepClosed || d.Closed.Percent != "16.67%" || !d.Closed.Amount.Equal(yuanM(10)) {
			t.Fatalf("closed deal = %+v", d)
		}
		commits := fundsSvc.requests("fund.commit")
		last := commits[len(commits)-1]
		want := `{"fund_id":"fund1","deal_id":"fund1_app1","application_id":"app1","company_id":"co-1","amount":"10000000.00"}`
		if string(last.Payload) != want || !strings.HasPrefix(last.IdempotencyKey, "process/closing/"+deal+"-") || last.Actor.Role != fundbridge.RoleSystem {
			t.Errorf("fund.commit = %s key %q actor %+v\nwant %s", last.Payload, last.IdempotencyKey, last.Actor, want)
		}
		evs, err := env.Store.ReadStream(context.Background(), "deal-"+deal, 1)
		if err != nil {
			t.Fatal(err)
		}
		if lastEv := evs[len(evs)-1]; lastEv.Type != "deal.closed.v1" || lastEv.Actor.Role != fundbridge.RoleSystem {
			t.Errorf("last event = %s by %+v", lastEv.Type, lastEv.Actor)
		}
		funded := apps.requests("application.mark_funded")
		wantFunded := `{"application_id":"app1","deal_id":"fund1_app1","fund_id":"fund1","instrument":"equity","amount":"10000000.00"}`
		if len(funded) != 1 || string(funded[0].Payload) != wantFunded {
			t.Errorf("mark_funded = %+v\nwant one, %s", funded, wantFunded)
		}
		h.refused(matchingapi.OpPass, manager1, matchingapi.PassDeal{DealID: deal, Reason: "too late"}, fundbridge.ECONFLICT)
		h.append("application-app1", applicationsapi.ApplicationFunded{ApplicationID: "app1", DealID: deal, FundID: "fund1", Instrument: fundbridge.InstrumentEquity, Amount: yuanM(10), Slice: slice("co-1")})
	})

	t.Run("deal.get and deal.list", func(t *testing.T) {
		other := matchingapi.DealID("fund1", "app3")
		if err := h.call(matchingapi.OpSource, manager1, matchingapi.SourceDeal{FundID: "fund1", ApplicationID: "app3"}, nil); err != nil {
			t.Fatal(err)
		}
		h.refused(matchingapi.OpPass, manager1, matchingapi.PassDeal{DealID: other}, fundbridge.EINVALID)
		h.refused(matchingapi.OpPass, manager2, matchingapi.PassDeal{DealID: other, Reason: "no"}, fundbridge.ENOTFOUND)
		if err := h.call(matchingapi.OpPass, manager1, matchingapi.PassDeal{DealID: other, Reason: "valuation too rich"}, nil); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			actor fundbridge.Actor
			code  string
		}{{manager1, ""}, {startup1, ""}, {operator, ""}, {manager2, fundbridge.ENOTFOUND}, {startup2, fundbridge.ENOTFOUND}, {banker, fundbridge.EFORBIDDEN}} {
			var d matchingapi.Deal
			err := h.call(matchingapi.OpGet, tc.actor, matchingapi.GetDeal{DealID: deal, After: h.last}, &d)
			if fundbridge.ErrorCode(err) != tc.code || (tc.code == "" && d.ID != deal) {
				t.Errorf("deal.get as %s %s: %+v, %v; want %q", tc.actor.Role, tc.actor.OrgID, d.ID, err, tc.code)
			}
		}
		list := func(actor fundbridge.Actor, q matchingapi.ListDeals) matchingapi.DealList {
			t.Helper()
			var l matchingapi.DealList
			if err := h.call(matchingapi.OpList, actor, q, &l); err != nil {
				t.Fatal(err)
			}
			return l
		}
		l := list(manager1, matchingapi.ListDeals{After: h.last})
		if len(l.Items) != 2 || l.Items[0].ID != other || l.Counts[matchingapi.StepClosed] != 1 || l.Counts[matchingapi.StepPassed] != 1 || l.Counts[matchingapi.StepSourced] != 0 {
			t.Errorf("manager's list = %+v", l)
		}
		if l := list(manager1, matchingapi.ListDeals{Step: matchingapi.StepPassed}); len(l.Items) != 1 || l.Items[0].PassReason != "valuation too rich" || l.Counts[matchingapi.StepClosed] != 1 {
			t.Errorf("passed deals = %+v", l)
		}
		page := list(manager1, matchingapi.ListDeals{Limit: 1, Sort: matchingapi.SortSourced})
		next := list(manager1, matchingapi.ListDeals{Limit: 1, Sort: matchingapi.SortSourced, Cursor: page.NextCursor})
		if page.Items[0].ID != deal || page.NextCursor == "" || len(next.Items) != 1 || next.Items[0].ID != other || next.NextCursor != "" {
			t.Errorf("pages = %+v then %+v", page, next)
		}
		for _, q := range []matchingapi.ListDeals{{Sort: matchingapi.SortSourced, Step: matchingapi.StepPassed}, {Sort: matchingapi.SortScoreDesc}, {Sort: matchingapi.SortSourced, FundID: "fund1"}} {
			q.Limit, q.Cursor = 1, page.NextCursor
			h.refused(matchingapi.OpList, manager1, q, fundbridge.EINVALID)
		}
		if l := list(manager2, matchingapi.ListDeals{}); len(l.Items) != 0 {
			t.Errorf("another manager sees %+v", l.Items)
		}
		if l := list(manager2, matchingapi.ListDeals{FundID: "fund1"}); len(l.Items) != 0 || l.Counts[matchingapi.StepClosed] != 0 {
			t.Errorf("another manager filtering on fund1 sees %+v", l)
		}
		if l := list(startup1, matchingapi.ListDeals{}); len(l.Items) != 1 || l.Items[0].ID != deal {
			t.Errorf("the startup sees %+v", l.Items)
		}
		if l := list(operator, matchingapi.ListDeals{ApplicationID: "app3"}); len(l.Items) != 1 || l.Items[0].ID != other {
			t.Errorf("operator filtering on app3 sees %+v", l.Items)
		}
		h.refused(matchingapi.OpList, banker, matchingapi.ListDeals{}, fundbridge.EFORBIDDEN)
		h.refused(matchingapi.OpList, manager1, matchingapi.ListDeals{Cursor: "not-a-cursor"}, fundbridge.EINVALID)
	})

	t.Run("a withdrawn application leaves the board", func(t *testing.T) {
		h.append("application-app3", applicationsapi.ApplicationWithdrawn{ApplicationID: "app3", Slice: slice("co-3")})
		var board matchingapi.FundMatches
		if err := h.call(matchingapi.OpMatchesForFund, manager1, matchingapi.MatchesForFund{FundID: "fund1", After: h.last}, &board); err != nil {
			t.Fatal(err)
		}
		if len(board.Items) != 0 {
			t.Errorf("board = %+v; app1 is funded and app3 withdrawn", board.Items)
		}
		// Its deal is refused any step forward for the withdrawal, before
		// its own step is looked at.
		other := matchingapi.DealID("fund1", "app3")
		err := h.refused(matchingapi.OpAdvance, manager1, matchingapi.AdvanceDeal{DealID: other, To: matchingapi.StepScreening}, fundbridge.ECONFLICT)
		if !strings.Contains(fundbridge.ErrorMessage(err), "application app3 was withdrawn") {
			t.Errorf("moving a withdrawn application's deal: %v", err)
		}
	})

	// Nothing went to the application that matches no fund, and each
	// match was sent once.
	for _, req := range apps.requests("application.mark_matched") {
		if strings.Contains(string(req.Payload), "app2") {
			t.Errorf("mark_matched sent for app2: %s", req.Payload)
		}
	}
	if n := len(apps.requests("application.mark_matched")); n != 2 {
		t.Errorf("mark_matched sent %d times, want 2", n)
	}

	t.Run("a restart replays without resending", func(t *testing.T) {
		sent := apps.total()
		runService(t, env, reg)
		time.Sleep(500 * time.Millisecond)
		if n := apps.total(); n != sent {
			t.Errorf("the restarted service sent %d requests already recorded", n-sent)
		}
	})
}

// Of two matching instances one matchmaking manager is active; when it
// stops, the other takes over.
func TestOneMatchmakingInstanceActsAtATime(t *testing.T) {
	reg := events.NewRegistry()
	applicationsapi.Register(reg)
	fundsapi.Register(reg)
	matchingapi.Register(reg)
	matching.RegisterClosing(reg)
	env := testenv.Start(t, reg)
	start := func() (*matching.Service, func()) {
		srv := matching.New(env.Store, reg, matching.WithLogger(quiet()),
			matching.WithClient(svc.NewClient(env.Connect(t), 5*time.Second)), matching.WithClosingProcess(env.Connect(t)),
			matching.WithRetryBackoff(20*time.Millisecond, 200*time.Millisecond))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		var once sync.Once
		stop := func() { once.Do(func() { cancel(); <-done }) }
		t.Cleanup(stop)
		return srv, stop
	}
	a, stopA := start()
	b, stopB := start()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	// Active is read twice, so a takeover between the reads cannot pass
	// as "one active": both reads must agree.
	oneActive := func() bool {
		x, y := a.Active(), b.Active()
		return x != y && x == a.Active() && y == b.Active()
	}
	waitFor("one active instance", oneActive)
	standby, stop := b, stopA
	if b.Active() {
		standby, stop = a, stopB
	}
	stop()
	waitFor("the standby to take over", standby.Active)
}
