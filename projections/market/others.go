package market

import (
	"fmt"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// DimCoverage slices patent insurance by coverage type.
const DimCoverage = "coverage"

// Others are the overview's figures of loan-plus-equity deals and patent
// insurance. Deals count in the cells of the application they finance
// (its stage, city, layer and sector as submitted, the instrument
// loan_plus_equity) and the month of the event; insurance in total, its
// stage, city, month, coverage type, the instrument patent_insurance, and
// the layer and sector of the company's latest submitted application.
type Others struct {
	LoanDeals       int
	LoanDealsClosed int
	LoansRaised     projections.Fen
	LoanDealEquity  projections.Fen
	InsuranceAsked  int
	PoliciesBound   int
	PremiumWritten  projections.Fen
	SumInsuredBound projections.Fen
	ClaimsPaid      projections.Fen
}

// AppSlice is where a submitted application counts, for its deals.
type AppSlice struct {
	ID                         string
	Stage, City, Layer, Sector string
}

// Deal is a loan-plus-equity deal counted when proposed.
type Deal struct {
	ID, App      string
	Loan, Equity projections.Fen
}

// Policy is where a bound policy counts, for its claims.
type Policy struct {
	ID, Stage, City, Coverage string
	Layer, Sector             string // "" when its company never submitted an application
}

// CompanySlice is the layer and sector of a company's latest submitted
// application.
type CompanySlice struct {
	ID, Layer, Sector string
}

func (p *Projection) otherFolds() {
	projections.On(&p.folds, p.onDealProposed)
	projections.On(&p.folds, p.onDealClosed)
	projections.On(&p.folds, p.onInsuranceRequested)
	projections.On(&p.folds, p.onPolicyBound)
	projections.On(&p.folds, p.onClaimSettled)
}

func (p *Projection) noteApp(s applicationsapi.Slice, id string) {
	if _, ok := p.apps[id]; ok {
		return
	}
	p.apps[id] = int32(len(p.st.Apps))
	p.st.Apps = append(p.st.Apps, AppSlice{ID: id, Stage: string(s.Stage), City: string(s.City), Layer: string(s.Layer), Sector: string(s.Sector)})
	if i, ok := p.companies[s.CompanyID]; ok {
		p.st.Companies[i].Layer, p.st.Companies[i].Sector = string(s.Layer), string(s.Sector)
	} else if s.CompanyID != "" {
		p.companies[s.CompanyID] = int32(len(p.st.Companies))
		p.st.Companies = append(p.st.Companies, CompanySlice{ID: s.CompanyID, Layer: string(s.Layer), Sector: string(s.Sector)})
	}
}

// companySlice is the layer and sector a company's insurance counts in,
// "" for one that never submitted an application.
func (p *Projection) companySlice(companyID string) (layer, sector string) {
	if i, ok := p.companies[companyID]; ok {
		return p.st.Companies[i].Layer, p.st.Companies[i].Sector
	}
	return "", ""
}

// dealPairs are the cells a deal event counts in; false for a deal of an
// application never submitted, which is not counted.
func (p *Projection) dealPairs(e events.Event, appID string) ([][2]string, bool) {
	i, ok := p.apps[appID]
	if !ok {
		return nil, false
	}
	a := p.st.Apps[i]
	return [][2]string{{DimTotal, ""}, {DimStage, a.Stage}, {DimCity, a.City}, {DimLayer, a.Layer}, {DimSector, a.Sector}, {DimMonth, p.month(e)},
		{DimInstrument, string(fundbridge.InstrumentLoanPlusEquity)}}, true
}

func (p *Projection) onDealProposed(e events.Event, v dealsapi.DealProposed) error {
	if _, dup := p.deals[v.DealID]; dup || v.DealID == "" {
		return fmt.Errorf("loan-plus-equity deal %q proposed twice or without an ID", v.DealID)
	}
	pairs, ok := p.dealPairs(e, v.ApplicationID)
	if !ok {
		return nil
	}
	d := Deal{ID: v.DealID, App: v.ApplicationID}
	var err error
	if d.Loan, err = projections.ToFen("loan", v.Loan.Principal); err != nil {
		return err
	}
	if d.Equity, err = projections.ToFen("equity tranche", v.Equity.Amount); err != nil {
		return err
	}
	p.deals[v.DealID] = int32(len(p.st.Deals))
	p.st.Deals = append(p.st.Deals, d)
	for _, c := range p.cellsOf(pairs...) {
		c.LoanDeals++
	}
	return nil
}

func (p *Projection) onDealClosed(e events.Event, v dealsapi.DealClosed) error {
	i, ok := p.deals[v.DealID]
	if !ok {
		return nil // not counted when proposed
	}
	d := p.st.Deals[i]
	pairs, _ := p.dealPairs(e, d.App)
	var err error
	for _, c := range p.cellsOf(pairs...) {
		c.LoanDealsClosed++
		if c.LoansRaised, err = c.LoansRaised.Add(d.Loan); err != nil {
			return err
		}
		if c.LoanDealEquity, err = c.LoanDealEquity.Add(d.Equity); err != nil {
			return err
		}
	}
	return nil
}

func (p *Projection) insurancePairs(e events.Event, stage fundbridge.Stage, city fundbridge.City, coverage insuranceapi.Coverage, layer, sector string) ([][2]string, error) {
	if !coverage.Valid() {
		return nil, fmt.Errorf("coverage %q is not a coverage type", coverage)
	}
	pairs := [][2]string{{DimTotal, ""}, {DimStage, string(stage)}, {DimCity, string(city)}, {DimMonth, p.month(e)}, {DimCoverage, string(coverage)},
		{DimInstrument, string(fundbridge.InstrumentPatentInsurance)}}
	if layer != "" {
		pairs = append(pairs, [2]string{DimLayer, layer})
	}
	if sector != "" {
		pairs = append(pairs, [2]string{DimSector, sector})
	}
	return pairs, nil
}

func (p *Projection) onInsuranceRequested(e events.Event, v insuranceapi.InsuranceRequested) error {
	layer, sector := p.companySlice(v.CompanyID)
	pairs, err := p.insurancePairs(e, v.Stage, v.City, v.Coverage, layer, sector)
	if err != nil {
		return err
	}
	for _, c := range p.cellsOf(pairs...) {
		c.InsuranceAsked++
	}
	return nil
}

func (p *Projection) onPolicyBound(e events.Event, v insuranceapi.PolicyBound) error {
	if _, dup := p.policies[v.PolicyID]; dup || v.PolicyID == "" {
		return fmt.Errorf("policy %q bound twice or without an ID", v.PolicyID)
	}
	layer, sector := p.companySlice(v.CompanyID)
	pairs, err := p.insurancePairs(e, v.Stage, v.City, v.Coverage, layer, sector)
	if err != nil {
		return err
	}
	premium, err := projections.ToFen("premium", v.Premium)
	if err != nil {
		return err
	}
	sum, err := projections.ToFen("sum insured", v.SumInsured)
	if err != nil {
		return err
	}
	p.policies[v.PolicyID] = int32(len(p.st.Policies))
	p.st.Policies = append(p.st.Policies, Policy{ID: v.PolicyID, Stage: string(v.Stage), City: string(v.City), Coverage: string(v.Coverage), Layer: layer, Sector: sector})
	for _, c := range p.cellsOf(pairs...) {
		c.PoliciesBound++
		if c.PremiumWritten, err = c.PremiumWritten.Add(premium); err != nil {
			return err
		}
		if c.SumInsuredBound, err = c.SumInsuredBound.Add(sum); err != nil {
			return err
		}
	}
	return nil
}

func (p *Projection) onClaimSettled(e events.Event, v insuranceapi.ClaimSettled) error {
	i, ok := p.policies[v.PolicyID]
	if !ok {
		return fmt.Errorf("claim settled on policy %q, never bound", v.PolicyID)
	}
	x := p.st.Policies[i]
	pairs, err := p.insurancePairs(e, fundbridge.Stage(x.Stage), fundbridge.City(x.City), insuranceapi.Coverage(x.Coverage), x.Layer, x.Sector)
	if err != nil {
		return err
	}
	paid, err := projections.ToFen("claim settled", v.Amount)
	if err != nil {
		return err
	}
	for _, c := range p.cellsOf(pairs...) {
		if c.ClaimsPaid, err = c.ClaimsPaid.Add(paid); err != nil {
			return err
		}
	}
	return nil
}
