package deals_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/process"
	"github.com/fundbridge/fundbridge/services/svc"
)

// procEnv is one NATS server and store with the funds service running,
// on which deals instances (each running the process managers) are
// started, stopped and crashed. The deals clock is the wall clock moved
// by skew (the durable deadlines are the server's, on the wall clock).
type procEnv struct {
	t      *testing.T
	env    *testenv.Env
	reg    *events.Registry
	client *svc.Client
	skew   atomic.Int64
}

func startProcEnv(t *testing.T) *procEnv {
	t.Helper()
	reg := events.NewRegistry()
	dealsapi.Register(reg)
	identityapi.Register(reg)
	fundsapi.Register(reg)
	deals.RegisterProcesses(reg)
	p := &procEnv{t: t, env: testenv.Start(t, reg), reg: reg}
	p.client = svc.NewClient(p.env.Conn, 10*time.Second)
	// The funds service as the product assembles it (its composition
	// root: a service's tests do not import another service).
	f := app.Builders()[fundsapi.Name](app.Deps{Store: p.env.Store, Snapshots: p.env.Snapshots, Registry: reg, NC: p.env.Connect(t), Log: slog.Default()})
	p.serve(f.Service, f.Run)
	return p
}

func (p *procEnv) serve(rt svc.Service, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	nc := p.env.Connect(p.t)
	var wg sync.WaitGroup
	wg.Go(func() { _ = run(ctx) })
	wg.Go(func() { _ = svc.Serve(ctx, nc, rt) })
	p.t.Cleanup(func() { cancel(); wg.Wait() })
}

// instance starts a deals service with its process managers. stop ends
// it cleanly (the managers hand their leases over at once); crash drops
// its NATS connection first, as a killed process would, so its leases
// stay held until they expire.
func (p *procEnv) instance() (stop, crash func()) {
	ctx, cancel := context.WithCancel(context.Background())
	nc := p.env.Connect(p.t)
	s := deals.New(p.env.Store, p.reg, deals.WithClient(svc.NewSystemClient(nc, deals.Name, 10*time.Second)), deals.WithProcesses(nc),
		deals.WithClock(func() time.Time { return time.Now().Add(time.Duration(p.skew.Load())) }))
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(ctx) })
	wg.Go(func() { _ = svc.Serve(ctx, nc, s.Runtime()) })
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait(); nc.Close() }) }
	crash = func() { once.Do(func() { nc.Close(); cancel(); wg.Wait() }) }
	p.t.Cleanup(stop)
	return stop, crash
}

func (p *procEnv) given(stream string, payloads ...events.Payload) {
	p.t.Helper()
	req := events.AppendRequest{StreamID: stream, Expected: events.Any, Meta: events.Meta{Actor: author}}
	for _, pl := range payloads {
		data, err := json.Marshal(pl)
		if err != nil {
			p.t.Fatal(err)
		}
		req.Events = append(req.Events, events.NewEvent{Type: pl.EventType(), Payload: data})
	}
	if _, err := p.env.Store.Append(context.Background(), req); err != nil {
		p.t.Fatal(err)
	}
}

func pcall[Req, Resp any](p *procEnv, e svc.Endpoint[Req, Resp], a fundbridge.Actor, q Req) (Resp, error) {
	var out Resp
	var err error
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, _, err = svc.Call(context.Background(), p.client, e, &svc.Request{ID: fmt.Sprint(time.Now().UnixNano()), Actor: a}, q)
		if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE || time.Now().After(deadline) {
			return out, err
		}
	}
}

func (p *procEnv) must(err error, what string) {
	p.t.Helper()
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

func (p *procEnv) bank(id string) fundbridge.Actor {
	p.t.Helper()
	p.given("org-"+id, identityapi.OrgCreated{OrgID: id, Name: id, Role: fundbridge.RoleBank})
	_, err := pcall(p, dealsapi.OnboardBankEndpoint, operator, dealsapi.OnboardBank{BankID: id, Name: id, CreditLimit: amt("900000000.00"), SingleBorrowerLimit: amt("900000000.00")})
	p.must(err, "onboard "+id)
	return fundbridge.Actor{UserID: "u-" + id, Role: fundbridge.RoleBank, OrgID: id}
}

// deal proposes a deal of 20,000,000.00 led by lead, with other invited
// and an equity tranche of 1,000,000.00 from fund.
func (p *procEnv) deal(id, lead, other, fund string, deadline time.Time) {
	p.t.Helper()
	p.given("loan_deal-"+id,
		dealsapi.DealProposed{DealID: id, BorrowerID: "co-" + id, ApplicationID: "app-" + id, LeadBankID: lead,
			Loan:     dealsapi.LoanTerms{Principal: amt("20000000.00"), AnnualRate: decimal.RequireFromString("0.05"), Months: 12, Method: dealsapi.EqualInstallment},
			Equity:   dealsapi.EquityTranche{FundID: fund, Amount: amt("1000000.00"), PreMoney: amt("9000000.00"), PostMoney: amt("10000000.00"), Ownership: decimal.RequireFromString("0.1")},
			Sequence: dealsapi.Together, RiskSharing: dealsapi.RiskSharing{Banks: decimal.NewFromInt(1)}, SyndicationDeadline: deadline},
		dealsapi.BankInvited{DealID: id, BankID: other})
}

func (p *procEnv) fund(id string) {
	p.given("fund-"+id, fundsapi.FundRegistered{FundID: id, ManagerOrg: "mgr", Name: id, Type: "vc", CommittedCapital: amt("50000000.00")})
}

func (p *procEnv) commit(bank fundbridge.Actor, deal, amount string) {
	p.t.Helper()
	_, err := pcall(p, dealsapi.CommitToDealEndpoint, bank, dealsapi.CommitToDeal{DealID: deal, BankID: bank.OrgID, Amount: amt(amount)})
	p.must(err, bank.OrgID+" commits to "+deal)
}

func (p *procEnv) equity(deal, fund string) {
	p.t.Helper()
	_, err := pcall(p, dealsapi.RecordEquityEndpoint, operator, dealsapi.RecordEquityCommitted{DealID: deal, FundID: fund, Amount: amt("1000000.00")})
	p.must(err, "equity of "+deal)
}

// stream reads a stream's payloads.
func (p *procEnv) stream(id string) []any {
	p.t.Helper()
	es, err := p.env.Store.ReadStream(context.Background(), id, 1)
	if err != nil {
		p.t.Fatalf("read %s: %v", id, err)
	}
	out := make([]any, 0, len(es))
	for _, e := range es {
		_, payload, err := p.reg.Decode(e)
		if err != nil {
			p.t.Fatalf("decode %s: %v", e.Type, err)
		}
		out = append(out, payload)
	}
	return out
}

func count[T any](payloads []any, match func(T) bool) int {
	n := 0
	for _, pl := range payloads {
		if v, ok := pl.(T); ok && (match == nil || match(v)) {
			n++
		}
	}
	return n
}

// ended waits until the deal's syndication process has ended, and
// returns how.
func (p *procEnv) ended(name, id string, within time.Duration) process.Ended {
	p.t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, pl := range p.stream("process-" + name + "-" + id) {
			if e, ok := pl.(process.Ended); ok {
				return e
			}
		}
	}
	p.t.Fatalf("process %s-%s has not ended after %s: %v", name, id, within, p.stream("process-"+name+"-"+id))
	return process.Ended{}
}

// exposure is what bank carries for deal, from its stream, and how many
// times it reserved and released some.
func (p *procEnv) exposure(bank, deal string) (held money.Amount, reserves, releases int) {
	held = money.Zero
	for _, pl := range p.stream("bank-" + bank) {
		switch e := pl.(type) {
		case dealsapi.ExposureReserved:
			if e.DealID == deal {
				held, reserves = held.Add(e.Amount), reserves+1
			}
		case dealsapi.ExposureReleased:
			if e.DealID == deal {
				held, releases = held.Sub(e.Amount), releases+1
			}
		}
	}
	return held, reserves, releases
}

// assertExpiredOnce checks an expired deal: one expiry, every bank back
// to zero with one release each, the equity given back once if it was
// committed, one firing of the deadline.
func (p *procEnv) assertExpiredOnce(deal, fund string, banks []string, equity bool) {
	p.t.Helper()
	if e := p.ended(deals.SyndicationName, deal, 40*time.Second); e.Outcome != process.Completed {
		p.t.Errorf("%s: syndication ended %s (%s), want completed", deal, e.Outcome, e.Reason)
	}
	if n := count[dealsapi.DealExpired](p.stream("loan_deal-"+deal), nil); n != 1 {
		p.t.Errorf("%s: expired %d times, want once", deal, n)
	}
	if n := count[process.DeadlineFired](p.stream("process-syndication-"+deal), nil); n != 1 {
		p.t.Errorf("%s: deadline fired %d times, want once", deal, n)
	}
	for _, b := range banks {
		held, reserves, releases := p.exposure(b, deal)
		if !held.IsZero() || releases != min(reserves, 1) {
			p.t.Errorf("%s: bank %s still holds %s after %d reservations and %d releases, want 0 after one release", deal, b, held, reserves, releases)
		}
	}
	fundEvents := p.stream("fund-" + fund)
	committed := count(fundEvents, func(e fundsapi.CapitalCommitted) bool { return e.DealID == deal })
	released := count(fundEvents, func(e fundsapi.CapitalReleased) bool { return e.DealID == deal })
	if want := map[bool]int{true: 1, false: 0}[equity]; committed != want || released != want {
		p.t.Errorf("%s: fund committed %d and released %d times, want %d and %d", deal, committed, released, want, want)
	}
}

// The deals service is stopped in the middle of syndication and crashed
// while deadlines pass, stopped again right at a deadline, and restarted
// each time: every deal past its deadline expires exactly once with every
// commitment (the banks' exposure, the fund's tranche) released once, and
// the deal whose book fills after the restarts closes once, its loan
// opened once and each bank scaled back to its allocation.
func TestSyndicationAcrossRestarts(t *testing.T) {
	p := startProcEnv(t)
	stop, _ := p.instance()
	lead, other := p.bank("lead"), p.bank("other")
	p.fund("f1")
	t0 := time.Now()
	// Deadlines leave the setup time even on a loaded machine.
	p.deal("exp1", "lead", "other", "f1", t0.Add(8*time.Second))
	p.deal("exp2", "lead", "other", "f1", t0.Add(9*time.Second))
	p.deal("exp3", "lead", "other", "f1", t0.Add(14*time.Second))
	p.deal("close", "lead", "other", "f1", t0.Add(time.Hour))
	p.commit(other, "exp1", "5000000.00")
	p.equity("exp1", "f1")
	p.commit(lead, "exp2", "8000000.00")
	p.commit(other, "exp3", "1000000.00")
	p.equity("exp3", "f1")
	p.commit(other, "close", "5000000.00")
	stop()

	// Down in the middle of syndication; exp1's and exp2's deadlines
	// pass while it is down.
	_, crash2 := p.instance()
	time.Sleep(time.Until(t0.Add(7500 * time.Millisecond)))
	crash2()
	time.Sleep(time.Until(t0.Add(9500 * time.Millisecond)))
	stop3, _ := p.instance()
	p.commit(lead, "close", "20000000.00") // 25,000,000.00 for 20,000,000.00: scaled back
	p.equity("close", "f1")
	// Stopped right at exp3's deadline, started again.
	time.Sleep(time.Until(t0.Add(14 * time.Second)))
	stop3()
	p.instance()

	p.assertExpiredOnce("exp1", "f1", []string{"lead", "other"}, true)
	p.assertExpiredOnce("exp2", "f1", []string{"lead", "other"}, false)
	p.assertExpiredOnce("exp3", "f1", []string{"lead", "other"}, true)

	if e := p.ended(deals.SyndicationName, "close", 20*time.Second); e.Outcome != process.Completed {
		t.Errorf("close: syndication ended %s (%s)", e.Outcome, e.Reason)
	}
	if n := count[dealsapi.DealClosed](p.stream("loan_deal-close"), nil); n != 1 {
		t.Errorf("close: closed %d times", n)
	}
	if n := count[dealsapi.LoanOpened](p.stream("loan-close"), nil); n != 1 {
		t.Errorf("close: loan opened %d times", n)
	}
	for bank, want := range map[string]string{"lead": "16000000.00", "other": "4000000.00"} {
		if held, _, _ := p.exposure(bank, "close"); !held.Equal(amt(want)) {
			t.Errorf("close: %s holds %s, want its allocation %s", bank, held, want)
		}
	}
}

// Two instances run the process managers at once: every deadline fires
// once, every deal expires once, every bank's exposure is released once.
func TestDeadlinesFireOnceOnTwoInstances(t *testing.T) {
	p := startProcEnv(t)
	p.instance()
	p.instance()
	lead, other := p.bank("lead"), p.bank("other")
	p.fund("f1")
	t0 := time.Now()
	const n = 6
	for i := range n {
		id := fmt.Sprintf("d%d", i)
		p.deal(id, "lead", "other", "f1", t0.Add(8*time.Second+time.Duration(i)*300*time.Millisecond))
		p.commit(lead, id, "1000000.00")
		p.commit(other, id, "2000000.00")
		if i%2 == 0 {
			p.equity(id, "f1")
		}
	}
	for i := range n {
		p.assertExpiredOnce(fmt.Sprintf("d%d", i), "f1", []string{"lead", "other"}, i%2 == 0)
	}
}

// A loan whose schedule was fixed 100 days ago and never paid: the
// arrears process's deadlines (already due) record each period past due
// once, with its days past due; repaying what is owed clears the arrears.
func TestArrearsAreDurableDeadlines(t *testing.T) {
	p := startProcEnv(t)
	p.skew.Store(int64(-100 * 24 * time.Hour))
	p.instance()
	p.instance()
	lead, other := p.bank("lead"), p.bank("other")
	p.fund("f1")
	p.deal("l1", "lead", "other", "f1", time.Now().Add(time.Hour))
	p.commit(lead, "l1", "12000000.00")
	p.commit(other, "l1", "8000000.00")
	p.equity("l1", "f1")
	_, err := pcall(p, dealsapi.DrawDownEndpoint, lead, dealsapi.LoanAmount{LoanID: "l1", Amount: amt("20000000.00")})
	p.must(err, "draw down")
	p.skew.Store(0)
	// Three periods fell due in the 100 days; each is recorded once.
	var overdue []dealsapi.PeriodOverdue
	for deadline := time.Now().Add(20 * time.Second); len(overdue) < 3 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		overdue = overdue[:0]
		for _, pl := range p.stream("loan-l1") {
			if e, ok := pl.(dealsapi.PeriodOverdue); ok {
				overdue = append(overdue, e)
			}
		}
	}
	if len(overdue) != 3 {
		t.Fatalf("periods recorded overdue: %+v, want 3", overdue)
	}
	for i, o := range overdue {
		if o.Number != i+1 || o.DaysPastDue <= 0 || !o.Overdue.IsPositive() {
			t.Errorf("overdue %d: %+v", i, o)
		}
	}
	time.Sleep(2 * time.Second) // a repeated firing would record again by now
	if n := count[dealsapi.PeriodOverdue](p.stream("loan-l1"), nil); n != 3 {
		t.Errorf("%d overdue records, want 3", n)
	}
	l, err := pcall(p, dealsapi.GetLoanEndpoint, operator, dealsapi.GetLoan{LoanID: "l1"})
	p.must(err, "get loan")
	owed := money.Zero
	for _, in := range l.Schedule[:3] {
		owed = owed.Add(in.Payment)
	}
	_, err = pcall(p, dealsapi.RepayEndpoint, operator, dealsapi.LoanAmount{LoanID: "l1", Amount: owed})
	p.must(err, "repay the arrears")
	if n := count[dealsapi.ArrearsCleared](p.stream("loan-l1"), nil); n != 1 {
		t.Errorf("arrears cleared %d times, want once", n)
	}
}

// The equity fund's manager reads a defaulted loan with the loss split as
// the risk-sharing table splits it (the fund bears its part), but not
// each bank's loss; another fund's manager does not see the loan.
func TestAFundManagerSeesTheDefaultsSplitNotTheBanks(t *testing.T) {
	p := startProcEnv(t)
	p.instance()
	lead, other := p.bank("lead"), p.bank("other")
	p.fund("f1")
	p.deal("l2", "lead", "other", "f1", time.Now().Add(time.Hour))
	p.commit(lead, "l2", "12000000.00")
	p.commit(other, "l2", "8000000.00")
	p.equity("l2", "f1")
	_, err := pcall(p, dealsapi.DrawDownEndpoint, lead, dealsapi.LoanAmount{LoanID: "l2", Amount: amt("20000000.00")})
	p.must(err, "draw down")
	_, err = pcall(p, dealsapi.DeclareDefaultEndpoint, lead, dealsapi.DeclareDefault{LoanID: "l2", Reason: "stopped paying"})
	p.must(err, "declare a default")

	manager := fundbridge.Actor{UserID: "u-mgr", Role: fundbridge.RoleFundManager, OrgID: "mgr"}
	l, err := pcall(p, dealsapi.GetLoanEndpoint, manager, dealsapi.GetLoan{LoanID: "l2"})
	p.must(err, "the fund's manager reads the loan")
	if l.Default == nil || !l.Default.Allocation.Banks.Equal(l.Default.Loss) || len(l.Default.BankLosses) != 0 || len(l.Banks) != 0 {
		t.Errorf("the fund's manager sees default %+v and banks %+v; want the split without the banks' lines", l.Default, l.Banks)
	}
	if l, err := pcall(p, dealsapi.GetLoanEndpoint, lead, dealsapi.GetLoan{LoanID: "l2"}); err != nil || l.Default == nil || len(l.Default.BankLosses) != 2 {
		t.Errorf("the lead sees default %+v, %v; want each bank's loss", l.Default, err)
	}
	stranger := fundbridge.Actor{UserID: "u-x", Role: fundbridge.RoleFundManager, OrgID: "mgr-x"}
	if _, err := pcall(p, dealsapi.GetLoanEndpoint, stranger, dealsapi.GetLoan{LoanID: "l2"}); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("another fund's manager reads the loan: %v, want not found", err)
	}
}
