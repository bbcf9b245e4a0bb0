// Package matching matches applications to fund mandates, ranks them for
// fund managers with reasons, and runs each fund's screening pipeline
// from a sourced match to a closed deal.
package matching

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = matchingapi.Name

// Service is the matching service.
type Service struct {
	store    events.Store
	registry *events.Registry
	client   *svc.Client
	log      *slog.Logger

	views    *views
	follower *projections.Follower
	reactor  *reactor
	deals    *svc.Repository[matchingapi.Deal]

	minBackoff, maxBackoff time.Duration
}

// Option configures a Service.
type Option func(*Service)

// WithClient is how the service reaches the applications and funds
// services. Without one, deals cannot close and the reactor waits.
func WithClient(c *svc.Client) Option { return func(s *Service) { s.client = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithRetryBackoff bounds the reactor's waits between retries (default
// 200ms doubling to 30s).
func WithRetryBackoff(min, max time.Duration) Option {
	return func(s *Service) { s.minBackoff, s.maxBackoff = min, max }
}

// New returns the service over the store. The registry must hold the
// events of applications, funds and matching (Register).
func New(store events.Store, registry *events.Registry, opts ...Option) *Service {
	s := &Service{store: store, registry: registry, log: slog.Default(), minBackoff: 200 * time.Millisecond, maxBackoff: 30 * time.Second}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("service", Name)
	s.views = newViews(registry)
	s.reactor = newReactor(s.views, s.client, s.log, s.minBackoff, s.maxBackoff)
	s.follower = projections.NewFollower(Name, store, func(e events.Event) error {
		tasks, err := s.views.apply(e)
		if err != nil {
			return err
		}
		s.reactor.add(tasks)
		return nil
	})
	s.deals = svc.NewRepository(store, registry, dealDecider(), svc.RepositoryOptions{Logger: s.log})
	return s
}

// Run follows the log from the start and works the reactor until ctx
// ends. The reactor starts acting once the views have caught up with the
// log as it stood at startup.
func (s *Service) Run(ctx context.Context) error {
	head, err := s.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("matching: read the log's head: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		s.reactor.run(ctx, func(ctx context.Context) error {
			for {
				err := s.follower.WaitFor(ctx, head)
				if err == nil || ctx.Err() != nil {
					return err
				}
			}
		})
	})
	err = s.follower.Run(ctx, 0)
	cancel()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	return nil
}

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	return svc.Service{Name: Name, Logger: s.log, Description: "Matches applications to fund mandates; the deal pipeline to closing",
		Operations: svc.Operations(
			svc.Handle(matchingapi.MatchesForFundEndpoint, s.matchesForFund),
			svc.Handle(matchingapi.MatchesForApplicationEndpoint, s.matchesForApplication),
			svc.Handle(matchingapi.SourceDealEndpoint, s.source),
			svc.Handle(matchingapi.AdvanceDealEndpoint, s.advance),
			svc.Handle(matchingapi.PassDealEndpoint, s.pass),
			svc.Handle(matchingapi.IssueTermSheetEndpoint, s.issueTermSheet),
			svc.Handle(matchingapi.AcceptTermSheetEndpoint, s.acceptTermSheet),
			svc.Handle(matchingapi.DeclineTermSheetEndpoint, s.declineTermSheet),
			svc.Handle(matchingapi.CloseDealEndpoint, s.close),
			svc.Handle(matchingapi.GetDealEndpoint, s.get),
			svc.Handle(matchingapi.ListDealsEndpoint, s.list),
		)}
}

func (s *Service) matchesForFund(ctx context.Context, req *svc.Request, q matchingapi.MatchesForFund) (svc.Result, error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result{}, err
	}
	out, err := s.views.fundMatches(req.Actor, q)
	return svc.Result{Value: out, Position: s.follower.Position()}, err
}

func (s *Service) matchesForApplication(ctx context.Context, req *svc.Request, q matchingapi.MatchesForApplication) (svc.Result, error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result{}, err
	}
	out, err := s.views.applicationMatches(req.Actor, q)
	return svc.Result{Value: out, Position: s.follower.Position()}, err
}

func (s *Service) get(ctx context.Context, req *svc.Request, q matchingapi.GetDeal) (svc.Result, error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result{}, err
	}
	d, err := s.views.deal(req.Actor, q.DealID)
	return svc.Result{Value: d, Version: d.Version}, err
}

func (s *Service) list(ctx context.Context, req *svc.Request, q matchingapi.ListDeals) (svc.Result, error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result{}, err
	}
	return svc.Result{Value: s.views.listDeals(req.Actor, q), Position: s.follower.Position()}, nil
}

func (s *Service) source(ctx context.Context, req *svc.Request, c matchingapi.SourceDeal) (svc.Result, error) {
	src, err := s.views.sourcing(req.Actor, c)
	if err != nil {
		return svc.Result{}, err
	}
	// sourcing checked that the actor manages the fund and may see the application.
	return s.execute(ctx, req, matchingapi.DealID(c.FundID, c.ApplicationID), svc.CheckedBefore, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideSource(d, src)
	})
}

func (s *Service) advance(ctx context.Context, req *svc.Request, c matchingapi.AdvanceDeal) (svc.Result, error) {
	return s.execute(ctx, req, c.DealID, func(d matchingapi.Deal) error { return s.managedBy(req.Actor, d, c.DealID) }, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideAdvance(d, c)
	})
}

func (s *Service) pass(ctx context.Context, req *svc.Request, c matchingapi.PassDeal) (svc.Result, error) {
	return s.execute(ctx, req, c.DealID, func(d matchingapi.Deal) error { return s.managedBy(req.Actor, d, c.DealID) }, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decidePass(d, c)
	})
}

func (s *Service) issueTermSheet(ctx context.Context, req *svc.Request, c matchingapi.IssueTermSheet) (svc.Result, error) {
	return s.execute(ctx, req, c.DealID, func(d matchingapi.Deal) error { return s.managedBy(req.Actor, d, c.DealID) }, func(d matchingapi.Deal) ([]events.Payload, error) {
		f, _ := s.views.fund(d.FundID)
		return decideIssueTermSheet(d, f, c)
	})
}

func (s *Service) acceptTermSheet(ctx context.Context, req *svc.Request, c matchingapi.AcceptTermSheet) (svc.Result, error) {
	return s.execute(ctx, req, c.DealID, func(d matchingapi.Deal) error { return ownedBy(req.Actor, d, c.DealID) }, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideAcceptTermSheet(d)
	})
}

func (s *Service) declineTermSheet(ctx context.Context, req *svc.Request, c matchingapi.DeclineTermSheet) (svc.Result, error) {
	return s.execute(ctx, req, c.DealID, func(d matchingapi.Deal) error { return ownedBy(req.Actor, d, c.DealID) }, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideDeclineTermSheet(d, c)
	})
}

// close has the fund commit the capital, then closes the deal. It runs
// inside the deal's command, so nothing else moves the deal meanwhile in
// this process; a retry commits once, by the deal's key.
func (s *Service) close(ctx context.Context, req *svc.Request, c matchingapi.CloseDeal) (svc.Result, error) {
	return s.execute(ctx, req, c.DealID, func(d matchingapi.Deal) error { return s.managedBy(req.Actor, d, c.DealID) }, func(d matchingapi.Deal) ([]events.Payload, error) {
		closing, err := decideClose(d)
		if err != nil {
			return nil, err
		}
		if s.client == nil {
			return nil, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "the funds service is not reachable from matching")
		}
		commit, capital := commitRequest(req, d)
		if _, _, err := svc.Call(ctx, s.client, fundsapi.CommitCapitalEndpoint, commit, capital); err != nil {
			return nil, err // the funds service's refusal, as it is
		}
		return closing, nil
	})
}

// execute runs a deal command and replies with the deal as it now is.
// authorize runs before anything that could tell the caller the deal
// exists (an idempotent replay, an If-Match mismatch, a conflict).
func (s *Service) execute(ctx context.Context, req *svc.Request, dealID string, authorize svc.Authorize[matchingapi.Deal], decide func(matchingapi.Deal) ([]events.Payload, error)) (svc.Result, error) {
	cmd := svc.Command{
		Meta:     events.Meta{Actor: req.Actor, CorrelationID: req.CorrelationID, CausationID: req.ID, IdempotencyKey: req.IdempotencyKey},
		Expected: req.ExpectedVersion,
	}
	res, d, err := s.deals.Execute(ctx, dealID, cmd, authorize, decide)
	if err != nil {
		return svc.Result{}, err
	}
	return svc.Result{Value: d, Position: res.Position, Version: res.LastVersion}, nil
}

// managedBy admits the manager of the deal's fund (and the platform);
// to anyone else the deal does not exist.
func (s *Service) managedBy(actor fundbridge.Actor, d matchingapi.Deal, id string) error {
	if dealExists(d) {
		if f, ok := s.views.fund(d.FundID); ok && manages(actor, f) {
			return nil
		}
	}
	return fundbridge.Errorf(fundbridge.ENOTFOUND, "no deal %s", id)
}

// ownedBy admits the startup that applied (and the platform).
func ownedBy(actor fundbridge.Actor, d matchingapi.Deal, id string) error {
	if dealExists(d) && (actor.Role == fundbridge.RoleSystem || actor.OrgID != "" && actor.OrgID == d.CompanyID) {
		return nil
	}
	return fundbridge.Errorf(fundbridge.ENOTFOUND, "no deal %s", id)
}
