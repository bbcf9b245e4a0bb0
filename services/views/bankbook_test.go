package views_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

// appendTo writes payloads to a stream as one commit and returns its position.
func (f *fixture) appendTo(t *testing.T, stream string, a fundbridge.Actor, payloads ...events.Payload) uint64 {
	t.Helper()
	var evs []events.NewEvent
	for _, p := range payloads {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, events.NewEvent{Type: p.EventType(), Payload: data})
	}
	res, err := f.env.Store.Append(context.Background(), events.AppendRequest{StreamID: stream, Expected: events.Any, Events: evs, Meta: events.Meta{Actor: a}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

func TestBankBook(t *testing.T) {
	f := setUp(t)
	m := money.MustParse
	operator := actor("u-op", fundbridge.RoleOperator, "")
	lead := actor("u-b1", fundbridge.RoleBank, "b1")
	other := actor("u-b2", fundbridge.RoleBank, "b2")
	f.appendTo(t, "bank-b1", operator, dealsapi.BankOnboarded{BankID: "b1", Name: "First", CreditLimit: m("1000000.00"), SingleBorrowerLimit: m("500000.00")})
	f.appendTo(t, "bank-b2", operator, dealsapi.BankOnboarded{BankID: "b2", Name: "Second", CreditLimit: m("1000000.00"), SingleBorrowerLimit: m("500000.00")})
	f.appendTo(t, "loan_deal-d1", lead,
		dealsapi.DealProposed{DealID: "d1", BorrowerID: "c1", LeadBankID: "b1", Loan: dealsapi.LoanTerms{Principal: m("400000.00")}},
		dealsapi.BankInvited{DealID: "d1", BankID: "b1"})
	f.appendTo(t, "bank-b1", lead, dealsapi.ExposureReserved{BankID: "b1", DealID: "d1", BorrowerID: "c1", Amount: m("400000.00")})
	pos := f.appendTo(t, "loan_deal-d1", lead, dealsapi.BankCommitted{DealID: "d1", BankID: "b1", Amount: m("400000.00")})

	// Read your writes: the commitment shows at once.
	var book viewsapi.BankBookResult
	if err := f.call(t, lead, "bank_book", map[string]any{"after": pos}, &book); err != nil {
		t.Fatal(err)
	}
	if book.BankID != "b1" || book.Exposure.String() != "400000.00" || book.CreditHeadroom.String() != "600000.00" || book.CreditUsed != "0.4000" ||
		book.OpenCommitments != 1 || book.Committed.String() != "400000.00" || len(book.Items) != 1 || book.Position < pos ||
		len(book.Borrowers) != 1 || book.Borrowers[0].Headroom.String() != "100000.00" || len(book.Arrears) != 4 {
		t.Errorf("b1's book: %+v", book)
	}
	if book.On != time.Now().UTC().Add(8*time.Hour).Format(time.DateOnly) {
		t.Errorf("counted on %s, want today's China date", book.On)
	}

	// A loan in repayment with a period overdue.
	dueDay := func(n int) time.Time {
		y, mo, d := time.Now().UTC().Add(8 * time.Hour).Date()
		return time.Date(y, mo, d+n, 0, 0, 0, 0, time.UTC)
	}
	f.appendTo(t, "loan_deal-d1", lead,
		dealsapi.BookClosed{DealID: "d1", Allocations: []dealsapi.Allocation{{BankID: "b1", Committed: m("400000.00"), Allocated: m("400000.00")}}},
		dealsapi.DealClosed{DealID: "d1"})
	pos = f.appendTo(t, "loan-d1", lead,
		dealsapi.LoanOpened{LoanID: "d1", BorrowerID: "c1", LeadBankID: "b1", Banks: []dealsapi.LoanBank{{BankID: "b1"}}},
		dealsapi.LoanDrawnDown{LoanID: "d1", Amount: m("400000.00"), Banks: []dealsapi.BankAmount{{BankID: "b1", Amount: m("400000.00")}}},
		dealsapi.ScheduleFixed{LoanID: "d1", Principal: m("400000.00"), Periods: []dealsapi.ScheduledPeriod{
			{Number: 1, Due: dueDay(-65), Principal: m("100000.00"), Interest: m("1000.00")},
			{Number: 2, Due: dueDay(5), Principal: m("300000.00"), Interest: m("750.00")}}})
	if err := f.call(t, operator, "bank_book", map[string]any{"bank_id": "b1", "after": pos}, &book); err != nil {
		t.Fatal(err)
	}
	if book.Disbursed.String() != "400000.00" || book.Outstanding.String() != "400000.00" || book.DueNext30Days.String() != "300750.00" ||
		book.Arrears[2].Loans != 1 || book.Arrears[2].Amount.String() != "101000.00" || book.Items[0].DaysPastDue != 65 || book.Items[0].Bucket != "61-90" {
		t.Errorf("b1's book as the operator sees it: %+v", book)
	}

	// Who sees what.
	if err := f.call(t, other, "bank_book", map[string]any{"bank_id": "b1", "after": pos}, nil); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("another bank's book: %v, want not found", err)
	}
	if err := f.call(t, operator, "bank_book", map[string]any{"bank_id": "b9"}, nil); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("an unknown bank: %v, want not found", err)
	}
	for _, a := range []fundbridge.Actor{actor("u-c1", fundbridge.RoleStartup, "c1"), actor("u-m", fundbridge.RoleFundManager, "m1"), actor("u-i", fundbridge.RoleInsurer, "i1")} {
		if err := f.call(t, a, "bank_book", map[string]any{"bank_id": "b1"}, nil); fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
			t.Errorf("bank book as %s: %v, want forbidden", a.Role, err)
		}
	}
	if err := f.call(t, operator, "bank_book", map[string]any{}, nil); fundbridge.ErrorCode(err) != fundbridge.EINVALID {
		t.Errorf("an operator without a bank: %v, want invalid", err)
	}

	// A rebuild folds the same book.
	before, _ := json.Marshal(book)
	if err := f.svc.Rebuild(context.Background(), "bank_book", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.call(t, operator, "bank_book", map[string]any{"bank_id": "b1", "after": pos}, &book); err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(book); string(after) != string(before) {
		t.Errorf("after a rebuild:\n%s\nwant\n%s", after, before)
	}
}
