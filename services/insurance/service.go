package insurance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/process"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// Name is the service's name on the bus.
const Name = api.Name

// Service decides insurer, request, policy and subsidy commands, answers
// their queries, and runs the policy process (quote and policy expiry,
// guarantee claims on defaulted loans) beside them.
type Service struct {
	store      events.Store
	registry   *events.Registry
	tables     *svc.Repository[TableState]
	requests   *svc.Repository[Request]
	policies   *svc.Repository[Policy]
	programmes *svc.Repository[Programme]
	standings  *svc.Repository[Standing]
	view       *view
	follower   *viewstate.View
	client     *svc.Client
	nc         *nats.Conn
	process    ProcessOptions
	now        func() time.Time
	log        *slog.Logger
}

type config struct {
	views   string // the view's checkpoint directory; "": none
	repo    svc.RepositoryOptions
	client  *svc.Client
	nc      *nats.Conn
	process ProcessOptions
	now     func() time.Time
	log     *slog.Logger
}

// Option tunes a Service.
type Option func(*config)

// WithSnapshots keeps aggregate snapshots.
func WithSnapshots(s svc.SnapshotStore) Option { return func(c *config) { c.repo.Snapshots = s } }

// WithCheckpoints keeps the view's checkpoint in dir, so a restart
// folds only the log's tail; "" (the default) folds from 0 each start.
func WithCheckpoints(dir string) Option { return func(c *config) { c.views = dir } }

// WithLogger logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClient is how the service asks others: the applications service
// for a company's patents, deals for a loan, and the process's commands.
// It must be the service's system client (svc.NewSystemClient).
func WithClient(cl *svc.Client) Option { return func(c *config) { c.client = cl } }

// WithProcess runs the policy process's manager beside the service, on
// nc (JetStream keeps its lease, checkpoint and deadlines).
func WithProcess(nc *nats.Conn, o ProcessOptions) Option {
	return func(c *config) { c.nc, c.process = nc, o }
}

// WithClock decides with now instead of the wall clock (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns the service over store; the insurance event types are added
// to registry if the caller has not registered them.
func New(store events.Store, registry *events.Registry, opts ...Option) *Service {
	c := config{repo: svc.RepositoryOptions{Retries: 1000}, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	c.repo.Logger = c.log
	if !registry.Readable(api.InsuranceRequested{}.EventType()) {
		api.Register(registry)
	}
	// The view folds the companies' names from the log (names.go).
	if !registry.Readable(applicationsapi.CompanyRegistered{}.EventType()) {
		applicationsapi.Register(registry)
	}
	RegisterProcess(registry)
	v := newView(registry)
	return &Service{
		store: store, registry: registry,
		tables:     svc.NewRepository(store, registry, tableDecider(), c.repo),
		requests:   svc.NewRepository(store, registry, requestDecider(), c.repo),
		policies:   svc.NewRepository(store, registry, policyDecider(), c.repo),
		programmes: svc.NewRepository(store, registry, programmeDecider(), c.repo),
		standings:  svc.NewRepository(store, registry, standingDecider(), c.repo),
		view:       v, follower: viewstate.New(Name, store, v, v.apply, viewstate.Options{Dir: c.views, Version: viewVersion, Logger: c.log.With("service", Name)}),
		client: c.client, nc: c.nc, process: c.process, now: c.now, log: c.log.With("service", Name),
	}
}

// Run feeds the view from its checkpoint (or the start of the log), and runs the policy
// process when the service has one, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if s.nc != nil {
			s.runProcess(ctx)
		}
	}()
	err := s.follower.Run(ctx)
	cancel()
	<-done
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("insurance: %w", err)
	}
	return nil
}

// Position is the log position the service's view reflects; a process
// is ready once it reaches the log's head at start.
func (s *Service) Position() uint64 { return s.follower.Position() }

// runProcess opens the policy process's manager (trying again while
// JetStream does not answer) and runs it until ctx ends.
func (s *Service) runProcess(ctx context.Context) {
	if s.client == nil {
		s.log.Error("the policy process needs a client (WithClient); quotes and policies will not expire")
		return
	}
	wait := 100 * time.Millisecond
	for {
		m, err := process.New(ctx, PolicyProcess(s.process), process.Options{
			Store: s.store, Registry: s.registry, Conn: s.nc, Sender: s.client, Logger: s.log,
			Instance: s.process.Instance, Actor: svc.SystemActor(Name), Aggregate: ProcessAggregate,
			Clock: s.now, // deadlines fall due on the service's clock
		})
		if err == nil {
			if err := m.Run(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("policy process manager stopped", "err", err)
			}
			return
		}
		s.log.Warn("policy process manager not open; trying again", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	return svc.Service{Name: Name, Logger: s.log, Description: "Patent insurance: insurers' rating tables, requests and quotes, policies, claims, premium subsidy programmes",
		Operations: svc.Operations(
			svc.Handle(api.OnboardInsurerEndpoint, s.onboardInsurer),
			svc.Handle(api.GetInsurerEndpoint, s.getInsurer),
			svc.Handle(api.ListInsurersEndpoint, s.listInsurers),
			svc.Handle(api.PublishRatingTableEndpoint, s.publishTable),
			svc.Handle(api.GetRatingTableEndpoint, s.getTable),
			svc.Handle(api.RequestInsuranceEndpoint, s.request),
			svc.Handle(api.GetRequestEndpoint, s.getRequest),
			svc.Handle(api.ListRequestsEndpoint, s.listRequests),
			svc.Handle(api.QuoteEndpoint, s.quote),
			svc.Handle(api.DeclineEndpoint, onRequest(s, func(c api.DeclineInsurance) string { return c.RequestID },
				func(r Request, a fundbridge.Actor, c api.DeclineInsurance, now time.Time) ([]events.Payload, error) {
					return decideDecline(r, a, c, now)
				})),
			svc.Handle(api.AcceptQuoteEndpoint, s.accept),
			svc.Handle(api.WithdrawRequestEndpoint, onRequest(s, func(c api.WithdrawRequest) string { return c.RequestID },
				func(r Request, a fundbridge.Actor, c api.WithdrawRequest, _ time.Time) ([]events.Payload, error) {
					return decideWithdraw(r, a, c)
				})),
			svc.Handle(api.ExpireQuoteEndpoint, onRequest(s, func(c api.ExpireQuote) string { return c.RequestID }, decideExpireQuote)),
			svc.Handle(api.GetPolicyEndpoint, s.getPolicy),
			svc.Handle(api.ListPoliciesEndpoint, s.listPolicies),
			svc.Handle(api.BindPolicyEndpoint, s.bindPolicy),
			svc.Handle(api.PayPremiumEndpoint, onPolicy(s, func(c api.PayPremium) string { return c.PolicyID }, noClock(decidePayPremium))),
			svc.Handle(api.FileClaimEndpoint, onPolicy(s, func(c api.FileClaim) string { return c.PolicyID }, decideFileClaim)),
			svc.Handle(api.GuaranteeClaimEndpoint, onPolicy(s, func(c api.FileGuaranteeClaim) string { return c.PolicyID }, decideGuaranteeClaim)),
			svc.Handle(api.AssessClaimEndpoint, onPolicy(s, func(c api.AssessClaim) string { return c.PolicyID }, noClock(decideAssessClaim))),
			svc.Handle(api.SettleClaimEndpoint, onPolicy(s, func(c api.SettleClaim) string { return c.PolicyID }, noClock(decideSettleClaim))),
			svc.Handle(api.DenyClaimEndpoint, onPolicy(s, func(c api.DenyClaim) string { return c.PolicyID }, noClock(decideDenyClaim))),
			svc.Handle(api.CancelPolicyEndpoint, s.cancel),
			svc.Handle(api.ExpirePolicyEndpoint, onPolicy(s, func(c api.ExpirePolicy) string { return c.PolicyID }, decideExpirePolicy)),
			svc.Handle(api.CreateProgrammeEndpoint, s.createProgramme),
			svc.Handle(api.CloseProgrammeEndpoint, s.closeProgramme),
			svc.Handle(api.ReturnSubsidyEndpoint, s.returnSubsidy),
			svc.Handle(api.GetProgrammeEndpoint, s.getProgramme),
			svc.Handle(api.ListProgrammesEndpoint, s.listProgrammes),
			svc.Handle(api.RecordStandingEndpoint, s.recordStanding),
			svc.Handle(api.GetStandingEndpoint, s.getStanding),
		)}
}

// command is the repository command of a request: who, why, which retry.
func command(req *svc.Request) svc.Command {
	return svc.Command{
		Meta:     events.Meta{Actor: req.Actor, CorrelationID: req.CorrelationID, CausationID: req.ID, Command: req.Op, IdempotencyKey: req.IdempotencyKey},
		Expected: req.ExpectedVersion,
	}
}

// byPlatform is a command the service itself sends as a consequence of
// req (binding the accepted quote, drawing the subsidy, returning it):
// the platform decides it, req caused it. step keeps a retry of req
// from taking effect twice.
func byPlatform(req *svc.Request, step string) (fundbridge.Actor, svc.Command) {
	a := svc.SystemActor(Name)
	key := ""
	if req.IdempotencyKey != "" {
		key = req.IdempotencyKey + "/" + step
	}
	return a, svc.Command{Meta: events.Meta{Actor: a, CorrelationID: req.CorrelationID, CausationID: req.ID, Command: req.Op, IdempotencyKey: key}}
}

// refusal passes a domain refusal through and gives context to the rest.
func refusal(err error, op, what, id string) error {
	switch {
	case fundbridge.ErrorCode(err) != fundbridge.EINTERNAL:
		return err
	case errors.Is(err, events.ErrConcurrency):
		return fundbridge.Errorf(fundbridge.ECONFLICT, "%s %s is changing too fast; try again", what, id)
	}
	return fmt.Errorf("%s on %s %s: %w", op, what, id, err)
}

// waitFor is read-your-writes for queries.
func (s *Service) waitFor(ctx context.Context, after uint64) error {
	return s.follower.WaitFor(ctx, after)
}

func noClock[S, C any](decide func(S, fundbridge.Actor, C) ([]events.Payload, error)) func(S, fundbridge.Actor, C, time.Time) ([]events.Payload, error) {
	return func(st S, a fundbridge.Actor, c C, _ time.Time) ([]events.Payload, error) { return decide(st, a, c) }
}

// onRequest serves a command on an existing request the caller may see;
// to anyone else it does not exist.
func onRequest[C any](s *Service, id func(C) string, decide func(Request, fundbridge.Actor, C, time.Time) ([]events.Payload, error)) func(context.Context, *svc.Request, C) (svc.Result[api.RequestView], error) {
	return func(ctx context.Context, req *svc.Request, cmd C) (svc.Result[api.RequestView], error) {
		rid := id(cmd)
		authorize := func(r Request) error {
			if !r.Exists() || !r.visible(req.Actor) {
				return notFound("insurance request", rid)
			}
			return nil
		}
		res, r, err := s.requests.Execute(ctx, rid, command(req), authorize, func(r Request) ([]events.Payload, error) {
			return decide(r, req.Actor, cmd, s.now())
		})
		if err != nil {
			return svc.Result[api.RequestView]{}, refusal(err, "request command", "insurance request", rid)
		}
		return svc.Result[api.RequestView]{Value: requestView(r, req.Actor, s.view), Position: res.Position, Version: res.LastVersion}, nil
	}
}

// onPolicy serves a command on an existing policy the caller may see.
func onPolicy[C any](s *Service, id func(C) string, decide func(Policy, fundbridge.Actor, C, time.Time) ([]events.Payload, error)) func(context.Context, *svc.Request, C) (svc.Result[api.PolicyView], error) {
	return func(ctx context.Context, req *svc.Request, cmd C) (svc.Result[api.PolicyView], error) {
		pid := id(cmd)
		res, p, err := s.executePolicy(ctx, pid, command(req), req.Actor, func(p Policy) ([]events.Payload, error) {
			return decide(p, req.Actor, cmd, s.now())
		})
		if err != nil {
			return svc.Result[api.PolicyView]{}, err
		}
		return svc.Result[api.PolicyView]{Value: policyView(p, s.view), Position: res.Position, Version: res.LastVersion}, nil
	}
}

func (s *Service) executePolicy(ctx context.Context, id string, cmd svc.Command, a fundbridge.Actor, decide func(Policy) ([]events.Payload, error)) (events.AppendResult, Policy, error) {
	authorize := func(p Policy) error {
		if !p.Exists() || !p.visible(a) {
			return notFound("policy", id)
		}
		return nil
	}
	res, p, err := s.policies.Execute(ctx, id, cmd, authorize, decide)
	if err != nil {
		return res, p, refusal(err, "policy command", "policy", id)
	}
	return res, p, nil
}
