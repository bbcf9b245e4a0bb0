package deals

import (
	"context"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
	"github.com/fundbridge/fundbridge/services/svc"
)

// loanVisible: who may know a loan exists. Besides those LoanFor shows
// it to, the warrant's holder and the equity fund's manager.
func (s *Service) loanVisible(a fundbridge.Actor, l Loan) bool {
	if !l.exists() {
		return false
	}
	if _, ok := LoanFor(a, l); ok {
		return true
	}
	return outsideReader(a, l, s.view.fundManagerOf(l.EquityFundID)) != notOutside
}

// outsideKind is how a reader LoanFor does not show a loan to may still
// know of it.
type outsideKind int

const (
	notOutside    outsideKind = iota // in the syndicate, an operator, or no reader of it
	holderOutside                    // the warrant's holder
	fundOutside                      // the equity fund's manager
)

// outsideReader says whether a, not in the loan's syndicate, may know of it:
// as the manager of its equity fund (managed by fundManagerOrg), or as
// the holder of its warrant.
func outsideReader(a fundbridge.Actor, l Loan, fundManagerOrg string) outsideKind {
	switch {
	case !l.exists() || a.OrgID == "":
		return notOutside
	case a.Role == fundbridge.RoleFundManager && a.OrgID == fundManagerOrg:
		return fundOutside
	case l.Warrant != nil && a.OrgID == l.Warrant.HolderID:
		return holderOutside
	}
	return notOutside
}

// outsiderView is the loan as the warrant's holder or the fund reads it:
// its figures without the banks' lines. The fund's manager sees a
// default's loss as the risk-sharing table splits it (the fund bears its
// part), but not each bank's; a warrant holder sees no default at all.
func outsiderView(l Loan, how outsideKind, now time.Time, n namer) dealsapi.LoanView {
	v := loanView(l, now, n)
	v.Banks, v.Default = []dealsapi.LoanBankView{}, nil
	if d := l.Default; d != nil && how == fundOutside {
		cut := *d
		cut.BankLosses = []dealsapi.BankAmount{}
		v.Default = &cut
	}
	return v
}

// onLoan serves a command on an existing loan the actor may see.
func onLoan[C any](s *Service, loanID func(C) string, decide func(Loan, fundbridge.Actor, time.Time, C) ([]events.Payload, error)) func(context.Context, *svc.Request, C) (svc.Result[dealsapi.LoanView], error) {
	return func(ctx context.Context, req *svc.Request, cmd C) (svc.Result[dealsapi.LoanView], error) {
		id := loanID(cmd)
		authorize := func(l Loan) error {
			if !s.loanVisible(req.Actor, l) {
				return notFound("loan", id)
			}
			return nil
		}
		res, l, err := s.loans.Execute(ctx, id, command(req), authorize, func(l Loan) ([]events.Payload, error) {
			return decide(l, req.Actor, s.now(), cmd)
		})
		if err != nil {
			return svc.Result[dealsapi.LoanView]{}, refusal(err, "loan command", "loan", id)
		}
		return s.loanResult(req.Actor, l, max(res.Position, s.afterLoan(ctx, req, l)), res.LastVersion)
	}
}

func (s *Service) loanResult(a fundbridge.Actor, l Loan, position, version uint64) (svc.Result[dealsapi.LoanView], error) {
	seen, ok := LoanFor(a, l)
	if !ok {
		how := outsideReader(a, l, s.view.fundManagerOf(l.EquityFundID))
		if how == notOutside {
			return svc.Result[dealsapi.LoanView]{}, notFound("loan", l.ID)
		}
		return svc.Result[dealsapi.LoanView]{Value: outsiderView(l, how, s.now(), s.view), Position: position, Version: version}, nil
	}
	return svc.Result[dealsapi.LoanView]{Value: loanView(seen, s.now(), s.view), Position: position, Version: version}, nil
}

// afterLoan brings each bank's exposure for the loan down to what it
// still carries: its commitment while drawing, its outstanding principal
// once repaying, nothing once repaid or written off. It returns the
// position of the last release, so a reader can wait for it.
func (s *Service) afterLoan(ctx context.Context, req *svc.Request, l Loan) uint64 {
	var last uint64
	for _, b := range l.Banks {
		target, reason := money.Zero, "the loan is "+string(l.Status)
		switch l.Status {
		case dealsapi.StatusAwaitingDrawdown:
			target, reason = b.Commitment, "the loan opened"
		case dealsapi.StatusRepaying:
			target, reason = b.Outstanding(), "principal repaid or left undrawn"
		}
		last = max(last, s.settle(ctx, req, b.BankID, l.ID, target, reason))
	}
	return last
}

// settle releases the bank's exposure for the deal down to target; it
// never reserves, so settling an older state after a newer one changes
// nothing. It returns the position of the release, 0 if none.
func (s *Service) settle(ctx context.Context, req *svc.Request, bankID, dealID string, target money.Amount, reason string) uint64 {
	sys, c := byPlatform(req)
	res, _, err := s.banks.Execute(ctx, bankID, c, svc.CheckedBefore, func(b Bank) ([]events.Payload, error) {
		held := b.DealExposure(dealID)
		if !held.GreaterThan(target) {
			return nil, nil
		}
		return DecideReleaseExposure(b, sys, dealsapi.ReleaseExposure{BankID: bankID, DealID: dealID, Amount: held.Sub(target), Reason: reason})
	})
	if err != nil {
		s.log.Error("release bank exposure", "bank", bankID, "deal", dealID, "err", err)
		return 0
	}
	return res.Position
}

// release gives back a reservation the deal then refused, as far as the
// bank still holds it.
func (s *Service) release(ctx context.Context, req *svc.Request, bankID, dealID string, amount money.Amount, reason string) {
	sys, c := byPlatform(req)
	_, _, err := s.banks.Execute(ctx, bankID, c, svc.CheckedBefore, func(b Bank) ([]events.Payload, error) {
		give := money.Min(amount, b.DealExposure(dealID))
		if !give.IsPositive() {
			return nil, nil
		}
		return DecideReleaseExposure(b, sys, dealsapi.ReleaseExposure{BankID: bankID, DealID: dealID, Amount: give, Reason: reason})
	})
	if err != nil {
		s.log.Error("release a refused reservation", "bank", bankID, "deal", dealID, "err", err)
	}
}

func (s *Service) getLoan(ctx context.Context, req *svc.Request, q dealsapi.GetLoan) (svc.Result[dealsapi.LoanView], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[dealsapi.LoanView]{}, err
	}
	l, ok := s.view.loan(q.LoanID)
	if !ok {
		return svc.Result[dealsapi.LoanView]{}, notFound("loan", q.LoanID)
	}
	return s.loanResult(req.Actor, l, s.follower.Position(), l.Version)
}

func (s *Service) getDeal(ctx context.Context, req *svc.Request, q dealsapi.GetDeal) (svc.Result[dealsapi.DealView], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[dealsapi.DealView]{}, err
	}
	d, ok := s.view.deal(q.DealID)
	if !ok {
		return svc.Result[dealsapi.DealView]{}, notFound("deal", q.DealID)
	}
	seen, ok := DealFor(req.Actor, d, s.view.fundManagerOf(d.Equity.FundID))
	if !ok {
		return svc.Result[dealsapi.DealView]{}, notFound("deal", q.DealID)
	}
	return svc.Result[dealsapi.DealView]{Value: dealView(seen, s.view), Position: s.follower.Position(), Version: d.Version}, nil
}

func (s *Service) listDeals(ctx context.Context, req *svc.Request, q dealsapi.ListDeals) (svc.Result[dealsapi.DealList], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[dealsapi.DealList]{}, err
	}
	page, err := s.view.listDeals(req.Actor, q)
	if err != nil {
		return svc.Result[dealsapi.DealList]{}, err
	}
	return svc.Result[dealsapi.DealList]{Value: page, Position: s.follower.Position()}, nil
}

func (s *Service) listLoans(ctx context.Context, req *svc.Request, q dealsapi.ListLoans) (svc.Result[dealsapi.LoanList], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[dealsapi.LoanList]{}, err
	}
	page, err := s.view.listLoans(req.Actor, q, s.now())
	if err != nil {
		return svc.Result[dealsapi.LoanList]{}, err
	}
	return svc.Result[dealsapi.LoanList]{Value: page, Position: s.follower.Position()}, nil
}

// previewSchedule computes a schedule with the code a fixed schedule uses.
func (s *Service) previewSchedule(_ context.Context, _ *svc.Request, q dealsapi.PreviewSchedule) (svc.Result[dealsapi.SchedulePreview], error) {
	t, err := q.Terms()
	if err != nil {
		return svc.Result[dealsapi.SchedulePreview]{}, err
	}
	sched, err := loan.New(t)
	if err != nil {
		return svc.Result[dealsapi.SchedulePreview]{}, err
	}
	return svc.Result[dealsapi.SchedulePreview]{Value: dealsapi.SchedulePreview{Terms: t, Schedule: sched}}, nil
}

// settleExposure is the syndication process's step: the bank's exposure
// for the deal down to the target, never up.
func (s *Service) settleExposure(ctx context.Context, req *svc.Request, cmd dealsapi.SettleExposure) (svc.Result[dealsapi.BankView], error) {
	res, b, err := s.banks.Execute(ctx, cmd.BankID, command(req), svc.CheckedBefore, func(b Bank) ([]events.Payload, error) {
		held := b.DealExposure(cmd.DealID)
		if !held.GreaterThan(cmd.Target) {
			return nil, nil
		}
		return DecideReleaseExposure(b, req.Actor, dealsapi.ReleaseExposure{BankID: cmd.BankID, DealID: cmd.DealID, Amount: held.Sub(cmd.Target), Reason: cmd.Reason})
	})
	if err != nil {
		return svc.Result[dealsapi.BankView]{}, refusal(err, dealsapi.OpSettleExposure, "bank", cmd.BankID)
	}
	return svc.Result[dealsapi.BankView]{Value: bankView(b, s.view), Position: res.Position, Version: res.LastVersion}, nil
}

// openLoan is the syndication process's step once the deal closed: the
// loan opens from the deal as the store has it now (once), and each
// bank's exposure follows it.
func (s *Service) openLoan(ctx context.Context, req *svc.Request, cmd dealsapi.DealRef) (svc.Result[dealsapi.LoanView], error) {
	var deal Deal
	if _, _, err := s.deals.Execute(ctx, cmd.DealID, svc.Command{}, svc.CheckedBefore, func(d Deal) ([]events.Payload, error) {
		deal = d
		return nil, nil
	}); err != nil {
		return svc.Result[dealsapi.LoanView]{}, refusal(err, dealsapi.OpOpenLoan, "deal", cmd.DealID)
	}
	if !deal.exists() {
		return svc.Result[dealsapi.LoanView]{}, notFound("deal", cmd.DealID)
	}
	res, l, err := s.loans.Execute(ctx, cmd.DealID, command(req), svc.CheckedBefore, func(l Loan) ([]events.Payload, error) {
		return decideOpenLoan(l, req.Actor, deal)
	})
	if err != nil {
		return svc.Result[dealsapi.LoanView]{}, refusal(err, dealsapi.OpOpenLoan, "loan", cmd.DealID)
	}
	return s.loanResult(req.Actor, l, max(res.Position, s.afterLoan(ctx, req, l)), res.LastVersion)
}
