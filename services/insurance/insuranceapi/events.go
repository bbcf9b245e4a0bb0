package insuranceapi

import (
	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
)

// The events of the insurance service: requests and their quotes
// (insurance-<id>), policies and their claims (policy-<id>), subsidy
// programmes (subsidy-<id>) and insurers' rating tables
// (ratingtable-<insurer id>). Dates are YYYY-MM-DD days in China time.

// InsuredPatent is a patent as a request and its policy record it: the
// facts the applications service held when the startup asked.
type InsuredPatent struct {
	Number    string        `json:"number"`
	Kind      PatentKind    `json:"kind"`
	FiledOn   string        `json:"filed_on"`
	GrantedOn string        `json:"granted_on"`
	ExpiresOn string        `json:"expires_on"`
	Holding   PatentHolding `json:"holding"`
}

// InsuranceRequested: a startup asked insurers to quote cover.
type InsuranceRequested struct {
	RequestID  string           `json:"request_id"`
	CompanyID  string           `json:"company_id"`
	City       fundbridge.City  `json:"city"`
	Stage      fundbridge.Stage `json:"stage,omitempty"`
	Coverage   Coverage         `json:"coverage"`
	Patents    []InsuredPatent  `json:"patents"`
	SumInsured money.Amount     `json:"sum_insured"`
	StartsOn   string           `json:"starts_on"`
	Months     int              `json:"months"`
	EndsOn     string           `json:"ends_on"`
	Claims     ClaimsBand       `json:"claims"`
	LoanDealID string           `json:"loan_deal_id,omitempty"` // pledge_guarantee only
	Insurers   []string         `json:"insurers"`
}

// InsuranceQuoted: an insurer offered cover at a premium. TablePremium
// is what its published table gave; the premium is within the quote band.
type InsuranceQuoted struct {
	RequestID      string       `json:"request_id"`
	QuoteID        string       `json:"quote_id"`
	InsurerID      string       `json:"insurer_id"`
	Premium        money.Amount `json:"premium"`
	TablePremium   money.Amount `json:"table_premium"`
	TableVersion   uint64       `json:"table_version"`
	AggregateLimit money.Amount `json:"aggregate_limit"`
	ValidUntil     string       `json:"valid_until"` // the last day it can be accepted
	Note           string       `json:"note,omitempty"`
}

// InsuranceDeclined: an insurer will not quote.
type InsuranceDeclined struct {
	RequestID string `json:"request_id"`
	InsurerID string `json:"insurer_id"`
	Reason    string `json:"reason"`
}

// QuoteExpired: a quote's validity ran out before it was accepted.
type QuoteExpired struct {
	RequestID string `json:"request_id"`
	QuoteID   string `json:"quote_id"`
	InsurerID string `json:"insurer_id"`
}

// QuoteAccepted: the startup took a quote; the policy PolicyID is bound
// from it. The request is closed to other quotes.
type QuoteAccepted struct {
	RequestID string `json:"request_id"`
	QuoteID   string `json:"quote_id"`
	InsurerID string `json:"insurer_id"`
	PolicyID  string `json:"policy_id"`
}

// InsuranceWithdrawn: the startup no longer wants cover.
type InsuranceWithdrawn struct {
	RequestID string `json:"request_id"`
	Reason    string `json:"reason,omitempty"`
}

// PolicyBound: a policy is in force from StartsOn to EndsOn, both days
// included, once its premium is paid.
type PolicyBound struct {
	PolicyID       string           `json:"policy_id"`
	PolicyNumber   string           `json:"policy_number"`
	RequestID      string           `json:"request_id"`
	QuoteID        string           `json:"quote_id"`
	CompanyID      string           `json:"company_id"`
	InsurerID      string           `json:"insurer_id"`
	City           fundbridge.City  `json:"city"`
	Stage          fundbridge.Stage `json:"stage,omitempty"`
	Coverage       Coverage         `json:"coverage"`
	Patents        []InsuredPatent  `json:"patents"`
	SumInsured     money.Amount     `json:"sum_insured"`
	AggregateLimit money.Amount     `json:"aggregate_limit"`
	Premium        money.Amount     `json:"premium"`
	StartsOn       string           `json:"starts_on"`
	EndsOn         string           `json:"ends_on"`
	LoanDealID     string           `json:"loan_deal_id,omitempty"`
}

// SubsidyApplied: a programme pays part of the policy's premium, so the
// startup owes only PremiumDue.
type SubsidyApplied struct {
	PolicyID    string       `json:"policy_id"`
	ProgrammeID string       `json:"programme_id"`
	Amount      money.Amount `json:"amount"`
	PremiumDue  money.Amount `json:"premium_due"`
}

// PremiumPaid: the premium is settled: Amount by the startup, Subsidy by
// the programme, together Premium.
type PremiumPaid struct {
	PolicyID string       `json:"policy_id"`
	Amount   money.Amount `json:"amount"`
	Subsidy  money.Amount `json:"subsidy"`
	Premium  money.Amount `json:"premium"`
}

// ClaimFiled: the insured asks the insurer to pay for an incident. A
// guarantee claim names the loan default it is for (filed once per
// default): the insurer's share of the loss under the deal's risk-sharing
// table.
type ClaimFiled struct {
	PolicyID    string       `json:"policy_id"`
	ClaimID     string       `json:"claim_id"`
	IncidentOn  string       `json:"incident_on"`
	Amount      money.Amount `json:"amount"` // claimed
	Description string       `json:"description"`
	LoanDealID  string       `json:"loan_deal_id,omitempty"`
	DefaultID   string       `json:"default_id,omitempty"`
	Loss        money.Amount `json:"loss,omitzero"`
	Share       string       `json:"insurer_share,omitempty"`
}

// ClaimAssessed: the insurer's assessor fixed what the policy owes for the
// claim, at most the claimed amount.
type ClaimAssessed struct {
	PolicyID string       `json:"policy_id"`
	ClaimID  string       `json:"claim_id"`
	Amount   money.Amount `json:"amount"`
	Note     string       `json:"note,omitempty"`
}

// ClaimSettled: the insurer paid Amount on the claim; there may be several
// partial settlements. RemainingLimit is the policy's aggregate limit left.
type ClaimSettled struct {
	PolicyID       string       `json:"policy_id"`
	ClaimID        string       `json:"claim_id"`
	Amount         money.Amount `json:"amount"`
	PaidOnClaim    money.Amount `json:"paid_on_claim"`
	RemainingLimit money.Amount `json:"remaining_limit"`
}

// ClaimDenied: the insurer will not pay the claim.
type ClaimDenied struct {
	PolicyID string `json:"policy_id"`
	ClaimID  string `json:"claim_id"`
	Reason   string `json:"reason"`
}

// PolicyExpired: the policy's period ended.
type PolicyExpired struct {
	PolicyID string `json:"policy_id"`
	EndsOn   string `json:"ends_on"`
}

// PolicyCancelled: cover ends the day before EffectiveOn. The unused days
// of a paid premium are refunded pro rata: Refund + Earned = the premium
// paid, and the refund is split between the startup and the subsidy
// programme in proportion to what each paid.
type PolicyCancelled struct {
	PolicyID string `json:"policy_id"`
	// EffectiveOn is the first day without cover, YYYY-MM-DD (China time): cover ends the day before.
	EffectiveOn string `json:"effective_on"`
	Reason      string `json:"reason,omitempty"`
	// DaysCovered is how many days of the period were covered, first and last included.
	DaysCovered int `json:"days_covered"`
	// DaysInPeriod is the number of days of the whole policy period, first and last included.
	DaysInPeriod int `json:"days_in_period"`
	// Refund is the paid premium of the days not covered, pro rata by days.
	Refund money.Amount `json:"refund"`
	// Earned is what the insurer keeps: the premium paid minus Refund.
	Earned money.Amount `json:"earned"`
	// RefundToCompany is the company's part of Refund, in proportion to what it paid of the premium.
	RefundToCompany money.Amount `json:"refund_to_company"`
	// RefundToProgramme returns to the subsidy programme's budget: its part
	// of Refund, or, when the premium was never paid, the whole subsidy
	// drawn for the policy (nothing was paid out, and Refund is 0).
	RefundToProgramme  money.Amount `json:"refund_to_programme"`
	SubsidyProgrammeID string       `json:"subsidy_programme_id,omitempty"`
}

// SubsidyProgrammeCreated: an operator opened a public programme paying a
// share of eligible premiums.
type SubsidyProgrammeCreated struct {
	ProgrammeID string            `json:"programme_id"`
	Name        string            `json:"name"`
	Sponsor     string            `json:"sponsor"`
	Share       decimal.Decimal   `json:"share"` // of the premium, e.g. "0.50"
	CapPerYear  money.Amount      `json:"cap_per_company_per_year"`
	Budget      money.Amount      `json:"budget"`
	Coverages   []Coverage        `json:"coverages"`
	Cities      []fundbridge.City `json:"cities,omitempty"` // empty: any city
}

// SubsidyDrawn: a bound policy drew its subsidy. Whole is the share of
// the premium within the company's yearly cap; Amount is Whole, or what
// was left of the budget when that was less (Capped).
type SubsidyDrawn struct {
	ProgrammeID string       `json:"programme_id"`
	PolicyID    string       `json:"policy_id"`
	CompanyID   string       `json:"company_id"`
	Year        int          `json:"year"`
	Premium     money.Amount `json:"premium"`
	Whole       money.Amount `json:"whole"`
	Amount      money.Amount `json:"amount"`
	Capped      bool         `json:"capped"`
	BudgetLeft  money.Amount `json:"budget_left"`
}

// SubsidyReturned: a cancelled policy gave back part of its subsidy.
type SubsidyReturned struct {
	ProgrammeID string       `json:"programme_id"`
	PolicyID    string       `json:"policy_id"`
	CompanyID   string       `json:"company_id"`
	Year        int          `json:"year"`
	Amount      money.Amount `json:"amount"`
	BudgetLeft  money.Amount `json:"budget_left"`
}

// SubsidyProgrammeClosed: the programme takes no more draws.
type SubsidyProgrammeClosed struct {
	ProgrammeID string `json:"programme_id"`
	Reason      string `json:"reason,omitempty"`
}

// RatingTablePublished: an insurer published (or replaced) its rating
// table; quotes from now on are held to it.
type RatingTablePublished struct {
	InsurerID string      `json:"insurer_id"`
	Table     RatingTable `json:"table"`
}

func (InsuranceRequested) EventType() string      { return "insurance.requested.v1" }
func (InsuranceQuoted) EventType() string         { return "insurance.quoted.v1" }
func (InsuranceDeclined) EventType() string       { return "insurance.declined.v1" }
func (QuoteExpired) EventType() string            { return "insurance.quote_expired.v1" }
func (QuoteAccepted) EventType() string           { return "insurance.quote_accepted.v1" }
func (InsuranceWithdrawn) EventType() string      { return "insurance.withdrawn.v1" }
func (PolicyBound) EventType() string             { return "policy.bound.v1" }
func (SubsidyApplied) EventType() string          { return "policy.subsidy_applied.v1" }
func (PremiumPaid) EventType() string             { return "policy.premium_paid.v1" }
func (ClaimFiled) EventType() string              { return "claim.filed.v1" }
func (ClaimAssessed) EventType() string           { return "claim.assessed.v1" }
func (ClaimSettled) EventType() string            { return "claim.settled.v1" }
func (ClaimDenied) EventType() string             { return "claim.denied.v1" }
func (PolicyExpired) EventType() string           { return "policy.expired.v1" }
func (PolicyCancelled) EventType() string         { return "policy.cancelled.v1" }
func (SubsidyProgrammeCreated) EventType() string { return "subsidy.programme_created.v1" }
func (SubsidyDrawn) EventType() string            { return "subsidy.drawn.v1" }
func (SubsidyReturned) EventType() string         { return "subsidy.returned.v1" }
func (SubsidyProgrammeClosed) EventType() string  { return "subsidy.programme_closed.v1" }
func (RatingTablePublished) EventType() string    { return "insurer.rating_table_published.v1" }

// Register adds the service's event types to r.
func Register(r *events.Registry) {
	events.Register[InsuranceRequested](r, InsuranceRequested{}.EventType())
	events.Register[InsuranceQuoted](r, InsuranceQuoted{}.EventType())
	events.Register[InsuranceDeclined](r, InsuranceDeclined{}.EventType())
	events.Register[QuoteExpired](r, QuoteExpired{}.EventType())
	events.Register[QuoteAccepted](r, QuoteAccepted{}.EventType())
	events.Register[InsuranceWithdrawn](r, InsuranceWithdrawn{}.EventType())
	events.Register[PolicyBound](r, PolicyBound{}.EventType())
	events.Register[SubsidyApplied](r, SubsidyApplied{}.EventType())
	events.Register[PremiumPaid](r, PremiumPaid{}.EventType())
	events.Register[ClaimFiled](r, ClaimFiled{}.EventType())
	events.Register[ClaimAssessed](r, ClaimAssessed{}.EventType())
	events.Register[ClaimSettled](r, ClaimSettled{}.EventType())
	events.Register[ClaimDenied](r, ClaimDenied{}.EventType())
	events.Register[PolicyExpired](r, PolicyExpired{}.EventType())
	events.Register[PolicyCancelled](r, PolicyCancelled{}.EventType())
	events.Register[SubsidyProgrammeCreated](r, SubsidyProgrammeCreated{}.EventType())
	events.Register[SubsidyDrawn](r, SubsidyDrawn{}.EventType())
	events.Register[SubsidyReturned](r, SubsidyReturned{}.EventType())
	events.Register[SubsidyProgrammeClosed](r, SubsidyProgrammeClosed{}.EventType())
	events.Register[RatingTablePublished](r, RatingTablePublished{}.EventType())
	events.Register[InsurerOnboarded](r, InsurerOnboarded{}.EventType())
	events.Register[PatentStandingRecorded](r, PatentStandingRecorded{}.EventType())
}
