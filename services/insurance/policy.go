package insurance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// policyType names the policy streams: "policy-<id>". A policy's claims
// are on its stream, so that settlements are judged against one aggregate
// limit with optimistic concurrency.
const policyType = "policy"

// Policy statuses.
const (
	PolicyAwaitingPremium = "awaiting_premium" // bound; cover begins once the premium is paid
	PolicyInForce         = "in_force"
	PolicyExpired         = "expired"
	PolicyCancelled       = "cancelled"
)

// Policy is the policy aggregate's state. It is a value: evolve returns a
// new one and never writes into the slices of the one it was given.
type Policy struct {
	ID             string              `json:"id"`
	Number         string              `json:"number"`
	RequestID      string              `json:"request_id"`
	QuoteID        string              `json:"quote_id"`
	CompanyID      string              `json:"company_id"`
	InsurerID      string              `json:"insurer_id"`
	City           fundbridge.City     `json:"city"`
	Stage          fundbridge.Stage    `json:"stage,omitempty"`
	Coverage       api.Coverage        `json:"coverage"`
	Patents        []api.InsuredPatent `json:"patents"`
	SumInsured     money.Amount        `json:"sum_insured"`
	AggregateLimit money.Amount        `json:"aggregate_limit"`
	Premium        money.Amount        `json:"premium"`
	StartsOn       time.Time           `json:"starts_on"`
	EndsOn         time.Time           `json:"ends_on"`
	LoanDealID     string              `json:"loan_deal_id,omitempty"`
	// ProgrammeID and Subsidy are the subsidy applied, if any.
	ProgrammeID   string               `json:"programme_id,omitempty"`
	Subsidy       money.Amount         `json:"subsidy"`
	PremiumPaid   bool                 `json:"premium_paid"`
	PaidByCompany money.Amount         `json:"paid_by_company"`
	ClaimsPaid    money.Amount         `json:"claims_paid"`
	Claims        []Claim              `json:"claims,omitempty"`
	Status        string               `json:"status"`
	Cancellation  *api.PolicyCancelled `json:"cancellation,omitempty"`
	BoundAt       time.Time            `json:"bound_at"`
	UpdatedAt     time.Time            `json:"updated_at"`
	Version       uint64               `json:"version"`
}

// Exists reports whether the policy was bound.
func (p Policy) Exists() bool { return p.ID != "" }

// RemainingLimit is what the policy can still pay on claims.
func (p Policy) RemainingLimit() money.Amount { return p.AggregateLimit.Sub(p.ClaimsPaid) }

// PremiumDue is what the startup pays: the premium less any subsidy.
func (p Policy) PremiumDue() money.Amount { return p.Premium.Sub(p.Subsidy) }

// DaysInPeriod is the number of days of cover, first and last included.
func (p Policy) DaysInPeriod() int { return api.Days(p.StartsOn, p.EndsOn) + 1 }

// lastCoveredDay is the last day an incident is covered: the end date, or
// the day before a cancellation took effect.
func (p Policy) lastCoveredDay() time.Time {
	if p.Cancellation != nil {
		on, _ := api.ParseDate(p.Cancellation.EffectiveOn)
		return on.AddDate(0, 0, -1)
	}
	return p.EndsOn
}

func (p Policy) visible(a fundbridge.Actor) bool {
	switch a.Role {
	case fundbridge.RoleStartup:
		return a.OrgID == p.CompanyID
	case fundbridge.RoleInsurer:
		return a.OrgID == p.InsurerID
	}
	return platform(a)
}

// policyDecider is the policy aggregate for the repository.
func policyDecider() svc.Decider[Policy] {
	return svc.Decider[Policy]{Type: policyType, Initial: func() Policy { return Policy{} }, Evolve: evolvePolicy, SnapshotSchema: "insurance-policy.v1"}
}

// evolvePolicy folds one event into the state. Pure: slices are copied
// before they change. Every event stamps the version and the time of the
// change, one the policy does not know as well (it changes nothing else).
func evolvePolicy(p Policy, e events.Event, payload any) Policy {
	p = policyFold.Apply(p, e, payload)
	p.Version, p.UpdatedAt = e.Version, e.RecordedAt
	return p
}

var policyFold = policyFolds()

// policyFolds is the policy's fold, its claims' steps included.
func policyFolds() *fold.Evolve[Policy] {
	var f fold.Evolve[Policy]
	fold.Step(&f, func(_ Policy, e events.Event, ev api.PolicyBound) Policy {
		starts, _ := api.ParseDate(ev.StartsOn)
		ends, _ := api.ParseDate(ev.EndsOn)
		return Policy{
			ID: ev.PolicyID, Number: ev.PolicyNumber, RequestID: ev.RequestID, QuoteID: ev.QuoteID, CompanyID: ev.CompanyID,
			InsurerID: ev.InsurerID, City: ev.City, Stage: ev.Stage, Coverage: ev.Coverage, Patents: slices.Clone(ev.Patents),
			SumInsured: ev.SumInsured, AggregateLimit: ev.AggregateLimit, Premium: ev.Premium, StartsOn: starts, EndsOn: ends,
			LoanDealID: ev.LoanDealID, Status: PolicyAwaitingPremium, BoundAt: e.RecordedAt,
		}
	})
	fold.Step(&f, func(p Policy, _ events.Event, ev api.SubsidyApplied) Policy {
		p.ProgrammeID, p.Subsidy = ev.ProgrammeID, ev.Amount
		return p
	})
	fold.Step(&f, func(p Policy, _ events.Event, ev api.PremiumPaid) Policy {
		p.PremiumPaid, p.PaidByCompany, p.Status = true, ev.Amount, PolicyInForce
		return p
	})
	fold.Step(&f, func(p Policy, _ events.Event, _ api.PolicyExpired) Policy {
		p.Status = PolicyExpired
		return p
	})
	fold.Step(&f, func(p Policy, _ events.Event, ev api.PolicyCancelled) Policy {
		c := ev
		p.Status, p.Cancellation = PolicyCancelled, &c
		return p
	})
	claimSteps(&f)
	return &f
}

// requirePolicy lets the actor act on a policy it may see, in one of roles.
func requirePolicy(p Policy, a fundbridge.Actor, id, what string, roles ...fundbridge.Role) error {
	if err := requireRole(a, what, roles...); err != nil {
		return err
	}
	if !p.Exists() || !p.visible(a) {
		return notFound("policy", id)
	}
	return nil
}

// decideBind binds the policy of the request's accepted quote. Cover
// starts on the requested day, or on today if that has passed (the period
// keeps its length); each patent must still have MinYearsToExpiry years
// of term left then. Binding the same quote again changes nothing.
func decideBind(p Policy, a fundbridge.Actor, id string, cmd api.BindPolicy, r Request, now time.Time) ([]events.Payload, error) {
	if err := requireRole(a, "bind policies", fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if !r.Exists() || !r.visible(a) || r.ID != cmd.RequestID {
		return nil, notFound("insurance request", cmd.RequestID)
	}
	if p.Exists() {
		if p.QuoteID == cmd.QuoteID {
			return nil, nil
		}
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s is already bound from quote %s", p.ID, p.QuoteID)
	}
	q, ok := r.quote(cmd.QuoteID)
	if !ok || r.Status != RequestAccepted || r.Accepted != q.QuoteID || id != PolicyID(q.QuoteID) {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "quote %s on request %s has not been accepted", cmd.QuoteID, r.ID)
	}
	starts := r.policyStart(api.Today(now))
	if err := patentsLastFrom(r, starts); err != nil {
		return nil, err
	}
	return []events.Payload{api.PolicyBound{
		PolicyID: id, PolicyNumber: PolicyNumber(q.InsurerID, q.QuoteID, r.Coverage, starts), RequestID: r.ID, QuoteID: q.QuoteID,
		CompanyID: r.CompanyID, InsurerID: q.InsurerID, City: r.City, Stage: r.Stage, Coverage: r.Coverage,
		Patents: slices.Clone(r.Patents), SumInsured: r.SumInsured, AggregateLimit: q.AggregateLimit, Premium: q.Premium,
		StartsOn: starts.Format(api.DateLayout), EndsOn: api.PeriodEnd(starts, r.Months).Format(api.DateLayout), LoanDealID: r.LoanDealID,
	}}, nil
}

// patentsLastFrom refuses a policy starting on starts if a patent would
// then have less than MinYearsToExpiry years left: a request's start may
// have passed by the time a quote is accepted.
func patentsLastFrom(r Request, starts time.Time) error {
	for i, pat := range r.Patents {
		if reason := expiryProblem(pat, starts); reason != "" {
			return &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: "the policy cannot start on " + starts.Format(api.DateLayout) + ": " + reason,
				Fields: []fundbridge.FieldError{{Field: fmt.Sprintf("patents[%d]", i), Reason: reason}}}
		}
	}
	return nil
}

// decideApplySubsidy records the subsidy a programme granted, before the
// premium is paid. The same subsidy again changes nothing.
func decideApplySubsidy(p Policy, a fundbridge.Actor, cmd api.ApplySubsidy) ([]events.Payload, error) {
	if err := requirePolicy(p, a, cmd.PolicyID, "apply subsidies", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if p.ProgrammeID != "" {
		if p.ProgrammeID == cmd.ProgrammeID && p.Subsidy.Equal(cmd.Amount) {
			return nil, nil
		}
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s already has a subsidy of %s from programme %s", p.ID, p.Subsidy.Exact(), p.ProgrammeID)
	}
	if p.Status != PolicyAwaitingPremium {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s is %s: a subsidy applies only before the premium is paid", p.ID, p.Status)
	}
	if cmd.Amount.GreaterThan(p.Premium) {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "subsidy %s exceeds the premium %s", cmd.Amount.Exact(), p.Premium.Exact())
	}
	return []events.Payload{api.SubsidyApplied{PolicyID: p.ID, ProgrammeID: cmd.ProgrammeID, Amount: cmd.Amount, PremiumDue: p.Premium.Sub(cmd.Amount)}}, nil
}

// decidePayPremium records the startup's payment, which must be exactly
// the premium due. Cover begins with it. The same payment again changes
// nothing.
func decidePayPremium(p Policy, a fundbridge.Actor, cmd api.PayPremium) ([]events.Payload, error) {
	if err := requirePolicy(p, a, cmd.PolicyID, "pay premiums", fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if p.PremiumPaid {
		if p.PaidByCompany.Equal(cmd.Amount) {
			return nil, nil
		}
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "the premium of policy %s is already paid", p.ID)
	}
	switch p.Status {
	case PolicyAwaitingPremium:
	case PolicyCancelled:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s was cancelled before its premium was paid: no premium is due", p.Number)
	case PolicyExpired:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s expired before its premium was paid: no premium is due", p.Number)
	default:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s is %s", p.Number, p.Status)
	}
	if due := p.PremiumDue(); !cmd.Amount.Equal(due) {
		return nil, &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: fmt.Sprintf("the premium due on policy %s is %s, not %s", p.ID, due.Exact(), cmd.Amount.Exact()),
			Fields: []fundbridge.FieldError{{Field: "amount", Reason: "must be the premium due, " + due.String()}}}
	}
	return []events.Payload{api.PremiumPaid{PolicyID: p.ID, Amount: cmd.Amount, Subsidy: p.Subsidy, Premium: p.Premium}}, nil
}

// decideExpirePolicy ends a policy after its last day. It is the durable
// deadline's command, so it may come more than once and late: a policy
// already expired or cancelled is no change. It may not come early.
func decideExpirePolicy(p Policy, a fundbridge.Actor, cmd api.ExpirePolicy, now time.Time) ([]events.Payload, error) {
	if err := requirePolicy(p, a, cmd.PolicyID, "expire policies", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if p.Status == PolicyExpired || p.Status == PolicyCancelled {
		return nil, nil
	}
	if !api.Today(now).After(p.EndsOn) {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s runs until %s", p.ID, p.EndsOn.Format(api.DateLayout))
	}
	return []events.Payload{api.PolicyExpired{PolicyID: p.ID, EndsOn: p.EndsOn.Format(api.DateLayout)}}, nil
}

// decideCancel ends cover from EffectiveOn (today by default; never in
// the past, never after the last day). A paid premium is refunded for the
// days not covered, pro rata and rounded half-up to the fen, so that the
// refund and the premium earned add up to the premium paid exactly; the
// refund goes back to the startup and the subsidy programme in proportion
// to what each paid (largest remainder).
func decideCancel(p Policy, a fundbridge.Actor, cmd api.CancelPolicy, now time.Time) ([]events.Payload, error) {
	if err := requirePolicy(p, a, cmd.PolicyID, "cancel policies", fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	today := api.Today(now)
	effective := today
	if cmd.EffectiveOn != "" {
		effective, _ = api.ParseDate(cmd.EffectiveOn)
	}
	switch {
	case p.Status == PolicyCancelled:
		if p.Cancellation.EffectiveOn == effective.Format(api.DateLayout) {
			return nil, nil
		}
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s was cancelled from %s", p.ID, p.Cancellation.EffectiveOn)
	case p.Status == PolicyExpired || today.After(p.EndsOn):
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s expired on %s: there is nothing left to cancel", p.ID, p.EndsOn.Format(api.DateLayout))
	case effective.Before(today):
		return nil, fundbridge.Invalid("invalid cancellation", fundbridge.FieldError{Field: "effective_on", Reason: "must not be before today, " + today.Format(api.DateLayout)})
	case effective.After(p.EndsOn):
		return nil, &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: fmt.Sprintf("policy %s ends on %s, before the cancellation would take effect", p.ID, p.EndsOn.Format(api.DateLayout)),
			Fields: []fundbridge.FieldError{{Field: "effective_on", Reason: "must not be after the policy's last day, " + p.EndsOn.Format(api.DateLayout)}}}
	}
	c, err := p.refund(effective)
	if err != nil {
		return nil, err
	}
	c.Reason = strings.TrimSpace(cmd.Reason)
	return []events.Payload{c}, nil
}

// refund works out a cancellation from effective: the days covered, and
// the refund of a paid premium for the rest; of an unpaid one, the
// subsidy drawn for it.
func (p Policy) refund(effective time.Time) (api.PolicyCancelled, error) {
	total := p.DaysInPeriod()
	covered := min(max(api.Days(p.StartsOn, effective), 0), total)
	c := api.PolicyCancelled{PolicyID: p.ID, EffectiveOn: effective.Format(api.DateLayout), DaysCovered: covered, DaysInPeriod: total}
	if !p.PremiumPaid {
		// Nothing was paid, by the startup or the programme: the whole
		// subsidy drawn at binding goes back to the programme's budget.
		if p.Subsidy.IsPositive() {
			c.RefundToProgramme, c.SubsidyProgrammeID = p.Subsidy, p.ProgrammeID
		}
		return c, nil
	}
	c.Refund = api.ProRata(p.Premium, total-covered, total)
	c.Earned = p.Premium.Sub(c.Refund)
	c.RefundToCompany = c.Refund
	if p.Subsidy.IsPositive() {
		parts, err := money.Split(c.Refund, []decimal.Decimal{p.PaidByCompany.Decimal(), p.Subsidy.Decimal()})
		if err != nil {
			return api.PolicyCancelled{}, fmt.Errorf("refund of policy %s: %w", p.ID, err)
		}
		c.RefundToCompany, c.RefundToProgramme, c.SubsidyProgrammeID = parts[0], parts[1], p.ProgrammeID
	}
	return c, nil
}
