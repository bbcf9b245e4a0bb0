package timeline

import (
	"fmt"
	"strconv"

	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// The loan-plus-equity deals of the deals service, as the borrower sees
// them: without the banks' names or their single commitments, which are
// theirs.
func (p *Projection) loanDealKinds() {
	key := func(id string) string { return "loan_deal:" + id }
	on(p, func(en *draft, v dealsapi.DealProposed) (*Company, error) {
		if err := p.owned(key(v.DealID), v.BorrowerID); err != nil {
			return nil, err
		}
		p.st.Owners[len(p.st.Owners)-1].LeadBank = v.LeadBankID
		c, err := p.owner(en, key(v.DealID), v.DealID)
		if err != nil {
			return nil, err
		}
		if en.Extra, err = projections.ToFen("equity tranche", v.Equity.Amount); err != nil {
			return nil, err
		}
		en.text = fmt.Sprintf("%d months at %s, %s", v.Loan.Months, percent(v.Loan.AnnualRate), v.Sequence)
		return c, amountOf(en, v.Loan.Principal)
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Loan-plus-equity deal proposed: a %s loan over %s, with %s of equity", l.human(), l.text, projections.Human(l.en.Extra.Amount()))
	})
	on(p, func(en *draft, v dealsapi.BookClosed) (*Company, error) {
		c, err := p.owner(en, key(v.DealID), v.DealID)
		if err != nil {
			return nil, err
		}
		if v.Oversubscribed {
			en.text = "oversubscribed"
		}
		return c, amountOf(en, v.Committed)
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("The loan's book closed with %s committed", l.human())
		if l.text != "" {
			l.v.Summary += " (oversubscribed: scaled back pro rata to the loan)"
		}
	})
	on(p, func(en *draft, v dealsapi.EquityTrancheCommitted) (*Company, error) {
		c, err := p.owner(en, key(v.DealID), v.DealID)
		if err != nil {
			return nil, err
		}
		en.text = v.FundID
		return c, amountOf(en, v.Amount)
	}, func(l *line) {
		l.v.FundID = l.text
		l.v.Summary = fmt.Sprintf("%s committed %s of equity", l.p.fundName(l.text), l.human())
	})
	on(p, func(en *draft, v dealsapi.DealClosed) (*Company, error) {
		return p.owner(en, key(v.DealID), v.DealID)
	}, func(l *line) {
		l.v.Summary = "The loan-plus-equity deal closed: both tranches are in and the loan is open"
	})
	on(p, func(en *draft, v dealsapi.DealExpired) (*Company, error) {
		return p.owner(en, key(v.DealID), v.DealID)
	}, func(l *line) {
		l.v.Summary = "The loan-plus-equity deal expired before it closed; every commitment was released"
	})
}

// The loan of a closed deal (its ID is the deal's).
func (p *Projection) loanKinds() {
	key := func(id string) string { return "loan_deal:" + id }
	on(p, func(en *draft, v dealsapi.LoanDrawnDown) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = projections.Human(v.DrawnAfter)
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("%s of the loan disbursed (%s drawn in all)", l.human(), l.text)
	})
	on(p, func(en *draft, v dealsapi.ScheduleFixed) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = strconv.Itoa(v.PeriodCount())
		return c, firstErr(err, amountOf(en, v.Principal))
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Repayment schedule fixed: %s over %s monthly periods", l.human(), l.text)
	})
	on(p, func(en *draft, v dealsapi.RepaymentReceived) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = projections.Human(v.OutstandingAfter)
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Repaid %s (%s principal outstanding)", l.human(), l.text) })
	on(p, func(en *draft, v dealsapi.FeeCharged) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = v.Reason
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.v.Summary = withReason("Charged a fee of "+l.human(), l.text) })
	on(p, func(en *draft, v dealsapi.PeriodOverdue) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = fmt.Sprintf("Period %d overdue, %d days past due", v.Number, v.DaysPastDue)
		return c, firstErr(err, amountOf(en, v.Overdue))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("%s: %s unpaid", l.text, l.human()) })
	on(p, func(en *draft, v dealsapi.EarlyRepaymentReceived) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = projections.Human(v.OutstandingAfter)
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Repaid %s early (%s principal outstanding; the schedule was recomputed)", l.human(), l.text)
	})
	on(p, func(en *draft, v dealsapi.LoanRepaid) (*Company, error) {
		return p.owner(en, key(v.LoanID), v.LoanID)
	}, func(l *line) { l.v.Summary = "The loan is repaid in full" })
	on(p, func(en *draft, v dealsapi.LoanDefaulted) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = v.Reason
		return c, firstErr(err, amountOf(en, v.Loss))
	}, func(l *line) {
		l.v.Summary = withReason(fmt.Sprintf("The loan was declared in default with a loss of %s", l.human()), l.text)
	})
	on(p, func(en *draft, v dealsapi.WarrantExercised) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = percent(v.Ownership)
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("The warrant was exercised: %s of equity for %s", l.human(), l.text)
	})
	on(p, func(en *draft, v dealsapi.ArrearsCleared) (*Company, error) {
		en.text = strconv.Itoa(v.Through)
		return p.owner(en, key(v.LoanID), v.LoanID)
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Arrears cleared: every overdue period through %s is paid", l.text)
	})
	on(p, func(en *draft, v dealsapi.LossAllocated) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		a := v.Allocation
		en.text = fmt.Sprintf("banks %s, fund %s, risk-compensation fund %s, insurer %s",
			projections.Human(a.Banks), projections.Human(a.Fund), projections.Human(a.RiskCompensationFund), projections.Human(a.Insurer))
		return c, firstErr(err, amountOf(en, v.Loss))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("The loss of %s was allocated: %s", l.human(), l.text) })
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
