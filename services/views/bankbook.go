package views

import (
	"context"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/bankbook"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

func (s *Service) bankBook(ctx context.Context, req *svc.Request, q viewsapi.BankBookQuery) (svc.Result[viewsapi.BankBookResult], error) {
	notFound := fundbridge.Errorf(fundbridge.ENOTFOUND, "no bank %s", q.BankID)
	if req.Actor.Role == fundbridge.RoleBank && req.Actor.OrgID != q.BankID {
		return svc.Result[viewsapi.BankBookResult]{}, notFound // another bank's book: do not tell whether it exists
	}
	if err := s.runner.WaitFor(ctx, bankbook.Name, q.After); err != nil {
		return svc.Result[viewsapi.BankBookResult]{}, err
	}
	position := s.runner.Position(bankbook.Name)
	asOf, err := projections.ParseAsOf("as_of", q.AsOf)
	if err != nil {
		return svc.Result[viewsapi.BankBookResult]{}, err
	}
	books, err := viewAsOf(ctx, s, s.bankbook, bankbook.New, asOf)
	if err != nil {
		return svc.Result[viewsapi.BankBookResult]{}, err
	}
	today := bankbook.ChinaDay(s.now())
	if !asOf.IsZero() {
		today = bankbook.ChinaDay(asOf)
	}
	book, ok, err := books.Book(q.BankID, today)
	if err != nil {
		return svc.Result[viewsapi.BankBookResult]{}, err
	}
	if !ok {
		return svc.Result[viewsapi.BankBookResult]{}, notFound
	}
	return svc.Result[viewsapi.BankBookResult]{Value: bankBookResult(book, today, position)}, nil
}

func bankBookResult(b bankbook.Book, today int32, position uint64) viewsapi.BankBookResult {
	exposure := b.Exposure.Amount()
	out := viewsapi.BankBookResult{
		BankID: b.BankID, Name: b.Name, On: bankbook.Date(today),
		CreditLimit: b.CreditLimit, SingleBorrowerLimit: b.SingleBorrowerLimit,
		Exposure: exposure, CreditHeadroom: b.CreditLimit.Sub(exposure),
		CreditUsed:      projections.AmountRatio(exposure, b.CreditLimit),
		Borrowers:       make([]viewsapi.BorrowerLimit, len(b.Borrowers)),
		OpenCommitments: b.OpenCommitments, Committed: b.Committed.Amount(),
		Disbursed: b.Disbursed.Amount(), Outstanding: b.Outstanding.Amount(), Defaulted: b.Defaulted.Amount(),
		DueNext30Days: b.DueSoon.Amount(), DueNext30Periods: b.DueSoonPeriods,
		Arrears: make([]viewsapi.ArrearsBucket, len(b.Arrears)),
		Losses:  b.Losses.Amount(), RecoveryExpected: b.RecoveryExpected.Amount(), RecoveryReceived: b.RecoveryReceived.Amount(),
		Items:    make([]viewsapi.BankBookLine, len(b.Lines)),
		Position: position,
	}
	for i, bo := range b.Borrowers {
		e := bo.Exposure.Amount()
		out.Borrowers[i] = viewsapi.BorrowerLimit{BorrowerID: bo.BorrowerID, Exposure: e, Headroom: b.SingleBorrowerLimit.Sub(e)}
	}
	for i, a := range b.Arrears {
		out.Arrears[i] = viewsapi.ArrearsBucket{Bucket: a.Bucket, Loans: a.Loans, Amount: a.Amount.Amount()}
	}
	for i, l := range b.Lines {
		out.Items[i] = viewsapi.BankBookLine{
			DealID: l.DealID, BorrowerID: l.BorrowerID, DealStatus: l.DealStatus, Commitment: l.Commitment,
			Committed: l.Committed.Amount(), Allocated: l.Allocated.Amount(), Exposure: l.Exposure.Amount(),
			Disbursed: l.Disbursed.Amount(), PrincipalRepaid: l.PrincipalRepaid.Amount(), InterestReceived: l.InterestReceived.Amount(),
			Outstanding: l.OutstandingNow.Amount(), DueNext30Days: l.DueSoon.Amount(), NextDue: l.NextDue,
			Overdue: l.Overdue.Amount(), DaysPastDue: l.DaysPastDue, Bucket: l.Bucket,
			Loss: l.Loss.Amount(), RecoveryExpected: l.RecoveryExpected.Amount(), RecoveryReceived: l.RecoveryReceived.Amount(),
		}
	}
	return out
}
