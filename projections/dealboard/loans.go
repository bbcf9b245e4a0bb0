package dealboard

import (
	"fmt"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// The loan-plus-equity deals the fund takes the equity tranche of.
func (p *Projection) loanDealKinds() {
	on(p, func(act *Activity, v dealsapi.DealProposed) (*Fund, error) {
		if v.DealID == "" {
			return nil, fmt.Errorf("loan-plus-equity deal proposed without an ID")
		}
		if _, dup := p.loans[v.DealID]; dup {
			return nil, fmt.Errorf("loan-plus-equity deal %s proposed twice", v.DealID)
		}
		f, fi, err := p.fund(v.Equity.FundID, true)
		if err != nil {
			return nil, err
		}
		d := LoanDeal{ID: v.DealID, Fund: fi, Company: v.BorrowerID}
		if d.Equity, err = projections.ToFen("equity tranche", v.Equity.Amount); err != nil {
			return nil, err
		}
		if d.Loan, err = projections.ToFen("loan", v.Loan.Principal); err != nil {
			return nil, err
		}
		act.Loan, act.Company, act.Amount, act.Extra = int32(len(p.st.LoanDeals)), v.BorrowerID, d.Equity, d.Loan
		p.loans[v.DealID] = act.Loan
		p.st.LoanDeals = append(p.st.LoanDeals, d)
		f.LoanEquity.Deals++
		return f, nil
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Proposed a loan-plus-equity deal with %s: %s of equity beside a %s bank loan", l.company, l.amount(), l.extra())
	})
	on(p, func(act *Activity, v dealsapi.EquityTrancheCommitted) (*Fund, error) {
		f, _, err := p.loanDeal(act, v.DealID)
		if err != nil {
			return nil, err
		}
		act.Amount, err = projections.ToFen("equity committed", v.Amount)
		return f, err
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("Committed the equity tranche of %s to %s's loan-plus-equity deal", l.amount(), l.company)
	})
	on(p, func(act *Activity, v dealsapi.DealClosed) (*Fund, error) {
		f, d, err := p.loanDeal(act, v.DealID)
		if err != nil {
			return nil, err
		}
		f.LoanEquity.Funded++
		if f.LoanEquity.Raised, err = f.LoanEquity.Raised.Add(d.Equity); err != nil {
			return nil, err
		}
		if f.LoanEquity.Loans, err = f.LoanEquity.Loans.Add(d.Loan); err != nil {
			return nil, err
		}
		act.Amount, act.Extra = d.Equity, d.Loan
		return f, nil
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("The loan-plus-equity deal with %s closed: %s of equity, %s lent by the banks", l.company, l.amount(), l.extra())
	})
	on(p, func(act *Activity, v dealsapi.DealExpired) (*Fund, error) {
		f, _, err := p.loanDeal(act, v.DealID)
		if err != nil {
			return nil, err
		}
		f.LoanEquity.Expired++
		act.Amount, err = projections.ToFen("equity released", v.EquityReleased)
		return f, err
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("The loan-plus-equity deal with %s expired unclosed; %s of equity released", l.company, l.amount())
	})
}

// lossKinds: the fund bears its share of a defaulted loan's loss.
func (p *Projection) lossKinds() {
	on(p, func(act *Activity, v dealsapi.LossAllocated) (*Fund, error) {
		f, _, err := p.loanDeal(act, v.DealID)
		if err != nil {
			return nil, err
		}
		if act.Amount, err = projections.ToFen("fund's loss", v.Allocation.Fund); err != nil {
			return nil, err
		}
		f.LoanEquity.Losses, err = f.LoanEquity.Losses.Add(act.Amount)
		return f, err
	}, func(l *line) {
		l.v.Summary = projections.Sentence(fmt.Sprintf("%s's loan defaulted: the fund bears %s of the loss", l.company, l.amount()))
	})
}

// loanDeal finds a loan-plus-equity deal and its fund for an activity.
func (p *Projection) loanDeal(act *Activity, id string) (*Fund, *LoanDeal, error) {
	i, ok := p.loans[id]
	if !ok {
		return nil, nil, fmt.Errorf("loan-plus-equity deal %q was never proposed", id)
	}
	d := &p.st.LoanDeals[i]
	act.Loan, act.Company = i, d.Company
	return &p.st.Funds[d.Fund], d, nil
}

// InstrumentRow is a fund's deals of one instrument.
type InstrumentRow struct {
	Instrument string       `json:"instrument" jsonschema:"enum=equity,enum=loan_plus_equity"`
	Deals      int          `json:"deals" jsonschema_description:"Deals started: screening deals sourced (equity), or loan-plus-equity deals proposed with this fund's tranche."`
	Funded     int          `json:"funded" jsonschema_description:"Of those, deals closed."`
	Expired    int          `json:"expired" jsonschema_description:"Loan-plus-equity deals that passed their syndication deadline unclosed (0 for equity)."`
	Conversion string       `json:"conversion_funded_deals" jsonschema_description:"funded / deals as a decimal fraction with 4 places; \"0\" when there are no deals."`
	Raised     money.Amount `json:"raised" jsonschema_description:"The fund's equity in the deals closed."`
	Loans      money.Amount `json:"loans_alongside" jsonschema_description:"Bank loans that closed beside the fund's equity (loan-plus-equity only)."`
	Losses     money.Amount `json:"losses_borne" jsonschema_description:"The fund's share of defaulted loans' losses by the deals' risk-sharing tables (loan-plus-equity only)."`
}

func instrumentRow(name string, c Counts) InstrumentRow {
	return InstrumentRow{Instrument: name, Deals: int(c.Deals), Funded: int(c.Funded), Expired: int(c.Expired),
		Conversion: projections.Ratio(int(c.Funded), int(c.Deals)), Raised: c.Raised.Amount(), Loans: c.Loans.Amount(), Losses: c.Losses.Amount()}
}
