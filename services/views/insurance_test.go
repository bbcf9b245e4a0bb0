package views_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	ins "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

func TestInsurerBookAndSubsidyBudgets(t *testing.T) {
	f := setUp(t)
	m := money.MustParse
	operator := actor("u-op", fundbridge.RoleOperator, "")
	insurer := actor("u-i1", fundbridge.RoleInsurer, "i1")
	rival := actor("u-i2", fundbridge.RoleInsurer, "i2")
	founder := actor("u-c1", fundbridge.RoleStartup, "c1")
	f.appendTo(t, "subsidy-sp1", operator, ins.SubsidyProgrammeCreated{ProgrammeID: "sp1", Name: "Hefei IP", Sponsor: "Hefei", Share: decimal.RequireFromString("0.5"), Budget: m("100000.00")})
	f.appendTo(t, "insurance-r1", founder, ins.InsuranceRequested{RequestID: "r1", CompanyID: "c1", Coverage: ins.CoverageEnforcement, SumInsured: m("1000000.00"), Insurers: []string{"i1"}})
	f.appendTo(t, "insurance-r1", insurer, ins.InsuranceQuoted{RequestID: "r1", QuoteID: "q1", InsurerID: "i1", Premium: m("20000.00")})
	f.appendTo(t, "insurance-r1", founder, ins.QuoteAccepted{RequestID: "r1", QuoteID: "q1", InsurerID: "i1", PolicyID: "p1"})
	f.appendTo(t, "policy-p1", founder,
		ins.PolicyBound{PolicyID: "p1", RequestID: "r1", QuoteID: "q1", CompanyID: "c1", InsurerID: "i1", Coverage: ins.CoverageEnforcement, SumInsured: m("1000000.00"), Premium: m("20000.00")},
		ins.SubsidyApplied{PolicyID: "p1", ProgrammeID: "sp1", Amount: m("10000.00"), PremiumDue: m("10000.00")},
		ins.PremiumPaid{PolicyID: "p1", Amount: m("10000.00"), Subsidy: m("10000.00"), Premium: m("20000.00")})
	f.appendTo(t, "subsidy-sp1", founder, ins.SubsidyDrawn{ProgrammeID: "sp1", PolicyID: "p1", CompanyID: "c1", Amount: m("10000.00")})
	pos := f.appendTo(t, "policy-p1", founder,
		ins.ClaimFiled{PolicyID: "p1", ClaimID: "cl1", Amount: m("8000.00")},
		ins.ClaimAssessed{PolicyID: "p1", ClaimID: "cl1", Amount: m("5000.00")},
		ins.ClaimSettled{PolicyID: "p1", ClaimID: "cl1", Amount: m("5000.00"), PaidOnClaim: m("5000.00")})

	var book viewsapi.InsurerBookResult
	if err := f.call(t, insurer, "insurer_book", map[string]any{"after": pos}, &book); err != nil {
		t.Fatal(err)
	}
	if book.InsurerID != "i1" || book.Total.InForce != 1 || book.Total.PremiumWritten.String() != "20000.00" || book.Total.ClaimsPaid.String() != "5000.00" ||
		book.Total.ClaimsOpen != 0 || book.Total.LossRatio != "0.2500" || len(book.Items) != 3 || book.Items[0].InForce != 1 || book.Items[1].InForce != 0 ||
		book.Items[1].LossRatio != "0" || book.Position < pos {
		t.Errorf("i1's book: %+v", book)
	}
	if err := f.call(t, rival, "insurer_book", map[string]any{"insurer_id": "i1"}, nil); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("another insurer's book: %v, want not found", err)
	}
	if err := f.call(t, operator, "insurer_book", map[string]any{"insurer_id": "i1", "after": pos}, nil); err != nil {
		t.Errorf("the operator: %v", err)
	}
	for _, a := range []fundbridge.Actor{founder, actor("u-b", fundbridge.RoleBank, "b1")} {
		if err := f.call(t, a, "insurer_book", map[string]any{"insurer_id": "i1"}, nil); fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
			t.Errorf("insurer book as %s: %v, want forbidden", a.Role, err)
		}
		if err := f.call(t, a, "subsidy_programmes", map[string]any{}, nil); fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
			t.Errorf("subsidy budgets as %s: %v, want forbidden", a.Role, err)
		}
	}

	var budgets viewsapi.SubsidyProgrammesResult
	if err := f.call(t, operator, "subsidy_programmes", map[string]any{"after": pos}, &budgets); err != nil {
		t.Fatal(err)
	}
	if len(budgets.Items) != 1 || budgets.Items[0].Used.String() != "10000.00" || budgets.Items[0].Left.String() != "90000.00" ||
		budgets.Items[0].UsedShare != "0.1000" || budgets.Items[0].Status != "open" {
		t.Errorf("budgets %+v", budgets.Items)
	}

	// The company's timeline shows its insurance.
	var tl viewsapi.TimelineResult
	if err := f.call(t, founder, "company_timeline", map[string]any{"after": pos}, &tl); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range tl.Items {
		kinds[e.Type] = true
	}
	for _, want := range []string{"insurance.requested.v1", "insurance.quoted.v1", "policy.bound.v1", "policy.premium_paid.v1", "claim.filed.v1", "claim.settled.v1"} {
		if !kinds[want] {
			t.Errorf("timeline has no %s: %v", want, kinds)
		}
	}

	// as_of: nothing of the company yet in 2020; a bad date names the field.
	if err := f.call(t, founder, "company_timeline", map[string]any{"as_of": "2020-01-01", "after": pos}, nil); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("timeline as of 2020: %v, want not found", err)
	}
	err := f.call(t, founder, "company_timeline", map[string]any{"as_of": "soon"}, nil)
	if fields := fundbridge.ErrorFields(err); fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fields) == 0 || fields[0].Field != "as_of" {
		t.Errorf("timeline as of soon: %v", err)
	}

	// A rebuild folds the same book.
	before, _ := json.Marshal(book)
	if err := f.svc.Rebuild(context.Background(), "insurance_book", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.call(t, insurer, "insurer_book", map[string]any{"after": pos}, &book); err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(book); string(after) != string(before) {
		t.Errorf("after a rebuild:\n%s\nwant\n%s", after, before)
	}
}
