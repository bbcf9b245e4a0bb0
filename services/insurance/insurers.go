package insurance

import (
	"context"
	"fmt"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// onboardInsurer admits an insurer whose org exists with role insurer.
// The org is read from the log (its first event), the one place it is
// settled.
func (s *Service) onboardInsurer(ctx context.Context, req *svc.Request, cmd api.OnboardInsurer) (svc.Result[api.InsurerView], error) {
	if err := requireRole(req.Actor, "onboard insurers", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return svc.Result[api.InsurerView]{}, err
	}
	role, err := s.orgRole(ctx, cmd.InsurerID)
	if err != nil {
		return svc.Result[api.InsurerView]{}, err
	}
	if role != fundbridge.RoleInsurer {
		reason := "no org " + cmd.InsurerID + " exists; create it first with POST /api/v1/orgs and role insurer"
		if role != "" {
			reason = fmt.Sprintf("org %s is not an insurer: its role is %s", cmd.InsurerID, role)
		}
		e := fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "%s", reason)
		e.Fields = []fundbridge.FieldError{{Field: "insurer_id", Reason: reason}}
		return svc.Result[api.InsurerView]{}, e
	}
	res, t, err := s.tables.Execute(ctx, cmd.InsurerID, command(req), svc.CheckedBefore, func(t TableState) ([]events.Payload, error) {
		return decideOnboard(t, req.Actor, cmd)
	})
	if err != nil {
		return svc.Result[api.InsurerView]{}, refusal(err, "onboard", "insurer", cmd.InsurerID)
	}
	return svc.Result[api.InsurerView]{Value: insurerView(t), Position: res.Position, Version: res.LastVersion}, nil
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
	if created, ok := payload.(identityapi.OrgCreated); ok {
		return created.Role, nil
	}
	return "", nil
}

func (s *Service) getInsurer(ctx context.Context, req *svc.Request, q api.InsurerRef) (svc.Result[api.InsurerView], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[api.InsurerView]{}, err
	}
	t, ok := s.view.insurer(q.InsurerID)
	if !ok && req.Actor.Role == fundbridge.RoleSystem {
		// Another service checks an insurer an operator may have onboarded
		// a moment ago through another instance: catch up before saying no.
		if err := s.follower.CatchUp(ctx); err != nil {
			return svc.Result[api.InsurerView]{}, err
		}
		t, ok = s.view.insurer(q.InsurerID)
	}
	if !ok {
		return svc.Result[api.InsurerView]{}, notFound("insurer", q.InsurerID)
	}
	return svc.Result[api.InsurerView]{Value: insurerView(t), Position: s.follower.Position(), Version: t.Version}, nil
}

func (s *Service) listInsurers(ctx context.Context, _ *svc.Request, q api.ListInsurers) (svc.Result[api.InsurerList], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[api.InsurerList]{}, err
	}
	return svc.Result[api.InsurerList]{Value: s.view.insurers(q.Limit), Position: s.follower.Position()}, nil
}

// publishTable publishes an onboarded insurer's table: the insurer its
// own, an operator any; to another insurer the insurer does not exist.
func (s *Service) publishTable(ctx context.Context, req *svc.Request, cmd api.PublishRatingTable) (svc.Result[api.RatingTableView], error) {
	id := cmd.InsurerID
	if id == "" && req.Actor.Role == fundbridge.RoleInsurer {
		id = req.Actor.OrgID
	}
	if id == "" || req.Actor.Role == fundbridge.RoleInsurer && req.Actor.OrgID != id {
		return svc.Result[api.RatingTableView]{}, notFound("insurer", id)
	}
	authorize := func(t TableState) error {
		if !t.Onboarded() {
			return notFound("insurer", id)
		}
		return nil
	}
	res, t, err := s.tables.Execute(ctx, id, command(req), authorize, func(t TableState) ([]events.Payload, error) {
		return decidePublishTable(t, req.Actor, cmd)
	})
	if err != nil {
		return svc.Result[api.RatingTableView]{}, refusal(err, "publish rating table", "insurer", id)
	}
	return svc.Result[api.RatingTableView]{Value: tableView(t), Position: res.Position, Version: res.LastVersion}, nil
}

func (s *Service) getTable(ctx context.Context, _ *svc.Request, q api.InsurerRef) (svc.Result[api.RatingTableView], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[api.RatingTableView]{}, err
	}
	t, ok := s.view.insurer(q.InsurerID)
	if !ok {
		return svc.Result[api.RatingTableView]{}, notFound("insurer", q.InsurerID)
	}
	if !t.Exists() {
		return svc.Result[api.RatingTableView]{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "insurer %s has not published a rating table", q.InsurerID)
	}
	return svc.Result[api.RatingTableView]{Value: tableView(t), Position: s.follower.Position(), Version: t.Version}, nil
}
