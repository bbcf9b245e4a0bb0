// Package funds owns funds: their registration, mandates, commitments of
// capital to deals and the dry powder left, and the views fund managers
// and operators read them from.
package funds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// Name is the service's name on the bus.
const Name = fundsapi.Name

// Service decides fund commands and answers fund queries.
type Service struct {
	store    events.Store
	registry *events.Registry
	repo     *svc.Repository[fund]
	view     *view
	follower *viewstate.View
	log      *slog.Logger
}

type config struct {
	repo  svc.RepositoryOptions
	log   *slog.Logger
	views viewstate.Options
}

// Option tunes a Service.
type Option func(*config)

// WithSnapshots keeps fund snapshots, so long-lived funds load fast.
func WithSnapshots(s svc.SnapshotStore) Option {
	return func(c *config) { c.repo.Snapshots = s }
}

// WithCheckpoints keeps the views' checkpoint in dir, so a restart
// folds only the log's tail; "" (the default) folds from 0 each start.
func WithCheckpoints(dir string) Option {
	return func(c *config) { c.views.Dir = dir }
}

// WithLogger logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}

// WithRetries sets how often a command is retried from fresh state when
// another instance wrote the fund first. Default 10: commitments to one
// popular fund arrive together.
func WithRetries(n int) Option {
	return func(c *config) { c.repo.Retries = n }
}

// New returns the service over store. The registry must be the one the
// store validates with; the service's event types are added to it if the
// caller has not registered them.
func New(store events.Store, registry *events.Registry, opts ...Option) *Service {
	c := config{repo: svc.RepositoryOptions{Retries: 10}, log: slog.Default()}
	for _, o := range opts {
		o(&c)
	}
	c.repo.Logger = c.log
	if !registry.Readable(fundsapi.FundRegistered{}.EventType()) {
		fundsapi.Register(registry)
	}
	// The view folds the companies' names from the log, for commitments.
	if !registry.Readable(applicationsapi.CompanyRegistered{}.EventType()) {
		applicationsapi.Register(registry)
	}
	v := newView(registry)
	return &Service{
		store:    store,
		registry: registry,
		repo:     svc.NewRepository(store, registry, fundDecider(), c.repo),
		view:     v,
		follower: viewstate.New(Name, store, v, v.apply, viewstate.Options{Dir: c.views.Dir, Version: viewVersion, Logger: c.log.With("service", Name)}),
		log:      c.log.With("service", Name),
	}
}

// Run feeds the views from their checkpoint (or the start of the log)
// until ctx ends. Call it once; queries wait for it to catch up to the
// position they ask for.
func (s *Service) Run(ctx context.Context) error {
	if err := s.follower.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("funds: %w", err)
	}
	return nil
}

// Position is the log position the service's views reflect; a process
// is ready once it reaches the log's head at start.
func (s *Service) Position() uint64 { return s.follower.Position() }

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	return svc.Service{Name: Name, Logger: s.log, Description: "Funds, their mandates, commitments and dry powder",
		Operations: svc.Operations(
			svc.Handle(fundsapi.RegisterFundEndpoint, s.register),
			svc.Handle(fundsapi.SetMandateEndpoint, onFund(s, fundsapi.OpSetMandate, "set fund mandates", fundsapi.Managers(), func(c fundsapi.SetMandate) string { return c.FundID }, decideSetMandate)),
			svc.Handle(fundsapi.CommitCapitalEndpoint, onFund(s, fundsapi.OpCommit, "commit fund capital", fundsapi.Committers(), func(c fundsapi.CommitCapital) string { return c.FundID }, decideCommit)),
			svc.Handle(fundsapi.ReleaseCapitalEndpoint, onFund(s, fundsapi.OpRelease, "release fund capital", []fundbridge.Role{fundbridge.RoleSystem}, func(c fundsapi.ReleaseCapital) string { return c.FundID }, decideRelease)),
			svc.Handle(fundsapi.CloseFundEndpoint, onFund(s, fundsapi.OpClose, "close funds", fundsapi.Managers(), func(c fundsapi.CloseFund) string { return c.FundID }, decideClose)),
			svc.Handle(fundsapi.GetFundEndpoint, s.get),
			svc.Handle(fundsapi.ListFundsEndpoint, s.list),
		)}
}

func (s *Service) register(ctx context.Context, req *svc.Request, cmd fundsapi.RegisterFund) (svc.Result[fundsapi.FundView], error) {
	// A fund manager without an org may register nothing.
	if err := requireRole(req.Actor, "register funds", fundsapi.Managers()); err != nil {
		return svc.Result[fundsapi.FundView]{}, err
	}
	// Refusals that need no state come first, so the repository only
	// loads IDs it then writes (see authorize).
	if _, err := managerOrg(req.Actor, cmd); err != nil {
		return svc.Result[fundsapi.FundView]{}, err
	}
	id := req.NewID(fundsapi.OpRegister)
	return s.execute(ctx, req, fundsapi.OpRegister, id, func(f fund) ([]events.Payload, error) {
		return decideRegister(f, req.Actor, id, cmd)
	})
}

// onFund serves a command on an existing fund: whether the actor may see
// the fund, then the decision. Handle has checked the role and payload.
func onFund[C any](s *Service, op, what string, roles []fundbridge.Role, fundID func(C) string,
	decide func(fund, fundbridge.Actor, C) ([]events.Payload, error)) func(context.Context, *svc.Request, C) (svc.Result[fundsapi.FundView], error) {
	return func(ctx context.Context, req *svc.Request, cmd C) (svc.Result[fundsapi.FundView], error) {
		if err := requireRole(req.Actor, what, roles); err != nil {
			return svc.Result[fundsapi.FundView]{}, err
		}
		id := fundID(cmd)
		if err := s.authorize(ctx, req.Actor, id); err != nil {
			return svc.Result[fundsapi.FundView]{}, err
		}
		return s.execute(ctx, req, op, id, func(f fund) ([]events.Payload, error) { return decide(f, req.Actor, cmd) })
	}
}

// authorize refuses an actor who may not see the fund before the
// repository sees the command: the repository answers idempotent retries
// and If-Match mismatches before deciding, and either would reveal the
// fund. It also keeps the repository from loading funds that do not
// exist, which it would cache as empty even after another instance
// registers them. A fund's managing org never changes, so checking first
// is safe.
func (s *Service) authorize(ctx context.Context, a fundbridge.Actor, id string) error {
	manager, ok := s.view.manager(id)
	if !ok {
		// The view may lag a fund registered a moment ago: ask the log.
		var err error
		if manager, ok, err = s.registeredManager(ctx, id); err != nil {
			return err
		}
	}
	if !ok || !visible(a, fund{ID: id, ManagerOrg: manager}) {
		return notFound(id)
	}
	return nil
}

// registeredManager reads the managing org from the fund's first event.
func (s *Service) registeredManager(ctx context.Context, id string) (string, bool, error) {
	evs, err := s.store.ReadStream(ctx, s.repo.StreamID(id), 1)
	if err != nil {
		return "", false, fmt.Errorf("read fund %s: %w", id, err)
	}
	if len(evs) == 0 {
		return "", false, nil
	}
	_, payload, err := s.registry.Decode(evs[0])
	if err != nil {
		return "", false, fmt.Errorf("read fund %s: %w", id, err)
	}
	registered, ok := payload.(fundsapi.FundRegistered)
	if !ok {
		return "", false, fmt.Errorf("read fund %s: first event is %s, not %s", id, evs[0].Type, fundsapi.FundRegistered{}.EventType())
	}
	return registered.ManagerOrg, true, nil
}

// execute runs one command on the fund and replies with the fund as the
// detail view shows it.
func (s *Service) execute(ctx context.Context, req *svc.Request, op, id string, decide func(fund) ([]events.Payload, error)) (svc.Result[fundsapi.FundView], error) {
	cmd := svc.Command{
		Meta: events.Meta{
			Actor: req.Actor, CorrelationID: req.CorrelationID, CausationID: req.ID, Command: req.Op, IdempotencyKey: req.IdempotencyKey,
		},
		Expected: req.ExpectedVersion,
	}
	// Every caller checked the actor first (s.authorize, or the role for a
	// registration): see authorize for why funds check before loading.
	res, state, err := s.repo.Execute(ctx, id, cmd, svc.CheckedBefore, decide)
	switch {
	case err == nil:
	case fundbridge.ErrorCode(err) != fundbridge.EINTERNAL:
		return svc.Result[fundsapi.FundView]{}, err // a refusal: its message is for the caller
	case errors.Is(err, events.ErrConcurrency):
		// Every retry lost to another writer: nothing was appended.
		return svc.Result[fundsapi.FundView]{}, fundbridge.Errorf(fundbridge.ECONFLICT, "fund %s is changing too fast; try again", id)
	default:
		return svc.Result[fundsapi.FundView]{}, fmt.Errorf("%s on fund %s: %w", op, id, err)
	}
	if !visible(req.Actor, state) {
		return svc.Result[fundsapi.FundView]{}, notFound(id) // a retried key of someone else's command
	}
	return svc.Result[fundsapi.FundView]{Value: s.view.named(newFundView(state, true)), Position: res.Position, Version: res.LastVersion}, nil
}

func (s *Service) get(ctx context.Context, req *svc.Request, q fundsapi.GetFund) (svc.Result[fundsapi.FundView], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[fundsapi.FundView]{}, err
	}
	f, ok := s.view.get(req.Actor, q.FundID)
	if !ok {
		return svc.Result[fundsapi.FundView]{}, notFound(q.FundID)
	}
	return svc.Result[fundsapi.FundView]{Value: s.view.named(newFundView(f, true)), Position: s.follower.Position(), Version: f.Version}, nil
}

func (s *Service) list(ctx context.Context, req *svc.Request, q fundsapi.ListFunds) (svc.Result[fundsapi.FundList], error) {
	if err := requireRole(req.Actor, "list funds", fundsapi.Managers()); err != nil {
		return svc.Result[fundsapi.FundList]{}, err
	}
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[fundsapi.FundList]{}, err
	}
	page, err := s.view.list(req.Actor, q)
	if err != nil {
		return svc.Result[fundsapi.FundList]{}, err
	}
	return svc.Result[fundsapi.FundList]{Value: page, Position: s.follower.Position()}, nil
}
