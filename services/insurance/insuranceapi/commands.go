package insuranceapi

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc/check"
)

// The commands of the insurance service. Each Validate names every bad
// field; the deciders apply the business rules on top.

// RequestInsurance asks insurers to quote cover on the company's patents.
// A startup asks for its own company; operators name it.
type RequestInsurance struct {
	CompanyID  string       `json:"company_id,omitempty"`
	Coverage   Coverage     `json:"coverage"`
	Patents    []string     `json:"patents"` // CN numbers registered to the company
	SumInsured money.Amount `json:"sum_insured"`
	StartsOn   string       `json:"starts_on,omitempty"` // default: today
	Months     int          `json:"months,omitempty"`    // default 12, at most 36
	// PriorClaims is the number of patent-insurance claims paid to the
	// company in the three years before; it sets the claims band.
	PriorClaims int      `json:"prior_claims,omitempty"`
	LoanDealID  string   `json:"loan_deal_id,omitempty"` // required for pledge_guarantee, only then
	Insurers    []string `json:"insurers"`               // insurer org IDs
}

// Validate names every bad field.
func (c RequestInsurance) Validate() error {
	var fe fieldErrors
	if c.CompanyID != "" {
		fe.id("company_id", c.CompanyID)
	}
	enum(&fe, "coverage", c.Coverage, Coverages)
	switch {
	case len(c.Patents) == 0:
		fe.Add("patents", "at least one patent is required")
	case len(c.Patents) > maxPatents:
		fe.Add("patents", fmt.Sprintf("%d patents, at most %d", len(c.Patents), maxPatents))
	default:
		seen := map[string]bool{}
		for i, n := range c.Patents {
			at := fmt.Sprintf("patents[%d]", i)
			if fe.Line(at, n, 40, true) {
				if seen[n] {
					fe.Add(at, fmt.Sprintf("%q is listed twice", n))
				}
				seen[n] = true
			}
		}
	}
	fe.positive("sum_insured", c.SumInsured)
	fe.date("starts_on", c.StartsOn, false)
	if c.Months < 0 || c.Months > MaxMonths {
		fe.Add("months", fmt.Sprintf("must be between 1 and %d (0 for the default %d)", MaxMonths, DefaultMonths))
	}
	if c.PriorClaims < 0 || c.PriorClaims > 1000 {
		fe.Add("prior_claims", "must be between 0 and 1000")
	}
	switch {
	case c.Coverage == CoveragePledgeGuarantee:
		fe.id("loan_deal_id", c.LoanDealID)
	case c.LoanDealID != "":
		fe.Add("loan_deal_id", "only a pledge_guarantee policy secures a loan deal")
	}
	fe.ids("insurers", c.Insurers, maxInsurers, true)
	return fe.Err("invalid insurance request")
}

// MonthsOrDefault is the policy period asked for.
func (c RequestInsurance) MonthsOrDefault() int {
	if c.Months == 0 {
		return DefaultMonths
	}
	return c.Months
}

// QuoteInsurance is an insurer's offer on a request sent to it. An
// insurer quotes as itself; operators and the platform name the insurer.
type QuoteInsurance struct {
	RequestID string       `json:"request_id"`
	InsurerID string       `json:"insurer_id,omitempty"`
	Premium   money.Amount `json:"premium"`
	Note      string       `json:"note,omitempty"`
}

// Validate names every bad field.
func (c QuoteInsurance) Validate() error {
	var fe fieldErrors
	fe.id("request_id", c.RequestID)
	if c.InsurerID != "" {
		fe.id("insurer_id", c.InsurerID)
	}
	fe.positive("premium", c.Premium)
	fe.Line("note", c.Note, maxReasonLength, false)
	return fe.Err("invalid quote")
}

// DeclineInsurance is an insurer's refusal to quote.
type DeclineInsurance struct {
	RequestID string `json:"request_id"`
	InsurerID string `json:"insurer_id,omitempty"`
	Reason    string `json:"reason"`
}

// Validate names every bad field.
func (c DeclineInsurance) Validate() error {
	var fe fieldErrors
	fe.id("request_id", c.RequestID)
	if c.InsurerID != "" {
		fe.id("insurer_id", c.InsurerID)
	}
	fe.Line("reason", c.Reason, maxReasonLength, true)
	return fe.Err("invalid decline")
}

// QuoteRef names one quote on a request: ExpireQuote (the durable
// deadline's command) and AcceptQuote.
type QuoteRef struct {
	RequestID string `json:"request_id"`
	QuoteID   string `json:"quote_id"`
}

// Validate names every bad field.
func (c QuoteRef) Validate() error {
	var fe fieldErrors
	fe.id("request_id", c.RequestID)
	fe.id("quote_id", c.QuoteID)
	return fe.Err("invalid quote reference")
}

type (
	// ExpireQuote ends a quote whose validity ran out. Sent by the
	// deadline; a quote already expired, accepted or gone is no change.
	ExpireQuote QuoteRef
	// AcceptQuote is the startup taking a valid quote: the policy is bound.
	AcceptQuote QuoteRef
	// BindPolicy binds the policy of an accepted quote; the service (or
	// the process manager, after a crash) sends it after AcceptQuote.
	BindPolicy QuoteRef
)

// Validate names every bad field.
func (c ExpireQuote) Validate() error { return QuoteRef(c).Validate() }

// Validate names every bad field.
func (c AcceptQuote) Validate() error { return QuoteRef(c).Validate() }

// Validate names every bad field.
func (c BindPolicy) Validate() error { return QuoteRef(c).Validate() }

// WithdrawRequest closes a request the startup no longer wants.
type WithdrawRequest struct {
	RequestID string `json:"request_id"`
	Reason    string `json:"reason,omitempty"`
}

// Validate names every bad field.
func (c WithdrawRequest) Validate() error {
	var fe fieldErrors
	fe.id("request_id", c.RequestID)
	fe.Line("reason", c.Reason, maxReasonLength, false)
	return fe.Err("invalid withdrawal")
}

// ApplySubsidy records the subsidy a programme granted the policy.
type ApplySubsidy struct {
	PolicyID    string       `json:"policy_id"`
	ProgrammeID string       `json:"programme_id"`
	Amount      money.Amount `json:"amount"`
}

// Validate names every bad field.
func (c ApplySubsidy) Validate() error {
	var fe fieldErrors
	fe.id("policy_id", c.PolicyID)
	fe.id("programme_id", c.ProgrammeID)
	fe.positive("amount", c.Amount)
	return fe.Err("invalid subsidy")
}

// PayPremium records the startup's payment of the premium due.
type PayPremium struct {
	PolicyID string       `json:"policy_id"`
	Amount   money.Amount `json:"amount"`
}

// Validate names every bad field. Zero is a valid payment: a premium
// wholly paid by a subsidy leaves nothing due.
func (c PayPremium) Validate() error {
	var fe fieldErrors
	fe.id("policy_id", c.PolicyID)
	fe.money("amount", c.Amount)
	return fe.Err("invalid premium payment")
}

// FileClaim asks the insurer to pay for an incident in the policy period.
type FileClaim struct {
	PolicyID    string       `json:"policy_id"`
	IncidentOn  string       `json:"incident_on"`
	Amount      money.Amount `json:"amount"`
	Description string       `json:"description"`
}

// Validate names every bad field.
func (c FileClaim) Validate() error {
	var fe fieldErrors
	fe.id("policy_id", c.PolicyID)
	fe.date("incident_on", c.IncidentOn, true)
	fe.positive("amount", c.Amount)
	fe.Text("description", c.Description, maxTextLength, true)
	return fe.Err("invalid claim")
}

// FileGuaranteeClaim is the platform claiming, for the bank, the
// insurer's share of a defaulted loan the policy guarantees. The process
// manager sends it when the deal records the default; DefaultID makes it
// once per default.
type FileGuaranteeClaim struct {
	PolicyID    string       `json:"policy_id"`
	LoanDealID  string       `json:"loan_deal_id"`
	DefaultID   string       `json:"default_id"`
	DefaultedOn string       `json:"defaulted_on"`
	Loss        money.Amount `json:"loss"`          // the loss the risk-sharing table allocates
	Share       string       `json:"insurer_share"` // the insurer's share of it, e.g. "0.30"
	// Allocated, when set, is the insurer's part of the loss as the deal
	// allocated it (largest remainder, so the parts sum to the loss): the
	// amount claimed instead of loss × share rounded on its own.
	Allocated money.Amount `json:"allocated,omitzero"`
}

// Validate names every bad field.
func (c FileGuaranteeClaim) Validate() error {
	_, err := c.ShareFraction()
	return err
}

// ShareFraction validates the command and returns the insurer's share.
func (c FileGuaranteeClaim) ShareFraction() (decimal.Decimal, error) {
	var fe fieldErrors
	fe.id("policy_id", c.PolicyID)
	fe.id("loan_deal_id", c.LoanDealID)
	fe.id("default_id", c.DefaultID)
	fe.date("defaulted_on", c.DefaultedOn, true)
	fe.positive("loss", c.Loss)
	fe.money("allocated", c.Allocated)
	if c.Allocated.GreaterThan(c.Loss) {
		fe.Add("allocated", "must not exceed the loss")
	}
	share := fe.share("insurer_share", c.Share)
	return share, fe.Err("invalid guarantee claim")
}

// ClaimAmount is a claim's assessment (what the policy owes) or one
// settlement (a payment towards it).
type ClaimAmount struct {
	PolicyID string       `json:"policy_id"`
	ClaimID  string       `json:"claim_id"`
	Amount   money.Amount `json:"amount"`
	Note     string       `json:"note,omitempty"`
}

// Validate names every bad field.
func (c ClaimAmount) Validate() error {
	var fe fieldErrors
	fe.id("policy_id", c.PolicyID)
	fe.id("claim_id", c.ClaimID)
	fe.positive("amount", c.Amount)
	fe.Line("note", c.Note, maxReasonLength, false)
	return fe.Err("invalid claim amount")
}

type (
	// AssessClaim fixes what the policy owes on a claim.
	AssessClaim ClaimAmount
	// SettleClaim pays towards an assessed claim.
	SettleClaim ClaimAmount
)

// Validate names every bad field.
func (c AssessClaim) Validate() error { return ClaimAmount(c).Validate() }

// Validate names every bad field.
func (c SettleClaim) Validate() error { return ClaimAmount(c).Validate() }

// DenyClaim refuses a claim, with the reason the insured is told.
type DenyClaim struct {
	PolicyID string `json:"policy_id"`
	ClaimID  string `json:"claim_id"`
	Reason   string `json:"reason"`
}

// Validate names every bad field.
func (c DenyClaim) Validate() error {
	var fe fieldErrors
	fe.id("policy_id", c.PolicyID)
	fe.id("claim_id", c.ClaimID)
	fe.Line("reason", c.Reason, maxReasonLength, true)
	return fe.Err("invalid claim denial")
}

// ExpirePolicy ends a policy after its last day. Sent by the deadline; a
// policy already expired or cancelled is no change.
type ExpirePolicy struct {
	PolicyID string `json:"policy_id"`
}

// Validate names every bad field.
func (c ExpirePolicy) Validate() error {
	var fe fieldErrors
	fe.id("policy_id", c.PolicyID)
	return fe.Err("invalid expiry")
}

// CancelPolicy ends cover before the policy's last day; the unused days
// of a paid premium are refunded.
type CancelPolicy struct {
	PolicyID    string `json:"policy_id"`
	EffectiveOn string `json:"effective_on,omitempty"` // default: today; cover ends the day before
	Reason      string `json:"reason,omitempty"`
}

// Validate names every bad field.
func (c CancelPolicy) Validate() error {
	var fe fieldErrors
	fe.id("policy_id", c.PolicyID)
	fe.date("effective_on", c.EffectiveOn, false)
	fe.Line("reason", c.Reason, maxReasonLength, false)
	return fe.Err("invalid cancellation")
}

// CreateSubsidyProgramme opens a public premium subsidy. Share is a
// string on the wire (a fraction like "0.50"), never a JSON number.
type CreateSubsidyProgramme struct {
	Name       string            `json:"name"`
	Sponsor    string            `json:"sponsor"`
	Share      string            `json:"share"`
	CapPerYear money.Amount      `json:"cap_per_company_per_year"`
	Budget     money.Amount      `json:"budget"`
	Coverages  []Coverage        `json:"coverages"`
	Cities     []fundbridge.City `json:"cities,omitempty"`
}

// Validate names every bad field.
func (c CreateSubsidyProgramme) Validate() error {
	_, err := c.ShareFraction()
	return err
}

// ShareFraction validates the command and returns its share.
func (c CreateSubsidyProgramme) ShareFraction() (decimal.Decimal, error) {
	var fe fieldErrors
	fe.Line("name", c.Name, maxNameLength, true)
	fe.Line("sponsor", c.Sponsor, maxNameLength, true)
	share := fe.share("share", c.Share)
	fe.positive("cap_per_company_per_year", c.CapPerYear)
	fe.positive("budget", c.Budget)
	if len(c.Coverages) == 0 {
		fe.Add("coverages", "at least one coverage type is required")
	}
	enumList(&fe, "coverages", c.Coverages, Coverages)
	enumList(&fe, "cities", c.Cities, fundbridge.Cities)
	return share, fe.Err("invalid subsidy programme")
}

func enumList[T ~string](fe *fieldErrors, field string, list, allowed []T) {
	if len(list) > maxProgrammeList {
		fe.Add(field, fmt.Sprintf("%d listed, at most %d", len(list), maxProgrammeList))
		return
	}
	check.EnumList(&fe.Fields, field, list, allowed)
}

// DrawSubsidy asks a programme for a bound policy's subsidy. The platform
// sends it with the policy's facts from policy.bound.v1.
type DrawSubsidy struct {
	ProgrammeID string          `json:"programme_id"`
	PolicyID    string          `json:"policy_id"`
	CompanyID   string          `json:"company_id"`
	City        fundbridge.City `json:"city"`
	Coverage    Coverage        `json:"coverage"`
	Premium     money.Amount    `json:"premium"`
	StartsOn    string          `json:"starts_on"`
}

// Validate names every bad field.
func (c DrawSubsidy) Validate() error {
	var fe fieldErrors
	fe.id("programme_id", c.ProgrammeID)
	fe.id("policy_id", c.PolicyID)
	fe.id("company_id", c.CompanyID)
	enum(&fe, "city", c.City, fundbridge.Cities)
	enum(&fe, "coverage", c.Coverage, Coverages)
	fe.positive("premium", c.Premium)
	fe.date("starts_on", c.StartsOn, true)
	return fe.Err("invalid subsidy draw")
}

// ReturnSubsidy gives back to a programme the subsidy refunded on a
// cancelled policy.
type ReturnSubsidy struct {
	ProgrammeID string       `json:"programme_id"`
	PolicyID    string       `json:"policy_id"`
	Amount      money.Amount `json:"amount"`
}

// Validate names every bad field.
func (c ReturnSubsidy) Validate() error {
	var fe fieldErrors
	fe.id("programme_id", c.ProgrammeID)
	fe.id("policy_id", c.PolicyID)
	fe.positive("amount", c.Amount)
	return fe.Err("invalid subsidy return")
}

// CloseSubsidyProgramme stops a programme's draws.
type CloseSubsidyProgramme struct {
	ProgrammeID string `json:"programme_id"`
	Reason      string `json:"reason,omitempty"`
}

// Validate names every bad field.
func (c CloseSubsidyProgramme) Validate() error {
	var fe fieldErrors
	fe.id("programme_id", c.ProgrammeID)
	fe.Line("reason", c.Reason, maxReasonLength, false)
	return fe.Err("invalid programme closure")
}

// PublishRatingTable publishes an insurer's rating table, replacing the
// one before. An insurer publishes its own; operators name the insurer.
type PublishRatingTable struct {
	InsurerID string      `json:"insurer_id,omitempty"`
	Table     RatingTable `json:"table"`
}

// Validate names every bad field; the table's fields are under "table.".
func (c PublishRatingTable) Validate() error {
	var fe fieldErrors
	if c.InsurerID != "" {
		fe.id("insurer_id", c.InsurerID)
	}
	if err := c.Table.Validate(); err != nil {
		for _, f := range fundbridge.ErrorFields(err) {
			fe.Add("table."+f.Field, f.Reason)
		}
	}
	return fe.Err("invalid rating table")
}
