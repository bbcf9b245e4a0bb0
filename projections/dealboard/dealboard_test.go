package dealboard_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/dealboard"
	"github.com/fundbridge/fundbridge/services/applications"
	"github.com/fundbridge/fundbridge/services/funds"
	"github.com/fundbridge/fundbridge/services/matching"
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
	must(funds.FundRegistered{FundID: "f1", ManagerOrg: "o1", Name: "One", Type: funds.FundVC, CommittedCapital: money.MustParse("50000000.00")})
	slice := applications.Slice{CompanyID: "c1", Stage: fundbridge.StageSeed}
	for i := range 4 {
		must(matching.DealSourced{DealID: fmt.Sprint("d", i), FundID: "f1", ApplicationID: fmt.Sprint("a", i), Score: 70, Slice: slice})
	}
	must(matching.DealAdvanced{DealID: "d0", From: matching.StepSourced, To: matching.StepScreening})
	must(matching.DealPassed{DealID: "d1", Step: matching.StepSourced, Reason: "no"})
	pipeline := matching.Pipeline()
	for i := 0; pipeline[i] != matching.StepICReview; i++ {
		must(matching.DealAdvanced{DealID: "d2", From: pipeline[i], To: pipeline[i+1]})
	}
	must(matching.TermSheetIssued{DealID: "d2", Amount: money.MustParse("5000000.00"), PreMoney: money.MustParse("20000000.00"), PostMoney: money.MustParse("25000000.00"), Ownership: decimal.RequireFromString("0.2")})
	must(matching.TermSheetDeclined{DealID: "d2", Reason: "too low"})
	must(matching.TermSheetIssued{DealID: "d2", Amount: money.MustParse("5000000.00"), PreMoney: money.MustParse("30000000.00"), PostMoney: money.MustParse("35000000.00"), Ownership: decimal.RequireFromString("0.1428571429")})
	must(matching.TermSheetAccepted{DealID: "d2"})
	must(matching.DealClosed{DealID: "d2", FundID: "f1", Amount: money.MustParse("5000000.00")})
	for i := 0; pipeline[i] != matching.StepDueDiligence; i++ {
		must(matching.DealAdvanced{DealID: "d3", From: pipeline[i], To: pipeline[i+1]})
	}
	must(funds.MandateSet{FundID: "f1", Mandate: funds.Mandate{TicketMin: money.MustParse("1000000.00"), TicketMax: money.MustParse("9000000.00")}})
	must(funds.CapitalCommitted{FundID: "f1", DealID: "d2", Amount: money.MustParse("5000000.00")})

	b, ok := p.Board("f1")
	if !ok {
		t.Fatal("no board")
	}
	steps := map[matching.Step]int{}
	for _, s := range b.Items {
		steps[s.Step] = s.Deals
	}
	if steps[matching.StepSourced] != 0 || steps[matching.StepScreening] != 1 || steps[matching.StepDueDiligence] != 1 ||
		steps[matching.StepPassed] != 1 || steps[matching.StepClosed] != 1 || b.OpenDeals != 2 {
		t.Errorf("steps %v, open %d", steps, b.OpenDeals)
	}
	if b.DryPowder.String() != "45000000.00" || b.ClosedDeals.String() != "5000000.00" || b.ManagerOrg != "o1" {
		t.Errorf("board %+v", b)
	}
	if len(b.Recent) != dealboard.RecentSize || b.Recent[0].Type != (funds.CapitalCommitted{}).EventType() || b.Recent[0].Amount == nil ||
		b.Recent[dealboard.RecentSize-1].Type == (funds.FundRegistered{}).EventType() {
		t.Errorf("%d recent, newest %+v", len(b.Recent), b.Recent[0])
	}
	if org, ok := p.Manager("f1"); !ok || org != "o1" {
		t.Errorf("manager %q %v", org, ok)
	}

	for name, bad := range map[string]events.Payload{
		"wrong from":     matching.DealAdvanced{DealID: "d3", From: matching.StepScreening, To: matching.StepFirstMeeting},
		"advanced 2":     matching.DealAdvanced{DealID: "d0", From: matching.StepSourced, To: matching.StepScreening},
		"unknown deal":   matching.TermSheetAccepted{DealID: "nope"},
		"passed closed":  matching.DealPassed{DealID: "d2", Step: matching.StepClosed},
		"unknown step":   matching.DealAdvanced{DealID: "d3", From: matching.StepDueDiligence, To: "lunch"},
		"unknown fund":   funds.MandateSet{FundID: "nope"},
		"sourced twice":  matching.DealSourced{DealID: "d3", FundID: "f1"},
		"negative money": funds.CapitalCommitted{FundID: "f1", Amount: money.FromDecimal(decimal.NewFromInt(-1))},
	} {
		if err := apply(bad); err == nil {
			t.Errorf("%s: applied", name)
		}
	}
}
