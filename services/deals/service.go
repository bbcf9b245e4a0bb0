package deals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/process"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// Name is the service's name on the bus.
const Name = dealsapi.Name

// Service decides bank, deal and loan commands and answers their queries.
type Service struct {
	store    events.Store
	registry *events.Registry
	banks    *svc.Repository[Bank]
	deals    *svc.Repository[Deal]
	loans    *svc.Repository[Loan]
	view     *view
	follower *viewstate.View
	client   *svc.Client
	nc       *nats.Conn // for the process managers; nil: none run here
	now      func() time.Time
	log      *slog.Logger
}

type config struct {
	views  viewstate.Options
	repo   svc.RepositoryOptions
	client *svc.Client
	nc     *nats.Conn
	now    func() time.Time
	log    *slog.Logger
}

// Option tunes a Service.
type Option func(*config)

// WithSnapshots keeps aggregate snapshots: a loan of 360 periods loads
// from its snapshot, not from every repayment.
func WithSnapshots(s svc.SnapshotStore) Option { return func(c *config) { c.repo.Snapshots = s } }

// WithCheckpoints keeps the view's checkpoint in dir, so a restart
// folds only the log's tail; "" (the default) folds from 0 each start.
func WithCheckpoints(dir string) Option { return func(c *config) { c.views.Dir = dir } }

// WithLogger logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClient is how the service asks the applications and funds services
// (a proposal's application and fund, the equity tranche's capital).
func WithClient(cl *svc.Client) Option { return func(c *config) { c.client = cl } }

// WithProcesses runs the managers of the syndication and arrears
// processes (process_syndication.go, process_arrears.go) in this
// component, on nc, which reaches JetStream for their leases, checkpoints
// and deadlines. Every instance of the service may run them: one is
// active, the others stand by. They send their steps through the client
// (WithClient), which must be the service's system client.
func WithProcesses(nc *nats.Conn) Option { return func(c *config) { c.nc = nc } }

// WithClock decides with now instead of the wall clock (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns the service over store; the deals event types are added to
// registry if the caller has not registered them.
func New(store events.Store, registry *events.Registry, opts ...Option) *Service {
	c := config{repo: svc.RepositoryOptions{Retries: 10}, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	c.repo.Logger = c.log
	if !registry.Readable(dealsapi.BankOnboarded{}.EventType()) {
		dealsapi.Register(registry)
	}
	// The view folds the companies' names from the log (names.go).
	if !registry.Readable(applicationsapi.CompanyRegistered{}.EventType()) {
		applicationsapi.Register(registry)
	}
	RegisterProcesses(registry)
	v := newView(registry)
	return &Service{
		store: store, registry: registry,
		banks: svc.NewRepository(store, registry, svc.Decider[Bank]{Type: BankAggregate, Initial: func() Bank { return Bank{} }, Evolve: BankFolds().Apply, SnapshotSchema: "bank.v1"}, c.repo),
		deals: svc.NewRepository(store, registry, svc.Decider[Deal]{Type: DealAggregate, Initial: func() Deal { return Deal{} }, Evolve: DealFolds().Apply, SnapshotSchema: "loan_deal.v1"}, c.repo),
		loans: svc.NewRepository(store, registry, svc.Decider[Loan]{Type: LoanAggregate, Initial: func() Loan { return Loan{} }, Evolve: LoanFolds().Apply, SnapshotSchema: "loan.v1"}, c.repo),
		view:  v, follower: viewstate.New(Name, store, v, v.apply, viewstate.Options{Dir: c.views.Dir, Version: viewVersion, Logger: c.log.With("service", Name)}),
		client: c.client, nc: c.nc, now: c.now, log: c.log.With("service", Name),
	}
}

// Run feeds the view from its checkpoint (or the start of the log), and runs the process
// managers if WithProcesses, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if s.nc != nil {
		wg.Go(func() { runManager(ctx, s, SyndicationProcess()) })
		wg.Go(func() { runManager(ctx, s, ArrearsProcess()) })
	}
	err := s.follower.Run(ctx)
	cancel()
	wg.Wait()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("deals: %w", err)
	}
	return nil
}

// runManager opens a process's manager (trying again while JetStream
// does not answer) and runs it until ctx ends.
func runManager[S any](ctx context.Context, s *Service, def process.Definition[S]) {
	if s.client == nil {
		s.log.Error("a process needs the service's system client (WithClient); it does not run", "process", def.Name)
		return
	}
	wait := 200 * time.Millisecond
	for {
		m, err := process.New(ctx, def, process.Options{
			Store: s.store, Registry: s.registry, Conn: s.nc, Sender: s.client, Logger: s.log,
			Actor: svc.SystemActor(Name), // what the service's system client may send as
			Clock: s.now,                 // deadlines fall due on the service's clock
		})
		if err == nil {
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
		wait = min(2*wait, 30*time.Second)
	}
}

// Position is the log position the service's views reflect; a process
// is ready once it reaches the log's head at start.
func (s *Service) Position() uint64 { return s.follower.Position() }

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	clock := svc.WithClock(s.now)
	return svc.Service{Name: Name, Logger: s.log, Description: "Banks, loan plus equity deals syndicated among them, and the loans they service",
		Operations: svc.Operations(
			svc.Handle(dealsapi.OnboardBankEndpoint, s.onboardBank),
			svc.Handle(dealsapi.SetBankLimitsEndpoint, onBank(s, func(c dealsapi.SetBankLimits) string { return c.BankID }, DecideSetBankLimits)),
			svc.Handle(dealsapi.PublishProgrammeEndpoint, onBank(s, func(c dealsapi.PublishProgramme) string { return c.BankID }, DecidePublishProgramme)),
			svc.Handle(dealsapi.WithdrawProgrammeEndpoint, onBank(s, func(c dealsapi.WithdrawProgramme) string { return c.BankID }, DecideWithdrawProgramme)),
			svc.Handle(dealsapi.GetBankEndpoint, s.getBank),
			svc.Handle(dealsapi.BankBookEndpoint, s.bankBook),
			svc.Handle(dealsapi.ListBanksEndpoint, s.listBanks),
			svc.Handle(dealsapi.ProposeDealEndpoint, s.propose, clock),
			svc.Handle(dealsapi.InviteBankEndpoint, s.invite),
			svc.Handle(dealsapi.CommitToDealEndpoint, s.commit),
			svc.Handle(dealsapi.DeclineDealEndpoint, onDeal(s, func(c dealsapi.DeclineDeal) string { return c.DealID }, decideDecline)),
			svc.Handle(dealsapi.RecordEquityEndpoint, s.recordEquity),
			svc.Handle(dealsapi.ExpireDealEndpoint, onDeal(s, func(c dealsapi.DealRef) string { return c.DealID }, decideExpire)),
			svc.Handle(dealsapi.GetDealEndpoint, s.getDeal),
			svc.Handle(dealsapi.ListDealsEndpoint, s.listDeals),
			svc.Handle(dealsapi.DrawDownEndpoint, onLoan(s, func(c dealsapi.LoanAmount) string { return c.LoanID }, decideDrawDown)),
			svc.Handle(dealsapi.FixScheduleEndpoint, onLoan(s, func(c dealsapi.LoanRef) string { return c.LoanID }, decideFixSchedule)),
			svc.Handle(dealsapi.RepayEndpoint, onLoan(s, func(c dealsapi.LoanAmount) string { return c.LoanID }, decideRepay)),
			svc.Handle(dealsapi.ChargeFeeEndpoint, onLoan(s, func(c dealsapi.ChargeFee) string { return c.LoanID },
				func(l Loan, a fundbridge.Actor, _ time.Time, c dealsapi.ChargeFee) ([]events.Payload, error) {
					return decideChargeFee(l, a, c)
				})),
			svc.Handle(dealsapi.RecordArrearsEndpoint, onLoan(s, func(c dealsapi.LoanRef) string { return c.LoanID }, decideRecordArrears)),
			svc.Handle(dealsapi.RepayEarlyEndpoint, onLoan(s, func(c dealsapi.LoanAmount) string { return c.LoanID }, decideRepayEarly)),
			svc.Handle(dealsapi.DeclareDefaultEndpoint, onLoan(s, func(c dealsapi.DeclareDefault) string { return c.LoanID }, decideDeclareDefault)),
			svc.Handle(dealsapi.ExerciseWarrantEndpoint, onLoan(s, func(c dealsapi.LoanRef) string { return c.LoanID },
				func(l Loan, a fundbridge.Actor, now time.Time, c dealsapi.LoanRef) ([]events.Payload, error) {
					return decideExerciseWarrant(l, a, s.view.fundManagerOf(l.EquityFundID), now, c)
				})),
			svc.Handle(dealsapi.GetLoanEndpoint, s.getLoan),
			svc.Handle(dealsapi.ListLoansEndpoint, s.listLoans),
			svc.Handle(dealsapi.PreviewScheduleEndpoint, s.previewSchedule),
			svc.Handle(dealsapi.SettleExposureEndpoint, s.settleExposure),
			svc.Handle(dealsapi.OpenLoanEndpoint, s.openLoan),
		)}
}

// command is the repository command of a request: who, why, which retry.
func command(req *svc.Request) svc.Command {
	return svc.Command{
		Meta:     events.Meta{Actor: req.Actor, CorrelationID: req.CorrelationID, CausationID: req.ID, Command: req.Op, IdempotencyKey: req.IdempotencyKey},
		Expected: req.ExpectedVersion,
	}
}

// byPlatform is the command the service itself sends as a consequence of
// req (releasing exposure, opening the loan): the platform decides it,
// req caused it.
func byPlatform(req *svc.Request) (fundbridge.Actor, svc.Command) {
	a := fundbridge.Actor{Role: fundbridge.RoleSystem, UserID: "deals"}
	return a, svc.Command{Meta: events.Meta{Actor: a, CorrelationID: req.CorrelationID, CausationID: req.ID, Command: req.Op}}
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
