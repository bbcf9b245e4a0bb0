// Package matching matches applications to fund mandates, ranks them for
// fund managers with reasons, and runs each fund's screening pipeline
// from a sourced match to a closed deal.
package matching

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/process"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
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
	follower *viewstate.View
	deals    *svc.Repository[matchingapi.Deal]

	// nc, when set, runs the managers of the closing and matchmaking
	// processes beside the service; closings and matchmaking are those
	// managers once they are open.
	nc          *nats.Conn
	closings    atomic.Pointer[process.Manager[Closing]]
	matchmaking atomic.Pointer[process.Manager[Matchmaking]]

	minBackoff, maxBackoff time.Duration
}

type config struct {
	client                 *svc.Client
	nc                     *nats.Conn
	log                    *slog.Logger
	checkpoints            string
	minBackoff, maxBackoff time.Duration
}

// Option tunes a Service.
type Option func(*config)

// WithClient is how the service's processes (closing, matchmaking) reach
// the applications and funds services. Without one neither can start.
func WithClient(cl *svc.Client) Option { return func(c *config) { c.client = cl } }

// WithClosingProcess runs the managers of the closing process (see
// closing.go) and of the matchmaking process (matchmaking.go) in this
// component, on nc, which reaches JetStream for their leases, checkpoints
// and deadlines. Every instance of the service may run them: one of each
// is active, the others stand by. Without it deals cannot close and the
// applications service is told no matches.
func WithClosingProcess(nc *nats.Conn) Option { return func(c *config) { c.nc = nc } }

// WithCheckpoints keeps the views' checkpoint (the match engine's inputs,
// the applications' lifecycles, the deals) in dir, so a restart folds only
// the log's tail; "" (the default) folds from 0 each start.
func WithCheckpoints(dir string) Option { return func(c *config) { c.checkpoints = dir } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithRetryBackoff bounds the waits between attempts to open the process
// managers (default
// 200ms doubling to 30s).
func WithRetryBackoff(min, max time.Duration) Option {
	return func(c *config) { c.minBackoff, c.maxBackoff = min, max }
}

// New returns the service over the store. The registry must hold the
// events of applications, funds and matching (Register).
func New(store events.Store, registry *events.Registry, opts ...Option) *Service {
	c := config{log: slog.Default(), minBackoff: 200 * time.Millisecond, maxBackoff: 30 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	s := &Service{store: store, registry: registry, client: c.client, nc: c.nc, log: c.log.With("service", Name), minBackoff: c.minBackoff, maxBackoff: c.maxBackoff}
	s.views = newViews(registry)
	s.follower = viewstate.New(Name, store, s.views, s.views.apply,
		viewstate.Options{Dir: c.checkpoints, Version: viewsVersion, Logger: s.log})
	s.deals = svc.NewRepository(store, registry, dealDecider(), svc.RepositoryOptions{Logger: s.log})
	return s
}

// Run follows the log from the views' checkpoint (or the start) and runs
// the process managers beside it until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if s.nc != nil {
		wg.Go(func() { runManager(ctx, s, ClosingProcess(), process.Options{}, &s.closings) })
		// A type of its own for the matchmaking streams: "process" is
		// shared with the deals service, whose user must not write them.
		wg.Go(func() {
			runManager(ctx, s, MatchmakingProcess(), process.Options{Aggregate: MatchmakingAggregate}, &s.matchmaking)
		})
	}
	err := s.follower.Run(ctx)
	cancel()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	return nil
}

// Active reports whether this instance's matchmaking manager holds its
// lease: the one instance that tells the applications service of matches.
func (s *Service) Active() bool {
	m := s.matchmaking.Load()
	return m != nil && m.Active()
}

// runManager opens a process's manager (trying again while JetStream does
// not answer), publishes it in *open and runs it until ctx ends. Until it
// is open, what needs it answers that it is unavailable (deal.close).
func runManager[S any](ctx context.Context, s *Service, def process.Definition[S], opts process.Options, open *atomic.Pointer[process.Manager[S]]) {
	if s.client == nil {
		s.log.Error("the process needs a client (WithClient); it does not run", "process", def.Name)
		return
	}
	opts.Store, opts.Registry, opts.Conn, opts.Sender, opts.Logger = s.store, s.registry, s.nc, s.client, s.log
	// Matching's own system actor: what its system client may send.
	opts.Actor = svc.SystemActor(Name)
	wait := s.minBackoff
	for {
		m, err := process.New(ctx, def, opts)
		if err == nil {
			open.Store(m)
			if err := m.Run(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("process manager stopped", "process", def.Name, "err", err)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("process manager not open; trying again", "process", def.Name, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, s.maxBackoff)
	}
}

// Position is the log position the service's views reflect; a process
// is ready once it reaches the log's head at start.
func (s *Service) Position() uint64 { return s.follower.Position() }

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	return svc.Service{Name: Name, Logger: s.log, Description: "Matches applications to fund mandates; the deal pipeline to closing",
		Operations: svc.Operations(
			svc.Handle(matchingapi.MatchesForFundEndpoint, s.matchesForFund),
			svc.Handle(matchingapi.MatchesForApplicationEndpoint, s.matchesForApplication),
			svc.Handle(matchingapi.MatchesForProgrammeEndpoint, s.matchesForProgramme),
			svc.Handle(matchingapi.PairsEndpoint, s.pairs),
			svc.Handle(matchingapi.SourceDealEndpoint, s.source),
			svc.Handle(matchingapi.AdvanceDealEndpoint, s.advance),
			svc.Handle(matchingapi.PassDealEndpoint, s.pass),
			svc.Handle(matchingapi.IssueTermSheetEndpoint, s.issueTermSheet),
			svc.Handle(matchingapi.AcceptTermSheetEndpoint, s.acceptTermSheet),
			svc.Handle(matchingapi.DeclineTermSheetEndpoint, s.declineTermSheet),
			svc.Handle(matchingapi.CloseDealEndpoint, s.close),
			svc.Handle(matchingapi.HoldClosingEndpoint, s.holdClosing),
			svc.Handle(matchingapi.CompleteClosingEndpoint, s.completeClosing),
			svc.Handle(matchingapi.AbandonClosingEndpoint, s.abandonClosing),
			svc.Handle(matchingapi.PlanMatchesEndpoint, s.planMatches),
			svc.Handle(matchingapi.GetDealEndpoint, s.get),
			svc.Handle(matchingapi.ListDealsEndpoint, s.list),
		)}
}

func (s *Service) matchesForFund(ctx context.Context, req *svc.Request, q matchingapi.MatchesForFund) (svc.Result[matchingapi.FundMatches], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[matchingapi.FundMatches]{}, err
	}
	out, err := s.views.fundMatches(req.Actor, q)
	return svc.Result[matchingapi.FundMatches]{Value: out, Position: s.follower.Position()}, err
}

func (s *Service) matchesForApplication(ctx context.Context, req *svc.Request, q matchingapi.MatchesForApplication) (svc.Result[matchingapi.ApplicationMatches], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[matchingapi.ApplicationMatches]{}, err
	}
	out, err := s.views.applicationMatches(req.Actor, q)
	return svc.Result[matchingapi.ApplicationMatches]{Value: out, Position: s.follower.Position()}, err
}

func (s *Service) matchesForProgramme(ctx context.Context, req *svc.Request, q matchingapi.MatchesForProgramme) (svc.Result[matchingapi.ProgrammeMatches], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[matchingapi.ProgrammeMatches]{}, err
	}
	out, err := s.views.programmeMatches(req.Actor, q)
	return svc.Result[matchingapi.ProgrammeMatches]{Value: out, Position: s.follower.Position()}, err
}

func (s *Service) pairs(ctx context.Context, req *svc.Request, q matchingapi.PairsForApplication) (svc.Result[matchingapi.Pairs], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[matchingapi.Pairs]{}, err
	}
	out, err := s.views.pairs(req.Actor, q)
	return svc.Result[matchingapi.Pairs]{Value: out, Position: s.follower.Position()}, err
}

func (s *Service) get(ctx context.Context, req *svc.Request, q matchingapi.GetDeal) (svc.Result[matchingapi.Deal], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[matchingapi.Deal]{}, err
	}
	d, err := s.views.deal(req.Actor, q.DealID)
	return svc.Result[matchingapi.Deal]{Value: d, Version: d.Version}, err
}

func (s *Service) list(ctx context.Context, req *svc.Request, q matchingapi.ListDeals) (svc.Result[matchingapi.DealList], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[matchingapi.DealList]{}, err
	}
	list, err := s.views.listDeals(req.Actor, q)
	if err != nil {
		return svc.Result[matchingapi.DealList]{}, err
	}
	return svc.Result[matchingapi.DealList]{Value: list, Position: s.follower.Position()}, nil
}

func (s *Service) source(ctx context.Context, req *svc.Request, c matchingapi.SourceDeal) (svc.Result[matchingapi.Deal], error) {
	src, err := s.views.sourcing(req.Actor, c)
	if fundbridge.ErrorCode(err) == fundbridge.ENOTFOUND {
		// Another matching instance (whose matchmaking marked the match) may
		// be a little ahead of this one: catch up with the log as it is
		// now, and look again.
		if err := s.follower.CatchUp(ctx); err != nil {
			return svc.Result[matchingapi.Deal]{}, err
		}
		src, err = s.views.sourcing(req.Actor, c)
	}
	if err != nil {
		return svc.Result[matchingapi.Deal]{}, err
	}
	// sourcing checked that the actor manages the fund and may see the application.
	return s.execute(ctx, req, matchingapi.DealID(c.FundID, c.ApplicationID), svc.CheckedBefore, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideSource(d, src)
	})
}

func (s *Service) advance(ctx context.Context, req *svc.Request, c matchingapi.AdvanceDeal) (svc.Result[matchingapi.Deal], error) {
	return s.execute(ctx, req, c.DealID, s.movable(s.managedBy, req.Actor, c.DealID), func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideAdvance(d, c)
	})
}

func (s *Service) pass(ctx context.Context, req *svc.Request, c matchingapi.PassDeal) (svc.Result[matchingapi.Deal], error) {
	return s.execute(ctx, req, c.DealID, func(d matchingapi.Deal) error { return s.managedBy(req.Actor, d, c.DealID) }, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decidePass(d, c)
	})
}

func (s *Service) issueTermSheet(ctx context.Context, req *svc.Request, c matchingapi.IssueTermSheet) (svc.Result[matchingapi.Deal], error) {
	return s.execute(ctx, req, c.DealID, s.movable(s.managedBy, req.Actor, c.DealID), func(d matchingapi.Deal) ([]events.Payload, error) {
		f, _ := s.views.fund(d.FundID)
		return decideIssueTermSheet(d, f, c)
	})
}

func (s *Service) acceptTermSheet(ctx context.Context, req *svc.Request, c matchingapi.AcceptTermSheet) (svc.Result[matchingapi.Deal], error) {
	return s.execute(ctx, req, c.DealID, s.movable(ownedBy, req.Actor, c.DealID), func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideAcceptTermSheet(d)
	})
}

func (s *Service) declineTermSheet(ctx context.Context, req *svc.Request, c matchingapi.DeclineTermSheet) (svc.Result[matchingapi.Deal], error) {
	return s.execute(ctx, req, c.DealID, func(d matchingapi.Deal) error { return ownedBy(req.Actor, d, c.DealID) }, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideDeclineTermSheet(d, c)
	})
}

// close starts the deal's closing process and answers once it has ended:
// with the deal as closed and a position after which every view shows the
// funding (the process's last commit comes after every event it caused),
// or with the refusal that stopped it, once what it took is released.
// A retry with the same idempotency key waits for the same process.
func (s *Service) close(ctx context.Context, req *svc.Request, c matchingapi.CloseDeal) (svc.Result[matchingapi.Deal], error) {
	m := s.closings.Load()
	if m == nil {
		return svc.Result[matchingapi.Deal]{}, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "deals cannot close yet: the closing process is not running")
	}
	started, err := s.execute(ctx, req, c.DealID, func(d matchingapi.Deal) error { return s.managedBy(req.Actor, d, c.DealID) }, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideStartClosing(d, closingProcessID(d.ID, d.Version+1))
	})
	if err != nil {
		return svc.Result[matchingapi.Deal]{}, err
	}
	id := closingProcessID(c.DealID, started.Version)
	in, err := m.Await(ctx, id)
	if err != nil {
		return svc.Result[matchingapi.Deal]{}, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "deal %s is still closing (process %s): read the deal to see how it ends", c.DealID, id)
	}
	if in.Status != process.Completed {
		code := fundbridge.ECONFLICT
		if r := in.State.Refusal; r != nil && r.Code == fundbridge.EUNPROCESSABLE {
			code = r.Code
		}
		return svc.Result[matchingapi.Deal]{}, fundbridge.Errorf(code, "deal %s did not close: %s", c.DealID, in.Reason)
	}
	if err := s.follower.WaitFor(ctx, in.Position); err != nil {
		return svc.Result[matchingapi.Deal]{}, err
	}
	d, err := s.views.deal(req.Actor, c.DealID)
	return svc.Result[matchingapi.Deal]{Value: d, Position: in.Position, Version: d.Version}, err
}

// The closing process's steps on the deal. Handle admits the platform
// only (the endpoints' roles), so the deal's state adds nothing to check.

func (s *Service) holdClosing(ctx context.Context, req *svc.Request, c matchingapi.ClosingStep) (svc.Result[matchingapi.Deal], error) {
	return s.execute(ctx, req, c.DealID, svc.CheckedBefore, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideHoldClosing(d, c)
	})
}

func (s *Service) completeClosing(ctx context.Context, req *svc.Request, c matchingapi.ClosingStep) (svc.Result[matchingapi.Deal], error) {
	return s.execute(ctx, req, c.DealID, svc.CheckedBefore, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideCompleteClosing(d, c)
	})
}

// abandonClosing records why the closing failed, as its process says.
func (s *Service) abandonClosing(ctx context.Context, req *svc.Request, c matchingapi.ClosingStep) (svc.Result[matchingapi.Deal], error) {
	reason := "the closing did not complete"
	if m := s.closings.Load(); m != nil {
		if in, err := m.Load(ctx, c.Process); err == nil && in.Reason != "" {
			reason = in.Reason
		}
	}
	return s.execute(ctx, req, c.DealID, svc.CheckedBefore, func(d matchingapi.Deal) ([]events.Payload, error) {
		return decideAbandonClosing(d, c, reason)
	})
}

// execute runs a deal command and replies with the deal as it now is.
// authorize runs before anything that could tell the caller the deal
// exists (an idempotent replay, an If-Match mismatch, a conflict).
func (s *Service) execute(ctx context.Context, req *svc.Request, dealID string, authorize svc.Authorize[matchingapi.Deal], decide func(matchingapi.Deal) ([]events.Payload, error)) (svc.Result[matchingapi.Deal], error) {
	cmd := svc.Command{
		Meta:     events.Meta{Actor: req.Actor, CorrelationID: req.CorrelationID, CausationID: req.ID, Command: req.Op, IdempotencyKey: req.IdempotencyKey},
		Expected: req.ExpectedVersion,
	}
	res, d, err := s.deals.Execute(ctx, dealID, cmd, authorize, decide)
	if err != nil {
		return svc.Result[matchingapi.Deal]{}, err
	}
	d.CompanyName = s.views.companyName(d.CompanyID)
	return svc.Result[matchingapi.Deal]{Value: d, Position: res.Position, Version: res.LastVersion}, nil
}

// movable authorizes a step forward on a deal: the actor passes may, and
// the deal's application is still open. A withdrawn application's deal
// can only be passed, not moved on, given a term sheet or accepted.
func (s *Service) movable(may func(fundbridge.Actor, matchingapi.Deal, string) error, actor fundbridge.Actor, id string) svc.Authorize[matchingapi.Deal] {
	return func(d matchingapi.Deal) error {
		if err := may(actor, d, id); err != nil {
			return err
		}
		if s.views.appStatus(d.ApplicationID) == statusWithdrawn {
			return fundbridge.Errorf(fundbridge.ECONFLICT, "application %s was withdrawn: deal %s can only be passed", d.ApplicationID, id)
		}
		return nil
	}
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
