package timeline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/timeline"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// TestTimelineShowsLoansAndInsurance: a company's timeline has its
// loan-plus-equity deal, its loan, and its insurance request, quote,
// policy and claim, each at the company's stage, with the IDs to follow.
func TestTimelineShowsLoansAndInsurance(t *testing.T) {
	p := timeline.New()
	pos := uint64(0)
	bank := fundbridge.Actor{UserID: "u-b", Role: fundbridge.RoleBank, OrgID: "b1"}
	founder := fundbridge.Actor{UserID: "u-c1", Role: fundbridge.RoleStartup, OrgID: "c1"}
	otherBank := fundbridge.Actor{UserID: "u-b2", Role: fundbridge.RoleBank, OrgID: "b2"}
	m := money.MustParse
	for _, e := range []struct {
		by fundbridge.Actor
		p  events.Payload
	}{
		{founder, fundsapi.FundRegistered{FundID: "f1", Name: "Sky Fund"}},
		{bank, identityapi.OrgCreated{OrgID: "i1", Name: "Ping An Property", Role: fundbridge.RoleInsurer}},
		{founder, applicationsapi.CompanyRegistered{CompanyID: "c1", Stage: fundbridge.StageGrowth, CompanyProfile: applicationsapi.CompanyProfile{Name: "Deep AI"}}},
		{bank, dealsapi.DealProposed{DealID: "d1", BorrowerID: "c1", LeadBankID: "b1", Sequence: dealsapi.EquityFirst,
			Loan:   dealsapi.LoanTerms{Principal: m("2000000.00"), Months: 36, AnnualRate: decimal.RequireFromString("0.0435")},
			Equity: dealsapi.EquityTranche{FundID: "f1", Amount: m("5000000.00")}}},
		{otherBank, dealsapi.BookClosed{DealID: "d1", Committed: m("2500000.00"), Oversubscribed: true}},
		{founder, dealsapi.EquityTrancheCommitted{DealID: "d1", FundID: "f1", Amount: m("5000000.00")}},
		{bank, dealsapi.DealClosed{DealID: "d1"}},
		{bank, dealsapi.LoanDrawnDown{LoanID: "d1", Amount: m("2000000.00"), DrawnAfter: m("2000000.00")}},
		{bank, dealsapi.RepaymentReceived{LoanID: "d1", Amount: m("60000.00"), OutstandingAfter: m("1950000.00")}},
		{bank, dealsapi.PeriodOverdue{LoanID: "d1", Number: 2, Overdue: m("60000.00"), DaysPastDue: 3}},
		{bank, dealsapi.ArrearsCleared{LoanID: "d1", Through: 2}},
		{bank, dealsapi.LoanDefaulted{LoanID: "d1", Loss: m("1950000.00"), Reason: "insolvent"}},
		{bank, dealsapi.LossAllocated{LoanID: "d1", DealID: "d1", Loss: m("1950000.00"), Allocation: dealsapi.LossAllocation{
			Banks: m("975000.00"), Fund: m("390000.00"), RiskCompensationFund: m("390000.00"), Insurer: m("195000.00")}}},
		{founder, insuranceapi.InsuranceRequested{RequestID: "r1", CompanyID: "c1", Coverage: insuranceapi.CoverageEnforcement,
			SumInsured: m("1000000.00"), Insurers: []string{"i1"}, StartsOn: "2026-12-01", EndsOn: "2027-11-30"}},
		{founder, insuranceapi.InsuranceQuoted{RequestID: "r1", QuoteID: "q1", InsurerID: "i1", Premium: m("12000.00"), ValidUntil: "2026-12-30"}},
		{founder, insuranceapi.PolicyBound{PolicyID: "p1", PolicyNumber: "PN-1", RequestID: "r1", CompanyID: "c1", InsurerID: "i1",
			Coverage: insuranceapi.CoverageEnforcement, Premium: m("12000.00"), StartsOn: "2026-12-01", EndsOn: "2027-11-30"}},
		{founder, insuranceapi.ClaimFiled{PolicyID: "p1", ClaimID: "cl1", Amount: m("300000.00")}},
		{founder, insuranceapi.ClaimSettled{PolicyID: "p1", ClaimID: "cl1", Amount: m("250000.00")}},
	} {
		pos++
		if err := p.Apply(events.Event{Type: e.p.EventType(), Position: pos, RecordedAt: time.Unix(int64(pos), 0), Actor: e.by}, e.p); err != nil {
			t.Fatalf("%s: %v", e.p.EventType(), err)
		}
	}
	if p.Handles(dealsapi.BankInvited{}.EventType()) || p.Handles(dealsapi.BankCommitted{}.EventType()) {
		t.Error("the banks' own steps would show the borrower who else lends")
	}
	_, entries, ok := p.Timeline("c1", time.Time{})
	if !ok {
		t.Fatal("no timeline")
	}
	want := []struct{ summary, amount, ref string }{
		{"Registered Deep AI", "", ""},
		{"Loan-plus-equity deal proposed: a ¥2m loan over 36 months at 4.35%, equity_first, with ¥5m of equity", "2000000.00", "d1"},
		{"The loan's book closed with ¥2.5m committed (oversubscribed: scaled back pro rata to the loan)", "2500000.00", "d1"},
		{"Sky Fund committed ¥5m of equity", "5000000.00", "d1"},
		{"The loan-plus-equity deal closed: both tranches are in and the loan is open", "", "d1"},
		{"¥2m of the loan disbursed (¥2m drawn in all)", "2000000.00", "d1"},
		{"Repaid ¥60k (¥1.95m principal outstanding)", "60000.00", "d1"},
		{"Period 2 overdue, 3 days past due: ¥60k unpaid", "60000.00", "d1"},
		{"Arrears cleared: every overdue period through 2 is paid", "", "d1"},
		{"The loan was declared in default with a loss of ¥1.95m: insolvent", "1950000.00", "d1"},
		{"The loss of ¥1.95m was allocated: banks ¥975k, fund ¥390k, risk-compensation fund ¥390k, insurer ¥195k", "1950000.00", "d1"},
		{"Asked for enforcement cover for 0 patent(s) from 1 insurer(s), 2026-12-01 to 2027-11-30: ¥1m insured", "1000000.00", "r1"},
		{"Quoted a premium of ¥12k by Ping An Property (valid until 2026-12-30)", "12000.00", "r1"},
		{"Policy PN-1, enforcement cover from 2026-12-01 to 2027-11-30 by Ping An Property bound, premium ¥12k", "12000.00", "p1"},
		{"Claim cl1 filed for ¥300k", "300000.00", "p1"},
		{"Claim cl1 settled: ¥250k paid", "250000.00", "p1"},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		e := entries[i]
		amount := ""
		if e.Amount != nil {
			amount = e.Amount.String()
		}
		ref := e.DealID + e.RequestID + e.PolicyID
		if !strings.HasPrefix(e.Summary, w.summary) || amount != w.amount || ref != w.ref || e.Stage != fundbridge.StageGrowth {
			t.Errorf("entry %d: %q %s %s %s, want %q %s %s", i, e.Summary, amount, ref, e.Stage, w.summary, w.amount, w.ref)
		}
	}
	// The lead bank is named; another bank's step shows its role only.
	if entries[1].ActorOrg != "b1" || entries[2].ActorOrg != "" || entries[2].ActorUser != "" || entries[2].ActorRole != fundbridge.RoleBank {
		t.Errorf("actors %+v / %+v", entries[1], entries[2])
	}
	if entries[3].FundID != "f1" {
		t.Errorf("equity entry names fund %q", entries[3].FundID)
	}
	// A loan event of a deal never proposed breaks the invariant.
	bad := dealsapi.LoanRepaid{LoanID: "nope"}
	if err := p.Apply(events.Event{Type: bad.EventType(), Position: pos + 1}, bad); err == nil {
		t.Error("a loan never proposed was folded")
	}
}
