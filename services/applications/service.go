// Package applications is the service of companies and their funding
// applications: startups register their company and patents and apply for
// funding; matching, screening and deals move the applications on.
package applications

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// Name is the service's name on the bus.
const Name = applicationsapi.Name

// Service decides the commands on companies and applications and answers
// queries from its views.
type Service struct {
	companies    *svc.Repository[Company]
	usccs        *svc.Repository[usccClaim]
	applications *svc.Repository[Application]
	views        *views
	follower     *viewstate.View
	store        events.Store
	now          func() time.Time
	log          *slog.Logger
}

type config struct {
	snapshots svc.SnapshotStore
	log       *slog.Logger
	now       func() time.Time
	// checkpoints is where the views' checkpoint lives ("" keeps none).
	checkpoints string
}

// Option tunes a Service.
type Option func(*config)

// WithSnapshots keeps aggregate snapshots in s.
func WithSnapshots(s svc.SnapshotStore) Option { return func(c *config) { c.snapshots = s } }

// WithCheckpoints keeps the views' checkpoint in dir, so a restart
// folds only the log's tail; "" (the default) folds from 0 each start.
func WithCheckpoints(dir string) Option { return func(c *config) { c.checkpoints = dir } }

// WithLogger logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock makes the service read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns the service over store. The registry must hold this
// service's event types (Register); it may hold the funds service's too.
func New(store events.Store, registry *events.Registry, opts ...Option) *Service {
	c := config{now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(&c)
	}
	s := &Service{now: c.now, log: c.log, store: store}
	repo := svc.RepositoryOptions{Snapshots: c.snapshots, Logger: s.log}
	s.companies = svc.NewRepository(store, registry, companyDecider(), repo)
	s.usccs = svc.NewRepository(store, registry, usccDecider(), svc.RepositoryOptions{Logger: s.log})
	s.applications = svc.NewRepository(store, registry, applicationDecider(), repo)
	s.views = newViews(registry, func() time.Time { return s.now() })
	s.follower = viewstate.New(Name, store, s.views, s.views.apply, viewstate.Options{Dir: c.checkpoints, Version: viewsVersion, Logger: s.log.With("service", Name)})
	return s
}

// Run feeds the views from their checkpoint (or the start of the log)
// until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if err := s.follower.Run(ctx); err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	return nil
}

// Position is the log position the service's views reflect; a process
// is ready once it reaches the log's head at start.
func (s *Service) Position() uint64 { return s.follower.Position() }

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	now := svc.WithClock(func() time.Time { return s.now() })
	return svc.Service{Name: Name, Logger: s.log, Description: "Companies, their patents and funding applications",
		Operations: svc.Operations(
			svc.Handle(applicationsapi.RegisterCompanyEndpoint, s.registerCompany, now),
			svc.Handle(applicationsapi.UpdateCompanyEndpoint, s.updateCompany, now),
			svc.Handle(applicationsapi.ChangeCompanyStageEndpoint, s.changeStage, now),
			svc.Handle(applicationsapi.AddPatentEndpoint, s.addPatent, now),
			svc.Handle(applicationsapi.GetCompanyEndpoint, s.getCompany),
			svc.Handle(applicationsapi.ListCompaniesEndpoint, s.listCompanies),
			svc.Handle(applicationsapi.DraftApplicationEndpoint, s.draft, now),
			svc.Handle(applicationsapi.UpdateApplicationEndpoint, s.update, now),
			svc.Handle(applicationsapi.SubmitApplicationEndpoint, s.submit, now),
			svc.Handle(applicationsapi.WithdrawApplicationEndpoint, s.withdraw, now),
			svc.Handle(applicationsapi.MarkMatchedEndpoint, s.markMatched, now),
			svc.Handle(applicationsapi.MarkUnmatchedEndpoint, s.markUnmatched, now),
			svc.Handle(applicationsapi.MarkUnderReviewEndpoint, s.markUnderReview, now),
			svc.Handle(applicationsapi.MarkFundedEndpoint, s.markFunded, now),
			svc.Handle(applicationsapi.ReserveApplicationEndpoint, s.reserve, now),
			svc.Handle(applicationsapi.ReleaseReservationEndpoint, s.releaseReservation, now),
			svc.Handle(applicationsapi.RejectApplicationEndpoint, s.reject, now),
			svc.Handle(applicationsapi.ExpireApplicationEndpoint, s.expire, now),
			svc.Handle(applicationsapi.GetApplicationEndpoint, s.getApplication),
			svc.Handle(applicationsapi.ListApplicationsEndpoint, s.listApplications),
		)}
}

// command is the repository's view of a request.
func command(req *svc.Request) svc.Command {
	return svc.Command{
		Meta: events.Meta{
			Actor: req.Actor, CorrelationID: req.CorrelationID, CausationID: req.ID, Command: req.Op, IdempotencyKey: req.IdempotencyKey,
		},
		Expected: req.ExpectedVersion,
	}
}

// mayChangeCompany: a company's own startup users and operators change it;
// to anyone else it does not exist.
func mayChangeCompany(actor fundbridge.Actor, companyID string) error {
	if actor.Role == fundbridge.RoleOperator || actor.Role == fundbridge.RoleStartup && actor.OrgID == companyID {
		return nil
	}
	return companyNotFound(companyID)
}

// Company commands.

func (s *Service) registerCompany(ctx context.Context, req *svc.Request, cmd applicationsapi.RegisterCompany) (svc.Result[applicationsapi.CompanyView], error) {
	// One company per USCC, by a claim on the code: racing registrations
	// cannot both get it.
	if err := s.claimUSCC(ctx, req, cmd.USCC, cmd.CompanyID); err != nil {
		return svc.Result[applicationsapi.CompanyView]{}, err
	}
	return s.executeCompany(ctx, req, cmd.CompanyID, func(c Company) ([]events.Payload, error) { return registerCompany(c, cmd) })
}

func (s *Service) updateCompany(ctx context.Context, req *svc.Request, cmd applicationsapi.UpdateCompanyProfile) (svc.Result[applicationsapi.CompanyView], error) {
	if err := mayChangeCompany(req.Actor, cmd.CompanyID); err != nil {
		return svc.Result[applicationsapi.CompanyView]{}, err
	}
	return s.executeCompany(ctx, req, cmd.CompanyID, func(c Company) ([]events.Payload, error) { return updateCompanyProfile(c, cmd) })
}

func (s *Service) changeStage(ctx context.Context, req *svc.Request, cmd applicationsapi.ChangeCompanyStage) (svc.Result[applicationsapi.CompanyView], error) {
	if err := mayChangeCompany(req.Actor, cmd.CompanyID); err != nil {
		return svc.Result[applicationsapi.CompanyView]{}, err
	}
	return s.executeCompany(ctx, req, cmd.CompanyID, func(c Company) ([]events.Payload, error) { return changeCompanyStage(c, cmd) })
}

func (s *Service) addPatent(ctx context.Context, req *svc.Request, cmd applicationsapi.AddPatent) (svc.Result[applicationsapi.CompanyView], error) {
	if err := mayChangeCompany(req.Actor, cmd.CompanyID); err != nil {
		return svc.Result[applicationsapi.CompanyView]{}, err
	}
	return s.executeCompany(ctx, req, cmd.CompanyID, func(c Company) ([]events.Payload, error) { return addPatent(c, cmd) })
}

func (s *Service) executeCompany(ctx context.Context, req *svc.Request, id string, decide func(Company) ([]events.Payload, error)) (svc.Result[applicationsapi.CompanyView], error) {
	// A company's ID is its startup's org: every caller checked the actor
	// against it from the request (mayChangeCompany, or a registration).
	res, c, err := s.companies.Execute(ctx, id, command(req), svc.CheckedBefore, decide)
	if err != nil {
		return svc.Result[applicationsapi.CompanyView]{}, fmt.Errorf("company %s: %w", id, err)
	}
	return svc.Result[applicationsapi.CompanyView]{Value: presentCompany(c, applicationsapi.ChinaToday(s.now())), Position: res.Position, Version: res.LastVersion}, nil
}

// Application commands.

func (s *Service) draft(ctx context.Context, req *svc.Request, cmd applicationsapi.DraftApplication) (svc.Result[applicationsapi.ApplicationView], error) {
	if err := mayChangeCompany(req.Actor, cmd.CompanyID); err != nil {
		return svc.Result[applicationsapi.ApplicationView]{}, err
	}
	company, err := s.company(ctx, cmd.CompanyID)
	if err != nil {
		return svc.Result[applicationsapi.ApplicationView]{}, fmt.Errorf("draft for company %s: %w", cmd.CompanyID, err)
	}
	id := req.NewID(applicationsapi.DraftApplicationEndpoint.Op)
	// A new application: the actor was checked against its company above.
	res, a, err := s.applications.Execute(ctx, id, command(req), svc.CheckedBefore, func(a Application) ([]events.Payload, error) {
		return draftApplication(a, id, company, cmd)
	})
	if err != nil {
		return svc.Result[applicationsapi.ApplicationView]{}, fmt.Errorf("draft application %s: %w", id, err)
	}
	return svc.Result[applicationsapi.ApplicationView]{Value: presentApplication(a, nil), Position: res.Position, Version: res.LastVersion}, nil
}

func (s *Service) update(ctx context.Context, req *svc.Request, cmd applicationsapi.UpdateApplication) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return updateApplication(a, c, cmd)
	})
}

func (s *Service) submit(ctx context.Context, req *svc.Request, cmd applicationsapi.SubmitApplication) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, submitApplication)
}

func (s *Service) withdraw(ctx context.Context, req *svc.Request, cmd applicationsapi.WithdrawApplication) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return withdrawApplication(a, c, cmd)
	})
}

func (s *Service) markMatched(ctx context.Context, req *svc.Request, cmd applicationsapi.MarkMatched) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return markMatched(a, c, cmd)
	})
}

func (s *Service) markUnmatched(ctx context.Context, req *svc.Request, cmd applicationsapi.MarkUnmatched) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return markUnmatched(a, c, cmd)
	})
}

func (s *Service) markUnderReview(ctx context.Context, req *svc.Request, cmd applicationsapi.MarkUnderReview) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return markUnderReview(a, c, cmd)
	})
}

func (s *Service) markFunded(ctx context.Context, req *svc.Request, cmd applicationsapi.MarkFunded) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return markFunded(a, c, cmd)
	})
}

func (s *Service) reserve(ctx context.Context, req *svc.Request, cmd applicationsapi.ReserveApplication) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return reserveApplication(a, c, cmd)
	})
}

func (s *Service) releaseReservation(ctx context.Context, req *svc.Request, cmd applicationsapi.ReleaseReservation) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return releaseReservation(a, c, cmd)
	})
}

func (s *Service) reject(ctx context.Context, req *svc.Request, cmd applicationsapi.RejectApplication) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return rejectApplication(a, c, cmd)
	})
}

func (s *Service) expire(ctx context.Context, req *svc.Request, cmd applicationsapi.ExpireApplication) (svc.Result[applicationsapi.ApplicationView], error) {
	return s.executeApplication(ctx, req, cmd.ApplicationID, expireApplication)
}

// executeApplication runs a command on an existing application. The
// application is loaded first to check who may touch it, so a stranger
// learns nothing (not even its version through If-Match); then the company,
// whose current stage, layer, sector and city every event records.
func (s *Service) executeApplication(ctx context.Context, req *svc.Request, id string, decide func(Application, Company) ([]events.Payload, error)) (svc.Result[applicationsapi.ApplicationView], error) {
	visible := func(a Application) error {
		if !a.Exists() {
			return applicationNotFound(id)
		}
		if req.Actor.Role == fundbridge.RoleStartup && a.Slice.CompanyID != req.Actor.OrgID {
			return applicationNotFound(id)
		}
		return nil
	}
	current, err := s.applications.Load(ctx, id)
	if err != nil {
		return svc.Result[applicationsapi.ApplicationView]{}, fmt.Errorf("application %s: %w", id, err)
	}
	if err := visible(current.State); err != nil {
		return svc.Result[applicationsapi.ApplicationView]{}, err
	}
	company, err := s.company(ctx, current.State.Slice.CompanyID)
	if err != nil {
		return svc.Result[applicationsapi.ApplicationView]{}, fmt.Errorf("application %s: company %s: %w", id, current.State.Slice.CompanyID, err)
	}
	if !company.Registered() {
		return svc.Result[applicationsapi.ApplicationView]{}, fmt.Errorf("application %s: company %s has no events", id, current.State.Slice.CompanyID)
	}
	res, a, err := s.applications.Execute(ctx, id, command(req), visible, func(a Application) ([]events.Payload, error) {
		return decide(a, company)
	})
	if err != nil {
		return svc.Result[applicationsapi.ApplicationView]{}, fmt.Errorf("application %s: %w", id, err)
	}
	return svc.Result[applicationsapi.ApplicationView]{Value: presentApplication(a, nil), Position: res.Position, Version: res.LastVersion}, nil
}

// company is the company's current state for an application's events:
// from its repository, or from the view when that has folded a later
// version (written through another instance, which this instance's
// repository cache has not seen). Both fold with companyFolds.
func (s *Service) company(ctx context.Context, id string) (Company, error) {
	loaded, err := s.companies.Load(ctx, id)
	if err != nil {
		return Company{}, err
	}
	if seen, ok := s.views.companyState(id); ok && seen.Version > loaded.State.Version {
		return seen, nil
	}
	return loaded.State, nil
}

// Queries.

func (s *Service) getCompany(ctx context.Context, req *svc.Request, q applicationsapi.GetCompany) (svc.Result[applicationsapi.CompanyView], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[applicationsapi.CompanyView]{}, err
	}
	c, err := s.views.company(req.Actor, q.CompanyID)
	if err != nil {
		return svc.Result[applicationsapi.CompanyView]{}, err
	}
	return svc.Result[applicationsapi.CompanyView]{Value: c, Version: c.Version}, nil
}

func (s *Service) listCompanies(ctx context.Context, req *svc.Request, q applicationsapi.ListCompanies) (svc.Result[applicationsapi.ListResult[applicationsapi.CompanyView]], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[applicationsapi.ListResult[applicationsapi.CompanyView]]{}, err
	}
	page, err := s.views.listCompanies(req.Actor, q)
	if err != nil {
		return svc.Result[applicationsapi.ListResult[applicationsapi.CompanyView]]{}, err
	}
	return svc.Result[applicationsapi.ListResult[applicationsapi.CompanyView]]{Value: page}, nil
}

func (s *Service) getApplication(ctx context.Context, req *svc.Request, q applicationsapi.GetApplication) (svc.Result[applicationsapi.ApplicationView], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[applicationsapi.ApplicationView]{}, err
	}
	a, err := s.views.application(req.Actor, q.ApplicationID)
	if fundbridge.ErrorCode(err) == fundbridge.ENOTFOUND && req.Actor.Role == fundbridge.RoleSystem {
		// Another service asks about an application its caller has just
		// drafted, perhaps through another instance: catch up with the log
		// once before saying there is none.
		if err := s.follower.CatchUp(ctx); err != nil {
			return svc.Result[applicationsapi.ApplicationView]{}, err
		}
		a, err = s.views.application(req.Actor, q.ApplicationID)
	}
	if err != nil {
		return svc.Result[applicationsapi.ApplicationView]{}, err
	}
	return svc.Result[applicationsapi.ApplicationView]{Value: a, Version: a.Version}, nil
}

func (s *Service) listApplications(ctx context.Context, req *svc.Request, q applicationsapi.ListApplications) (svc.Result[applicationsapi.ListResult[applicationsapi.ApplicationView]], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[applicationsapi.ListResult[applicationsapi.ApplicationView]]{}, err
	}
	page, err := s.views.listApplications(req.Actor, q)
	if err != nil {
		return svc.Result[applicationsapi.ListResult[applicationsapi.ApplicationView]]{}, err
	}
	return svc.Result[applicationsapi.ListResult[applicationsapi.ApplicationView]]{Value: page}, nil
}

// decodePayload decodes a request payload strictly into T (see
// svc.Decode). An empty payload decodes as {}.
func decodePayload[T any](payload json.RawMessage) (T, error) {
	var v T
	if err := svc.Decode(payload, &v); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}
