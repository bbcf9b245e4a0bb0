package deals

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// The book's types are the contract's: the service replies with them.
type (
	BankBook         = dealsapi.BankBook
	BorrowerExposure = dealsapi.BorrowerExposure
	BookDue          = dealsapi.BookDue
)

// BookOf computes a bank's book on the day of now from its state and the
// loans it lends in (others are ignored).
func BookOf(b Bank, loans []Loan, now time.Time) (BankBook, error) {
	book := BankBook{BankID: b.ID, CreditLimit: b.CreditLimit, SingleBorrowerLimit: b.SingleBorrowerLimit,
		Exposure: b.Exposure(), Borrowers: []BorrowerExposure{}, DueSoon: []BookDue{}, Arrears: []BookDue{}}
	book.CreditHeadroom = b.CreditLimit.Sub(book.Exposure)
	for _, e := range b.Exposures {
		if !slices.ContainsFunc(book.Borrowers, func(x BorrowerExposure) bool { return x.BorrowerID == e.BorrowerID }) {
			one := b.BorrowerExposure(e.BorrowerID)
			book.Borrowers = append(book.Borrowers, BorrowerExposure{BorrowerID: e.BorrowerID, Exposure: one, Headroom: b.SingleBorrowerLimit.Sub(one)})
		}
	}
	today := day(now)
	horizon := today.AddDate(0, 0, 30)
	for _, l := range loans {
		k := slices.IndexFunc(l.Banks, func(lb LoanBank) bool { return lb.BankID == b.ID })
		if k < 0 {
			continue
		}
		mine := l.Banks[k]
		book.Disbursed, book.Outstanding, book.Losses = book.Disbursed.Add(mine.Drawn), book.Outstanding.Add(mine.Outstanding()), book.Losses.Add(mine.Loss)
		if l.Status != dealsapi.StatusRepaying {
			continue
		}
		for i := l.Next; i < len(l.Schedule) && !l.Schedule[i].Due().After(horizon); i++ {
			in := l.Installment(i)
			if in.settled() {
				continue
			}
			part, err := l.bankPart(k, in.owed())
			if err != nil {
				return BankBook{}, err
			}
			d := BookDue{LoanID: l.ID, BorrowerID: l.BorrowerID, Period: in.Number, Due: in.Due, Amount: part}
			if today.After(in.Due) {
				d.DaysPastDue = int(today.Sub(in.Due).Hours() / 24)
				d.Bucket = bucket(d.DaysPastDue)
				book.Arrears = append(book.Arrears, d)
			} else {
				book.DueSoon = append(book.DueSoon, d)
			}
		}
	}
	return book, nil
}

// bankPart is bank k's part of amount, split as a repayment would be: by
// the principal each bank has outstanding.
func (l Loan) bankPart(k int, amount money.Amount) (money.Amount, error) {
	weights := make([]decimal.Decimal, len(l.Banks))
	for i, b := range l.Banks {
		weights[i] = b.Outstanding().Decimal()
	}
	parts, err := money.Split(amount, weights)
	if err != nil {
		return money.Zero, fmt.Errorf("bank's part of loan %s: %w", l.ID, err)
	}
	return parts[k], nil
}

// bucket is the arrears band a credit officer reports by.
func bucket(days int) string {
	switch {
	case days <= 30:
		return "1-30"
	case days <= 60:
		return "31-60"
	case days <= 90:
		return "61-90"
	}
	return "90+"
}
