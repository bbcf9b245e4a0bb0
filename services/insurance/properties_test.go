package insurance

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// cases is how many random cases a property test tries: fewer under
// -short (the race detector's pass), where each costs ten times more.
func cases(n int) int {
	if testing.Short() {
		return n / 10
	}
	return n
}

func randomAmount(r *rand.Rand, maxFen int64) money.Amount {
	return money.FromDecimal(decimal.New(1+r.Int64N(maxFen), -2))
}

// Property: whatever the premium, subsidy, period and day of cancelling,
// the refund and the premium earned add up to the premium paid to the fen,
// neither is negative, and the refund's shares for the startup and the
// programme add up to the refund, each within what it paid.
func TestRefundPlusEarnedIsThePremium(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 3))
	start, _ := api.ParseDate("2026-03-01")
	for i := range cases(20000) {
		months := 1 + r.IntN(api.MaxMonths)
		premium := randomAmount(r, 100_000_000)
		history := []events.Payload{func() api.PolicyBound {
			b := bound
			b.Premium, b.EndsOn = premium, api.PeriodEnd(start, months).Format(api.DateLayout)
			return b
		}()}
		sub := money.Zero
		if r.IntN(2) == 0 {
			sub = money.FromDecimal(decimal.New(r.Int64N(premium.Decimal().Shift(2).IntPart()+1), -2))
			if sub.IsPositive() {
				history = append(history, api.SubsidyApplied{PolicyID: policyID, ProgrammeID: "g", Amount: sub, PremiumDue: premium.Sub(sub)})
			}
		}
		history = append(history, api.PremiumPaid{PolicyID: policyID, Amount: premium.Sub(sub), Subsidy: sub, Premium: premium})
		p := replay(t, policyDecider(), history)
		effective := start.AddDate(0, 0, r.IntN(p.DaysInPeriod()))
		out, err := decideCancel(p, founder, api.CancelPolicy{PolicyID: policyID, EffectiveOn: effective.Format(api.DateLayout)}, start)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		c := out[0].(api.PolicyCancelled)
		what := fmt.Sprintf("case %d: premium %s, subsidy %s, %d months, from %s: refund %s (%s + %s), earned %s",
			i, premium, sub, months, c.EffectiveOn, c.Refund, c.RefundToCompany, c.RefundToProgramme, c.Earned)
		switch {
		case !c.Refund.Add(c.Earned).Equal(premium):
			t.Fatal(what + ": refund + earned is not the premium")
		case c.Refund.IsNegative() || c.Earned.IsNegative():
			t.Fatal(what + ": negative")
		case !c.RefundToCompany.Add(c.RefundToProgramme).Equal(c.Refund):
			t.Fatal(what + ": the refund's shares do not add up")
		case c.RefundToCompany.IsNegative() || c.RefundToProgramme.IsNegative() ||
			c.RefundToCompany.GreaterThan(premium.Sub(sub)) || c.RefundToProgramme.GreaterThan(sub):
			t.Fatal(what + ": a share beyond what was paid")
		case !c.Refund.Equal(api.ProRata(premium, c.DaysInPeriod-c.DaysCovered, c.DaysInPeriod)):
			t.Fatal(what + ": not pro rata by days")
		}
	}
}

// Property: however draws on a programme come (many companies and years,
// premiums large and small, returns between), no draw is negative, each is
// whole or takes exactly what was left, and the budget never goes below
// zero.
func TestSubsidyDrawsNeverExceedTheBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 4))
	for round := range cases(300) {
		created := programme
		created.Budget = randomAmount(r, 10_000_000)
		created.CapPerYear = randomAmount(r, 2_000_000)
		created.Share = decimal.New(1+r.Int64N(10000), -4)
		g := replay(t, programmeDecider(), []events.Payload{created})
		for n := range 60 {
			if r.IntN(8) == 0 && len(g.Draws) > 0 { // a cancelled policy returns part of its draw
				d := g.Draws[r.IntN(len(g.Draws))]
				if d.Amount.IsPositive() && d.Returned.IsZero() {
					back := money.FromDecimal(decimal.New(1+r.Int64N(d.Amount.Decimal().Shift(2).IntPart()), -2))
					out, err := decideReturn(g, platformActor, api.ReturnSubsidy{ProgrammeID: g.ID, PolicyID: d.PolicyID, Amount: back})
					if err != nil {
						t.Fatalf("round %d: return: %v", round, err)
					}
					g = evolveProgramme(g, events.Event{Version: g.Version + 1}, out[0])
				}
			}
			cmd := drawFor(fmt.Sprintf("p%d", n), fmt.Sprintf("co-%d", r.IntN(6)), randomAmount(r, 5_000_000).String())
			cmd.StartsOn = fmt.Sprintf("%d-06-01", 2026+r.IntN(2))
			left := g.Left()
			out, err := decideDraw(g, platformActor, cmd)
			if err != nil {
				if _, exhausted := err.(*BudgetExhaustedError); exhausted && left.IsPositive() {
					t.Fatalf("round %d: refused as exhausted with ¥%s left", round, left)
				}
				continue
			}
			d := out[0].(api.SubsidyDrawn)
			switch {
			case !d.Amount.IsPositive():
				t.Fatalf("round %d: a draw of %s", round, d.Amount)
			case d.Amount.GreaterThan(left):
				t.Fatalf("round %d: drew %s with %s left", round, d.Amount, left)
			case !d.Amount.Equal(d.Whole) && !(d.Capped && d.Amount.Equal(left) && d.BudgetLeft.IsZero()):
				t.Fatalf("round %d: drew %s, neither the whole %s nor all that was left %s", round, d.Amount, d.Whole, left)
			case d.Whole.GreaterThan(cmd.Premium.Mul(created.Share)) || d.Whole.GreaterThan(created.CapPerYear):
				t.Fatalf("round %d: whole %s above the share of %s or the cap %s", round, d.Whole, cmd.Premium, created.CapPerYear)
			}
			g = evolveProgramme(g, events.Event{Version: g.Version + 1}, d)
			if g.Left().IsNegative() || g.Drawn.GreaterThan(g.Budget) {
				t.Fatalf("round %d: drawn %s of a budget of %s", round, g.Drawn, g.Budget)
			}
		}
	}
}
