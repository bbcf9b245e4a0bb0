package market_test

import (
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/market"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

func TestOverviewOfLoanDealsAndInsurance(t *testing.T) {
	p := market.New()
	m := money.MustParse
	nov := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	dec := time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)
	hf := applicationsapi.Slice{CompanyID: "c1", Stage: fundbridge.StageGrowth, Layer: fundbridge.LayerApplication, Sector: "robotics", City: "hefei"}
	for _, step := range []struct {
		at time.Time
		p  events.Payload
	}{
		{nov, applicationsapi.ApplicationSubmitted{ApplicationID: "a1", Slice: hf, ApplicationTerms: applicationsapi.ApplicationTerms{
			AmountRequested: m("9000000.00"), Instruments: []fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}}}},
		{nov, dealsapi.DealProposed{DealID: "d1", ApplicationID: "a1", Loan: dealsapi.LoanTerms{Principal: m("6000000.00")}, Equity: dealsapi.EquityTranche{Amount: m("3000000.00")}}},
		{dec, dealsapi.DealClosed{DealID: "d1"}},
		{nov, insuranceapi.InsuranceRequested{RequestID: "r1", CompanyID: "c1", Stage: fundbridge.StageGrowth, City: "hefei", Coverage: insuranceapi.CoveragePledgeGuarantee}},
		{dec, insuranceapi.PolicyBound{PolicyID: "p1", CompanyID: "c1", Stage: fundbridge.StageGrowth, City: "hefei", Coverage: insuranceapi.CoveragePledgeGuarantee, Premium: m("30000.00"), SumInsured: m("2000000.00")}},
		{dec, insuranceapi.ClaimSettled{PolicyID: "p1", ClaimID: "cl1", Amount: m("15000.00")}},
	} {
		if err := p.Apply(events.Event{Type: step.p.EventType(), RecordedAt: step.at}, step.p); err != nil {
			t.Fatalf("%s: %v", step.p.EventType(), err)
		}
	}
	rows := map[string]market.Row{}
	for _, r := range p.Overview() {
		rows[r.Dimension+"/"+r.Key] = r
	}
	total := rows["total/"]
	if total.LoanDeals != 1 || total.LoanDealsClosed != 1 || total.LoansRaised.String() != "6000000.00" || total.LoanDealEquity.String() != "3000000.00" ||
		total.LoanDealsRatio != "1.0000" || total.InsuranceAsked != 1 || total.PoliciesBound != 1 || total.PremiumWritten.String() != "30000.00" ||
		total.ClaimsPaid.String() != "15000.00" {
		t.Errorf("total %+v", total)
	}
	if r := rows["month/2026-11"]; r.LoanDeals != 1 || r.LoanDealsClosed != 0 || r.InsuranceAsked != 1 {
		t.Errorf("november %+v", r)
	}
	if r := rows["month/2026-12"]; r.LoanDealsClosed != 1 || r.PoliciesBound != 1 || r.LoanDealsRatio != "0" {
		t.Errorf("december %+v", r)
	}
	if r := rows["instrument/loan_plus_equity"]; r.LoanDeals != 1 || r.Applications != 1 {
		t.Errorf("loan_plus_equity %+v", r)
	}
	if r := rows["coverage/pledge_guarantee"]; r.PoliciesBound != 1 || r.SumInsuredBound.String() != "2000000.00" {
		t.Errorf("pledge guarantee %+v", r)
	}
	if r := rows["stage/growth"]; r.Applications != 1 || r.LoanDeals != 1 || r.InsuranceAsked != 1 || r.PoliciesBound != 1 || r.ClaimsPaid.String() != "15000.00" {
		t.Errorf("growth %+v", r)
	}
	// Insurance counts in the layer and sector of the company's latest
	// submitted application, as the lifecycle view counts it.
	for _, key := range []string{"sector/robotics", "layer/application"} {
		if r := rows[key]; r.LoansRaised.String() != "6000000.00" || r.InsuranceAsked != 1 || r.PoliciesBound != 1 || r.ClaimsPaid.String() != "15000.00" {
			t.Errorf("%s %+v", key, r)
		}
	}
	// A snapshot restores the same overview.
	data, _ := p.MarshalState()
	q := market.New()
	if err := q.UnmarshalState(data); err != nil {
		t.Fatal(err)
	}
	if err := q.Apply(events.Event{RecordedAt: dec}, insuranceapi.ClaimSettled{PolicyID: "p1", ClaimID: "cl2", Amount: m("1.00")}); err != nil {
		t.Fatalf("a claim on a restored policy: %v", err)
	}
	// A restored overview still knows where a company's insurance counts.
	if err := q.Apply(events.Event{Type: "insurance.requested.v1", RecordedAt: dec}, insuranceapi.InsuranceRequested{RequestID: "r3", CompanyID: "c1", Stage: fundbridge.StageGrowth, City: "hefei", Coverage: insuranceapi.CoveragePledgeGuarantee}); err != nil {
		t.Fatal(err)
	}
	// A company that never applied: its insurance counts in no sector.
	if err := q.Apply(events.Event{Type: "insurance.requested.v1", RecordedAt: dec}, insuranceapi.InsuranceRequested{RequestID: "r2", CompanyID: "c9", Stage: fundbridge.StageSeed, City: "hefei", Coverage: insuranceapi.CoveragePledgeGuarantee}); err != nil {
		t.Fatal(err)
	}
	for _, r := range q.Overview() {
		switch r.Dimension + "/" + r.Key {
		case "sector/robotics":
			if r.ClaimsPaid.String() != "15001.00" || r.InsuranceAsked != 2 {
				t.Errorf("robotics after a restore: %+v", r)
			}
		case "total/":
			if r.InsuranceAsked != 3 {
				t.Errorf("total after a restore: %+v", r)
			}
		}
	}
}
