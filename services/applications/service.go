// Package applications is the service of companies and their funding
// applications: startups register their company and patents and apply for
// funding; matching, screening and deals move the applications on.
package applications

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = "applications"

// Service decides the commands on companies and applications and answers
// queries from its views.
type Service struct {
	companies    *svc.Repository[Company]
	applications *svc.Repository[Application]
	views        *views
	follower     *projections.Follower
	now          func() time.Time
	log          *slog.Logger
	snapshots    svc.SnapshotStore
}

// Option configures a Service.
type Option func(*Service)

// WithSnapshots keeps aggregate snapshots in s.
func WithSnapshots(s svc.SnapshotStore) Option { return func(srv *Service) { srv.snapshots = s } }

// WithLogger logs to l.
func WithLogger(l *slog.Logger) Option { return func(srv *Service) { srv.log = l } }

// WithClock makes the service read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(srv *Service) { srv.now = now } }

// New returns the service over store. The registry must hold this
// service's event types (Register); it may hold the funds service's too.
func New(store events.Store, registry *events.Registry, opts ...Option) *Service {
	s := &Service{now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	repo := svc.RepositoryOptions{Snapshots: s.snapshots, Logger: s.log}
	s.companies = svc.NewRepository(store, registry, companyDecider(), repo)
	s.applications = svc.NewRepository(store, registry, applicationDecider(), repo)
	s.views = newViews(registry, func() time.Time { return s.now() })
	s.follower = projections.NewFollower(Name, store, s.views.apply)
	return s
}

// Run feeds the views from the start of the log until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if err := s.follower.Run(ctx, 0); err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	return nil
}

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	startup, operator, system := fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem
	anyone := []fundbridge.Role{startup, fundbridge.RoleFundManager, fundbridge.RoleBank, fundbridge.RoleInsurer, operator, system}
	return svc.Service{Name: Name, Logger: s.log, Operations: map[string]svc.Handler{
		"company.register":              op("company.register", []fundbridge.Role{startup, operator, system}, s.registerCompany),
		"company.update":                op("company.update", []fundbridge.Role{startup, operator}, s.updateCompany),
		"company.change_stage":          op("company.change_stage", []fundbridge.Role{startup, operator}, s.changeStage),
		"company.add_patent":            op("company.add_patent", []fundbridge.Role{startup, operator}, s.addPatent),
		"company.get":                   op("company.get", anyone, s.getCompany),
		"company.list":                  op("company.list", anyone, s.listCompanies),
		"application.draft":             op("application.draft", []fundbridge.Role{startup, operator}, s.draft),
		"application.update":            op("application.update", []fundbridge.Role{startup, operator}, s.update),
		"application.submit":            op("application.submit", []fundbridge.Role{startup, operator}, s.submit),
		"application.withdraw":          op("application.withdraw", []fundbridge.Role{startup}, s.withdraw),
		"application.mark_matched":      op("application.mark_matched", []fundbridge.Role{system, operator}, s.markMatched),
		"application.mark_under_review": op("application.mark_under_review", []fundbridge.Role{system, operator}, s.markUnderReview),
		"application.mark_funded":       op("application.mark_funded", []fundbridge.Role{system, operator}, s.markFunded),
		"application.reject":            op("application.reject", []fundbridge.Role{operator}, s.reject),
		"application.expire":            op("application.expire", []fundbridge.Role{system, operator}, s.expire),
		"application.get":               op("application.get", anyone, s.getApplication),
		"application.list":              op("application.list", anyone, s.listApplications),
	}}
}

// op wraps a typed handler: the role check first (a role that may never do
// this is EFORBIDDEN), then the strict decoding of the payload.
func op[P any](name string, roles []fundbridge.Role, h func(context.Context, *svc.Request, P) (svc.Result, error)) svc.Handler {
	return func(ctx context.Context, req *svc.Request) (svc.Result, error) {
		if !slices.Contains(roles, req.Actor.Role) {
			return svc.Result{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "the %s role may not call %s", req.Actor.Role, name)
		}
		p, err := decodePayload[P](req.Payload)
		if err != nil {
			return svc.Result{}, err
		}
		return h(ctx, req, p)
	}
}

// command is the repository's view of a request.
func command(req *svc.Request) svc.Command {
	return svc.Command{
		Meta: events.Meta{
			Actor: req.Actor, CorrelationID: req.CorrelationID, CausationID: req.ID, IdempotencyKey: req.IdempotencyKey,
		},
		Expected: req.ExpectedVersion,
	}
}

// ownOrg fills a startup's omitted company ID with its own org.
func ownOrg(actor fundbridge.Actor, companyID string) string {
	if companyID == "" && actor.Role == fundbridge.RoleStartup {
		return actor.OrgID
	}
	return companyID
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

func (s *Service) registerCompany(ctx context.Context, req *svc.Request, cmd RegisterCompany) (svc.Result, error) {
	if req.Actor.Role == fundbridge.RoleStartup {
		if req.Actor.OrgID == "" {
			return svc.Result{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a startup user without an organisation cannot register a company")
		}
		if cmd.CompanyID != "" && cmd.CompanyID != req.Actor.OrgID {
			return svc.Result{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a startup registers only its own organisation as a company")
		}
		cmd.CompanyID = req.Actor.OrgID
	}
	if err := cmd.ValidateAt(s.now()); err != nil {
		return svc.Result{}, err
	}
	// One company per USCC. The view may lag a concurrent registration, so
	// this catches mistakes, not races.
	if holder, taken := s.views.uscc(cmd.USCC); taken && holder != cmd.CompanyID {
		return svc.Result{}, &fundbridge.Error{Code: fundbridge.ECONFLICT, Message: "another company is registered with this USCC",
			Fields: []fundbridge.FieldError{{Field: "uscc", Reason: "already registered"}}}
	}
	return s.executeCompany(ctx, req, cmd.CompanyID, func(c Company) ([]events.Payload, error) { return registerCompany(c, cmd) })
}

func (s *Service) updateCompany(ctx context.Context, req *svc.Request, cmd UpdateCompanyProfile) (svc.Result, error) {
	cmd.CompanyID = ownOrg(req.Actor, cmd.CompanyID)
	if err := cmd.ValidateAt(s.now()); err != nil {
		return svc.Result{}, err
	}
	if err := mayChangeCompany(req.Actor, cmd.CompanyID); err != nil {
		return svc.Result{}, err
	}
	return s.executeCompany(ctx, req, cmd.CompanyID, func(c Company) ([]events.Payload, error) { return updateCompanyProfile(c, cmd) })
}

func (s *Service) changeStage(ctx context.Context, req *svc.Request, cmd ChangeCompanyStage) (svc.Result, error) {
	cmd.CompanyID = ownOrg(req.Actor, cmd.CompanyID)
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	if err := mayChangeCompany(req.Actor, cmd.CompanyID); err != nil {
		return svc.Result{}, err
	}
	return s.executeCompany(ctx, req, cmd.CompanyID, func(c Company) ([]events.Payload, error) { return changeCompanyStage(c, cmd) })
}

func (s *Service) addPatent(ctx context.Context, req *svc.Request, cmd AddPatent) (svc.Result, error) {
	cmd.CompanyID = ownOrg(req.Actor, cmd.CompanyID)
	if err := cmd.ValidateAt(s.now()); err != nil {
		return svc.Result{}, err
	}
	if err := mayChangeCompany(req.Actor, cmd.CompanyID); err != nil {
		return svc.Result{}, err
	}
	return s.executeCompany(ctx, req, cmd.CompanyID, func(c Company) ([]events.Payload, error) { return addPatent(c, cmd) })
}

func (s *Service) executeCompany(ctx context.Context, req *svc.Request, id string, decide func(Company) ([]events.Payload, error)) (svc.Result, error) {
	res, c, err := s.companies.Execute(ctx, id, command(req), decide)
	if err != nil {
		return svc.Result{}, fmt.Errorf("company %s: %w", id, err)
	}
	return svc.Result{Value: presentCompany(c, chinaToday(s.now())), Position: res.Position, Version: res.LastVersion}, nil
}

// Application commands.

func (s *Service) draft(ctx context.Context, req *svc.Request, cmd DraftApplication) (svc.Result, error) {
	cmd.CompanyID = ownOrg(req.Actor, cmd.CompanyID)
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	if err := mayChangeCompany(req.Actor, cmd.CompanyID); err != nil {
		return svc.Result{}, err
	}
	company, err := s.company(ctx, cmd.CompanyID)
	if err != nil {
		return svc.Result{}, fmt.Errorf("draft for company %s: %w", cmd.CompanyID, err)
	}
	id := req.NewID("application.draft")
	res, a, err := s.applications.Execute(ctx, id, command(req), func(a Application) ([]events.Payload, error) {
		return draftApplication(a, id, company, cmd)
	})
	if err != nil {
		return svc.Result{}, fmt.Errorf("draft application %s: %w", id, err)
	}
	return svc.Result{Value: presentApplication(a, nil), Position: res.Position, Version: res.LastVersion}, nil
}

func (s *Service) update(ctx context.Context, req *svc.Request, cmd UpdateApplication) (svc.Result, error) {
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return updateApplication(a, c, cmd)
	})
}

func (s *Service) submit(ctx context.Context, req *svc.Request, cmd SubmitApplication) (svc.Result, error) {
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	return s.executeApplication(ctx, req, cmd.ApplicationID, submitApplication)
}

func (s *Service) withdraw(ctx context.Context, req *svc.Request, cmd WithdrawApplication) (svc.Result, error) {
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return withdrawApplication(a, c, cmd)
	})
}

func (s *Service) markMatched(ctx context.Context, req *svc.Request, cmd MarkMatched) (svc.Result, error) {
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return markMatched(a, c, cmd)
	})
}

func (s *Service) markUnderReview(ctx context.Context, req *svc.Request, cmd MarkUnderReview) (svc.Result, error) {
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return markUnderReview(a, c, cmd)
	})
}

func (s *Service) markFunded(ctx context.Context, req *svc.Request, cmd MarkFunded) (svc.Result, error) {
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return markFunded(a, c, cmd)
	})
}

func (s *Service) reject(ctx context.Context, req *svc.Request, cmd RejectApplication) (svc.Result, error) {
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	return s.executeApplication(ctx, req, cmd.ApplicationID, func(a Application, c Company) ([]events.Payload, error) {
		return rejectApplication(a, c, cmd)
	})
}

func (s *Service) expire(ctx context.Context, req *svc.Request, cmd ExpireApplication) (svc.Result, error) {
	if err := cmd.Validate(); err != nil {
		return svc.Result{}, err
	}
	return s.executeApplication(ctx, req, cmd.ApplicationID, expireApplication)
}

// executeApplication runs a command on an existing application. The
// application is loaded first to check who may touch it, so a stranger
// learns nothing (not even its version through If-Match); then the company,
// whose current stage, layer, sector and city every event records.
func (s *Service) executeApplication(ctx context.Context, req *svc.Request, id string, decide func(Application, Company) ([]events.Payload, error)) (svc.Result, error) {
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
		return svc.Result{}, fmt.Errorf("application %s: %w", id, err)
	}
	if err := visible(current.State); err != nil {
		return svc.Result{}, err
	}
	company, err := s.company(ctx, current.State.Slice.CompanyID)
	if err != nil {
		return svc.Result{}, fmt.Errorf("application %s: company %s: %w", id, current.State.Slice.CompanyID, err)
	}
	if !company.Registered() {
		return svc.Result{}, fmt.Errorf("application %s: company %s has no events", id, current.State.Slice.CompanyID)
	}
	res, a, err := s.applications.Execute(ctx, id, command(req), func(a Application) ([]events.Payload, error) {
		if err := visible(a); err != nil {
			return nil, err
		}
		return decide(a, company)
	})
	if err != nil {
		return svc.Result{}, fmt.Errorf("application %s: %w", id, err)
	}
	return svc.Result{Value: presentApplication(a, nil), Position: res.Position, Version: res.LastVersion}, nil
}

// company is the company's current state for an application's events:
// from its repository, or from the view when that has folded a later
// version (written through another instance, which this instance's
// repository cache has not seen). Both fold with evolveCompany.
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

func (s *Service) getCompany(ctx context.Context, req *svc.Request, q GetCompany) (svc.Result, error) {
	q.CompanyID = ownOrg(req.Actor, q.CompanyID)
	if err := q.Validate(); err != nil {
		return svc.Result{}, err
	}
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result{}, err
	}
	c, err := s.views.company(req.Actor, q.CompanyID)
	if err != nil {
		return svc.Result{}, err
	}
	return svc.Result{Value: c, Version: c.Version}, nil
}

func (s *Service) listCompanies(ctx context.Context, req *svc.Request, q ListCompanies) (svc.Result, error) {
	if err := q.Validate(); err != nil {
		return svc.Result{}, err
	}
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result{}, err
	}
	page, err := s.views.listCompanies(req.Actor, q)
	if err != nil {
		return svc.Result{}, err
	}
	return svc.Result{Value: page}, nil
}

func (s *Service) getApplication(ctx context.Context, req *svc.Request, q GetApplication) (svc.Result, error) {
	if err := q.Validate(); err != nil {
		return svc.Result{}, err
	}
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result{}, err
	}
	a, err := s.views.application(req.Actor, q.ApplicationID)
	if err != nil {
		return svc.Result{}, err
	}
	return svc.Result{Value: a, Version: a.Version}, nil
}

func (s *Service) listApplications(ctx context.Context, req *svc.Request, q ListApplications) (svc.Result, error) {
	if err := q.Validate(); err != nil {
		return svc.Result{}, err
	}
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result{}, err
	}
	page, err := s.views.listApplications(req.Actor, q)
	if err != nil {
		return svc.Result{}, err
	}
	return svc.Result{Value: page}, nil
}
