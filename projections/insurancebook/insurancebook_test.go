package insurancebook_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/insurancebook"
	ins "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

func given(t *testing.T, p *insurancebook.Projection, history ...events.Payload) {
	t.Helper()
	for _, e := range history {
		if err := p.Apply(events.Event{Type: e.EventType()}, e); err != nil {
			t.Fatalf("%s: %v", e.EventType(), err)
		}
	}
}

var m = money.MustParse

func TestInsurerBook(t *testing.T) {
	p := insurancebook.New()
	given(t, p,
		ins.InsuranceRequested{RequestID: "r1", CompanyID: "c1", Coverage: ins.CoverageEnforcement, SumInsured: m("1000000.00"), Insurers: []string{"i1", "i2"}},
		ins.InsuranceRequested{RequestID: "r2", CompanyID: "c2", Coverage: ins.CoverageInfringementLoss, SumInsured: m("500000.00"), Insurers: []string{"i1"}},
		ins.InsuranceRequested{RequestID: "r3", CompanyID: "c3", Coverage: ins.CoverageEnforcement, SumInsured: m("200000.00"), Insurers: []string{"i1"}},
		ins.InsuranceQuoted{RequestID: "r1", QuoteID: "q1", InsurerID: "i1", Premium: m("20000.00")},
		ins.InsuranceQuoted{RequestID: "r1", QuoteID: "q2", InsurerID: "i2", Premium: m("19000.00")},
		ins.InsuranceQuoted{RequestID: "r2", QuoteID: "q3", InsurerID: "i1", Premium: m("8000.00")},
		ins.InsuranceQuoted{RequestID: "r3", QuoteID: "q4", InsurerID: "i1", Premium: m("3000.00")},
		ins.InsuranceDeclined{RequestID: "r3", InsurerID: "i9", Reason: "no"},
		ins.QuoteAccepted{RequestID: "r1", QuoteID: "q1", InsurerID: "i1", PolicyID: "p1"},
		ins.PolicyBound{PolicyID: "p1", RequestID: "r1", QuoteID: "q1", CompanyID: "c1", InsurerID: "i1", Coverage: ins.CoverageEnforcement,
			SumInsured: m("1000000.00"), Premium: m("20000.00")},
		ins.PremiumPaid{PolicyID: "p1", Amount: m("10000.00"), Subsidy: m("10000.00"), Premium: m("20000.00")},
		ins.InsuranceWithdrawn{RequestID: "r3"},
		ins.QuoteAccepted{RequestID: "r2", QuoteID: "q3", InsurerID: "i1", PolicyID: "p2"},
		ins.PolicyBound{PolicyID: "p2", RequestID: "r2", QuoteID: "q3", CompanyID: "c2", InsurerID: "i1", Coverage: ins.CoverageInfringementLoss,
			SumInsured: m("500000.00"), Premium: m("8000.00")},
		ins.ClaimFiled{PolicyID: "p1", ClaimID: "cl1", Amount: m("300000.00")},
		ins.ClaimAssessed{PolicyID: "p1", ClaimID: "cl1", Amount: m("250000.00")},
		ins.ClaimSettled{PolicyID: "p1", ClaimID: "cl1", Amount: m("100000.00"), PaidOnClaim: m("100000.00")},
		ins.ClaimFiled{PolicyID: "p1", ClaimID: "cl2", Amount: m("5000.00")},
		ins.ClaimDenied{PolicyID: "p1", ClaimID: "cl2", Reason: "outside the period"},
	)
	total, rows, ok := p.Book("i1")
	if !ok || len(rows) != 3 || rows[0].Coverage != "enforcement" || rows[2].Coverage != "pledge_guarantee" {
		t.Fatalf("book %v %+v", ok, rows)
	}
	enf := rows[0].Figures
	if enf.Requests != 2 || enf.Quotes != 2 || enf.QuotesOpen != 0 || enf.Bound != 1 || enf.InForce != 1 || enf.SumInsured.Amount().String() != "1000000.00" ||
		enf.PremiumWritten.Amount().String() != "20000.00" || enf.PremiumReceived.Amount().String() != "20000.00" ||
		enf.ClaimsFiled != 2 || enf.ClaimsOpen != 1 || enf.ClaimsDenied != 1 || enf.ClaimsPaid.Amount().String() != "100000.00" {
		t.Errorf("enforcement %+v", enf)
	}
	loss := rows[1].Figures
	if loss.Bound != 1 || loss.AwaitingPremium != 1 || loss.InForce != 0 || loss.QuotesOpen != 0 {
		t.Errorf("infringement loss %+v", loss)
	}
	if total.Bound != 2 || total.PremiumWritten.Amount().String() != "28000.00" || total.ClaimsOpen != 1 {
		t.Errorf("total %+v", total)
	}
	// i2's quote is still open; the settlement in full closes the claim.
	if i2, _, _ := p.Book("i2"); i2.QuotesOpen != 1 || i2.QuotedOpen.Amount().String() != "19000.00" {
		t.Errorf("i2 %+v", i2)
	}
	given(t, p, ins.ClaimSettled{PolicyID: "p1", ClaimID: "cl1", Amount: m("150000.00"), PaidOnClaim: m("250000.00")},
		ins.PolicyCancelled{PolicyID: "p1", Refund: m("5000.00")})
	if total, _, _ = p.Book("i1"); total.ClaimsOpen != 0 || total.ClaimsPaid.Amount().String() != "250000.00" || total.InForce != 0 ||
		total.Refunded.Amount().String() != "5000.00" || !total.SumInsured.Amount().IsZero() {
		t.Errorf("after settling and cancelling %+v", total)
	}
	if _, _, ok := p.Book("nobody"); ok {
		t.Error("an insurer the log never named has a book")
	}
	if err := p.Apply(events.Event{}, ins.ClaimSettled{ClaimID: "nope"}); err == nil {
		t.Error("a settlement of a claim never filed")
	}
}

func TestSubsidyProgrammeBudget(t *testing.T) {
	p := insurancebook.New()
	given(t, p,
		ins.SubsidyProgrammeCreated{ProgrammeID: "sp1", Name: "Hefei IP", Share: decimal.RequireFromString("0.5"), Budget: m("30000.00")},
		ins.SubsidyDrawn{ProgrammeID: "sp1", PolicyID: "p1", Amount: m("10000.00")},
		ins.SubsidyDrawn{ProgrammeID: "sp1", PolicyID: "p2", Amount: m("20000.00"), Capped: true},
		ins.SubsidyReturned{ProgrammeID: "sp1", PolicyID: "p1", Amount: m("4000.00")},
	)
	list := p.Programmes()
	if len(list) != 1 || list[0].Drawn.Amount().String() != "30000.00" || list[0].Returned.Amount().String() != "4000.00" ||
		list[0].Policies != 2 || list[0].Capped != 1 || list[0].Share != "0.5" {
		t.Errorf("programmes %+v", list)
	}
	// Drawing beyond the budget is a broken invariant, never a negative left.
	if err := p.Apply(events.Event{}, ins.SubsidyDrawn{ProgrammeID: "sp1", PolicyID: "p3", Amount: m("4000.01")}); err == nil {
		t.Error("a programme drew beyond its budget")
	}
}

func TestInsuranceBookSnapshot(t *testing.T) {
	p := insurancebook.New()
	given(t, p,
		ins.InsuranceRequested{RequestID: "r1", Coverage: ins.CoveragePledgeGuarantee, Insurers: []string{"i1"}, SumInsured: m("1.00")},
		ins.InsuranceQuoted{RequestID: "r1", QuoteID: "q1", InsurerID: "i1", Premium: m("2.00")},
		ins.SubsidyProgrammeCreated{ProgrammeID: "sp1", Budget: m("3.00")})
	data, err := p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	q := insurancebook.New()
	if err := q.UnmarshalState(data); err != nil {
		t.Fatal(err)
	}
	given(t, q, ins.QuoteExpired{RequestID: "r1", QuoteID: "q1", InsurerID: "i1"})
	if total, _, ok := q.Book("i1"); !ok || total.Quotes != 1 || total.QuotesOpen != 0 || len(q.Programmes()) != 1 {
		t.Errorf("after a restore: %+v", total)
	}
}
