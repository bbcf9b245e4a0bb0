package dealboard_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/dealboard"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// TestBoardCountsDealsByInstrument: the board counts the fund's screening
// deals (equity) and the loan-plus-equity deals it takes the tranche of,
// each with what closed, what it raised and the conversion.
func TestBoardCountsDealsByInstrument(t *testing.T) {
	p := dealboard.New()
	m := money.MustParse
	pos := uint64(0)
	for _, e := range []events.Payload{
		fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "o1", Name: "One", CommittedCapital: m("50000000.00")},
		matchingapi.DealSourced{DealID: "s1", FundID: "f1", ApplicationID: "a1", Slice: applicationsapi.Slice{CompanyID: "c1"}},
		matchingapi.DealClosed{DealID: "s1", Amount: m("3000000.00")},
		dealsapi.DealProposed{DealID: "l1", BorrowerID: "c2", Equity: dealsapi.EquityTranche{FundID: "f1", Amount: m("2000000.00")}, Loan: dealsapi.LoanTerms{Principal: m("5000000.00")}},
		dealsapi.DealProposed{DealID: "l2", BorrowerID: "c3", Equity: dealsapi.EquityTranche{FundID: "f1", Amount: m("1000000.00")}, Loan: dealsapi.LoanTerms{Principal: m("1000000.00")}},
		dealsapi.DealProposed{DealID: "l3", BorrowerID: "c4", Equity: dealsapi.EquityTranche{FundID: "f1", Amount: m("1000000.00")}, Loan: dealsapi.LoanTerms{Principal: m("1000000.00")}},
		dealsapi.EquityTrancheCommitted{DealID: "l1", FundID: "f1", Amount: m("2000000.00")},
		dealsapi.DealClosed{DealID: "l1"},
		dealsapi.LossAllocated{LoanID: "l1", DealID: "l1", FundID: "f1", Loss: m("1000000.00"), Allocation: dealsapi.LossAllocation{Fund: m("100000.00")}},
		dealsapi.DealExpired{DealID: "l2", EquityReleased: m("0.00")},
	} {
		pos++
		if err := p.Apply(events.Event{Type: e.EventType(), Position: pos, RecordedAt: time.Unix(int64(pos), 0), Actor: fundbridge.Actor{UserID: "u", Role: fundbridge.RoleBank}}, e); err != nil {
			t.Fatalf("%s: %v", e.EventType(), err)
		}
	}
	b, ok := p.Board("f1")
	if !ok || len(b.Instruments) != 2 {
		t.Fatalf("board %+v", b)
	}
	eq, le := b.Instruments[0], b.Instruments[1]
	if eq.Instrument != "equity" || eq.Deals != 1 || eq.Funded != 1 || eq.Raised.String() != "3000000.00" || eq.Conversion != "1.0000" {
		t.Errorf("equity %+v", eq)
	}
	if le.Instrument != "loan_plus_equity" || le.Deals != 3 || le.Funded != 1 || le.Expired != 1 || le.Raised.String() != "2000000.00" ||
		le.Loans.String() != "5000000.00" || le.Conversion != "0.3333" || le.Losses.String() != "100000.00" || !eq.Losses.IsZero() {
		t.Errorf("loan plus equity %+v", le)
	}
	if r := b.Recent[0]; r.DealID != "l2" || r.CompanyID != "c3" || r.Summary != "The loan-plus-equity deal with company c3 expired unclosed; ¥0 of equity released" {
		t.Errorf("newest activity %+v", r)
	}
	if r := b.Recent[1]; r.Summary != "Company c2's loan defaulted: the fund bears ¥100k of the loss" || r.DealID != "l1" {
		t.Errorf("loss activity %+v", r)
	}
	if r := b.Recent[2]; r.Summary != "The loan-plus-equity deal with company c2 closed: ¥2m of equity, ¥5m lent by the banks" || r.Amount == nil {
		t.Errorf("closing activity %+v", r)
	}
	if err := p.Apply(events.Event{Type: dealsapi.DealClosed{}.EventType()}, dealsapi.DealClosed{DealID: "nope"}); err == nil {
		t.Error("a deal never proposed closed on the board")
	}
	// A snapshot restores the same board.
	data, err := p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	q := dealboard.New()
	if err := q.UnmarshalState(data); err != nil {
		t.Fatal(err)
	}
	if again, _ := q.Board("f1"); len(again.Recent) != len(b.Recent) || fmt.Sprint(again.Instruments[1]) != fmt.Sprint(le) {
		t.Errorf("restored board %+v", again)
	}
}
