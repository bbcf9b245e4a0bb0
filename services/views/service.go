// Package views is the query service of the read projections: the
// lifecycle-stage funnel, company timelines, the market overview, fund
// deal boards, banks' and insurers' books and subsidy budgets, folded
// from the whole log by one projections.Runner, kept on local disk
// between restarts, and answered over NATS.
package views

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/bankbook"
	"github.com/fundbridge/fundbridge/projections/dealboard"
	"github.com/fundbridge/fundbridge/projections/insurancebook"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/projections/market"
	"github.com/fundbridge/fundbridge/projections/timeline"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

// Name is the service's name on the bus.
const Name = viewsapi.Name

// Service answers queries from the projections it runs.
type Service struct {
	runner        *projections.Runner
	lifecycle     *lifecycle.Projection
	timeline      *timeline.Projection
	market        *market.Projection
	dealboard     *dealboard.Projection
	bankbook      *bankbook.Projection
	insurancebook *insurancebook.Projection
	log           *slog.Logger
	now           func() time.Time
	store         events.Store
	registry      *events.Registry
	asOfSlots     chan struct{} // "as of" folds running

	runCtx     atomic.Pointer[context.Context] // Run's, for rebuilds asked over the bus
	rebuilding atomic.Bool

	funnels funnelCache
}

// funnelCache keeps the lifecycle funnel of each query asked at the
// projection's state, encoded, so that the many reads of one dashboard
// between two events count the facts and encode the amounts once (a query
// scans every application and move: its cost grows with the log).
type funnelCache struct {
	mu      sync.Mutex
	entries map[lifecycle.Query]funnel
}

type funnel struct {
	at     funnelAt
	answer viewsapi.LifecycleResult
}

// funnelAt is the state a funnel was counted from: the projection's
// generation (Generation) and log position, both read before the count.
type funnelAt struct{ generation, position uint64 }

// maxFunnels bounds the queries remembered; past it the cache starts over.
const maxFunnels = 256

// answer answers q from the cache when it was counted at the same state,
// else counts it with query and remembers it. at is read before the count,
// so the rows reflect at least it (a later position at most, which is
// newer, never older, than what at says).
func (c *funnelCache) answer(q lifecycle.Query, at funnelAt, query func(lifecycle.Query) ([]lifecycle.Row, error)) (viewsapi.LifecycleResult, error) {
	c.mu.Lock()
	f, ok := c.entries[q]
	c.mu.Unlock()
	if ok && f.at == at {
		return f.answer, nil
	}
	rows, err := query(q)
	if err != nil {
		return viewsapi.LifecycleResult{}, err
	}
	if rows == nil {
		rows = []lifecycle.Row{}
	}
	answer, err := viewsapi.LifecycleResult{Items: rows, Position: at.position}.Encoded()
	if err != nil {
		return viewsapi.LifecycleResult{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxFunnels {
		c.entries = map[lifecycle.Query]funnel{}
	}
	c.entries[q] = funnel{at, answer}
	return answer, nil
}

type config struct {
	runner projections.RunnerOptions
	now    func() time.Time
}

// Option tunes a Service.
type Option func(*config)

// WithLogger logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.runner.Logger = l } }

// WithSaving saves each projection's snapshot after every events applied,
// or interval after the last save if anything changed.
func WithSaving(every uint64, interval time.Duration) Option {
	return func(c *config) { c.runner.SaveEvery, c.runner.SaveInterval = every, interval }
}

// WithClock reads the time from now: the day a bank's dues and arrears
// are counted on.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns the service over store. The registry must hold the event
// types of the applications, funds and matching services (and of deals
// and insurance for their views); dir keeps the
// projections' snapshots ("" keeps none: every start folds the log).
func New(store events.Store, registry *events.Registry, dir string, opts ...Option) *Service {
	c := config{runner: projections.RunnerOptions{Dir: dir}, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	ro := c.runner
	if ro.Logger == nil {
		ro.Logger = slog.Default()
	}
	s := &Service{
		lifecycle: lifecycle.New(), timeline: timeline.New(), market: market.New(), dealboard: dealboard.New(),
		bankbook: bankbook.New(), insurancebook: insurancebook.New(),
		log: ro.Logger.With("service", Name), store: store, now: c.now,
		registry: registry, asOfSlots: make(chan struct{}, asOfFolds),
	}
	s.runner = projections.NewRunner(store, registry, ro, s.lifecycle, s.timeline, s.market, s.dealboard, s.bankbook, s.insurancebook)
	return s
}

// Run follows the log until ctx ends, then saves the projections.
func (s *Service) Run(ctx context.Context) error {
	s.runCtx.Store(&ctx)
	return s.runner.Run(ctx)
}

// Rebuild folds the named projection ("" for all) again from position 0,
// reporting progress (log positions done and total, events per second);
// for the CLI. It works whether or not the service runs.
func (s *Service) Rebuild(ctx context.Context, name string, progress func(done, total uint64, rate float64)) error {
	return s.runner.Rebuild(ctx, name, progress)
}

// Status reports each projection's checkpoint and state.
func (s *Service) Status() []projections.Status { return s.runner.Status() }

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	return svc.Service{Name: Name, Logger: s.log, Description: "Read views folded from the whole log: lifecycle stages, market, timelines, deal boards, banks' and insurers' books, subsidy budgets",
		Operations: svc.Operations(
			svc.Handle(viewsapi.LifecycleStagesEndpoint, s.lifecycleStages),
			svc.Handle(viewsapi.MarketOverviewEndpoint, s.marketOverview),
			svc.Handle(viewsapi.StatusEndpoint, s.status),
			svc.Handle(viewsapi.RebuildEndpoint, s.rebuild),
			svc.Handle(viewsapi.CompanyTimelineEndpoint, s.companyTimeline),
			svc.Handle(viewsapi.DealBoardEndpoint, s.dealBoard),
			svc.Handle(viewsapi.BankBookEndpoint, s.bankBook),
			svc.Handle(viewsapi.InsurerBookEndpoint, s.insurerBook),
			svc.Handle(viewsapi.SubsidyProgrammesEndpoint, s.subsidyProgrammes),
		)}
}

func (s *Service) lifecycleStages(ctx context.Context, _ *svc.Request, q viewsapi.LifecycleQuery) (svc.Result[viewsapi.LifecycleResult], error) {
	lq, err := q.Query()
	if err != nil {
		return svc.Result[viewsapi.LifecycleResult]{}, err
	}
	if err := s.runner.WaitFor(ctx, lifecycle.Name, q.After); err != nil {
		return svc.Result[viewsapi.LifecycleResult]{}, err
	}
	generation := s.lifecycle.Generation()
	position := s.runner.Position(lifecycle.Name)
	answer, err := s.funnels.answer(lq, funnelAt{generation, position}, s.lifecycle.Query)
	if err != nil {
		return svc.Result[viewsapi.LifecycleResult]{}, err
	}
	return svc.Result[viewsapi.LifecycleResult]{Value: answer}, nil
}

func (s *Service) marketOverview(ctx context.Context, _ *svc.Request, q viewsapi.MarketQuery) (svc.Result[viewsapi.MarketResult], error) {
	if err := s.runner.WaitFor(ctx, market.Name, q.After); err != nil {
		return svc.Result[viewsapi.MarketResult]{}, err
	}
	position := s.runner.Position(market.Name)
	asOf, err := projections.ParseAsOf("as_of", q.AsOf)
	if err != nil {
		return svc.Result[viewsapi.MarketResult]{}, err
	}
	mk, err := viewAsOf(ctx, s, s.market, market.New, asOf)
	if err != nil {
		return svc.Result[viewsapi.MarketResult]{}, err
	}
	return svc.Result[viewsapi.MarketResult]{Value: viewsapi.MarketResult{Items: mk.Overview(), Position: position}}, nil
}

func (s *Service) companyTimeline(ctx context.Context, req *svc.Request, q viewsapi.TimelineQuery) (svc.Result[viewsapi.TimelineResult], error) {
	actor := req.Actor
	notFound := fundbridge.Errorf(fundbridge.ENOTFOUND, "no company %s", q.CompanyID)
	if actor.Role == fundbridge.RoleStartup && actor.OrgID != q.CompanyID {
		return svc.Result[viewsapi.TimelineResult]{}, notFound // someone else's company: do not tell whether it exists
	}
	if err := s.runner.WaitFor(ctx, timeline.Name, q.After); err != nil {
		return svc.Result[viewsapi.TimelineResult]{}, err
	}
	position := s.runner.Position(timeline.Name)
	asOf, err := projections.ParseAsOf("as_of", q.AsOf)
	if err != nil {
		return svc.Result[viewsapi.TimelineResult]{}, err
	}
	company, entries, ok := s.timeline.Timeline(q.CompanyID, asOf)
	if !ok {
		return svc.Result[viewsapi.TimelineResult]{}, notFound
	}
	return svc.Result[viewsapi.TimelineResult]{Value: viewsapi.TimelineResult{Company: company, Items: entries, Position: position}}, nil
}

func (s *Service) dealBoard(ctx context.Context, req *svc.Request, q viewsapi.DealBoardQuery) (svc.Result[viewsapi.DealBoardResult], error) {
	actor := req.Actor
	if err := s.runner.WaitFor(ctx, dealboard.Name, q.After); err != nil {
		return svc.Result[viewsapi.DealBoardResult]{}, err
	}
	position := s.runner.Position(dealboard.Name)
	notFound := fundbridge.Errorf(fundbridge.ENOTFOUND, "no fund %s", q.FundID)
	asOf, err := projections.ParseAsOf("as_of", q.AsOf)
	if err != nil {
		return svc.Result[viewsapi.DealBoardResult]{}, err
	}
	boards, err := viewAsOf(ctx, s, s.dealboard, dealboard.New, asOf)
	if err != nil {
		return svc.Result[viewsapi.DealBoardResult]{}, err
	}
	manager, ok := s.dealboard.Manager(q.FundID)
	if !ok || actor.Role == fundbridge.RoleFundManager && (actor.OrgID == "" || actor.OrgID != manager) {
		return svc.Result[viewsapi.DealBoardResult]{}, notFound // someone else's fund: do not tell whether it exists
	}
	board, ok := boards.Board(q.FundID)
	if !ok {
		return svc.Result[viewsapi.DealBoardResult]{}, notFound
	}
	return svc.Result[viewsapi.DealBoardResult]{Value: viewsapi.DealBoardResult{Board: board, Position: position}}, nil
}

func (s *Service) status(context.Context, *svc.Request, viewsapi.StatusQuery) (svc.Result[viewsapi.StatusResult], error) {
	n, list := s.runner.Quarantined()
	if list == nil {
		list = []events.Quarantine{}
	}
	return svc.Result[viewsapi.StatusResult]{Value: viewsapi.StatusResult{Items: s.runner.Status(), Rebuilding: s.rebuilding.Load(), Quarantined: n, Quarantine: list}}, nil
}

func (s *Service) rebuild(ctx context.Context, _ *svc.Request, q viewsapi.RebuildQuery) (svc.Result[viewsapi.RebuildResult], error) {
	runCtx := s.runCtx.Load()
	if runCtx == nil || (*runCtx).Err() != nil {
		return svc.Result[viewsapi.RebuildResult]{}, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "the views service is not running")
	}
	var names []string
	for _, st := range s.runner.Status() {
		names = append(names, st.Name)
	}
	if q.Name != "" && !slices.Contains(names, q.Name) {
		return svc.Result[viewsapi.RebuildResult]{}, fundbridge.Invalid("no such projection", fundbridge.FieldError{Field: "name", Reason: "is not a projection: " + strings.Join(names, ", ")})
	}
	if !s.rebuilding.CompareAndSwap(false, true) {
		return svc.Result[viewsapi.RebuildResult]{}, fundbridge.Errorf(fundbridge.ECONFLICT, "a rebuild is already under way; follow it in status")
	}
	head, err := s.store.Head(ctx)
	if err != nil {
		s.rebuilding.Store(false)
		return svc.Result[viewsapi.RebuildResult]{}, err
	}
	go func() {
		defer s.rebuilding.Store(false)
		if err := s.runner.Rebuild(*runCtx, q.Name, nil); err != nil && (*runCtx).Err() == nil {
			s.log.Error("rebuild failed", "projection", q.Name, "err", err)
		}
	}()
	return svc.Result[viewsapi.RebuildResult]{Value: viewsapi.RebuildResult{Name: q.Name, Head: head}}, nil
}

// Position is the log position every view reflects (the lowest of their
// checkpoints); a process is ready once it reaches the log's head at start.
func (s *Service) Position() uint64 {
	var low uint64
	for i, st := range s.runner.Status() {
		if i == 0 || st.Position < low {
			low = st.Position
		}
	}
	return low
}
