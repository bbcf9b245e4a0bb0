package deals_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

var (
	operator = fundbridge.Actor{UserID: "u-op", Role: fundbridge.RoleOperator}
	author   = fundbridge.Actor{UserID: "given", Role: fundbridge.RoleSystem}
)

// harness is n instances of the deals service on one real NATS server and
// store, sharing the load as one queue group, on one settable clock.
type harness struct {
	t      *testing.T
	env    *testenv.Env
	client *svc.Client
	now    atomic.Pointer[time.Time]
}

func start(t *testing.T, n int) *harness {
	t.Helper()
	reg := events.NewRegistry()
	dealsapi.Register(reg)
	identityapi.Register(reg)
	fundsapi.Register(reg)
	env := testenv.Start(t, reg)
	h := &harness{t: t, env: env, client: svc.NewClient(env.Conn, 10*time.Second)}
	now := time.Now().UTC()
	h.now.Store(&now)
	for range n {
		s := deals.New(env.Store, reg, deals.WithClock(func() time.Time { return *h.now.Load() }))
		ctx, cancel := context.WithCancel(context.Background())
		nc := env.Connect(t)
		var wg sync.WaitGroup
		wg.Go(func() { _ = s.Run(ctx) })
		wg.Go(func() {
			if err := svc.Serve(ctx, nc, s.Runtime()); err != nil {
				t.Errorf("serve: %v", err)
			}
		})
		t.Cleanup(func() { cancel(); wg.Wait() })
	}
	return h
}

// given appends events as they would have been recorded.
func (h *harness) given(stream string, payloads ...events.Payload) {
	h.t.Helper()
	req := events.AppendRequest{StreamID: stream, Expected: events.Exactly(0), Meta: events.Meta{Actor: author}}
	for _, p := range payloads {
		data, err := json.Marshal(p)
		if err != nil {
			h.t.Fatal(err)
		}
		req.Events = append(req.Events, events.NewEvent{Type: p.EventType(), Payload: data})
	}
	if _, err := h.env.Store.Append(context.Background(), req); err != nil {
		h.t.Fatal(err)
	}
}

func call[Req, Resp any](h *harness, e svc.Endpoint[Req, Resp], a fundbridge.Actor, q Req) (Resp, svc.Reply, error) {
	var out Resp
	var reply svc.Reply
	var err error
	// The servers may still be subscribing.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		out, reply, err = svc.Call(context.Background(), h.client, e, &svc.Request{ID: fmt.Sprint(time.Now().UnixNano()), Actor: a}, q)
		if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE || time.Now().After(deadline) {
			return out, reply, err
		}
	}
}

func amt(s string) money.Amount {
	a, err := money.Parse("amount", s)
	if err != nil {
		panic(err)
	}
	return a
}

// onboard makes a bank org and onboards it with both limits at limit.
func (h *harness) onboard(id, limit string) fundbridge.Actor {
	h.t.Helper()
	h.given("org-"+id, identityapi.OrgCreated{OrgID: id, Name: id, Role: fundbridge.RoleBank})
	if _, _, err := call(h, dealsapi.OnboardBankEndpoint, operator, dealsapi.OnboardBank{BankID: id, Name: id, CreditLimit: amt(limit), SingleBorrowerLimit: amt(limit)}); err != nil {
		h.t.Fatalf("onboard %s: %v", id, err)
	}
	return fundbridge.Actor{UserID: "u-" + id, Role: fundbridge.RoleBank, OrgID: id}
}

// proposed records a deal of 20,000,000.00 that bank is invited to.
func (h *harness) proposed(dealID, borrower, bank string, deadline time.Time, then ...events.Payload) {
	h.t.Helper()
	h.given("loan_deal-"+dealID, append([]events.Payload{
		dealsapi.DealProposed{DealID: dealID, BorrowerID: borrower, ApplicationID: "app-" + dealID, LeadBankID: "lead",
			Loan:     dealsapi.LoanTerms{Principal: amt("20000000.00"), AnnualRate: decimal.RequireFromString("0.05"), Months: 12, Method: dealsapi.EqualInstallment},
			Equity:   dealsapi.EquityTranche{FundID: "fund-1", Amount: amt("1000000.00"), PreMoney: amt("9000000.00"), PostMoney: amt("10000000.00"), Ownership: decimal.RequireFromString("0.1")},
			Sequence: dealsapi.Together, RiskSharing: dealsapi.RiskSharing{Banks: decimal.NewFromInt(1)}, SyndicationDeadline: deadline},
		dealsapi.BankInvited{DealID: dealID, BankID: bank}}, then...)...)
}

// Two deals race for the last room under one bank's limit: the exposure
// is reserved on the bank's stream before either deal records the
// commitment, so exactly one wins, the other is refused naming the limit,
// and the bank's exposure is exactly the winner's, on two instances.
func TestCommitmentsRaceForOneLimit(t *testing.T) {
	h := start(t, 2)
	deadline := h.now.Load().Add(24 * time.Hour)
	rounds := 8
	if testing.Short() {
		rounds = 2
	}
	for round := range rounds {
		bankID := fmt.Sprintf("bank-%d", round)
		bank := h.onboard(bankID, "10000000.00")
		d1, d2 := fmt.Sprintf("d%d-a", round), fmt.Sprintf("d%d-b", round)
		h.proposed(d1, "co-1", bankID, deadline)
		h.proposed(d2, "co-2", bankID, deadline)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		positions := make([]uint64, 2)
		for i, d := range []string{d1, d2} {
			wg.Go(func() {
				var reply svc.Reply
				_, reply, errs[i] = call(h, dealsapi.CommitToDealEndpoint, bank, dealsapi.CommitToDeal{DealID: d, Amount: amt("6000000.00")})
				positions[i] = reply.Position
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case fundbridge.ErrorCode(err) != fundbridge.EUNPROCESSABLE:
				t.Fatalf("round %d: refused with %v, want a limit refusal", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d commitments won, want exactly 1 (%v)", round, won, errs)
		}
		// Read the bank as of the winner's commitment.
		b, _, err := call(h, dealsapi.GetBankEndpoint, bank, dealsapi.BankRef{BankID: bankID, After: max(positions[0], positions[1])})
		if err != nil {
			t.Fatal(err)
		}
		if !b.Exposure.Equal(amt("6000000.00")) || len(b.Exposures) != 1 {
			t.Errorf("round %d: exposure %s over %v, want 6,000,000.00 on one deal", round, b.Exposure, b.Exposures)
		}
	}
}

// At its deadline an unfinished deal expires and every commitment is
// released, the fund's tranche too; a bank can no longer commit; the
// deadline firing twice changes nothing.
func TestExpiryReleasesEveryCommitment(t *testing.T) {
	h := start(t, 1)
	bank := h.onboard("bank-e", "50000000.00")
	deadline := h.now.Load().Add(time.Hour)
	h.proposed("d-exp", "co-1", "bank-e", deadline, dealsapi.EquityTrancheCommitted{DealID: "d-exp", FundID: "fund-1", Amount: amt("1000000.00")})
	if _, _, err := call(h, dealsapi.CommitToDealEndpoint, bank, dealsapi.CommitToDeal{DealID: "d-exp", Amount: amt("3000000.00")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := call(h, dealsapi.ExpireDealEndpoint, operator, dealsapi.DealRef{DealID: "d-exp"}); fundbridge.ErrorCode(err) != fundbridge.EUNPROCESSABLE {
		t.Fatalf("expire before the deadline: %v, want a refusal", err)
	}
	later := deadline.Add(time.Minute)
	h.now.Store(&later)
	if _, _, err := call(h, dealsapi.CommitToDealEndpoint, bank, dealsapi.CommitToDeal{DealID: "d-exp", Amount: amt("1.00")}); err == nil {
		t.Fatal("a commitment after the deadline was taken")
	}
	for range 2 {
		d, reply, err := call(h, dealsapi.ExpireDealEndpoint, operator, dealsapi.DealRef{DealID: "d-exp"})
		if err != nil || d.Status != dealsapi.StatusExpired {
			t.Fatalf("expire = %v %v", d.Status, err)
		}
		if d.EquityIn || !d.EquityReleased {
			t.Errorf("expired deal: equity_in %v, equity_released %v; want the tranche shown released", d.EquityIn, d.EquityReleased)
		}
		b, _, err := call(h, dealsapi.GetBankEndpoint, bank, dealsapi.BankRef{BankID: "bank-e", After: reply.Position})
		if err != nil || !b.Exposure.IsZero() {
			t.Fatalf("bank after expiry: exposure %s, %v", b.Exposure, err)
		}
	}
	if _, _, err := call(h, dealsapi.ExpireDealEndpoint, bank, dealsapi.DealRef{DealID: "d-exp"}); fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
		t.Errorf("a bank expiring a deal: %v", err)
	}
}
