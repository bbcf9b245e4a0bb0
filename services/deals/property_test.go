package deals

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
)

// randomAmount is between 0.01 and max yuan, in fen.
func randomAmount(r *rand.Rand, max int64) money.Amount {
	return money.FromDecimal(decimal.New(1+r.Int64N(max*100), -2))
}

// randomLoan opens a loan with 1 to 6 banks, random commitments and
// random terms.
func randomLoan(r *rand.Rand, months int) dealsapi.LoanOpened {
	banks := make([]dealsapi.LoanBank, 1+r.IntN(6))
	total := money.Zero
	for i := range banks {
		banks[i] = dealsapi.LoanBank{BankID: fmt.Sprintf("bank-%d", i), Commitment: randomAmount(r, []int64{10, 1_000_000, 100_000_000}[r.IntN(3)])}
		total = total.Add(banks[i].Commitment)
	}
	for i := range banks {
		banks[i].Share = banks[i].Commitment.Ratio(total)
	}
	io := 0
	if r.IntN(3) == 0 {
		io = r.IntN(months)
	}
	return dealsapi.LoanOpened{LoanID: "deal-1", BorrowerID: "co-1", LeadBankID: "bank-0", EquityFundID: "fund-1",
		Terms: dealsapi.LoanTerms{Principal: total, AnnualRate: decimal.New(1+r.Int64N(240_000), -6), Months: months,
			Method: loan.Methods[r.IntN(len(loan.Methods))], InterestOnlyMonths: io},
		RiskSharing: dealsapi.RiskSharing{Banks: dec("0.4"), Fund: dec("0.2"), RiskCompensationFund: dec("0.3"), Insurer: dec("0.1")},
		Banks:       banks}
}

// apply folds decided events into the loan, as the repository would.
func apply(l Loan, version *uint64, at time.Time, out []events.Payload) Loan {
	for _, p := range out {
		*version++
		l = evolveLoan(l, events.Event{Type: p.EventType(), Version: *version, RecordedAt: at}, p)
	}
	return l
}

// checkLoan holds what must be true of a loan after every event: the
// banks' outstanding principal sums to the loan's and none is negative
// or lends beyond its commitment; the schedule asks for exactly the
// outstanding principal and has no negative figure.
func checkLoan(t *testing.T, l Loan, step string) {
	t.Helper()
	banks := money.Zero
	for _, b := range l.Banks {
		if b.Outstanding().IsNegative() || b.Drawn.GreaterThan(b.Commitment) {
			t.Fatalf("%s: bank %+v", step, b)
		}
		banks = banks.Add(b.Outstanding())
	}
	if !banks.Equal(l.Outstanding()) {
		t.Fatalf("%s: banks' outstanding %s, loan's %s", step, banks, l.Outstanding())
	}
	if l.Status != dealsapi.StatusRepaying && l.Status != dealsapi.StatusRepaid {
		return
	}
	owed := money.Zero
	for i := l.Next; i < len(l.Schedule); i++ {
		in := l.Installment(i)
		if in.owedPrincipal().IsNegative() || in.owedInterest().IsNegative() || in.Balance.IsNegative() {
			t.Fatalf("%s: period %+v", step, in)
		}
		owed = owed.Add(in.owedPrincipal())
	}
	if !owed.Equal(l.Outstanding()) {
		t.Fatalf("%s: schedule asks for %s of principal, %s outstanding", step, owed, l.Outstanding())
	}
	if last := l.Schedule[len(l.Schedule)-1]; last.balance != 0 {
		t.Fatalf("%s: schedule ends at %d fen", step, last.balance)
	}
}

// Random loans through random drawdowns, repayments, fees, early
// repayments and defaults: every split sums to the whole, and the banks'
// outstanding principal always equals the loan's.
func TestLoansKeepTheirBooksExact(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	seen := map[string]int{}
	for n := range 200 {
		opened := randomLoan(r, 1+r.IntN(60))
		var version uint64
		at := now
		l := apply(Loan{}, &version, at, []events.Payload{opened})
		step := func(what string, out []events.Payload, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("loan %d, %s: %v (loan %+v)", n, what, err, l.Terms)
			}
			for _, p := range out {
				checkSplit(t, p)
				seen[p.EventType()]++
			}
			l = apply(l, &version, at, out)
			checkLoan(t, l, fmt.Sprintf("loan %d after %s", n, what))
		}
		for l.Status == dealsapi.StatusAwaitingDrawdown {
			undrawn := l.Undrawn()
			if l.Drawn.IsPositive() && r.IntN(4) == 0 {
				out, err := decideFixSchedule(l, platform, at, dealsapi.LoanRef{LoanID: l.ID})
				step("fixing the schedule", out, err)
				continue
			}
			amount := money.Min(undrawn, randomAmount(r, max(1, undrawn.Decimal().IntPart())))
			out, err := decideDrawDown(l, platform, at, dealsapi.LoanAmount{LoanID: l.ID, Amount: amount})
			step("drawing "+amount.String(), out, err)
		}
		for l.Status == dealsapi.StatusRepaying {
			at = at.Add(time.Duration(1+r.IntN(40)) * 24 * time.Hour)
			switch k := r.IntN(40); {
			case k == 0:
				out, err := decideDeclareDefault(l, operator, at, dealsapi.DeclareDefault{LoanID: l.ID, Reason: "test"})
				step("defaulting", out, err)
			case k == 1:
				out, err := decideChargeFee(l, operator, dealsapi.ChargeFee{LoanID: l.ID, Amount: randomAmount(r, 100), Reason: "late"})
				step("charging a fee", out, err)
			case k < 5:
				next := l.Installment(l.Next)
				if !next.Due.After(day(at)) || l.FeesOwed.IsPositive() {
					continue // an early repayment waits until what is due is paid
				}
				payoff := next.owedInterest().Add(l.Outstanding())
				if !payoff.GreaterThan(next.owed()) {
					continue
				}
				amount := money.Min(payoff, next.owed().Add(randomAmount(r, max(1, payoff.Sub(next.owed()).Decimal().IntPart()))))
				out, err := decideRepayEarly(l, borrower, at, dealsapi.LoanAmount{LoanID: l.ID, Amount: amount})
				step("repaying "+amount.String()+" early", out, err)
			default:
				out, err := decideRecordArrears(l, platform, at, dealsapi.LoanRef{LoanID: l.ID})
				step("recording arrears", out, err)
				owed := l.FeesOwed
				for i := l.Next; i < len(l.Schedule) && !l.Schedule[i].Due().After(day(at)); i++ {
					owed = owed.Add(l.Installment(i).owed())
				}
				if owed.IsZero() {
					owed = l.FeesOwed.Add(l.Installment(l.Next).owed())
				}
				amount := owed
				if r.IntN(3) == 0 {
					amount = money.Min(owed, randomAmount(r, max(1, owed.Decimal().IntPart())))
				}
				out, err = decideRepay(l, borrower, at, dealsapi.LoanAmount{LoanID: l.ID, Amount: amount})
				step("repaying "+amount.String(), out, err)
			}
		}
		if l.Status == dealsapi.StatusRepaid && (!l.Outstanding().IsZero() || l.Next != len(l.Schedule)) {
			t.Fatalf("loan %d repaid with %s outstanding, period cursor %d of %d", n, l.Outstanding(), l.Next, len(l.Schedule))
		}
	}
	// The walk must have gone everywhere, or it proves less than it says.
	for _, e := range []events.Payload{dealsapi.LoanDrawnDown{}, dealsapi.ScheduleFixed{}, dealsapi.RepaymentReceived{}, dealsapi.FeeCharged{},
		dealsapi.PeriodOverdue{}, dealsapi.EarlyRepaymentReceived{}, dealsapi.LoanRepaid{}, dealsapi.LoanDefaulted{}} {
		if seen[e.EventType()] < 5 {
			t.Errorf("%s happened %d times in the random walk", e.EventType(), seen[e.EventType()])
		}
	}
	t.Logf("events in the random walk: %v", seen)
}

// checkSplit: every split a decision makes sums exactly to its whole.
func checkSplit(t *testing.T, p events.Payload) {
	t.Helper()
	sum := func(parts []dealsapi.BankAmount) money.Amount {
		s := money.Zero
		for _, x := range parts {
			s = s.Add(x.Amount)
		}
		return s
	}
	repaid := func(banks []dealsapi.BankRepayment, fees, interest, principal money.Amount) {
		f, i, pr := money.Zero, money.Zero, money.Zero
		for _, b := range banks {
			f, i, pr = f.Add(b.Fees), i.Add(b.Interest), pr.Add(b.Principal)
		}
		if !f.Equal(fees) || !i.Equal(interest) || !pr.Equal(principal) {
			t.Fatalf("%s split %s/%s/%s as %s/%s/%s", p.EventType(), fees, interest, principal, f, i, pr)
		}
	}
	switch e := p.(type) {
	case dealsapi.LoanDrawnDown:
		if !sum(e.Banks).Equal(e.Amount) {
			t.Fatalf("drawdown %s split as %v", e.Amount, e.Banks)
		}
	case dealsapi.RepaymentReceived:
		repaid(e.Banks, e.Fees, e.Interest, e.Principal)
		if !e.Fees.Add(e.Interest).Add(e.Principal).Equal(e.Amount) {
			t.Fatalf("repayment %s applied as %s/%s/%s", e.Amount, e.Fees, e.Interest, e.Principal)
		}
	case dealsapi.EarlyRepaymentReceived:
		repaid(e.Banks, money.Zero, e.Interest, e.Principal)
	case dealsapi.LoanDefaulted:
		a := e.Allocation
		if !a.Banks.Add(a.Fund).Add(a.RiskCompensationFund).Add(a.Insurer).Equal(e.Loss) || (a.Banks.IsPositive() && !sum(e.BankLosses).Equal(a.Banks)) {
			t.Fatalf("loss %s allocated as %+v, banks %v", e.Loss, a, e.BankLosses)
		}
	}
}

// Random books: whatever is committed, the book closes at exactly the
// loan, and scaling back never gives a bank more than it committed.
func TestBooksCloseAtExactlyTheLoan(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	for n := range 300 {
		p := proposed()
		p.Loan.Principal = randomAmount(r, 50_000_000)
		history := []events.Payload{p}
		banks := 2 + r.IntN(6)
		for i := 1; i < banks; i++ {
			history = append(history, dealsapi.BankInvited{DealID: "deal-1", BankID: fmt.Sprintf("bank-%d", i)})
		}
		d := replay(t, DealFolds().Apply, history)
		var version = uint64(len(history))
		for i := 0; !d.BookClosed; i = (i + 1) % banks {
			id := d.Banks[i].BankID
			if d.Banks[i].Status != dealsapi.CommitmentInvited {
				continue
			}
			amount := money.Min(p.Loan.Principal, randomAmount(r, max(1, p.Loan.Principal.Decimal().IntPart()/int64(1+r.IntN(4)))))
			s := bank(t, onboarded(id, "100000000", "100000000"))
			out, err := decideCommit(d, s, fundbridge.Actor{UserID: "u", Role: fundbridge.RoleBank, OrgID: id}, now, dealsapi.CommitToDeal{DealID: "deal-1", BankID: id, Amount: amount})
			if err != nil {
				t.Fatalf("deal %d: %v", n, err)
			}
			for _, e := range out {
				version++
				d = evolveDeal(d, events.Event{Version: version}, e)
				if book, ok := e.(dealsapi.BookClosed); ok {
					total := money.Zero
					for _, a := range book.Allocations {
						if a.Allocated.GreaterThan(a.Committed) || a.Allocated.IsNegative() {
							t.Fatalf("deal %d: %+v", n, a)
						}
						total = total.Add(a.Allocated)
					}
					if !total.Equal(p.Loan.Principal) {
						t.Fatalf("deal %d: book of %s allocated %s", n, p.Loan.Principal, total)
					}
				}
			}
			if i == banks-1 && !d.BookClosed {
				break // every bank committed and the book is still short
			}
		}
	}
}
