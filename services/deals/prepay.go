package deals

import (
	"fmt"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
)

// decideRepayEarly prepays principal with the next period: its interest
// first, then principal beyond what the period asks. Anything due must be
// settled first. The schedule of what remains is recomputed over the
// same months (the installment falls, the end date stays); paying the
// whole outstanding principal repays the loan in full.
func decideRepayEarly(l Loan, a fundbridge.Actor, now time.Time, cmd dealsapi.LoanAmount) ([]events.Payload, error) {
	if err := authorizeRepay(a, l, cmd.LoanID, cmd.Validate); err != nil {
		return nil, err
	}
	if err := repaying(l); err != nil {
		return nil, err
	}
	today := day(now)
	next := -1
	for i := l.Next; i < len(l.Schedule); i++ {
		in := l.Installment(i)
		if in.settled() {
			continue
		}
		if !in.Due.After(today) {
			return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "period %d of loan %s (%s, due %s) is unpaid; settle what is due before repaying early",
				in.Number, l.ID, yuan(in.owed()), in.Due.Format(time.DateOnly))
		}
		next = i
		break
	}
	if l.FeesOwed.IsPositive() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "loan %s owes %s in fees; settle what is due before repaying early", l.ID, yuan(l.FeesOwed))
	}
	if next < 0 {
		return nil, fmt.Errorf("loan %s is repaying with every period settled", l.ID)
	}
	in, outstanding := l.Installment(next), l.Outstanding()
	interest := in.owedInterest()
	payoff := interest.Add(outstanding)
	switch {
	case !cmd.Amount.GreaterThan(in.owed()):
		return nil, unprocessable("amount", "an early repayment must be more than period %d's %s; pay that as a repayment", in.Number, yuan(in.owed()))
	case cmd.Amount.GreaterThan(payoff):
		return nil, unprocessable("amount", "early repayment %s is more than the %s that repays loan %s in full", yuan(cmd.Amount), yuan(payoff), l.ID)
	}
	principal := cmd.Amount.Sub(interest)
	after := outstanding.Sub(principal)
	banks, err := l.splitRepayment(money.Zero, interest, principal)
	if err != nil {
		return nil, err
	}
	r := dealsapi.EarlyRepaymentReceived{LoanID: l.ID, Amount: cmd.Amount, Period: in.Number, Interest: interest, Principal: principal,
		Full: after.IsZero(), Banks: banks, OutstandingAfter: after, Remaining: []dealsapi.ScheduledPeriod{}}
	if r.Full {
		return []events.Payload{r, dealsapi.LoanRepaid{LoanID: l.ID}}, nil
	}
	terms := l.Terms.Schedule()
	terms.Principal = l.Principal
	rest, err := loan.Remaining(terms, in.Number, after)
	if err != nil {
		return nil, fmt.Errorf("recompute the schedule of loan %s: %w", l.ID, err)
	}
	r.Remaining = dealsapi.Scheduled(l.Start, rest.Periods)
	return []events.Payload{r}, nil
}
