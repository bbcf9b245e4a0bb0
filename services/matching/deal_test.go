package matching

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

const testDeal = "f1_a1"

func testSlice() applicationsapi.Slice {
	return applicationsapi.Slice{CompanyID: "c1", Stage: fundbridge.StageGrowth, Layer: fundbridge.LayerTechnology, Sector: "computer_vision", City: "beijing"}
}

// given folds events into a deal the way the repository does.
func given(ps ...events.Payload) matchingapi.Deal {
	d := matchingapi.Deal{}
	for i, p := range ps {
		d = evolveDeal(d, events.Event{Type: p.EventType(), StreamID: "deal-" + testDeal, Version: uint64(i + 1), Position: uint64(10 + i), RecordedAt: time.Unix(int64(i), 0)}, p)
	}
	return d
}

func sourced() events.Payload {
	return matchingapi.DealSourced{DealID: testDeal, FundID: "f1", ApplicationID: "a1", Score: 90, Slice: testSlice()}
}

func advanced(from, to matchingapi.Step) events.Payload {
	return matchingapi.DealAdvanced{DealID: testDeal, From: from, To: to}
}

// atICReview is the history of a deal screened up to the committee.
func atICReview() []events.Payload {
	return []events.Payload{sourced(),
		advanced(matchingapi.StepSourced, matchingapi.StepScreening), advanced(matchingapi.StepScreening, matchingapi.StepFirstMeeting),
		advanced(matchingapi.StepFirstMeeting, matchingapi.StepDueDiligence), advanced(matchingapi.StepDueDiligence, matchingapi.StepICReview)}
}

// issued: ¥10m at ¥50m pre-money, 16.67%.
func issued() events.Payload {
	return matchingapi.TermSheetIssued{DealID: testDeal, Amount: yuanM(10), PreMoney: yuanM(50), PostMoney: yuanM(60), Ownership: decimal.RequireFromString("0.1666666667")}
}

func atTermSheet() []events.Payload { return append(atICReview(), issued()) }
func accepted() []events.Payload {
	return append(atTermSheet(), matchingapi.TermSheetAccepted{DealID: testDeal})
}
func passedAt(s matchingapi.Step) events.Payload {
	return matchingapi.DealPassed{DealID: testDeal, Step: s, Reason: "team too thin"}
}
func closedDeal() []events.Payload                                  { return append(accepted(), closing()) }
func plus(h []events.Payload, p ...events.Payload) []events.Payload { return append(h, p...) }

func closing() events.Payload {
	return matchingapi.DealClosed{DealID: testDeal, FundID: "f1", ApplicationID: "a1", CompanyID: "c1", Amount: yuanM(10), Ownership: decimal.RequireFromString("0.1666666667")}
}

// wire shows events as they are recorded: type and JSON payload.
func wire(ps []events.Payload) string {
	var b strings.Builder
	for _, p := range ps {
		data, err := json.Marshal(p)
		if err != nil {
			panic(err)
		}
		b.WriteString(p.EventType() + " " + string(data) + "\n")
	}
	return b.String()
}

// then checks a decision: the events, or an error of the code whose
// message holds msg.
func then(t *testing.T, got []events.Payload, err error, want []events.Payload, code, msg string) {
	t.Helper()
	if code != "" {
		if fundbridge.ErrorCode(err) != code || !strings.Contains(fundbridge.ErrorMessage(err), msg) {
			t.Fatalf("error = %v, want %s containing %q", err, code, msg)
		}
		if got != nil {
			t.Fatalf("refused but decided %v", got)
		}
		return
	}
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if g, w := wire(got), wire(want); g != w {
		t.Fatalf("decided %s\nwant    %s", g, w)
	}
}

func testFund(mods ...func(*FundInfo)) FundInfo {
	m := testMandate()
	f := FundInfo{ID: "f1", ManagerOrg: "org-1", Name: "Fund One", Open: true, CommittedCapital: yuanM(1000), DryPowder: yuanM(1000), Mandate: &m}
	for _, mod := range mods {
		mod(&f)
	}
	return f
}

func TestDecideSource(t *testing.T) {
	app := matchingapi.Application{ID: "a1", CompanyName: "Company 1", Amount: yuanM(30), Slice: testSlice()}
	match := Sourcing{FundID: "f1", Application: app, Evaluation: Evaluation{Matches: true, Score: 90}}
	t.Run("from a current match", func(t *testing.T) {
		got, err := decideSource(given(), match)
		then(t, got, err, []events.Payload{sourced()}, "", "")
	})
	t.Run("twice", func(t *testing.T) {
		got, err := decideSource(given(sourced()), match)
		then(t, got, err, nil, fundbridge.ECONFLICT, "deal f1_a1 is already sourced; it is at sourced")
	})
	t.Run("after a pass", func(t *testing.T) {
		got, err := decideSource(given(sourced(), passedAt(matchingapi.StepSourced)), match)
		then(t, got, err, nil, fundbridge.ECONFLICT, "already sourced")
	})
	t.Run("not a match", func(t *testing.T) {
		no := match
		no.Evaluation = Evaluation{Against: []string{"stage seed is not in mandate (growth)", "ticket ¥30m above fund maximum ¥20m"}}
		got, err := decideSource(given(), no)
		then(t, got, err, nil, fundbridge.EUNPROCESSABLE, "application a1 does not match fund f1: stage seed is not in mandate (growth); ticket ¥30m above fund maximum ¥20m")
	})
}

func TestDecideAdvance(t *testing.T) {
	for _, tc := range []struct {
		name      string
		given     []events.Payload
		to        matchingapi.Step
		code, msg string
	}{
		{"sourced to screening", []events.Payload{sourced()}, matchingapi.StepScreening, "", ""},
		{"screening to first meeting", atICReview()[:2], matchingapi.StepFirstMeeting, "", ""},
		{"first meeting to due diligence", atICReview()[:3], matchingapi.StepDueDiligence, "", ""},
		{"due diligence to ic review", atICReview()[:4], matchingapi.StepICReview, "", ""},
		{"skipping a step", []events.Payload{sourced()}, matchingapi.StepFirstMeeting, fundbridge.ECONFLICT, "cannot move from sourced to first_meeting"},
		{"back", atICReview()[:3], matchingapi.StepScreening, fundbridge.ECONFLICT, "cannot move from first_meeting to screening"},
		{"standing still", atICReview()[:2], matchingapi.StepScreening, fundbridge.ECONFLICT, "cannot move from screening to screening"},
		{"to passed", []events.Payload{sourced()}, matchingapi.StepPassed, fundbridge.ECONFLICT, "cannot move from sourced to passed"},
		{"to term sheet without one", atICReview(), matchingapi.StepTermSheet, fundbridge.ECONFLICT, "cannot move from ic_review to term_sheet: issue a term sheet"},
		{"to closed without closing", accepted(), matchingapi.StepClosed, fundbridge.ECONFLICT, "cannot move from term_sheet to closed: close the deal"},
		{"passed deal", []events.Payload{sourced(), passedAt(matchingapi.StepSourced)}, matchingapi.StepScreening, fundbridge.ECONFLICT, "deal f1_a1 was passed at sourced"},
		{"closed deal", closedDeal(), matchingapi.StepScreening, fundbridge.ECONFLICT, "deal f1_a1 is closed"},
		{"no deal", nil, matchingapi.StepScreening, fundbridge.ENOTFOUND, "no deal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := given(tc.given...)
			got, err := decideAdvance(d, matchingapi.AdvanceDeal{DealID: testDeal, To: tc.to})
			var want []events.Payload
			if tc.code == "" {
				want = []events.Payload{matchingapi.DealAdvanced{DealID: testDeal, From: d.Step, To: tc.to}}
			}
			then(t, got, err, want, tc.code, tc.msg)
		})
	}
}

func TestDecidePass(t *testing.T) {
	for _, tc := range []struct {
		name      string
		given     []events.Payload
		step      matchingapi.Step
		code, msg string
	}{
		{"at sourced", []events.Payload{sourced()}, matchingapi.StepSourced, "", ""},
		{"at due diligence", atICReview()[:4], matchingapi.StepDueDiligence, "", ""},
		{"with a term sheet out", atTermSheet(), matchingapi.StepTermSheet, "", ""},
		{"after acceptance", accepted(), matchingapi.StepTermSheet, "", ""},
		{"passed", []events.Payload{sourced(), passedAt(matchingapi.StepSourced)}, "", fundbridge.ECONFLICT, "was passed at sourced"},
		{"closed", closedDeal(), "", fundbridge.ECONFLICT, "is closed"},
		{"no deal", nil, "", fundbridge.ENOTFOUND, "no deal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decidePass(given(tc.given...), matchingapi.PassDeal{DealID: testDeal, Reason: "team too thin"})
			then(t, got, err, []events.Payload{passedAt(tc.step)}, tc.code, tc.msg)
		})
	}
	if err := (matchingapi.PassDeal{DealID: testDeal, Reason: "  "}).Validate(); fundbridge.ErrorCode(err) != fundbridge.EINVALID || fundbridge.ErrorFields(err)[0].Field != "reason" {
		t.Errorf("a pass without a reason: %v", err)
	}
}

func TestDecideIssueTermSheet(t *testing.T) {
	cmd := matchingapi.IssueTermSheet{DealID: testDeal, Amount: yuanM(10), PreMoney: yuanM(50)}
	t.Run("at ic review", func(t *testing.T) {
		got, err := decideIssueTermSheet(given(atICReview()...), testFund(), cmd)
		then(t, got, err, []events.Payload{issued()}, "", "")
		d := given(plus(atICReview(), got...)...)
		if d.Step != matchingapi.StepTermSheet || d.TermSheet.Percent != "16.67%" || d.TermSheet.PostMoney.String() != "60000000.00" || d.TermSheet.Ownership.String() != "0.1666666667" {
			t.Errorf("deal after = %+v %+v", d, d.TermSheet)
		}
	})
	t.Run("again after a decline", func(t *testing.T) {
		h := plus(atTermSheet(), matchingapi.TermSheetDeclined{DealID: testDeal, Reason: "valuation too low"})
		got, err := decideIssueTermSheet(given(h...), testFund(), matchingapi.IssueTermSheet{DealID: testDeal, Amount: yuanM(10), PreMoney: yuanM(70)})
		then(t, got, err, []events.Payload{matchingapi.TermSheetIssued{DealID: testDeal, Amount: yuanM(10), PreMoney: yuanM(70), PostMoney: yuanM(80), Ownership: decimal.RequireFromString("0.125")}}, "", "")
	})
	for _, tc := range []struct {
		name      string
		given     []events.Payload
		fund      FundInfo
		cmd       matchingapi.IssueTermSheet
		code, msg string
	}{
		{"before ic review", atICReview()[:4], testFund(), cmd, fundbridge.ECONFLICT, "cannot issue a term sheet at due_diligence; the deal must be at ic_review"},
		{"one already out", atTermSheet(), testFund(), cmd, fundbridge.ECONFLICT, "cannot issue a term sheet at term_sheet"},
		{"passed", plus(atICReview(), passedAt(matchingapi.StepICReview)), testFund(), cmd, fundbridge.ECONFLICT, "was passed at ic_review"},
		{"closed", closedDeal(), testFund(), cmd, fundbridge.ECONFLICT, "is closed"},
		{"no deal", nil, testFund(), cmd, fundbridge.ENOTFOUND, "no deal"},
		{"ownership above the mandate", atICReview(), testFund(func(f *FundInfo) { f.Mandate.MaxOwnership = decimal.RequireFromString("0.15") }), cmd,
			fundbridge.EUNPROCESSABLE, "ownership 16.67% (¥10m of ¥60m post-money) above fund maximum 15.00%"},
		{"above the ticket range", atICReview(), testFund(), matchingapi.IssueTermSheet{DealID: testDeal, Amount: yuanM(60), PreMoney: yuanM(600)},
			fundbridge.EUNPROCESSABLE, "term sheet ¥60m above fund maximum ¥50m"},
		{"below the ticket range", atICReview(), testFund(), matchingapi.IssueTermSheet{DealID: testDeal, Amount: yuanM(5), PreMoney: yuanM(50)},
			fundbridge.EUNPROCESSABLE, "term sheet ¥5m below fund minimum ¥10m"},
		{"beyond dry powder", atICReview(), testFund(func(f *FundInfo) { f.DryPowder = yuanM(8) }), cmd,
			fundbridge.EUNPROCESSABLE, "term sheet ¥10m above the fund's dry powder ¥8m"},
		{"fund closed", atICReview(), testFund(func(f *FundInfo) { f.Open = false }), cmd, fundbridge.ECONFLICT, "fund f1 is closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decideIssueTermSheet(given(tc.given...), tc.fund, tc.cmd)
			then(t, got, err, nil, tc.code, tc.msg)
		})
	}
	for _, tc := range []struct {
		name  string
		cmd   matchingapi.IssueTermSheet
		field string
	}{
		{"zero amount", matchingapi.IssueTermSheet{DealID: testDeal, PreMoney: yuanM(50)}, "amount"},
		{"zero pre-money", matchingapi.IssueTermSheet{DealID: testDeal, Amount: yuanM(10)}, "pre_money"},
	} {
		if err := tc.cmd.Validate(); fundbridge.ErrorCode(err) != fundbridge.EINVALID || fundbridge.ErrorFields(err)[0].Field != tc.field {
			t.Errorf("%s: %v, want EINVALID on %s", tc.name, err, tc.field)
		}
	}
}

func TestDecideAcceptTermSheet(t *testing.T) {
	got, err := decideAcceptTermSheet(given(atTermSheet()...))
	then(t, got, err, []events.Payload{matchingapi.TermSheetAccepted{DealID: testDeal}}, "", "")
	if d := given(accepted()...); d.Step != matchingapi.StepTermSheet || !d.TermSheet.Accepted {
		t.Errorf("accepted deal = %+v", d)
	}
	for _, tc := range []struct {
		name      string
		given     []events.Payload
		code, msg string
	}{
		{"twice", accepted(), fundbridge.ECONFLICT, "already accepted"},
		{"none out", atICReview(), fundbridge.ECONFLICT, "has no term sheet out; it is at ic_review"},
		{"declined", plus(atTermSheet(), matchingapi.TermSheetDeclined{DealID: testDeal, Reason: "no"}), fundbridge.ECONFLICT, "has no term sheet out"},
		{"passed", plus(atTermSheet(), passedAt(matchingapi.StepTermSheet)), fundbridge.ECONFLICT, "was passed"},
		{"closed", closedDeal(), fundbridge.ECONFLICT, "is closed"},
		{"no deal", nil, fundbridge.ENOTFOUND, "no deal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decideAcceptTermSheet(given(tc.given...))
			then(t, got, err, nil, tc.code, tc.msg)
		})
	}
}

func TestDecideDeclineTermSheet(t *testing.T) {
	cmd := matchingapi.DeclineTermSheet{DealID: testDeal, Reason: "valuation too low"}
	got, err := decideDeclineTermSheet(given(atTermSheet()...), cmd)
	then(t, got, err, []events.Payload{matchingapi.TermSheetDeclined{DealID: testDeal, Reason: "valuation too low"}}, "", "")
	if d := given(plus(atTermSheet(), got...)...); d.Step != matchingapi.StepICReview || d.TermSheet != nil || d.DeclineNote != "valuation too low" {
		t.Errorf("declined deal = %+v: back at ic_review with the reason", d)
	}
	for _, tc := range []struct {
		name      string
		given     []events.Payload
		code, msg string
	}{
		{"after acceptance", accepted(), fundbridge.ECONFLICT, "already accepted"},
		{"none out", atICReview(), fundbridge.ECONFLICT, "has no term sheet out"},
		{"closed", closedDeal(), fundbridge.ECONFLICT, "is closed"},
		{"no deal", nil, fundbridge.ENOTFOUND, "no deal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decideDeclineTermSheet(given(tc.given...), cmd)
			then(t, got, err, nil, tc.code, tc.msg)
		})
	}
	if err := (matchingapi.DeclineTermSheet{DealID: testDeal}).Validate(); fundbridge.ErrorCode(err) != fundbridge.EINVALID {
		t.Errorf("a decline without a reason: %v", err)
	}
}

func closingStarted(process string) events.Payload {
	return matchingapi.DealClosingStarted{DealID: testDeal, Process: process, FundID: "f1", ApplicationID: "a1", CompanyID: "c1",
		Amount: yuanM(10), Ownership: decimal.RequireFromString("0.1666666667")}
}

func TestDecideStartClosing(t *testing.T) {
	got, err := decideStartClosing(given(accepted()...), "p1")
	then(t, got, err, []events.Payload{closingStarted("p1")}, "", "")
	for _, tc := range []struct {
		name      string
		given     []events.Payload
		code, msg string
	}{
		{"not accepted", atTermSheet(), fundbridge.ECONFLICT, "has not accepted the term sheet"},
		{"no term sheet", atICReview(), fundbridge.ECONFLICT, "cannot close deal f1_a1 at ic_review"},
		{"passed", plus(accepted(), passedAt(matchingapi.StepTermSheet)), fundbridge.ECONFLICT, "was passed"},
		{"closed", closedDeal(), fundbridge.ECONFLICT, "is closed"},
		{"closing", plus(accepted(), closingStarted("p1")), fundbridge.ECONFLICT, "is closing (process p1)"},
		{"no deal", nil, fundbridge.ENOTFOUND, "no deal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decideStartClosing(given(tc.given...), "p2")
			then(t, got, err, nil, tc.code, tc.msg)
		})
	}
	// Once abandoned, the deal may be closed again, by a new process.
	abandoned := plus(accepted(), closingStarted("p1"), matchingapi.DealClosingAbandoned{DealID: testDeal, Process: "p1", Reason: "withdrawn"})
	if d := given(abandoned...); d.ClosingProcess != "" || d.LastClosingFailure != "withdrawn" {
		t.Errorf("abandoned deal = %+v", d)
	}
	got, err = decideStartClosing(given(abandoned...), "p2")
	then(t, got, err, []events.Payload{closingStarted("p2")}, "", "")
}

func TestPassWhileClosing(t *testing.T) {
	got, err := decidePass(given(plus(accepted(), closingStarted("p1"))...), matchingapi.PassDeal{DealID: testDeal, Reason: "cold feet"})
	then(t, got, err, nil, fundbridge.ECONFLICT, "is closing (process p1): it cannot be passed")
}

func TestClosingSteps(t *testing.T) {
	closingP1 := plus(accepted(), closingStarted("p1"))
	p1 := matchingapi.ClosingStep{DealID: testDeal, Process: "p1"}
	p2 := matchingapi.ClosingStep{DealID: testDeal, Process: "p2"}

	got, err := decideHoldClosing(given(closingP1...), p1)
	then(t, got, err, nil, "", "")
	got, err = decideHoldClosing(given(closingP1...), p2)
	then(t, got, err, nil, fundbridge.ECONFLICT, "is not being closed by process p2")
	got, err = decideHoldClosing(given(accepted()...), p1)
	then(t, got, err, nil, fundbridge.ECONFLICT, "is not being closed by process p1")

	got, err = decideCompleteClosing(given(closingP1...), p1)
	then(t, got, err, []events.Payload{closing()}, "", "")
	if d := given(plus(closingP1, closing())...); d.Step != matchingapi.StepClosed || d.ClosingProcess != "" || d.Closed.Percent != "16.67%" || !d.Closed.Amount.Equal(yuanM(10)) {
		t.Errorf("closed deal = %+v", d)
	}
	got, err = decideCompleteClosing(given(closingP1...), p2)
	then(t, got, err, nil, fundbridge.ECONFLICT, "is not being closed by process p2")
	got, err = decideCompleteClosing(given(accepted()...), p1)
	then(t, got, err, nil, fundbridge.ECONFLICT, "is not being closed by process p1")

	got, err = decideAbandonClosing(given(closingP1...), p1, "the fund cannot commit")
	then(t, got, err, []events.Payload{matchingapi.DealClosingAbandoned{DealID: testDeal, Process: "p1", Reason: "the fund cannot commit"}}, "", "")
	got, err = decideAbandonClosing(given(closingP1...), p2, "late")
	then(t, got, err, nil, "", "") // another process's abandon changes nothing
	got, err = decideAbandonClosing(given(accepted()...), p1, "late")
	then(t, got, err, nil, "", "")
}

func TestEvolveDoesNotShareTermSheets(t *testing.T) {
	before := given(atTermSheet()...)
	after := evolveDeal(before, events.Event{Version: 7}, matchingapi.TermSheetAccepted{DealID: testDeal})
	if before.TermSheet.Accepted || !after.TermSheet.Accepted {
		t.Fatalf("accepting changed the earlier state: before %+v, after %+v", before.TermSheet, after.TermSheet)
	}
}

func TestAdvanceValidation(t *testing.T) {
	if err := (matchingapi.AdvanceDeal{DealID: testDeal, To: "signed"}).Validate(); fundbridge.ErrorCode(err) != fundbridge.EINVALID || fundbridge.ErrorFields(err)[0].Field != "to" {
		t.Errorf("unknown step: %v", err)
	}
	if err := (matchingapi.AdvanceDeal{To: matchingapi.StepScreening}).Validate(); fundbridge.ErrorCode(err) != fundbridge.EINVALID || fundbridge.ErrorFields(err)[0].Field != "deal_id" {
		t.Errorf("no deal: %v", err)
	}
}
