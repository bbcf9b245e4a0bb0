package deals

import (
	"context"
	"errors"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// propose opens a deal after asking the applications and funds services
// what the decider checks the proposal against.
func (s *Service) propose(ctx context.Context, req *svc.Request, cmd dealsapi.ProposeDeal) (svc.Result[dealsapi.DealView], error) {
	if err := requireRole(req.Actor, "propose loan plus equity deals", fundbridge.RoleBank, fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return svc.Result[dealsapi.DealView]{}, err
	}
	if req.Actor.Role == fundbridge.RoleBank && req.Actor.OrgID != cmd.LeadBankID {
		return svc.Result[dealsapi.DealView]{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a bank proposes deals it leads; lead_bank_id is %s", cmd.LeadBankID)
	}
	var with Proposal
	app, err := s.application(ctx, req, cmd.ApplicationID)
	if err != nil {
		return svc.Result[dealsapi.DealView]{}, err
	}
	with.Application = app
	if with.FundManagerOrg, err = s.fundManager(ctx, req, cmd.Equity.FundID); err != nil {
		return svc.Result[dealsapi.DealView]{}, err
	}
	if with.FundManagerOrg == "" {
		return svc.Result[dealsapi.DealView]{}, unprocessable("equity.fund_id", "no fund %s", cmd.Equity.FundID)
	}
	lead, err := s.banks.Load(ctx, cmd.LeadBankID)
	if err != nil {
		return svc.Result[dealsapi.DealView]{}, refusal(err, dealsapi.OpPropose, "bank", cmd.LeadBankID)
	}
	with.LeadBank = lead.State
	if err := s.proposalParties(ctx, req, cmd, &with); err != nil {
		return svc.Result[dealsapi.DealView]{}, err
	}
	id := req.NewID(dealsapi.OpPropose)
	res, d, err := s.deals.Execute(ctx, id, command(req), svc.CheckedBefore, func(d Deal) ([]events.Payload, error) {
		return decidePropose(d, req.Actor, s.now(), id, cmd, with)
	})
	if err != nil {
		return svc.Result[dealsapi.DealView]{}, refusal(err, dealsapi.OpPropose, "deal", id)
	}
	return s.dealResult(req.Actor, d, res)
}

// proposalParties looks up the other parties a proposal names: the bank
// holding the warrant (unless the equity fund holds it) and the insurer
// of the risk sharing. decidePropose refuses the proposal if either is
// unknown.
func (s *Service) proposalParties(ctx context.Context, req *svc.Request, cmd dealsapi.ProposeDeal, with *Proposal) error {
	if w := cmd.Warrant; w != nil && w.HolderID != "" && !with.knowsHolder(w.HolderID, cmd.Equity.FundID) {
		b, err := s.banks.Load(ctx, w.HolderID)
		switch {
		case err == nil:
			with.WarrantHolder = b.State
		case fundbridge.ErrorCode(err) != fundbridge.EINVALID: // a malformed ID: decidePropose names the field
			return err
		}
	}
	id := cmd.RiskSharing.InsurerID
	if id == "" {
		return nil
	}
	if s.client == nil {
		return errors.New("deals: no client to ask the insurance service")
	}
	sys, _ := byPlatform(req)
	_, _, err := svc.Call(ctx, s.client, insuranceapi.GetInsurerEndpoint, &svc.Request{Actor: sys, CorrelationID: req.CorrelationID, CausationID: req.ID},
		insuranceapi.InsurerRef{InsurerID: id})
	switch fundbridge.ErrorCode(err) {
	case "":
		with.InsurerOnboarded = true
	case fundbridge.ENOTFOUND, fundbridge.EINVALID: // decidePropose names the field
	default:
		return err
	}
	return nil
}

// application is what the deal needs of the application, asked as the
// platform: whether the caller may see it is not the question, whether
// the company asked for a loan plus equity is.
func (s *Service) application(ctx context.Context, req *svc.Request, id string) (Application, error) {
	if s.client == nil {
		return Application{}, errors.New("deals: no client to ask the applications service")
	}
	sys, _ := byPlatform(req)
	app, _, err := svc.Call(ctx, s.client, applicationsapi.GetApplicationEndpoint, &svc.Request{Actor: sys, CorrelationID: req.CorrelationID, CausationID: req.ID},
		applicationsapi.GetApplication{ApplicationID: id})
	switch {
	case fundbridge.ErrorCode(err) == fundbridge.ENOTFOUND:
		return Application{}, unprocessable("application_id", "no application %s", id)
	case err != nil:
		return Application{}, err
	}
	return Application{ID: app.ID, CompanyID: app.CompanyID, Instruments: app.Instruments}, nil
}

// fundManager is the org managing a fund, "" if there is no such fund:
// from the view, else from the funds service (a fund registered a moment
// ago).
func (s *Service) fundManager(ctx context.Context, req *svc.Request, fundID string) (string, error) {
	if org, ok := s.view.fundManager(fundID); ok {
		return org, nil
	}
	if s.client == nil {
		return "", nil
	}
	sys, _ := byPlatform(req)
	f, _, err := svc.Call(ctx, s.client, fundsapi.GetFundEndpoint, &svc.Request{Actor: sys, CorrelationID: req.CorrelationID, CausationID: req.ID},
		fundsapi.GetFund{FundID: fundID})
	switch {
	case fundbridge.ErrorCode(err) == fundbridge.ENOTFOUND:
		return "", nil
	case err != nil:
		return "", err
	}
	return f.ManagerOrg, nil
}

// canSee refuses, as not found, a deal the actor may not see, before the
// repository answers a retry or an If-Match about it.
func (s *Service) canSee(a fundbridge.Actor, id string) func(Deal) error {
	return func(d Deal) error {
		if _, ok := DealFor(a, d, s.view.fundManagerOf(d.Equity.FundID)); !ok {
			return notFound("deal", id)
		}
		return nil
	}
}

func (s *Service) invite(ctx context.Context, req *svc.Request, cmd dealsapi.InviteBank) (svc.Result[dealsapi.DealView], error) {
	invitee, err := s.banks.Load(ctx, cmd.BankID)
	if err != nil {
		return svc.Result[dealsapi.DealView]{}, refusal(err, dealsapi.OpInvite, "bank", cmd.BankID)
	}
	return s.executeDeal(ctx, req, dealsapi.OpInvite, cmd.DealID, command(req), func(d Deal) ([]events.Payload, error) {
		return decideInvite(d, req.Actor, s.now(), cmd, invitee.State)
	})
}

// commit reserves the exposure on the bank's stream first, where two
// deals cannot both take room only one fits in, then records the
// commitment on the deal; if the deal refuses, the reservation is given
// back.
func (s *Service) commit(ctx context.Context, req *svc.Request, cmd dealsapi.CommitToDeal) (svc.Result[dealsapi.DealView], error) {
	bank, err := s.freshBank(ctx, cmd.BankID)
	if err != nil {
		return svc.Result[dealsapi.DealView]{}, refusal(err, dealsapi.OpCommit, "bank", cmd.BankID)
	}
	// Judged first without writing, on fresh state: a refusal reserves
	// nothing, and a retry gets its first result.
	res, deal, err := s.deals.Execute(ctx, cmd.DealID, command(req), s.canSee(req.Actor, cmd.DealID), func(d Deal) ([]events.Payload, error) {
		_, err := decideCommit(d, bank, req.Actor, s.now(), cmd)
		return nil, err
	})
	if err != nil || res.Duplicate {
		return s.dealOutcome(req, deal, res, err, dealsapi.OpCommit, cmd.DealID)
	}
	sys, reserve := byPlatform(req)
	if req.IdempotencyKey != "" {
		reserve.Meta.IdempotencyKey = req.NewID(dealsapi.OpCommit + "/reserve")
	}
	if _, _, err := s.banks.Execute(ctx, cmd.BankID, reserve, svc.CheckedBefore, func(b Bank) ([]events.Payload, error) {
		return DecideReserveExposure(b, sys, dealsapi.ReserveExposure{BankID: cmd.BankID, DealID: cmd.DealID, BorrowerID: deal.BorrowerID, Amount: cmd.Amount})
	}); err != nil {
		return svc.Result[dealsapi.DealView]{}, refusal(err, dealsapi.OpCommit, "bank", cmd.BankID)
	}
	// The limits were checked against the bank before this reservation;
	// the reservation itself held them on fresh state.
	res, d, err := s.deals.Execute(ctx, cmd.DealID, command(req), s.canSee(req.Actor, cmd.DealID), func(d Deal) ([]events.Payload, error) {
		return decideCommit(d, bank, req.Actor, s.now(), cmd)
	})
	if err != nil {
		s.release(ctx, req, cmd.BankID, cmd.DealID, cmd.Amount, "the deal refused the commitment")
		return svc.Result[dealsapi.DealView]{}, refusal(err, dealsapi.OpCommit, "deal", cmd.DealID)
	}
	res.Position = max(res.Position, s.afterDeal(ctx, req, d))
	return s.dealResult(req.Actor, d, res)
}

// freshBank is the bank's state as the store has it now, not as this
// instance last cached it.
func (s *Service) freshBank(ctx context.Context, id string) (Bank, error) {
	var bank Bank
	_, _, err := s.banks.Execute(ctx, id, svc.Command{}, svc.CheckedBefore, func(b Bank) ([]events.Payload, error) {
		bank = b
		return nil, nil
	})
	return bank, err
}

// dealOutcome answers a command that ended before writing: its refusal,
// or the first result of a retry.
func (s *Service) dealOutcome(req *svc.Request, d Deal, res events.AppendResult, err error, op, id string) (svc.Result[dealsapi.DealView], error) {
	if err != nil {
		return svc.Result[dealsapi.DealView]{}, refusal(err, op, "deal", id)
	}
	return s.dealResult(req.Actor, d, res)
}

// recordEquity commits the fund's tranche: the funds service takes it
// out of dry powder (once per deal), then the deal records it.
func (s *Service) recordEquity(ctx context.Context, req *svc.Request, cmd dealsapi.RecordEquityCommitted) (svc.Result[dealsapi.DealView], error) {
	sys, _ := byPlatform(req)
	decide := func(d Deal) ([]events.Payload, error) { return decideRecordEquity(d, sys, s.now(), cmd) }
	pending := false
	res, d, err := s.deals.Execute(ctx, cmd.DealID, command(req), s.canSee(req.Actor, cmd.DealID), func(d Deal) ([]events.Payload, error) {
		out, err := decide(d)
		pending = len(out) > 0
		return nil, err
	})
	if err != nil || res.Duplicate {
		return s.dealOutcome(req, d, res, err, dealsapi.OpRecordEquity, cmd.DealID)
	}
	if pending {
		if s.client == nil {
			return svc.Result[dealsapi.DealView]{}, errors.New("deals: no client to ask the funds service")
		}
		commit := fundsapi.CommitCapital{FundID: d.Equity.FundID, DealID: d.DealID, ApplicationID: d.ApplicationID, CompanyID: d.BorrowerID, Amount: d.Equity.Amount}
		if _, _, err := svc.Call(ctx, s.client, fundsapi.CommitCapitalEndpoint, &svc.Request{
			Actor: sys, CorrelationID: req.CorrelationID, CausationID: req.ID, IdempotencyKey: "loan_deal-" + d.DealID + "-equity",
		}, commit); err != nil {
			return svc.Result[dealsapi.DealView]{}, err
		}
	}
	return s.executeDeal(ctx, req, dealsapi.OpRecordEquity, cmd.DealID, command(req), decide)
}

// onDeal serves a command on an existing deal the actor may see.
func onDeal[C any](s *Service, dealID func(C) string, decide func(Deal, fundbridge.Actor, time.Time, C) ([]events.Payload, error)) func(context.Context, *svc.Request, C) (svc.Result[dealsapi.DealView], error) {
	return func(ctx context.Context, req *svc.Request, cmd C) (svc.Result[dealsapi.DealView], error) {
		return s.executeDeal(ctx, req, "deal command", dealID(cmd), command(req), func(d Deal) ([]events.Payload, error) {
			return decide(d, req.Actor, s.now(), cmd)
		})
	}
}

func (s *Service) executeDeal(ctx context.Context, req *svc.Request, op, id string, c svc.Command, decide func(Deal) ([]events.Payload, error)) (svc.Result[dealsapi.DealView], error) {
	res, d, err := s.deals.Execute(ctx, id, c, s.canSee(req.Actor, id), decide)
	if err != nil {
		return svc.Result[dealsapi.DealView]{}, refusal(err, op, "deal", id)
	}
	res.Position = max(res.Position, s.afterDeal(ctx, req, d))
	return s.dealResult(req.Actor, d, res)
}

func (s *Service) dealResult(a fundbridge.Actor, d Deal, res events.AppendResult) (svc.Result[dealsapi.DealView], error) {
	seen, ok := DealFor(a, d, s.view.fundManagerOf(d.Equity.FundID))
	if !ok {
		return svc.Result[dealsapi.DealView]{}, notFound("deal", d.DealID) // a retried key of someone else's command
	}
	return svc.Result[dealsapi.DealView]{Value: dealView(seen, s.view), Position: res.Position, Version: res.LastVersion}, nil
}

// afterDeal does what a deal's new state asks of the other aggregates:
// the book closed gives back what was scaled off each commitment, an
// expired deal gives back everything, a closed deal opens its loan. Each
// step is idempotent (releases only down to the target, the loan opens
// once), so any later command finishes what a crash left undone. It
// returns the position of the last event it appended, so a reader can
// wait for it.
func (s *Service) afterDeal(ctx context.Context, req *svc.Request, d Deal) uint64 {
	var last uint64
	switch {
	case d.Status == dealsapi.StatusExpired:
		for _, b := range d.Banks {
			last = max(last, s.settle(ctx, req, b.BankID, d.DealID, money.Zero, "the deal expired"))
		}
	case d.BookClosed:
		for _, b := range d.Banks {
			last = max(last, s.settle(ctx, req, b.BankID, d.DealID, b.Allocated, "scaled back as the book closed"))
		}
	}
	if d.Status != dealsapi.StatusClosed {
		return last
	}
	sys, c := byPlatform(req)
	res, l, err := s.loans.Execute(ctx, d.DealID, c, svc.CheckedBefore, func(l Loan) ([]events.Payload, error) { return decideOpenLoan(l, sys, d) })
	if err != nil {
		s.log.Error("open the loan of a closed deal", "deal", d.DealID, "err", err)
		return last
	}
	return max(last, res.Position, s.afterLoan(ctx, req, l))
}
