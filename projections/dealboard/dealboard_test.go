package dealboard_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/dealboard"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

func TestBoard(t *testing.T) {
	p := dealboard.New()
	pos := uint64(0)
	apply := func(payload events.Payload) error {
		pos++
		return p.Apply(events.Event{Type: payload.EventType(), Position: pos, RecordedAt: time.Unix(int64(pos), 0),
			Actor: fundbridge.Actor{UserID: "u", Role: fundbridge.RoleFundManager, OrgID: "o1"}, LastInCommit: true}, payload)
	}
	must := func(payload events.Payload) {
		t.Helper()
		if err := apply(payload); err != nil {
			t.Fatalf("%s: %v", payload.EventType(), err)
		}
	}
	must(fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "o1", Name: "One", Type: fundsapi.FundVC, CommittedCapital: money.MustParse("50000000.00")})
	must(applicationsapi.CompanyRegistered{CompanyID: "c1", CompanyProfile: applicationsapi.CompanyProfile{Name: "深度视觉"}})
	slice := applicationsapi.Slice{CompanyID: "c1", Stage: fundbridge.StageSeed}
	for i := range 4 {
		must(matchingapi.DealSourced{DealID: fmt.Sprint("d", i), FundID: "f1", ApplicationID: fmt.Sprint("a", i), Score: 70, Slice: slice})
	}
	must(matchingapi.DealAdvanced{DealID: "d0", From: matchingapi.StepSourced, To: matchingapi.StepScreening})
	must(matchingapi.DealPassed{DealID: "d1", Step: matchingapi.StepSourced, Reason: "no"})
	pipeline := matchingapi.Pipeline()
	for i := 0; pipeline[i] != matchingapi.StepICReview; i++ {
		must(matchingapi.DealAdvanced{DealID: "d2", From: pipeline[i], To: pipeline[i+1]})
	}
	must(matchingapi.TermSheetIssued{DealID: "d2", Amount: money.MustParse("5000000.00"), PreMoney: money.MustParse("20000000.00"), PostMoney: money.MustParse("25000000.00"), Ownership: decimal.RequireFromString("0.2")})
	must(matchingapi.TermSheetDeclined{DealID: "d2", Reason: "too low"})
	must(matchingapi.TermSheetIssued{DealID: "d2", Amount: money.MustParse("5000000.00"), PreMoney: money.MustParse("30000000.00"), PostMoney: money.MustParse("35000000.00"), Ownership: decimal.RequireFromString("0.1428571429")})
	must(matchingapi.TermSheetAccepted{DealID: "d2"})
	must(matchingapi.DealClosed{DealID: "d2", FundID: "f1", Amount: money.MustParse("5000000.00")})
	for i := 0; pipeline[i] != matchingapi.StepDueDiligence; i++ {
		must(matchingapi.DealAdvanced{DealID: "d3", From: pipeline[i], To: pipeline[i+1]})
	}
	must(fundsapi.MandateSet{FundID: "f1", Mandate: fundsapi.Mandate{TicketMin: money.MustParse("1000000.00"), TicketMax: money.MustParse("9000000.00")}})
	must(fundsapi.CapitalCommitted{FundID: "f1", DealID: "d2", Amount: money.MustParse("5000000.00")})

	b, ok := p.Board("f1")
	if !ok {
		t.Fatal("no board")
	}
	steps := map[matchingapi.Step]int{}
	for _, s := range b.Items {
		steps[s.Step] = s.Deals
	}
	if steps[matchingapi.StepSourced] != 0 || steps[matchingapi.StepScreening] != 1 || steps[matchingapi.StepDueDiligence] != 1 ||
		steps[matchingapi.StepPassed] != 1 || steps[matchingapi.StepClosed] != 1 || b.OpenDeals != 2 {
		t.Errorf("steps %v, open %d", steps, b.OpenDeals)
	}
	if b.DryPowder.String() != "45000000.00" || b.ClosedDeals.String() != "5000000.00" || b.ManagerOrg != "o1" {
		t.Errorf("board %+v", b)
	}
	if len(b.Recent) != dealboard.RecentSize || b.Recent[0].Type != (fundsapi.CapitalCommitted{}).EventType() || b.Recent[0].Amount == nil ||
		b.Recent[dealboard.RecentSize-1].Type == (fundsapi.FundRegistered{}).EventType() {
		t.Errorf("%d recent, newest %+v", len(b.Recent), b.Recent[0])
	}
	// The board names the company as registered, and again as renamed.
	for _, r := range b.Recent {
		if r.CompanyID == "c1" && (r.CompanyName != "深度视觉" || strings.Contains(r.Summary, "c1")) {
			t.Errorf("an activity shows the company's ID, not its name: %+v", r)
		}
	}
	must(applicationsapi.CompanyProfileUpdated{CompanyID: "c1", CompanyProfile: applicationsapi.CompanyProfile{Name: "深度视觉科技"}})
	renamed, _ := p.Board("f1")
	for _, r := range renamed.Recent {
		if r.CompanyID == "c1" && !strings.Contains(r.Summary, "深度视觉科技") {
			t.Errorf("after a rename: %q", r.Summary)
		}
	}
	if org, ok := p.Manager("f1"); !ok || org != "o1" {
		t.Errorf("manager %q %v", org, ok)
	}

	for name, bad := range map[string]events.Payload{
		"wrong from":     matchingapi.DealAdvanced{DealID: "d3", From: matchingapi.StepScreening, To: matchingapi.StepFirstMeeting},
		"advanced 2":     matchingapi.DealAdvanced{DealID: "d0", From: matchingapi.StepSourced, To: matchingapi.StepScreening},
		"unknown deal":   matchingapi.TermSheetAccepted{DealID: "nope"},
		"passed closed":  matchingapi.DealPassed{DealID: "d2", Step: matchingapi.StepClosed},
		"unknown step":   matchingapi.DealAdvanced{DealID: "d3", From: matchingapi.StepDueDiligence, To: "lunch"},
		"unknown fund":   fundsapi.MandateSet{FundID: "nope"},
		"sourced twice":  matchingapi.DealSourced{DealID: "d3", FundID: "f1"},
		"negative money": fundsapi.CapitalCommitted{FundID: "f1", Amount: money.FromDecimal(decimal.NewFromInt(-1))},
	} {
		if err := apply(bad); err == nil {
			t.Errorf("%s: applied", name)
		}
	}
}
