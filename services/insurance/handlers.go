package insurance

import (
	"context"
	"errors"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// request records a startup's request after gathering its facts.
func (s *Service) request(ctx context.Context, req *svc.Request, cmd api.RequestInsurance) (svc.Result[api.RequestView], error) {
	if err := requireRole(req.Actor, "request insurance", fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return svc.Result[api.RequestView]{}, err
	}
	facts, err := s.requestFacts(ctx, req, cmd)
	if err != nil {
		return svc.Result[api.RequestView]{}, err
	}
	id := req.NewID(api.OpRequest)
	res, r, err := s.requests.Execute(ctx, id, command(req), svc.CheckedBefore, func(r Request) ([]events.Payload, error) {
		return decideRequest(r, req.Actor, id, cmd, facts, s.now())
	})
	if err != nil {
		return svc.Result[api.RequestView]{}, refusal(err, "request", "insurance request", id)
	}
	return svc.Result[api.RequestView]{Value: requestView(r, req.Actor, s.view), Position: res.Position, Version: res.LastVersion}, nil
}

// quote decides an insurer's quote against its current table.
func (s *Service) quote(ctx context.Context, req *svc.Request, cmd api.QuoteInsurance) (svc.Result[api.RequestView], error) {
	insurer := cmd.InsurerID
	if req.Actor.Role == fundbridge.RoleInsurer {
		insurer = req.Actor.OrgID
	}
	var table TableState
	if insurer != "" {
		t, _, err := fresh(ctx, s, tableDecider(), insurer)
		if err != nil {
			return svc.Result[api.RequestView]{}, err
		}
		table = t
	}
	return onRequest(s, func(c api.QuoteInsurance) string { return c.RequestID },
		func(r Request, a fundbridge.Actor, c api.QuoteInsurance, now time.Time) ([]events.Payload, error) {
			if !table.Exists() {
				return decideQuote(r, a, c, api.RatingTable{}, 0, now)
			}
			return decideQuote(r, a, c, table.Table, table.Version, now)
		})(ctx, req, cmd)
}

func (s *Service) getRequest(ctx context.Context, req *svc.Request, q api.RequestRef) (svc.Result[api.RequestView], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[api.RequestView]{}, err
	}
	r, ok := s.view.request(q.RequestID)
	if !ok || !r.visible(req.Actor) {
		return svc.Result[api.RequestView]{}, notFound("insurance request", q.RequestID)
	}
	return svc.Result[api.RequestView]{Value: requestView(r, req.Actor, s.view), Position: s.follower.Position(), Version: r.Version}, nil
}

func (s *Service) listRequests(ctx context.Context, req *svc.Request, q api.ListRequests) (svc.Result[api.RequestList], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[api.RequestList]{}, err
	}
	page, err := s.view.listRequests(req.Actor, q)
	if err != nil {
		return svc.Result[api.RequestList]{}, err
	}
	return svc.Result[api.RequestList]{Value: page, Position: s.follower.Position()}, nil
}

// accept takes a quote, binds its policy and draws its subsidy, each
// step idempotent, so that a retry (or the policy process, after a
// crash) completes what a first attempt began. The reply's position
// covers every event the steps appended.
func (s *Service) accept(ctx context.Context, req *svc.Request, cmd api.AcceptQuote) (svc.Result[api.PolicyView], error) {
	authorize := func(r Request) error {
		if !r.Exists() || !r.visible(req.Actor) {
			return notFound("insurance request", cmd.RequestID)
		}
		return nil
	}
	// The patents are fixed when the request is made; their standing is
	// read here, at the edge, not while the request's stream is held.
	known, err := s.requests.Load(ctx, cmd.RequestID)
	if err != nil {
		return svc.Result[api.PolicyView]{}, refusal(err, "accept", "insurance request", cmd.RequestID)
	}
	disputed, err := s.disputed(ctx, known.State)
	if err != nil {
		return svc.Result[api.PolicyView]{}, err
	}
	res, r, err := s.requests.Execute(ctx, cmd.RequestID, command(req), authorize, func(r Request) ([]events.Payload, error) {
		return decideAccept(r, req.Actor, cmd, s.now(), disputed)
	})
	if err != nil {
		return svc.Result[api.PolicyView]{}, refusal(err, "accept", "insurance request", cmd.RequestID)
	}
	out, err := s.bind(ctx, req, r, api.BindPolicy{RequestID: r.ID, QuoteID: cmd.QuoteID})
	out.Position = max(out.Position, res.Position)
	return out, err
}

// disputed reads the recorded standing of the request's patents, as they
// are now: those in dispute. An operator may have recorded a dispute
// since the request was made.
func (s *Service) disputed(ctx context.Context, r Request) (map[string]bool, error) {
	var out map[string]bool
	for _, p := range r.Patents {
		st, _, err := fresh(ctx, s, standingDecider(), standingID(p.Number))
		if err != nil {
			return nil, err
		}
		if st.InDispute {
			if out == nil {
				out = map[string]bool{}
			}
			out[p.Number] = true
		}
	}
	return out, nil
}

// bindPolicy is the policy process's (or an operator's) bind of an
// accepted quote whose policy was not bound.
func (s *Service) bindPolicy(ctx context.Context, req *svc.Request, cmd api.BindPolicy) (svc.Result[api.PolicyView], error) {
	r, _, err := fresh(ctx, s, requestDecider(), cmd.RequestID)
	if err != nil {
		return svc.Result[api.PolicyView]{}, err
	}
	if !r.Exists() || !r.visible(req.Actor) {
		return svc.Result[api.PolicyView]{}, notFound("insurance request", cmd.RequestID)
	}
	return s.bind(ctx, req, r, cmd)
}

func (s *Service) bind(ctx context.Context, req *svc.Request, r Request, cmd api.BindPolicy) (svc.Result[api.PolicyView], error) {
	actor, c := byPlatform(req, "bind")
	id := PolicyID(cmd.QuoteID)
	res, p, err := s.policies.Execute(ctx, id, c, svc.CheckedBefore, func(p Policy) ([]events.Payload, error) {
		return decideBind(p, actor, id, cmd, r, s.now())
	})
	if err != nil {
		return svc.Result[api.PolicyView]{}, refusal(err, "bind", "policy", id)
	}
	p, pos, err := s.subsidize(ctx, req, p)
	if err != nil {
		return svc.Result[api.PolicyView]{}, err
	}
	return svc.Result[api.PolicyView]{Value: policyView(p, s.view), Position: max(res.Position, pos), Version: p.Version}, nil
}

// subsidize draws a newly bound policy's subsidy from the first
// programme it is eligible for that still has budget (in programme ID
// order, the same on every instance), then records it on the policy. A
// programme that refuses (budget spent by a racing bind, the company's
// cap reached) is passed over for the next. The draw is decided on the
// programme's stream at its version, so however many binds race on
// however many instances, the budget is never overdrawn.
func (s *Service) subsidize(ctx context.Context, req *svc.Request, p Policy) (Policy, uint64, error) {
	if p.ProgrammeID != "" || p.Status != PolicyAwaitingPremium {
		return p, 0, nil
	}
	actor, c := byPlatform(req, "subsidy")
	var pos uint64
	for _, g := range s.view.openProgrammes(p) {
		draw := api.DrawSubsidy{ProgrammeID: g.ID, PolicyID: p.ID, CompanyID: p.CompanyID, City: p.City, Coverage: p.Coverage,
			Premium: p.Premium, StartsOn: day(p.StartsOn)}
		c.Meta.IdempotencyKey = ""
		res, g, err := s.programmes.Execute(ctx, g.ID, c, svc.CheckedBefore, func(g Programme) ([]events.Payload, error) {
			return decideDraw(g, actor, draw)
		})
		var budget *BudgetExhaustedError
		switch {
		case errors.As(err, &budget), fundbridge.ErrorCode(err) == fundbridge.EUNPROCESSABLE, fundbridge.ErrorCode(err) == fundbridge.ECONFLICT:
			continue
		case err != nil:
			return p, pos, refusal(err, "draw subsidy", "subsidy programme", g.ID)
		}
		pos = max(pos, res.Position)
		d, _, ok := g.draw(p.ID)
		if !ok || !d.Amount.IsPositive() {
			continue
		}
		apply := api.ApplySubsidy{PolicyID: p.ID, ProgrammeID: g.ID, Amount: d.Amount}
		res, p, err = s.executePolicy(ctx, p.ID, c, actor, func(p Policy) ([]events.Payload, error) {
			return decideApplySubsidy(p, actor, apply)
		})
		if err != nil {
			return p, pos, err
		}
		return p, max(pos, res.Position), nil
	}
	return p, pos, nil
}

func (s *Service) getPolicy(ctx context.Context, req *svc.Request, q api.PolicyRef) (svc.Result[api.PolicyView], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[api.PolicyView]{}, err
	}
	p, ok := s.view.policy(q.PolicyID)
	if !ok || !p.visible(req.Actor) {
		return svc.Result[api.PolicyView]{}, notFound("policy", q.PolicyID)
	}
	return svc.Result[api.PolicyView]{Value: policyView(p, s.view), Position: s.follower.Position(), Version: p.Version}, nil
}

func (s *Service) listPolicies(ctx context.Context, req *svc.Request, q api.ListPolicies) (svc.Result[api.PolicyList], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[api.PolicyList]{}, err
	}
	page, err := s.view.listPolicies(req.Actor, q)
	if err != nil {
		return svc.Result[api.PolicyList]{}, err
	}
	return svc.Result[api.PolicyList]{Value: page, Position: s.follower.Position()}, nil
}

// cancel ends cover and gives the programme back its part of the refund.
func (s *Service) cancel(ctx context.Context, req *svc.Request, cmd api.CancelPolicy) (svc.Result[api.PolicyView], error) {
	res, p, err := s.executePolicy(ctx, cmd.PolicyID, command(req), req.Actor, func(p Policy) ([]events.Payload, error) {
		return decideCancel(p, req.Actor, cmd, s.now())
	})
	if err != nil {
		return svc.Result[api.PolicyView]{}, err
	}
	pos := res.Position
	if c := p.Cancellation; c != nil && c.RefundToProgramme.IsPositive() {
		actor, pc := byPlatform(req, "return")
		rr, err := s.executeReturn(ctx, actor, pc, api.ReturnSubsidy{ProgrammeID: c.SubsidyProgrammeID, PolicyID: p.ID, Amount: c.RefundToProgramme})
		if err != nil {
			return svc.Result[api.PolicyView]{}, err
		}
		pos = max(pos, rr.Position)
	}
	return svc.Result[api.PolicyView]{Value: policyView(p, s.view), Position: pos, Version: p.Version}, nil
}

// returnSubsidy is the policy process's return of a cancelled policy's
// refund to its programme, should the cancellation's own have been lost.
func (s *Service) returnSubsidy(ctx context.Context, req *svc.Request, cmd api.ReturnSubsidy) (svc.Result[api.ProgrammeView], error) {
	res, err := s.executeReturn(ctx, req.Actor, command(req), cmd)
	if err != nil {
		return svc.Result[api.ProgrammeView]{}, err
	}
	g, err := s.programmes.Load(ctx, cmd.ProgrammeID)
	if err != nil {
		return svc.Result[api.ProgrammeView]{}, refusal(err, "return subsidy", "subsidy programme", cmd.ProgrammeID)
	}
	return svc.Result[api.ProgrammeView]{Value: programmeView(g.State, req.Actor), Position: res.Position, Version: g.Version}, nil
}

func (s *Service) executeReturn(ctx context.Context, actor fundbridge.Actor, c svc.Command, ret api.ReturnSubsidy) (events.AppendResult, error) {
	res, _, err := s.programmes.Execute(ctx, ret.ProgrammeID, c, svc.CheckedBefore, func(g Programme) ([]events.Payload, error) {
		return decideReturn(g, actor, ret)
	})
	if err != nil {
		return res, refusal(err, "return subsidy", "subsidy programme", ret.ProgrammeID)
	}
	return res, nil
}

func (s *Service) createProgramme(ctx context.Context, req *svc.Request, cmd api.CreateSubsidyProgramme) (svc.Result[api.ProgrammeView], error) {
	id := req.NewID(api.OpCreateProgramme)
	res, g, err := s.programmes.Execute(ctx, id, command(req), svc.CheckedBefore, func(g Programme) ([]events.Payload, error) {
		return decideCreateProgramme(g, req.Actor, id, cmd)
	})
	if err != nil {
		return svc.Result[api.ProgrammeView]{}, refusal(err, "create", "subsidy programme", id)
	}
	return svc.Result[api.ProgrammeView]{Value: programmeView(g, req.Actor), Position: res.Position, Version: res.LastVersion}, nil
}

func (s *Service) closeProgramme(ctx context.Context, req *svc.Request, cmd api.CloseSubsidyProgramme) (svc.Result[api.ProgrammeView], error) {
	authorize := func(g Programme) error {
		if !g.Exists() {
			return notFound("subsidy programme", cmd.ProgrammeID)
		}
		return nil
	}
	res, g, err := s.programmes.Execute(ctx, cmd.ProgrammeID, command(req), authorize, func(g Programme) ([]events.Payload, error) {
		return decideCloseProgramme(g, req.Actor, cmd)
	})
	if err != nil {
		return svc.Result[api.ProgrammeView]{}, refusal(err, "close", "subsidy programme", cmd.ProgrammeID)
	}
	return svc.Result[api.ProgrammeView]{Value: programmeView(g, req.Actor), Position: res.Position, Version: res.LastVersion}, nil
}

func (s *Service) getProgramme(ctx context.Context, req *svc.Request, q api.ProgrammeRef) (svc.Result[api.ProgrammeView], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[api.ProgrammeView]{}, err
	}
	g, ok := s.view.programme(q.ProgrammeID)
	if !ok {
		return svc.Result[api.ProgrammeView]{}, notFound("subsidy programme", q.ProgrammeID)
	}
	return svc.Result[api.ProgrammeView]{Value: programmeView(g, req.Actor), Position: s.follower.Position(), Version: g.Version}, nil
}

func (s *Service) listProgrammes(ctx context.Context, req *svc.Request, q api.ListProgrammes) (svc.Result[api.ProgrammeList], error) {
	if err := s.waitFor(ctx, q.After); err != nil {
		return svc.Result[api.ProgrammeList]{}, err
	}
	return svc.Result[api.ProgrammeList]{Value: s.view.listProgrammes(req.Actor, q.Limit), Position: s.follower.Position()}, nil
}
