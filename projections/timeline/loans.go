package timeline

import (
	"strconv"

	"github.com/fundbridge/fundbridge/money"
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
		en.text = join(strconv.Itoa(v.Loan.Months), v.Loan.AnnualRate.String(), string(v.Sequence))
		return c, amountOf(en, v.Loan.Principal)
	}, func(l *line) {
		x := pieces(l.text, 3)
		l.say("loan_deal.proposed", l.amountParam(), countParam(x[0]), percentParam(x[1]), enumParam("sequence", x[2]), l.extraParam())
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
		if l.text != "" {
			l.say("loan_deal.book_closed_oversubscribed", l.amountParam())
			return
		}
		l.say("loan_deal.book_closed", l.amountParam())
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
		l.say("loan_deal.equity_committed", textParam(l.p.fundName(l.text)), l.amountParam())
	})
	on(p, func(en *draft, v dealsapi.DealClosed) (*Company, error) {
		return p.owner(en, key(v.DealID), v.DealID)
	}, func(l *line) { l.say("loan_deal.closed") })
	on(p, func(en *draft, v dealsapi.DealExpired) (*Company, error) {
		return p.owner(en, key(v.DealID), v.DealID)
	}, func(l *line) { l.say("loan_deal.expired") })
}

// The loan of a closed deal (its ID is the deal's).
func (p *Projection) loanKinds() {
	key := func(id string) string { return "loan_deal:" + id }
	on(p, func(en *draft, v dealsapi.LoanDrawnDown) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		return c, firstErr(err, amountOf(en, v.Amount), extraOf(en, "drawn after", v.DrawnAfter))
	}, func(l *line) { l.say("loan.drawn_down", l.amountParam(), l.extraParam()) })
	on(p, func(en *draft, v dealsapi.ScheduleFixed) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = strconv.Itoa(v.PeriodCount())
		return c, firstErr(err, amountOf(en, v.Principal))
	}, func(l *line) { l.say("loan.schedule_fixed", l.amountParam(), countParam(l.text)) })
	on(p, func(en *draft, v dealsapi.RepaymentReceived) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		return c, firstErr(err, amountOf(en, v.Amount), extraOf(en, "outstanding after", v.OutstandingAfter))
	}, func(l *line) { l.say("loan.repaid", l.amountParam(), l.extraParam()) })
	on(p, func(en *draft, v dealsapi.FeeCharged) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = v.Reason
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.sayWithReason("loan.fee_charged", l.text, l.amountParam()) })
	on(p, func(en *draft, v dealsapi.PeriodOverdue) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = join(strconv.Itoa(v.Number), strconv.Itoa(v.DaysPastDue))
		return c, firstErr(err, amountOf(en, v.Overdue))
	}, func(l *line) {
		x := pieces(l.text, 2)
		l.say("loan.period_overdue", countParam(x[0]), countParam(x[1]), l.amountParam())
	})
	on(p, func(en *draft, v dealsapi.EarlyRepaymentReceived) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		return c, firstErr(err, amountOf(en, v.Amount), extraOf(en, "outstanding after", v.OutstandingAfter))
	}, func(l *line) { l.say("loan.repaid_early", l.amountParam(), l.extraParam()) })
	on(p, func(en *draft, v dealsapi.LoanRepaid) (*Company, error) {
		return p.owner(en, key(v.LoanID), v.LoanID)
	}, func(l *line) { l.say("loan.repaid_in_full") })
	on(p, func(en *draft, v dealsapi.LoanDefaulted) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = v.Reason
		return c, firstErr(err, amountOf(en, v.Loss))
	}, func(l *line) { l.sayWithReason("loan.defaulted", l.text, l.amountParam()) })
	on(p, func(en *draft, v dealsapi.WarrantExercised) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		en.text = v.Ownership.String()
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.say("loan.warrant_exercised", l.amountParam(), percentParam(l.text)) })
	on(p, func(en *draft, v dealsapi.ArrearsCleared) (*Company, error) {
		en.text = strconv.Itoa(v.Through)
		return p.owner(en, key(v.LoanID), v.LoanID)
	}, func(l *line) { l.say("loan.arrears_cleared", countParam(l.text)) })
	on(p, func(en *draft, v dealsapi.LossAllocated) (*Company, error) {
		c, err := p.owner(en, key(v.LoanID), v.LoanID)
		a := v.Allocation
		en.text = join(a.Banks.String(), a.Fund.String(), a.RiskCompensationFund.String(), a.Insurer.String())
		return c, firstErr(err, amountOf(en, v.Loss))
	}, func(l *line) {
		x := pieces(l.text, 4)
		params := []Param{l.amountParam()}
		for _, share := range x {
			params = append(params, Param{Kind: "amount", Values: []string{share}})
		}
		l.say("loan.loss_allocated", params...)
	})
}

// extraOf sets the entry's second amount.
func extraOf(en *draft, name string, a money.Amount) error {
	var err error
	en.Extra, err = projections.ToFen(name, a)
	return err
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
