package lifecycle_test

import (
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// TestLoanDealsAndInsuranceByStage: loan-plus-equity deals count under
// their application's slice, insurance under the stage and city it
// carries, and as_of leaves out what came after, as for equity.
func TestLoanDealsAndInsuranceByStage(t *testing.T) {
	f := &feeder{t: t, p: lifecycle.New()}
	m := money.MustParse
	day := 24 * time.Hour
	growth := slice(fundbridge.StageGrowth, "hefei")
	f.must(t0, submitted("A", growth, "8000000.00"))
	f.must(t0, submitted("B", growth, "1000000.00"))
	f.must(t0.Add(day), dealsapi.DealProposed{DealID: "d1", ApplicationID: "A", BorrowerID: "c1",
		Loan: dealsapi.LoanTerms{Principal: m("5000000.00")}, Equity: dealsapi.EquityTranche{Amount: m("3000000.00")}})
	f.must(t0.Add(day), dealsapi.DealProposed{DealID: "d2", ApplicationID: "B", BorrowerID: "c1",
		Loan: dealsapi.LoanTerms{Principal: m("600000.00")}, Equity: dealsapi.EquityTranche{Amount: m("400000.00")}})
	f.must(t0.Add(day), dealsapi.DealProposed{DealID: "d3", ApplicationID: "never-submitted"}) // not counted
	f.must(t0.Add(10*day), dealsapi.DealClosed{DealID: "d1"})
	f.must(t0.Add(20*day), dealsapi.DealExpired{DealID: "d2"})
	f.must(t0.Add(2*day), insuranceapi.InsuranceRequested{RequestID: "r1", CompanyID: "c1", Stage: fundbridge.StageGrowth, City: "hefei",
		Coverage: insuranceapi.CoverageEnforcement, SumInsured: m("1000000.00")})
	f.must(t0.Add(2*day), insuranceapi.InsuranceRequested{RequestID: "r2", CompanyID: "c9", Stage: fundbridge.StageSeed, City: "wuhan",
		Coverage: insuranceapi.CoveragePledgeGuarantee, SumInsured: m("500000.00")})
	f.must(t0.Add(3*day), insuranceapi.PolicyBound{PolicyID: "p1", CompanyID: "c1", Stage: fundbridge.StageGrowth, City: "hefei",
		Coverage: insuranceapi.CoverageEnforcement, Premium: m("12000.00"), SumInsured: m("1000000.00")})

	g := query(t, f.p, lifecycle.Query{})[2]
	if g.Stage != fundbridge.StageGrowth || g.LoanDealsProposed != 2 || g.LoanDealsClosed != 1 || g.LoanDealsExpired != 1 ||
		g.LoansRaised.String() != "5000000.00" || g.LoanDealEquityRaised.String() != "3000000.00" || g.LoanDealsClosedOfProposed != "0.5000" ||
		g.InsuranceRequested != 1 || g.PoliciesBound != 1 || g.PremiumWritten.String() != "12000.00" || g.PoliciesEnforcement != 1 ||
		g.PoliciesBoundOfRequested != "1.0000" {
		t.Errorf("growth row %+v", g)
	}
	seed := query(t, f.p, lifecycle.Query{})[0]
	if seed.InsuranceRequested != 1 || seed.SumInsuredRequested.String() != "500000.00" || seed.PoliciesBound != 0 {
		t.Errorf("seed row %+v", seed)
	}
	// A company that never applied has no layer: a layer filter leaves its insurance out.
	if tech := query(t, f.p, lifecycle.Query{Layer: fundbridge.LayerTechnology})[0]; tech.InsuranceRequested != 0 {
		t.Errorf("technology seed row %+v", tech)
	}
	if tech := query(t, f.p, lifecycle.Query{Layer: fundbridge.LayerTechnology})[2]; tech.InsuranceRequested != 1 {
		t.Errorf("technology growth row %+v", tech)
	}
	// As of five days in, d1 had not closed and d2 had not expired.
	early := query(t, f.p, lifecycle.Query{AsOf: t0.Add(5 * day)})[2]
	if early.LoanDealsProposed != 2 || early.LoanDealsClosed != 0 || early.LoanDealsExpired != 0 || !early.LoansRaised.IsZero() || early.PoliciesBound != 1 {
		t.Errorf("as of day 5: %+v", early)
	}
	// A snapshot restores the same answers.
	data, err := f.p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	q := lifecycle.New()
	if err := q.UnmarshalState(data); err != nil {
		t.Fatal(err)
	}
	sameRow(t, "restored growth", query(t, q, lifecycle.Query{})[2], g)
}
