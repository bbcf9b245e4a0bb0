package lifecycle

import (
	"fmt"
	"slices"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// Kinds of other fact: the loan-plus-equity deals of the deals service and
// the patent insurance of the insurance service, which are not moves of
// an application.
const (
	otherDealProposed uint8 = iota // Amount: the loan, Extra: the equity tranche
	otherDealClosed
	otherDealExpired
	otherInsuranceRequested // Amount: the sum insured
	otherPolicyBound        // Amount: the premium, Extra: the sum insured
)

// Other is a fact of a deal or of insurance, with the slice it counts
// under: a deal the slice of the application it finances as submitted
// (deal events carry none), insurance the stage and city it carries with
// the layer and sector of the company's latest application ("" if none).
type Other struct {
	Kind     uint8
	Coverage uint8 // of insurance: index in insuranceapi.Coverages (reordering them changes the schema)
	Fact     Fact
	Amount   projections.Fen
	Extra    projections.Fen
}

// LoanDeal is a loan-plus-equity deal: the application it finances and
// its two tranches, never changed once proposed.
type LoanDeal struct {
	ID     string
	App    int32 // index in State.Apps
	Loan   projections.Fen
	Equity projections.Fen
}

// CompanySlice is the layer and sector of a company's latest application
// (dictionary indexes), for the insurance it buys. It changes in place.
type CompanySlice struct {
	ID            string
	Layer, Sector uint16
}

func (p *Projection) otherFolds() {
	projections.On(&p.folds, p.dealProposed)
	projections.On(&p.folds, func(e events.Event, v dealsapi.DealClosed) error { return p.dealEnded(e, v.DealID, otherDealClosed) })
	projections.On(&p.folds, func(e events.Event, v dealsapi.DealExpired) error { return p.dealEnded(e, v.DealID, otherDealExpired) })
	projections.On(&p.folds, p.insuranceRequested)
	projections.On(&p.folds, p.policyBound)
}

// company notes the layer and sector of a company's application.
func (p *Projection) company(s applicationsapi.Slice) {
	layer, sector := p.word(string(s.Layer)), p.word(string(s.Sector))
	if i, ok := p.companies[s.CompanyID]; ok {
		p.st.Companies[i].Layer, p.st.Companies[i].Sector = layer, sector
		return
	}
	p.companies[s.CompanyID] = int32(len(p.st.Companies))
	p.st.Companies = append(p.st.Companies, CompanySlice{ID: s.CompanyID, Layer: layer, Sector: sector})
}

// dealProposed counts a deal under its application's slice; a deal for
// an application the funnel never saw submitted is not counted.
func (p *Projection) dealProposed(e events.Event, v dealsapi.DealProposed) error {
	if _, dup := p.loanDeals[v.DealID]; dup || v.DealID == "" {
		return fmt.Errorf("loan-plus-equity deal %q proposed twice or without an ID", v.DealID)
	}
	app, ok := p.apps[v.ApplicationID]
	if !ok {
		return nil
	}
	d := LoanDeal{ID: v.DealID, App: app}
	var err error
	if d.Loan, err = projections.ToFen("loan", v.Loan.Principal); err != nil {
		return err
	}
	if d.Equity, err = projections.ToFen("equity tranche", v.Equity.Amount); err != nil {
		return err
	}
	p.loanDeals[v.DealID] = int32(len(p.st.LoanDeals))
	p.st.LoanDeals = append(p.st.LoanDeals, d)
	p.st.Others = append(p.st.Others, Other{Kind: otherDealProposed, Fact: p.appFact(e, app), Amount: d.Loan, Extra: d.Equity})
	return nil
}

func (p *Projection) dealEnded(e events.Event, dealID string, kind uint8) error {
	i, ok := p.loanDeals[dealID]
	if !ok {
		return nil // not counted when proposed
	}
	d := p.st.LoanDeals[i]
	p.st.Others = append(p.st.Others, Other{Kind: kind, Fact: p.appFact(e, d.App), Amount: d.Loan, Extra: d.Equity})
	return nil
}

// appFact is the application's submission slice at the event's time.
func (p *Projection) appFact(e events.Event, app int32) Fact {
	f := p.st.Apps[app].Submitted
	f.At, f.Month = e.RecordedAt.UnixNano(), projections.MonthOf(e.RecordedAt)
	return f
}

// insuranceFact is the slice of an insurance event.
func (p *Projection) insuranceFact(e events.Event, companyID string, stage fundbridge.Stage, city fundbridge.City, coverage insuranceapi.Coverage) (Fact, uint8, error) {
	s := slices.Index(fundbridge.Stages, stage)
	if s < 0 {
		return Fact{}, 0, fmt.Errorf("stage %q is not a lifecycle stage", stage)
	}
	c := slices.Index(insuranceapi.Coverages, coverage)
	if c < 0 {
		return Fact{}, 0, fmt.Errorf("coverage %q is not a coverage type", coverage)
	}
	f := Fact{At: e.RecordedAt.UnixNano(), Month: projections.MonthOf(e.RecordedAt), Stage: uint8(s),
		Layer: p.word(""), Sector: p.word(""), City: p.word(string(city))}
	if i, ok := p.companies[companyID]; ok {
		f.Layer, f.Sector = p.st.Companies[i].Layer, p.st.Companies[i].Sector
	}
	return f, uint8(c), nil
}

func (p *Projection) insuranceRequested(e events.Event, v insuranceapi.InsuranceRequested) error {
	if v.Stage == "" {
		return nil // requests recorded without the company's stage cannot be placed
	}
	f, c, err := p.insuranceFact(e, v.CompanyID, v.Stage, v.City, v.Coverage)
	if err != nil {
		return err
	}
	sum, err := projections.ToFen("sum insured", v.SumInsured)
	if err != nil {
		return err
	}
	p.st.Others = append(p.st.Others, Other{Kind: otherInsuranceRequested, Coverage: c, Fact: f, Amount: sum})
	return nil
}

func (p *Projection) policyBound(e events.Event, v insuranceapi.PolicyBound) error {
	if v.Stage == "" {
		return nil
	}
	f, c, err := p.insuranceFact(e, v.CompanyID, v.Stage, v.City, v.Coverage)
	if err != nil {
		return err
	}
	o := Other{Kind: otherPolicyBound, Coverage: c, Fact: f}
	if o.Amount, err = projections.ToFen("premium", v.Premium); err != nil {
		return err
	}
	if o.Extra, err = projections.ToFen("sum insured", v.SumInsured); err != nil {
		return err
	}
	p.st.Others = append(p.st.Others, o)
	return nil
}

// others are the bucket's counts of deals and insurance.
type others struct {
	proposed, closed, expired int
	loans, equity             projections.Total
	requested, bound          int
	sumRequested, premium     projections.Total
	sumBound                  projections.Total
	byCoverage                [3]int // policies bound
}

func (o *others) add(x *Other) {
	switch x.Kind {
	case otherDealProposed:
		o.proposed++
	case otherDealClosed:
		o.closed++
		o.loans.Add(x.Amount)
		o.equity.Add(x.Extra)
	case otherDealExpired:
		o.expired++
	case otherInsuranceRequested:
		o.requested++
		o.sumRequested.Add(x.Amount)
	case otherPolicyBound:
		o.bound++
		o.premium.Add(x.Amount)
		o.sumBound.Add(x.Extra)
		if int(x.Coverage) < len(o.byCoverage) {
			o.byCoverage[x.Coverage]++
		}
	}
}

func (o *others) fill(r *Row) {
	r.LoanDealsProposed, r.LoanDealsClosed, r.LoanDealsExpired = o.proposed, o.closed, o.expired
	r.LoansRaised, r.LoanDealEquityRaised = o.loans.Amount(), o.equity.Amount()
	r.LoanDealsClosedOfProposed = projections.Ratio(o.closed, o.proposed)
	r.InsuranceRequested, r.SumInsuredRequested = o.requested, o.sumRequested.Amount()
	r.PoliciesBound, r.PremiumWritten, r.SumInsuredBound = o.bound, o.premium.Amount(), o.sumBound.Amount()
	r.PoliciesBoundOfRequested = projections.Ratio(o.bound, o.requested)
	r.PoliciesEnforcement, r.PoliciesInfringementLoss, r.PoliciesPledgeGuarantee = o.byCoverage[0], o.byCoverage[1], o.byCoverage[2]
}
