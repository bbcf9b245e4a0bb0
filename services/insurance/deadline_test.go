package insurance

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// deadlineHarness runs instances of the service, each with its policy
// process manager, on one real NATS server and store, on one clock that
// the test moves; every deadline fires at one instant, fireAt.
type deadlineHarness struct {
	t      *testing.T
	env    *testenv.Env
	reg    *events.Registry
	offset atomic.Int64
	fireAt time.Time
}

func (h *deadlineHarness) now() time.Time { return time.Now().Add(time.Duration(h.offset.Load())) }

// instance starts one instance named name; stop stops it cleanly.
func (h *deadlineHarness) instance(name string) (stop func()) {
	nc := h.env.Connect(h.t)
	s := New(h.env.Store, h.reg, WithClock(h.now), WithClient(svc.NewSystemClient(nc, Name, 10*time.Second)),
		WithProcess(nc, ProcessOptions{Instance: name, DeadlineAt: func(time.Time) time.Time { return h.fireAt }}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(ctx) })
	wg.Go(func() { _ = svc.Serve(ctx, nc, s.Runtime()) })
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	h.t.Cleanup(stop)
	// Serving starts in the background: wait until the bus answers.
	client := svc.NewClient(nc, time.Second)
	h.waitFor("the service on the bus", func() bool {
		_, _, err := svc.Call(context.Background(), client, api.ListInsurersEndpoint, &svc.Request{ID: "up", Actor: operator}, api.ListInsurers{})
		return err == nil
	})
	return stop
}

func (h *deadlineHarness) count(stream, typ string) int {
	h.t.Helper()
	evs, err := h.env.Store.ReadStream(context.Background(), stream, 1)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// seed records, through the deciders, an insurer with its table, a
// request with an open quote (r-open) and a request whose quote was
// accepted and whose policy is bound and paid; it returns the policy.
func (h *deadlineHarness) seed(s *Service) string {
	h.t.Helper()
	ctx := context.Background()
	cmd := func(cause string) svc.Command {
		return svc.Command{Meta: events.Meta{Actor: platformActor, CorrelationID: "seed", CausationID: cause}}
	}
	must := func(_ events.AppendResult, err error) {
		h.t.Helper()
		if err != nil {
			h.t.Fatal(err)
		}
	}
	exec := func(r *svc.Repository[Request], id, cause string, decide func(Request) ([]events.Payload, error)) Request {
		res, st, err := r.Execute(ctx, id, cmd(cause), svc.CheckedBefore, decide)
		must(res, err)
		return st
	}
	res, _, err := s.tables.Execute(ctx, "ins-a", cmd("onboard"), svc.CheckedBefore, func(t TableState) ([]events.Payload, error) {
		return decideOnboard(t, operator, api.OnboardInsurer{InsurerID: "ins-a", Name: "PICC"})
	})
	must(res, err)
	res, table, err := s.tables.Execute(ctx, "ins-a", cmd("publish"), svc.CheckedBefore, func(t TableState) ([]events.Payload, error) {
		return decidePublishTable(t, insurerA, api.PublishRatingTable{Table: api.SampleRatingTable("ins-a")})
	})
	must(res, err)
	f := facts()
	var quotes []string
	for _, id := range []string{"r-open", "r-taken", "r-crashed"} {
		r := exec(s.requests, id, "request", func(r Request) ([]events.Payload, error) {
			return decideRequest(r, founder, id, ask(pGood), f, s.now())
		})
		tp, err := table.Table.Premium(r.premiumInput(api.Today(s.now())))
		if err != nil {
			h.t.Fatal(err)
		}
		r = exec(s.requests, id, "quote", func(r Request) ([]events.Payload, error) {
			return decideQuote(r, insurerA, api.QuoteInsurance{RequestID: id, Premium: tp.Amount}, table.Table, table.Version, s.now())
		})
		quotes = append(quotes, r.Quotes[0].QuoteID)
	}
	r := exec(s.requests, "r-taken", "accept", func(r Request) ([]events.Payload, error) {
		return decideAccept(r, founder, api.AcceptQuote{RequestID: "r-taken", QuoteID: quotes[1]}, s.now(), nil)
	})
	// r-crashed's quote is accepted by an instance that dies before it
	// binds the policy.
	exec(s.requests, "r-crashed", "accept", func(r Request) ([]events.Payload, error) {
		return decideAccept(r, founder, api.AcceptQuote{RequestID: "r-crashed", QuoteID: quotes[2]}, s.now(), nil)
	})
	pol := PolicyID(quotes[1])
	res, _, err = s.policies.Execute(ctx, pol, cmd("bind"), svc.CheckedBefore, func(p Policy) ([]events.Payload, error) {
		return decideBind(p, platformActor, pol, api.BindPolicy{RequestID: "r-taken", QuoteID: quotes[1]}, r, s.now())
	})
	must(res, err)
	res, _, err = s.policies.Execute(ctx, pol, cmd("pay"), svc.CheckedBefore, func(p Policy) ([]events.Payload, error) {
		return decidePayPremium(p, founder, api.PayPremium{PolicyID: pol, Amount: p.PremiumDue()})
	})
	must(res, err)
	return pol
}

func newDeadlineHarness(t *testing.T, in time.Duration) *deadlineHarness {
	reg := events.NewRegistry()
	api.Register(reg)
	RegisterProcess(reg)
	return &deadlineHarness{t: t, env: testenv.Start(t, reg), reg: reg, fireAt: time.Now().Add(in)}
}

func (h *deadlineHarness) waitFor(what string, ok func() bool) {
	h.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	h.t.Fatalf("timed out waiting for %s", what)
}

// A quote's 30 days and a policy's period end while every instance is
// down: when they come back, the open quote expires and the policy
// expires, each exactly once, though two instances run; the accepted
// quote does not expire.
func TestDeadlinesFireOnceAcrossARestartOnTwoInstances(t *testing.T) {
	h := newDeadlineHarness(t, 5*time.Second)
	pol := h.seed(New(h.env.Store, h.reg, WithClock(h.now)))
	stopA, stopB := h.instance("a"), h.instance("b")
	// Both managers follow the log; the process arms the deadlines.
	h.waitFor("the deadlines armed", func() bool {
		return h.count(ProcessAggregate+"-insurance-quote-r-open-q1", "process.deadline_scheduled.v1") == 1 &&
			h.count(ProcessAggregate+"-insurance-policy-"+pol, "process.deadline_scheduled.v1") == 1
	})
	stopA()
	stopB()
	// The days pass (the service's clock) and the deadlines' instant
	// passes with nothing running.
	h.offset.Store(int64(400 * 24 * time.Hour))
	time.Sleep(time.Until(h.fireAt) + 1500*time.Millisecond)
	if n := h.count("insurance-r-open", "insurance.quote_expired.v1"); n != 0 {
		t.Fatalf("expired with nothing running: %d", n)
	}
	h.instance("a")
	h.instance("b")
	// The accepted quote whose bind was lost was bound by the process.
	h.waitFor("the lost bind done", func() bool { return h.count("policy-"+PolicyID("r-crashed-q1"), "policy.bound.v1") == 1 })
	h.waitFor("the quote and the policy expired", func() bool {
		return h.count("insurance-r-open", "insurance.quote_expired.v1") == 1 && h.count("policy-"+pol, "policy.expired.v1") == 1
	})
	time.Sleep(2 * time.Second) // any second firing or second instance would act by now
	if n := h.count("insurance-r-open", "insurance.quote_expired.v1"); n != 1 {
		t.Errorf("the open quote expired %d times", n)
	}
	if n := h.count("policy-"+pol, "policy.expired.v1"); n != 1 {
		t.Errorf("the policy expired %d times", n)
	}
	if n := h.count("insurance-r-taken", "insurance.quote_expired.v1"); n != 0 {
		t.Errorf("the accepted quote expired %d times", n)
	}
	for _, stream := range []string{ProcessAggregate + "-insurance-quote-r-open-q1", ProcessAggregate + "-insurance-policy-" + pol} {
		if n := h.count(stream, "process.ended.v1"); n != 1 {
			t.Errorf("%s ended %d times", stream, n)
		}
	}
}

// One instance stops while a deadline is pending and the other takes
// over: the deadline fires once, on the one left.
func TestDeadlineFiresOnceWhenAnInstanceStops(t *testing.T) {
	h := newDeadlineHarness(t, 4*time.Second)
	h.offset.Store(0)
	pol := h.seed(New(h.env.Store, h.reg, WithClock(h.now)))
	stopA := h.instance("a")
	h.instance("b")
	h.waitFor("the deadlines armed", func() bool {
		return h.count(ProcessAggregate+"-insurance-policy-"+pol, "process.deadline_scheduled.v1") == 1
	})
	h.offset.Store(int64(400 * 24 * time.Hour))
	stopA()
	h.waitFor("the policy expired", func() bool { return h.count("policy-"+pol, "policy.expired.v1") == 1 })
	time.Sleep(2 * time.Second)
	if n := h.count("policy-"+pol, "policy.expired.v1"); n != 1 {
		t.Errorf("the policy expired %d times", n)
	}
}
