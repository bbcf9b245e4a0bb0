package timeline

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// everyKind is a company's history with an event of every entry kind,
// and each sentence said both with and without a reason.
func everyKind() []events.Payload {
	m := money.MustParse
	pct := decimal.RequireFromString
	seed := applicationsapi.Slice{CompanyID: "c1", Stage: fundbridge.StageSeed, Layer: fundbridge.LayerTechnology, Sector: "nlp", City: "beijing"}
	terms := applicationsapi.ApplicationTerms{AmountRequested: m("2000000.00"), Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity}}
	profile := applicationsapi.CompanyProfile{Name: "Deep AI", City: "beijing", Layer: "technology", Sector: "nlp"}
	out := []events.Payload{
		fundsapi.FundRegistered{FundID: "f1", Name: "Sky Fund"},
		identityapi.OrgCreated{OrgID: "i1", Name: "Ping An Property", Role: fundbridge.RoleInsurer},
		insuranceapi.SubsidyProgrammeCreated{ProgrammeID: "sp1", Name: "Haidian IP subsidy"},
		applicationsapi.CompanyRegistered{CompanyID: "c1", Stage: fundbridge.StageSeed, CompanyProfile: profile},
		applicationsapi.CompanyProfileUpdated{CompanyID: "c1", CompanyProfile: profile},
		applicationsapi.PatentAdded{CompanyID: "c1", Number: "CN202310123456.6", Kind: applicationsapi.PatentInvention, Title: "Speech \x1f parsing"},
		applicationsapi.ApplicationDrafted{ApplicationID: "a1", Slice: seed, ApplicationTerms: terms},
		applicationsapi.ApplicationUpdated{ApplicationID: "a1", Slice: seed, ApplicationTerms: terms},
		applicationsapi.ApplicationSubmitted{ApplicationID: "a1", Slice: seed, ApplicationTerms: terms},
		applicationsapi.ApplicationMatched{ApplicationID: "a1", Slice: seed, FundIDs: []string{"f1", "f2"}},
		applicationsapi.ApplicationUnderReview{ApplicationID: "a1", Slice: seed, FundID: "f1"},
		applicationsapi.ApplicationFunded{ApplicationID: "a1", Slice: seed, FundID: "f1", Instrument: fundbridge.InstrumentEquity, Amount: m("1000000.00")},
		applicationsapi.ApplicationWithdrawn{ApplicationID: "a2", Slice: seed},
		applicationsapi.ApplicationWithdrawn{ApplicationID: "a3", Slice: seed, Reason: "raised elsewhere"},
		applicationsapi.ApplicationRejected{ApplicationID: "a4", Slice: seed},
		applicationsapi.ApplicationRejected{ApplicationID: "a5", Slice: seed, Reason: "too early"},
		applicationsapi.ApplicationExpired{ApplicationID: "a6", Slice: seed},
		applicationsapi.CompanyStageChanged{CompanyID: "c1", From: fundbridge.StageSeed, To: fundbridge.StageStartup},
		matchingapi.DealSourced{DealID: "d1", FundID: "f1", ApplicationID: "a1", Score: 81, Slice: seed},
		matchingapi.DealAdvanced{DealID: "d1", To: matchingapi.StepScreening},
		matchingapi.DealPassed{DealID: "d1", Step: matchingapi.StepScreening, Reason: "no fit"},
		matchingapi.TermSheetIssued{DealID: "d1", Amount: m("4000000.00"), PreMoney: m("16000000.00"), Ownership: pct("0.2")},
		matchingapi.TermSheetAccepted{DealID: "d1"},
		matchingapi.TermSheetDeclined{DealID: "d1"},
		matchingapi.TermSheetDeclined{DealID: "d1", Reason: "valuation"},
		matchingapi.DealClosed{DealID: "d1", Amount: m("4000000.00"), Ownership: pct("0.2")},
		dealsapi.DealProposed{DealID: "l1", BorrowerID: "c1", LeadBankID: "b1", Sequence: dealsapi.EquityFirst,
			Loan:   dealsapi.LoanTerms{Principal: m("2000000.00"), Months: 36, AnnualRate: pct("0.0435")},
			Equity: dealsapi.EquityTranche{FundID: "f1", Amount: m("5000000.00")}},
		dealsapi.BookClosed{DealID: "l1", Committed: m("2000000.00")},
		dealsapi.BookClosed{DealID: "l1", Committed: m("2500000.00"), Oversubscribed: true},
		dealsapi.EquityTrancheCommitted{DealID: "l1", FundID: "f1", Amount: m("5000000.00")},
		dealsapi.DealClosed{DealID: "l1"},
		dealsapi.DealExpired{DealID: "l1"},
		dealsapi.LoanDrawnDown{LoanID: "l1", Amount: m("2000000.00"), DrawnAfter: m("2000000.00")},
		dealsapi.ScheduleFixed{LoanID: "l1", Principal: m("2000000.00"), Months: 36},
		dealsapi.RepaymentReceived{LoanID: "l1", Amount: m("60000.00"), OutstandingAfter: m("1950000.00")},
		dealsapi.FeeCharged{LoanID: "l1", Amount: m("100.00")},
		dealsapi.FeeCharged{LoanID: "l1", Amount: m("100.00"), Reason: "late"},
		dealsapi.PeriodOverdue{LoanID: "l1", Number: 2, Overdue: m("60000.00"), DaysPastDue: 3},
		dealsapi.EarlyRepaymentReceived{LoanID: "l1", Amount: m("500000.00"), OutstandingAfter: m("1450000.00")},
		dealsapi.ArrearsCleared{LoanID: "l1", Through: 2},
		dealsapi.WarrantExercised{LoanID: "l1", Amount: m("100000.00"), Ownership: pct("0.01")},
		dealsapi.LoanRepaid{LoanID: "l1"},
		dealsapi.LoanDefaulted{LoanID: "l1", Loss: m("1000.00")},
		dealsapi.LoanDefaulted{LoanID: "l1", Loss: m("1000.00"), Reason: "insolvent"},
		dealsapi.LossAllocated{LoanID: "l1", DealID: "l1", Loss: m("1000.00"), Allocation: dealsapi.LossAllocation{
			Banks: m("500.00"), Fund: m("200.00"), RiskCompensationFund: m("200.00"), Insurer: m("100.00")}},
		insuranceapi.InsuranceRequested{RequestID: "r1", CompanyID: "c1", Coverage: insuranceapi.CoverageEnforcement,
			SumInsured: m("1000000.00"), Insurers: []string{"i1", "i2"}, StartsOn: "2026-12-01", EndsOn: "2027-11-30"},
		insuranceapi.InsuranceQuoted{RequestID: "r1", InsurerID: "i1", Premium: m("12000.00"), ValidUntil: "2026-12-30"},
		insuranceapi.InsuranceDeclined{RequestID: "r1", InsurerID: "i2"},
		insuranceapi.InsuranceDeclined{RequestID: "r1", InsurerID: "i1", Reason: "too risky"},
		insuranceapi.QuoteExpired{RequestID: "r1", InsurerID: "i1"},
		insuranceapi.QuoteAccepted{RequestID: "r1", InsurerID: "i1"},
		insuranceapi.InsuranceWithdrawn{RequestID: "r1"},
		insuranceapi.InsuranceWithdrawn{RequestID: "r1", Reason: "changed plans"},
		insuranceapi.PolicyBound{PolicyID: "p1", PolicyNumber: "PN-1", RequestID: "r1", CompanyID: "c1", InsurerID: "i1",
			Coverage: insuranceapi.CoverageEnforcement, Premium: m("12000.00"), StartsOn: "2026-12-01", EndsOn: "2027-11-30"},
		insuranceapi.SubsidyApplied{PolicyID: "p1", ProgrammeID: "sp1", Amount: m("6000.00")},
		insuranceapi.PremiumPaid{PolicyID: "p1", Amount: m("6000.00")},
		insuranceapi.ClaimFiled{PolicyID: "p1", ClaimID: "cl1", Amount: m("300000.00")},
		insuranceapi.ClaimAssessed{PolicyID: "p1", ClaimID: "cl1", Amount: m("250000.00")},
		insuranceapi.ClaimSettled{PolicyID: "p1", ClaimID: "cl1", Amount: m("250000.00")},
		insuranceapi.ClaimDenied{PolicyID: "p1", ClaimID: "cl2"},
		insuranceapi.ClaimDenied{PolicyID: "p1", ClaimID: "cl3", Reason: "excluded"},
		insuranceapi.PolicyExpired{PolicyID: "p1"},
		insuranceapi.PolicyCancelled{PolicyID: "p1", RefundToCompany: m("0.00")},
		insuranceapi.PolicyCancelled{PolicyID: "p1", RefundToCompany: m("0.00"), Reason: "sold the patent"},
	}
	return out
}

// TestEveryEntrySaysItsSentenceByCode: every entry kind has a summary
// code, every code is said by some entry, each with as many params as its
// English names, and the summary is that English written from the code and
// params, so a page writing the code in Chinese says what the summary
// says. The timeline survives a snapshot with the same sentences.
func TestEveryEntrySaysItsSentenceByCode(t *testing.T) {
	p := New()
	for i, pl := range everyKind() {
		e := events.Event{Type: pl.EventType(), Position: uint64(i + 1), RecordedAt: time.Unix(int64(i+1), 0)}
		if err := p.Apply(e, pl); err != nil {
			t.Fatalf("%s: %v", pl.EventType(), err)
		}
	}
	_, entries, ok := p.Timeline("c1", time.Time{})
	if !ok {
		t.Fatal("no timeline")
	}
	kinds, codes := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		kinds[e.Type], codes[e.SummaryCode] = true, true
		format, known := sentences[e.SummaryCode]
		if !known {
			t.Errorf("%s: code %q has no sentence", e.Type, e.SummaryCode)
			continue
		}
		if n := strings.Count(format, "%s"); n != len(e.SummaryParams) {
			t.Errorf("%s: %d params, the English names %d", e.SummaryCode, len(e.SummaryParams), n)
		}
		if got := English(e.SummaryCode, e.SummaryParams); e.Summary == "" || got != e.Summary {
			t.Errorf("%s: summary %q, its code and params say %q", e.SummaryCode, e.Summary, got)
		}
		for _, prm := range e.SummaryParams {
			if prm.Kind == "" || prm.Values == nil {
				t.Errorf("%s: param %+v", e.SummaryCode, prm)
			}
		}
	}
	for _, k := range p.kinds {
		if !kinds[k.typ] {
			t.Errorf("no entry of %s in the fixture", k.typ)
		}
	}
	for _, code := range Codes() {
		if !codes[code] {
			t.Errorf("code %s is said by no entry of the fixture", code)
		}
	}

	// Sentences whose pieces the fold stored apart read as they always did.
	want := map[string]string{
		"company.registered":             "Registered Deep AI (technology/nlp, beijing) at the seed stage",
		"company.patent_added":           "Added invention patent CN202310123456.6: Speech \x1f parsing",
		"application.matched":            "Matched to 2 fund(s): Sky Fund, fund f2",
		"deal.passed":                    "Sky Fund passed at screening: no fit",
		"loan.period_overdue":            "Period 2 overdue, 3 days past due: ¥60k unpaid",
		"insurance.declined":             "Insurer i2 declined to quote",
		"insurance.declined_with_reason": "Ping An Property declined to quote: too risky",
		"policy.subsidy_applied":         "A premium subsidy of ¥6k from Haidian IP subsidy",
		"claim.denied_with_reason":       "Claim cl3 denied: excluded",
		"policy.cancelled_with_reason":   "The policy was cancelled, ¥0 refunded: sold the patent",
	}
	for _, e := range entries {
		if w, ok := want[e.SummaryCode]; ok && e.Summary != w {
			t.Errorf("%s: %q, want %q", e.SummaryCode, e.Summary, w)
		}
	}
	data, err := p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	q := New()
	if err := q.UnmarshalState(data); err != nil {
		t.Fatal(err)
	}
	_, again, _ := q.Timeline("c1", time.Time{})
	before, _ := json.Marshal(entries)
	after, _ := json.Marshal(again)
	if string(before) != string(after) {
		t.Errorf("after a snapshot the timeline reads\n%s\nwas\n%s", after, before)
	}
}

// An entry in JSON: the English summary and, beside it, its code and
// the values it names by kind.
func TestAnEntrysSummaryCodeInJSON(t *testing.T) {
	p := New()
	for i, pl := range everyKind()[:7] {
		if err := p.Apply(events.Event{Type: pl.EventType(), Position: uint64(i + 1), RecordedAt: time.Unix(int64(i+1), 0)}, pl); err != nil {
			t.Fatal(err)
		}
	}
	_, entries, _ := p.Timeline("c1", time.Time{})
	data, _ := json.Marshal(entries[len(entries)-1])
	for _, want := range []string{`"summary":"Drafted an application for ¥2m: equity"`, `"summary_code":"application.drafted"`,
		`"summary_params":[{"kind":"amount","values":["2000000.00"]},{"kind":"instrument","values":["equity"]}]`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", data, want)
		}
	}
}
