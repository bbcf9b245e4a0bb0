package insurance

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Forty startups accept their quotes at once through the service, served
// by two instances (one queue group, each with its own view and cache),
// racing for a subsidy budget that covers about a third of them. The sum
// drawn is the budget exactly; each policy's subsidy is half its premium,
// or what was left for at most one, or nothing; none is negative; and
// every policy's premium due is its premium less its subsidy.
func TestSubsidyRaceThroughTwoInstances(t *testing.T) {
	h := newDeadlineHarness(t, time.Hour)
	s := New(h.env.Store, h.reg, WithClock(h.now))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := svc.Command{Meta: events.Meta{Actor: platformActor, CorrelationID: "seed", CausationID: "seed"}}
	if _, _, err := s.tables.Execute(ctx, "ins-a", cmd, svc.CheckedBefore, func(t TableState) ([]events.Payload, error) {
		return decideOnboard(t, operator, api.OnboardInsurer{InsurerID: "ins-a", Name: "PICC"})
	}); err != nil {
		t.Fatal(err)
	}
	_, table, err := s.tables.Execute(ctx, "ins-a", cmd, svc.CheckedBefore, func(t TableState) ([]events.Payload, error) {
		return decidePublishTable(t, insurerA, api.PublishRatingTable{Table: api.SampleRatingTable("ins-a")})
	})
	if err != nil {
		t.Fatal(err)
	}
	const startups = 40
	type accept struct {
		actor fundbridge.Actor
		cmd   api.AcceptQuote
	}
	var accepts []accept
	for i := range startups {
		company := fmt.Sprintf("co-%02d", i)
		f := facts()
		f.Company.CompanyID = company
		actor := fundbridge.Actor{UserID: "u-" + company, Role: fundbridge.RoleStartup, OrgID: company}
		id := "r-" + company
		ask := ask(pGood)
		ask.SumInsured = money.MustParse(fmt.Sprintf("%d.00", 500000+i*25000))
		_, r, err := s.requests.Execute(ctx, id, cmd, svc.CheckedBefore, func(r Request) ([]events.Payload, error) {
			return decideRequest(r, actor, id, ask, f, s.now())
		})
		if err != nil {
			t.Fatal(err)
		}
		tp, err := table.Table.Premium(r.premiumInput(api.Today(s.now())))
		if err != nil {
			t.Fatal(err)
		}
		if _, r, err = s.requests.Execute(ctx, id, cmd, svc.CheckedBefore, func(r Request) ([]events.Payload, error) {
			return decideQuote(r, insurerA, api.QuoteInsurance{RequestID: id, Premium: tp.Amount}, table.Table, table.Version, s.now())
		}); err != nil {
			t.Fatal(err)
		}
		accepts = append(accepts, accept{actor, api.AcceptQuote{RequestID: id, QuoteID: r.Quotes[0].QuoteID}})
	}
	h.instance("a")
	h.instance("b")
	client := svc.NewClient(h.env.Conn, 30*time.Second)
	op := &svc.Request{ID: "create", Actor: operator}
	g, reply, err := svc.Call(ctx, client, api.CreateProgrammeEndpoint, op, api.CreateSubsidyProgramme{Name: "Suzhou IP", Sponsor: "Suzhou",
		Share: "0.50", CapPerYear: money.MustParse("100000.00"), Budget: money.MustParse("100000.00"), Coverages: []api.Coverage{api.CoverageEnforcement}})
	if err != nil {
		t.Fatal(err)
	}
	// Both instances' views hold the programme before the race.
	for range 4 {
		if _, _, err := svc.Call(ctx, client, api.GetProgrammeEndpoint, &svc.Request{ID: "get", Actor: operator}, api.ProgrammeRef{ProgrammeID: g.ProgrammeID, After: reply.Position}); err != nil {
			t.Fatal(err)
		}
	}

	policies := make([]api.PolicyView, startups)
	var wg sync.WaitGroup
	for i, a := range accepts {
		wg.Go(func() {
			p, _, err := svc.Call(ctx, client, api.AcceptQuoteEndpoint, &svc.Request{ID: fmt.Sprintf("accept-%d", i), Actor: a.actor}, a.cmd)
			if err != nil {
				t.Errorf("accept %d: %v", i, err)
			}
			policies[i] = p
		})
	}
	wg.Wait()
	drawn, capped, none := money.Zero, 0, 0
	half := func(p money.Amount) money.Amount { return p.Mul(g.Share) }
	for _, p := range policies {
		switch {
		case p.Subsidy.IsNegative():
			t.Errorf("policy %s: negative subsidy %s", p.PolicyID, p.Subsidy)
		case p.Subsidy.IsZero():
			none++
		case !p.Subsidy.Equal(half(p.Premium)):
			capped++
		}
		if !p.PremiumDue.Equal(p.Premium.Sub(p.Subsidy)) {
			t.Errorf("policy %s: due %s, premium %s, subsidy %s", p.PolicyID, p.PremiumDue, p.Premium, p.Subsidy)
		}
		drawn = drawn.Add(p.Subsidy)
	}
	if !drawn.Equal(g.Budget) || capped > 1 || none == 0 {
		t.Errorf("drawn %s of a budget of %s; %d capped, %d without", drawn, g.Budget, capped, none)
	}
	prog, err := s.programmes.Load(ctx, g.ProgrammeID)
	if err != nil {
		t.Fatal(err)
	}
	if !prog.State.Drawn.Equal(g.Budget) || !prog.State.Left().IsZero() || len(prog.State.Draws) != startups-none {
		t.Errorf("programme drawn %s, left %s, %d draws; policies drew %s", prog.State.Drawn, prog.State.Left(), len(prog.State.Draws), drawn)
	}
	t.Logf("%d policies: %d subsidised whole, %d capped, %d without; drawn %s of %s", startups, startups-none-capped, capped, none, drawn, g.Budget)

	// A subsidised policy cancelled before its premium was paid gives its
	// whole subsidy back: nothing was paid out.
	i := slices.IndexFunc(policies, func(p api.PolicyView) bool { return p.Subsidy.IsPositive() })
	p := policies[i]
	if _, _, err := svc.Call(ctx, client, api.CancelPolicyEndpoint, &svc.Request{ID: "cancel", Actor: accepts[i].actor}, api.CancelPolicy{PolicyID: p.PolicyID, Reason: "cannot afford it"}); err != nil {
		t.Fatal(err)
	}
	after, _, err := fresh(ctx, s, programmeDecider(), g.ProgrammeID) // s's repository caches the programme read above
	if err != nil {
		t.Fatal(err)
	}
	if !after.Left().Equal(p.Subsidy) {
		t.Errorf("after cancelling unpaid policy %s, the programme has %s left; want its subsidy %s back", p.PolicyID, after.Left(), p.Subsidy)
	}
}
