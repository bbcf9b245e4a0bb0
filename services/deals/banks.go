package deals

import (
	"context"
	"fmt"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// onboardBank adds a bank whose org exists with role bank. The org is
// read from the log (its first event), the one place it is settled.
func (s *Service) onboardBank(ctx context.Context, req *svc.Request, cmd dealsapi.OnboardBank) (svc.Result[dealsapi.BankView], error) {
	if err := requireRole(req.Actor, "onboard banks", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return svc.Result[dealsapi.BankView]{}, err
	}
	role, err := s.orgRole(ctx, cmd.BankID)
	if err != nil {
		return svc.Result[dealsapi.BankView]{}, err
	}
	if role != fundbridge.RoleBank {
		reason := "no org " + cmd.BankID + " exists; create it first with POST /api/v1/orgs and role bank"
		if role != "" {
			reason = fmt.Sprintf("org %s is not a bank: its role is %s", cmd.BankID, role)
		}
		e := fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "%s", reason)
		e.Fields = []fundbridge.FieldError{{Field: "bank_id", Reason: reason}}
		return svc.Result[dealsapi.BankView]{}, e
	}
	return s.executeBank(ctx, req, dealsapi.OpOnboardBank, cmd.BankID, svc.CheckedBefore, func(b Bank) ([]events.Payload, error) {
		return DecideOnboardBank(b, req.Actor, cmd)
	})
}

// orgRole is the role of an org as identity created it, "" if none.
func (s *Service) orgRole(ctx context.Context, orgID string) (fundbridge.Role, error) {
	evs, err := s.store.ReadStream(ctx, "org-"+orgID, 1)
	if err != nil {
		return "", fmt.Errorf("read org %s: %w", orgID, err)
	}
	if len(evs) == 0 {
		return "", nil
	}
	_, payload, err := s.registry.Decode(evs[0])
	if err != nil {
		return "", fmt.Errorf("read org %s: %w", orgID, err)
	}
	created, ok := payload.(identityapi.OrgCreated)
	if !ok {
		return "", nil
	}
	return created.Role, nil
}

// onBank serves a command on an existing bank: the bank itself or an
// operator; to another bank it does not exist.
func onBank[C any](s *Service, bankID func(C) string, decide func(Bank, fundbridge.Actor, C) ([]events.Payload, error)) func(context.Context, *svc.Request, C) (svc.Result[dealsapi.BankView], error) {
	return func(ctx context.Context, req *svc.Request, cmd C) (svc.Result[dealsapi.BankView], error) {
		id := bankID(cmd)
		if req.Actor.Role == fundbridge.RoleBank && req.Actor.OrgID != id {
			return svc.Result[dealsapi.BankView]{}, notFound("bank", id)
		}
		authorize := func(b Bank) error {
			if !b.exists() {
				return notFound("bank", id)
			}
			return nil
		}
		return s.executeBank(ctx, req, "bank command", id, authorize, func(b Bank) ([]events.Payload, error) { return decide(b, req.Actor, cmd) })
	}
}

func (s *Service) executeBank(ctx context.Context, req *svc.Request, op, id string, authorize func(Bank) error, decide func(Bank) ([]events.Payload, error)) (svc.Result[dealsapi.BankView], error) {
	res, b, err := s.banks.Execute(ctx, id, command(req), authorize, decide)
	if err != nil {
		return svc.Result[dealsapi.BankView]{}, refusal(err, op, "bank", id)
	}
	return svc.Result[dealsapi.BankView]{Value: bankView(b, s.view), Position: res.Position, Version: res.LastVersion}, nil
}

func (s *Service) getBank(ctx context.Context, req *svc.Request, q dealsapi.BankRef) (svc.Result[dealsapi.BankView], error) {
	b, err := s.visibleBank(ctx, req.Actor, q)
	if err != nil {
		return svc.Result[dealsapi.BankView]{}, err
	}
	return svc.Result[dealsapi.BankView]{Value: bankView(b, s.view), Position: s.follower.Position(), Version: b.Version}, nil
}

// listBanks is the banks' directory: any bank (and the platform's own
// roles) may read who else is onboarded, by name, to invite them.
func (s *Service) listBanks(ctx context.Context, _ *svc.Request, q dealsapi.ListBanks) (svc.Result[dealsapi.BankDirectory], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[dealsapi.BankDirectory]{}, err
	}
	return svc.Result[dealsapi.BankDirectory]{Value: s.view.bankDirectory(), Position: s.follower.Position()}, nil
}

func (s *Service) bankBook(ctx context.Context, req *svc.Request, q dealsapi.BankRef) (svc.Result[dealsapi.BankBook], error) {
	b, err := s.visibleBank(ctx, req.Actor, q)
	if err != nil {
		return svc.Result[dealsapi.BankBook]{}, err
	}
	book, err := BookOf(b, s.view.loansOf(b.ID), s.now())
	if err != nil {
		return svc.Result[dealsapi.BankBook]{}, err
	}
	nameBook(&book, s.view)
	return svc.Result[dealsapi.BankBook]{Value: book, Position: s.follower.Position(), Version: b.Version}, nil
}

func (s *Service) visibleBank(ctx context.Context, a fundbridge.Actor, q dealsapi.BankRef) (Bank, error) {
	if a.Role == fundbridge.RoleBank && a.OrgID != q.BankID {
		return Bank{}, notFound("bank", q.BankID)
	}
	if err := s.waitFor(ctx, q.After); err != nil {
		return Bank{}, err
	}
	b, ok := s.view.bank(q.BankID)
	if !ok {
		return Bank{}, notFound("bank", q.BankID)
	}
	return b, nil
}

func bankView(b Bank, n namer) dealsapi.BankView {
	v := dealsapi.BankView{
		BankID: b.ID, Name: b.Name, CreditLimit: b.CreditLimit, SingleBorrowerLimit: b.SingleBorrowerLimit, Exposure: b.Exposure(),
		Programmes: append([]dealsapi.Programme{}, b.Programmes...), Exposures: make([]dealsapi.ExposureView, len(b.Exposures)),
		OnboardedAt: b.OnboardedAt, UpdatedAt: b.UpdatedAt, Version: b.Version,
	}
	for i, e := range b.Exposures {
		v.Exposures[i] = dealsapi.ExposureView{DealID: e.DealID, BorrowerID: e.BorrowerID, BorrowerName: n.companyName(e.BorrowerID), Amount: e.Amount}
	}
	return v
}
