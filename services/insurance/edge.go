package insurance

import (
	"context"
	"fmt"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// requestFacts gathers, before the decide step, what a request is judged
// against: the company and its patents from the applications service,
// the insurers' tables from this service's own streams, and for the
// guarantee cover the loan deal from the deals service. The calls go out
// as the service's system actor, which sees every company and deal.
func (s *Service) requestFacts(ctx context.Context, req *svc.Request, cmd api.RequestInsurance) (RequestFacts, error) {
	facts := RequestFacts{Offering: map[string]bool{}}
	company := cmd.CompanyID
	if company == "" && req.Actor.Role == fundbridge.RoleStartup {
		company = req.Actor.OrgID
	}
	if s.client == nil {
		return facts, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "insurance cannot reach the applications service")
	}
	ask := &svc.Request{ID: req.ID, Actor: svc.SystemActor(Name), CorrelationID: req.CorrelationID, CausationID: req.ID}
	if company != "" {
		c, _, err := svc.Call(ctx, s.client, applicationsapi.GetCompanyEndpoint, ask, applicationsapi.GetCompany{CompanyID: company})
		switch {
		case fundbridge.ErrorCode(err) == fundbridge.ENOTFOUND:
		case err != nil:
			return facts, fmt.Errorf("read company %s: %w", company, err)
		default:
			facts.Company = companyFacts(c)
		}
	}
	for i, p := range facts.Company.Patents {
		st, _, err := fresh(ctx, s, standingDecider(), standingID(p.Number))
		if err != nil {
			return facts, err
		}
		facts.Company.Patents[i] = applyStanding(p, st, company)
	}
	for _, id := range cmd.Insurers {
		t, _, err := fresh(ctx, s, tableDecider(), id)
		if err != nil {
			return facts, err
		}
		facts.Offering[id] = t.Onboarded() && t.Exists() && t.Table.Offers(cmd.Coverage)
	}
	if cmd.Coverage == api.CoveragePledgeGuarantee && cmd.LoanDealID != "" {
		d, _, err := svc.Call(ctx, s.client, dealsapi.GetDealEndpoint, ask, dealsapi.GetDeal{DealID: cmd.LoanDealID})
		switch {
		case fundbridge.ErrorCode(err) == fundbridge.ENOTFOUND:
		case err != nil:
			return facts, fmt.Errorf("read loan deal %s: %w", cmd.LoanDealID, err)
		default:
			facts.LoanDeal = &LoanDealFacts{DealID: d.DealID, CompanyID: d.BorrowerID, Principal: d.Loan.Principal}
		}
	}
	return facts, nil
}

// companyFacts is the company as the applications service shows it. That
// service records neither a licensor's consent nor a dispute: they are
// the patent's standing, recorded in this service (applyStanding).
func companyFacts(c applicationsapi.CompanyView) CompanyFacts {
	f := CompanyFacts{CompanyID: c.ID, Registered: true, City: c.City, Stage: c.Stage}
	for _, p := range c.Patents {
		f.Patents = append(f.Patents, PatentFact{InsuredPatent: api.InsuredPatent{
			Number: p.Number, Kind: p.Kind, FiledOn: p.FiledOn, GrantedOn: p.GrantedOn, ExpiresOn: p.ExpiresOn, Holding: p.Holding,
		}})
	}
	return f
}

// fresh folds an aggregate from its whole stream, never from a cache: a
// repository's Load may answer from memory, which another instance's
// writes leave behind (an insurer's table published there, a quote
// accepted there). Used for the facts read beside a decision, on short
// streams.
func fresh[S any](ctx context.Context, s *Service, d svc.Decider[S], id string) (S, uint64, error) {
	state := d.Initial()
	evs, err := s.store.ReadStream(ctx, d.Type+"-"+id, 1)
	if err != nil {
		return state, 0, fmt.Errorf("read %s-%s: %w", d.Type, id, err)
	}
	var version uint64
	for _, e := range evs {
		e, payload, err := s.registry.Decode(e)
		if err != nil {
			return state, 0, fmt.Errorf("read %s-%s: %w", d.Type, id, err)
		}
		state, version = d.Evolve(state, e, payload), e.Version
	}
	return state, version, nil
}
