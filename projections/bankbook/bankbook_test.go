package bankbook_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/bankbook"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

var (
	now   = time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC) // already 1 December in China
	today = bankbook.ChinaDay(now)
)

func amt(s string) money.Amount { return money.MustParse(s) }

// due is a schedule date n China days from today, as the schedule writes
// it (midnight UTC of the date).
func due(n int) time.Time { return time.Unix(int64(today+int32(n))*86400, 0).UTC() }

func given(t *testing.T, p *bankbook.Projection, history ...events.Payload) {
	t.Helper()
	for _, e := range history {
		if err := p.Apply(events.Event{Type: e.EventType(), RecordedAt: now, LastInCommit: true}, e); err != nil {
			t.Fatalf("%s: %v", e.EventType(), err)
		}
	}
}

func book(t *testing.T, p *bankbook.Projection, bank string) bankbook.Book {
	t.Helper()
	b, ok, err := p.Book(bank, today)
	if err != nil || !ok {
		t.Fatalf("book of %s: %v, found %v", bank, err, ok)
	}
	return b
}

// syndicated is an oversubscribed deal: two banks commit 600,000.00 each
// to a 1,000,000.00 loan, are scaled back to 500,000.00, and draw it all.
func syndicated() []events.Payload {
	return []events.Payload{
		dealsapi.BankOnboarded{BankID: "b1", Name: "First Bank", CreditLimit: amt("2000000.00"), SingleBorrowerLimit: amt("800000.00")},
		dealsapi.BankOnboarded{BankID: "b2", Name: "Second Bank", CreditLimit: amt("5000000.00"), SingleBorrowerLimit: amt("5000000.00")},
		dealsapi.DealProposed{DealID: "d1", BorrowerID: "c1", LeadBankID: "b1", Loan: dealsapi.LoanTerms{Principal: amt("1000000.00")}},
		dealsapi.BankInvited{DealID: "d1", BankID: "b1"},
		dealsapi.BankInvited{DealID: "d1", BankID: "b2"},
		dealsapi.ExposureReserved{BankID: "b1", DealID: "d1", BorrowerID: "c1", Amount: amt("600000.00")},
		dealsapi.BankCommitted{DealID: "d1", BankID: "b1", Amount: amt("600000.00")},
		dealsapi.ExposureReserved{BankID: "b2", DealID: "d1", BorrowerID: "c1", Amount: amt("600000.00")},
		dealsapi.BankCommitted{DealID: "d1", BankID: "b2", Amount: amt("600000.00")},
		dealsapi.BookClosed{DealID: "d1", Oversubscribed: true, Allocations: []dealsapi.Allocation{
			{BankID: "b1", Committed: amt("600000.00"), Allocated: amt("500000.00")},
			{BankID: "b2", Committed: amt("600000.00"), Allocated: amt("500000.00")}}},
		dealsapi.ExposureReleased{BankID: "b1", DealID: "d1", Amount: amt("100000.00"), Reason: "scaled back"},
		dealsapi.ExposureReleased{BankID: "b2", DealID: "d1", Amount: amt("100000.00"), Reason: "scaled back"},
		dealsapi.DealClosed{DealID: "d1"},
		dealsapi.LoanOpened{LoanID: "d1", BorrowerID: "c1", LeadBankID: "b1", Banks: []dealsapi.LoanBank{{BankID: "b1"}, {BankID: "b2"}}},
		dealsapi.LoanDrawnDown{LoanID: "d1", Amount: amt("1000000.00"), Banks: []dealsapi.BankAmount{{BankID: "b1", Amount: amt("500000.00")}, {BankID: "b2", Amount: amt("500000.00")}}},
		dealsapi.ScheduleFixed{LoanID: "d1", Principal: amt("1000000.00"), Periods: []dealsapi.ScheduledPeriod{
			{Number: 1, Due: due(-40), Principal: amt("300000.00"), Interest: amt("5000.00")},
			{Number: 2, Due: due(-10), Principal: amt("300000.00"), Interest: amt("3000.00")},
			{Number: 3, Due: due(0), Principal: amt("200000.00"), Interest: amt("1000.00")},
			{Number: 4, Due: due(30), Principal: amt("100000.00"), Interest: amt("500.00")},
			{Number: 5, Due: due(31), Principal: amt("100000.00"), Interest: amt("250.00")},
		}},
	}
}

func TestBankBookOfASyndicatedLoanInArrears(t *testing.T) {
	p := bankbook.New()
	given(t, p, syndicated()...)
	given(t, p,
		// Period 1 is paid in part: its interest and 100,000.00 of principal.
		dealsapi.RepaymentReceived{LoanID: "d1", Amount: amt("105000.00"), Interest: amt("5000.00"), Principal: amt("100000.00"),
			Periods: []dealsapi.PeriodPaid{{Number: 1, Interest: amt("5000.00"), Principal: amt("100000.00")}},
			Banks:   []dealsapi.BankRepayment{{BankID: "b1", Interest: amt("2500.00"), Principal: amt("50000.00")}, {BankID: "b2", Interest: amt("2500.00"), Principal: amt("50000.00")}}},
		dealsapi.ExposureReleased{BankID: "b1", DealID: "d1", Amount: amt("50000.00"), Reason: "principal repaid"},
		// b1 also has a commitment in a book still open.
		dealsapi.DealProposed{DealID: "d2", BorrowerID: "c2", LeadBankID: "b2"},
		dealsapi.BankInvited{DealID: "d2", BankID: "b1"},
		dealsapi.ExposureReserved{BankID: "b1", DealID: "d2", BorrowerID: "c2", Amount: amt("200000.00")},
		dealsapi.BankCommitted{DealID: "d2", BankID: "b1", Amount: amt("200000.00")},
	)
	b := book(t, p, "b1")
	got := map[string]string{
		"exposure": b.Exposure.Amount().String(), "committed": b.Committed.Amount().String(),
		"disbursed": b.Disbursed.Amount().String(), "outstanding": b.Outstanding.Amount().String(),
		// Period 3 falls due today and period 4 in 30 days: both within the
		// 30 days; period 5 is past them. b1's part is half (equal outstanding).
		"due": b.DueSoon.Amount().String(),
		// Periods 1 (200,000.00 left) and 2 (303,000.00) are overdue; the
		// oldest is 40 days past due.
		"arrears 31-60": b.Arrears[1].Amount.Amount().String(),
		"losses":        b.Losses.Amount().String(),
	}
	want := map[string]string{
		"exposure": "650000.00", "committed": "200000.00", "disbursed": "500000.00", "outstanding": "450000.00",
		"due": "150750.00", "arrears 31-60": "251500.00", "losses": "0.00",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("book of b1:\n got %v\nwant %v", got, want)
	}
	if b.OpenCommitments != 1 || b.DueSoonPeriods != 2 || b.Arrears[1].Loans != 1 || b.Arrears[0].Loans != 0 {
		t.Errorf("open commitments %d, periods due %d, arrears %+v", b.OpenCommitments, b.DueSoonPeriods, b.Arrears)
	}
	if len(b.Borrowers) != 2 || b.Borrowers[0].BorrowerID != "c1" || b.Borrowers[0].Exposure.Amount().String() != "450000.00" {
		t.Errorf("borrowers %+v", b.Borrowers)
	}
	if len(b.Lines) != 2 || b.Lines[0].DaysPastDue != 40 || b.Lines[0].Bucket != "31-60" || b.Lines[0].NextDue != bankbook.Date(today) ||
		b.Lines[0].Commitment != "allocated" || b.Lines[0].DealStatus != "repaying" || b.Lines[1].DealStatus != "syndicating" {
		t.Errorf("lines %+v", b.Lines)
	}
	// b2 repaid nothing beyond its split and reserved no new exposure.
	if b2 := book(t, p, "b2"); b2.Exposure.Amount().String() != "500000.00" || b2.Outstanding.Amount().String() != "450000.00" {
		t.Errorf("book of b2: exposure %s, outstanding %s", b2.Exposure.Amount(), b2.Outstanding.Amount())
	}
	if _, ok, _ := p.Book("b9", today); ok {
		t.Error("a bank never onboarded has a book")
	}
}

func TestBankBookAfterAnEarlyRepaymentFollowsTheNewSchedule(t *testing.T) {
	p := bankbook.New()
	given(t, p, syndicated()...)
	given(t, p,
		dealsapi.RepaymentReceived{LoanID: "d1", Periods: []dealsapi.PeriodPaid{
			{Number: 1, Interest: amt("5000.00"), Principal: amt("300000.00")}, {Number: 2, Interest: amt("3000.00"), Principal: amt("300000.00")}},
			Banks: []dealsapi.BankRepayment{{BankID: "b1", Interest: amt("4000.00"), Principal: amt("300000.00")}, {BankID: "b2", Interest: amt("4000.00"), Principal: amt("300000.00")}}},
		dealsapi.EarlyRepaymentReceived{LoanID: "d1", Period: 3, Interest: amt("1000.00"), Principal: amt("300000.00"),
			Banks:            []dealsapi.BankRepayment{{BankID: "b1", Interest: amt("500.00"), Principal: amt("150000.00")}, {BankID: "b2", Interest: amt("500.00"), Principal: amt("150000.00")}},
			OutstandingAfter: amt("100000.00"),
			Remaining:        []dealsapi.ScheduledPeriod{{Number: 4, Due: due(20), Principal: amt("100000.00"), Interest: amt("300.00")}}},
	)
	b := book(t, p, "b1")
	if b.Outstanding.Amount().String() != "50000.00" || b.DueSoon.Amount().String() != "50150.00" || b.Arrears[0].Loans+b.Arrears[1].Loans != 0 {
		t.Errorf("outstanding %s, due %s, arrears %+v", b.Outstanding.Amount(), b.DueSoon.Amount(), b.Arrears)
	}
}

func TestBankBookOfADefaultWithGuaranteeRecovery(t *testing.T) {
	p := bankbook.New()
	given(t, p, syndicated()...)
	given(t, p,
		dealsapi.LoanDefaulted{LoanID: "d1", Principal: amt("1000000.00"), Loss: amt("1000000.00"),
			Allocation: dealsapi.LossAllocation{Banks: amt("600000.00"), Insurer: amt("400000.00")},
			BankLosses: []dealsapi.BankAmount{{BankID: "b1", Amount: amt("300000.00")}, {BankID: "b2", Amount: amt("300000.00")}}},
		insuranceapi.ClaimFiled{PolicyID: "p1", ClaimID: "cl1", LoanDealID: "d1", Amount: amt("400000.00")},
		insuranceapi.ClaimFiled{PolicyID: "p2", ClaimID: "cl2", Amount: amt("9.00")}, // not a guarantee: no bank's
		insuranceapi.ClaimSettled{PolicyID: "p1", ClaimID: "cl1", Amount: amt("150000.01")},
		insuranceapi.ClaimSettled{PolicyID: "p2", ClaimID: "cl2", Amount: amt("9.00")},
	)
	b1, b2 := book(t, p, "b1"), book(t, p, "b2")
	for _, c := range []struct{ name, got, want string }{
		{"b1 outstanding", b1.Outstanding.Amount().String(), "500000.00"},
		{"b1 outstanding defaulted", b1.Defaulted.Amount().String(), "500000.00"},
		{"b1 losses", b1.Losses.Amount().String(), "300000.00"},
		{"b1 expected", b1.RecoveryExpected.Amount().String(), "200000.00"},
		{"b1 received", b1.RecoveryReceived.Amount().String(), "75000.01"}, // the odd fen to the earlier bank
		{"b2 received", b2.RecoveryReceived.Amount().String(), "75000.00"},
		{"due", b1.DueSoon.Amount().String(), "0.00"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s, want %s", c.name, c.got, c.want)
		}
	}
	given(t, p, insuranceapi.ClaimDenied{PolicyID: "p1", ClaimID: "cl1", Reason: "late"})
	if b1 := book(t, p, "b1"); b1.RecoveryExpected.Amount().String() != "75000.01" {
		t.Errorf("after denial the expected recovery is what was paid, got %s", b1.RecoveryExpected.Amount())
	}
}

func TestBankBookSnapshotRestoresTheSameBook(t *testing.T) {
	p := bankbook.New()
	given(t, p, syndicated()...)
	data, err := p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	q := bankbook.New()
	if err := q.UnmarshalState(data); err != nil {
		t.Fatal(err)
	}
	if a, b := book(t, p, "b1"), book(t, q, "b1"); !reflect.DeepEqual(a, b) {
		t.Errorf("restored book differs:\n%+v\n%+v", a, b)
	}
	again, _ := q.MarshalState()
	if string(again) != string(data) {
		t.Error("the restored state encodes differently")
	}
}

func TestBankBookRefusesBrokenInvariants(t *testing.T) {
	p := bankbook.New()
	given(t, p, syndicated()[0])
	for _, e := range []events.Payload{
		dealsapi.BankOnboarded{BankID: "b1", CreditLimit: amt("1.00"), SingleBorrowerLimit: amt("1.00")},
		dealsapi.LoanOpened{LoanID: "nope"},
		dealsapi.ExposureReleased{BankID: "b1", DealID: "d9", Amount: amt("1.00")},
	} {
		if err := p.Apply(events.Event{Type: e.EventType()}, e); err == nil {
			t.Errorf("%s folded without an error", e.EventType())
		}
	}
}
