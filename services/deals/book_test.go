package deals

import (
	"testing"

	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

func TestBankBook(t *testing.T) {
	b := bank(t, onboarded("bank-b", "2000000", "500000"),
		dealsapi.ExposureReserved{BankID: "bank-b", DealID: "deal-1", BorrowerID: "co-1", Amount: amt("400000")},
		dealsapi.ExposureReserved{BankID: "bank-b", DealID: "deal-2", BorrowerID: "co-2", Amount: amt("250000")},
	)
	l := replay(t, LoanFolds().Apply, with(inRepayment(t), firstPaid()))
	other := l
	other.Banks = []LoanBank{{LoanBank: dealsapi.LoanBank{BankID: "bank-z"}}}
	// 15 June, 45 days after period 2 fell due (1 May): periods 2 and 3
	// are in arrears, period 4 (1 July) falls due within 30 days. A loan
	// the bank is not in does not count.
	book, err := BookOf(b, []Loan{l, other}, days(date("2026-05-01"), 45))
	if err != nil {
		t.Fatal(err)
	}
	if book.Exposure.String() != "650000.00" || book.CreditHeadroom.String() != "1350000.00" || len(book.Borrowers) != 2 ||
		book.Borrowers[0].Headroom.String() != "100000.00" || book.Disbursed.String() != "400000.00" || book.Outstanding.String() != "389578.03" {
		t.Errorf("book %+v", book)
	}
	if len(book.Arrears) != 2 || book.Arrears[0].Period != 2 || book.Arrears[0].DaysPastDue != 45 || book.Arrears[0].Bucket != "31-60" ||
		book.Arrears[1].Period != 3 || book.Arrears[1].Bucket != "1-30" {
		t.Errorf("arrears %+v", book.Arrears)
	}
	// bank-b has 389,578.03 of 973,945.07 outstanding: 40.0% of 29,679.93.
	if len(book.DueSoon) != 1 || book.DueSoon[0].Period != 4 || book.DueSoon[0].Amount.String() != "11871.97" {
		t.Errorf("due soon %+v", book.DueSoon)
	}
}
