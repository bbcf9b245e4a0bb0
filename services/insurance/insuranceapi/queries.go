package insuranceapi

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
)

// OnboardInsurer admits an insurer (an org identity created with role
// insurer) to the marketplace.
type OnboardInsurer struct {
	InsurerID string `json:"insurer_id"`
	Name      string `json:"name"`
}

// Validate names every bad field.
func (c OnboardInsurer) Validate() error {
	var fe fieldErrors
	fe.id("insurer_id", c.InsurerID)
	fe.Line("name", c.Name, maxNameLength, true)
	return fe.Err("invalid insurer")
}

// InsurerOnboarded: an operator admitted an insurer; it is recorded on
// the insurer's rating table stream (ratingtable-<insurer id>), which is
// its one stream in this service.
type InsurerOnboarded struct {
	InsurerID string `json:"insurer_id"`
	Name      string `json:"name"`
}

// EventType names the event.
func (InsurerOnboarded) EventType() string { return "insurer.onboarded.v1" }

// The queries. After, when set, waits until the service's view has
// caught up with that position of the log (read your own writes).

// InsurerRef names one insurer.
type InsurerRef struct {
	InsurerID string `json:"insurer_id"`
	After     uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q InsurerRef) Validate() error {
	var fe fieldErrors
	fe.id("insurer_id", q.InsurerID)
	return fe.Err("invalid insurer")
}

// RequestRef names one request.
type RequestRef struct {
	RequestID string `json:"request_id"`
	After     uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q RequestRef) Validate() error {
	var fe fieldErrors
	fe.id("request_id", q.RequestID)
	return fe.Err("invalid insurance request")
}

// PolicyRef names one policy.
type PolicyRef struct {
	PolicyID string `json:"policy_id"`
	After    uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q PolicyRef) Validate() error {
	var fe fieldErrors
	fe.id("policy_id", q.PolicyID)
	return fe.Err("invalid policy")
}

// ProgrammeRef names one subsidy programme.
type ProgrammeRef struct {
	ProgrammeID string `json:"programme_id"`
	After       uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q ProgrammeRef) Validate() error {
	var fe fieldErrors
	fe.id("programme_id", q.ProgrammeID)
	return fe.Err("invalid subsidy programme")
}

// MaxPage is the most items a list returns.
const MaxPage = 500

func limit(fe *fieldErrors, n int) {
	if n < 0 || n > MaxPage {
		fe.Add("limit", fmt.Sprintf("must be between 1 and %d (0 for all up to %d)", MaxPage, MaxPage))
	}
}

// ListInsurers lists the onboarded insurers.
type ListInsurers struct {
	Limit int    `json:"limit,omitempty"`
	After uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q ListInsurers) Validate() error {
	var fe fieldErrors
	limit(&fe, q.Limit)
	return fe.Err("invalid query")
}

// ListRequests lists the requests the caller may see, newest first.
type ListRequests struct {
	CompanyID string `json:"company_id,omitempty"`
	Status    string `json:"status,omitempty"` // open, accepted, withdrawn
	Limit     int    `json:"limit,omitempty"`
	Cursor    string `json:"cursor,omitempty"` // next_cursor of the page before
	After     uint64 `json:"after,omitempty"`
}

// RequestStatuses are the values a request's status takes.
var RequestStatuses = []string{"open", "accepted", "withdrawn"}

// Validate names every bad field.
func (q ListRequests) Validate() error {
	var fe fieldErrors
	if q.CompanyID != "" {
		fe.id("company_id", q.CompanyID)
	}
	if q.Status != "" {
		enum(&fe, "status", q.Status, RequestStatuses)
	}
	limit(&fe, q.Limit)
	wellFormed(&fe, q.Cursor)
	return fe.Err("invalid query")
}

func wellFormed(fe *fieldErrors, c string) {
	if c == "" {
		return
	}
	if err := cursor.WellFormed(c); err != nil {
		for _, f := range fundbridge.ErrorFields(err) {
			fe.Add(f.Field, f.Reason)
		}
	}
}

// ListPolicies lists the policies the caller may see, newest first.
type ListPolicies struct {
	CompanyID string   `json:"company_id,omitempty"`
	Coverage  Coverage `json:"coverage,omitempty"`
	Status    string   `json:"status,omitempty"`
	Limit     int      `json:"limit,omitempty"`
	Cursor    string   `json:"cursor,omitempty"` // next_cursor of the page before
	After     uint64   `json:"after,omitempty"`
}

// PolicyStatuses are the values a policy's status takes.
var PolicyStatuses = []string{"awaiting_premium", "in_force", "expired", "cancelled"}

// Validate names every bad field.
func (q ListPolicies) Validate() error {
	var fe fieldErrors
	if q.CompanyID != "" {
		fe.id("company_id", q.CompanyID)
	}
	if q.Coverage != "" {
		enum(&fe, "coverage", q.Coverage, Coverages)
	}
	if q.Status != "" {
		enum(&fe, "status", q.Status, PolicyStatuses)
	}
	limit(&fe, q.Limit)
	wellFormed(&fe, q.Cursor)
	return fe.Err("invalid query")
}

// ListProgrammes lists the subsidy programmes.
type ListProgrammes struct {
	Limit int    `json:"limit,omitempty"`
	After uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q ListProgrammes) Validate() error {
	var fe fieldErrors
	limit(&fe, q.Limit)
	return fe.Err("invalid query")
}

// The replies: what a caller reads back, cut to what it may see.

// InsurerView is an onboarded insurer.
type InsurerView struct {
	InsurerID      string    `json:"insurer_id"`
	Name           string    `json:"name"`
	PublishesTable bool      `json:"publishes_rating_table"`
	Offers         []string  `json:"offers"` // coverage types its table prices
	OnboardedAt    time.Time `json:"onboarded_at"`
	Version        uint64    `json:"version"`
}

// InsurerList is the onboarded insurers.
type InsurerList struct {
	Items []InsurerView `json:"items"`
}

// RatingTableView is an insurer's current table with the band quotes
// must keep to.
type RatingTableView struct {
	InsurerID        string      `json:"insurer_id"`
	Table            RatingTable `json:"table"`
	QuoteBandPercent int         `json:"quote_band_percent"`
	QuoteValidDays   int         `json:"quote_valid_days"`
	PublishedAt      time.Time   `json:"published_at"`
	Version          uint64      `json:"version"`
}

// QuoteView is one insurer's offer on a request.
type QuoteView struct {
	QuoteID   string       `json:"quote_id"`
	InsurerID string       `json:"insurer_id"`
	Premium   money.Amount `json:"premium"`
	// TablePremium is the premium the insurer's published rating table gives; Premium may differ from it by at most the quote band.
	TablePremium   money.Amount `json:"table_premium"`
	AggregateLimit money.Amount `json:"aggregate_limit"`
	// ValidUntil is the last day the quote can be accepted (inclusive), YYYY-MM-DD (China time).
	ValidUntil string `json:"valid_until"`
	Note       string `json:"note,omitempty"`
	// Status is open, expired, accepted, or closed: still open when its
	// request took another quote or was withdrawn, so no longer acceptable.
	Status string `json:"status"`
	// QuotedAt is when the insurer gave the quote.
	QuotedAt time.Time `json:"quoted_at"`
}

// DeclineView is an insurer's refusal to quote.
type DeclineView struct {
	InsurerID string `json:"insurer_id"`
	Reason    string `json:"reason"`
}

// RequestView is a request as its reader may see it: an insurer sees its
// own quote and decline only, not its competitors'.
type RequestView struct {
	RequestID string `json:"request_id"`
	CompanyID string `json:"company_id"`
	// The company's name as it registered it; absent if unknown.
	CompanyName string           `json:"company_name,omitempty"`
	City        fundbridge.City  `json:"city"`
	Stage       fundbridge.Stage `json:"stage,omitempty"`
	Coverage    Coverage         `json:"coverage"`
	Patents     []InsuredPatent  `json:"patents"`
	SumInsured  money.Amount     `json:"sum_insured"`
	StartsOn    string           `json:"starts_on"`
	Months      int              `json:"months"`
	EndsOn      string           `json:"ends_on"`
	// Claims is the company's claims-history band when it asked: none, one or several claims paid in the three years before.
	Claims        ClaimsBand    `json:"claims"`
	LoanDealID    string        `json:"loan_deal_id,omitempty"`
	Insurers      []string      `json:"insurers"`
	Quotes        []QuoteView   `json:"quotes"`
	Declines      []DeclineView `json:"declines"`
	Status        string        `json:"status"`
	AcceptedQuote string        `json:"accepted_quote,omitempty"`
	PolicyID      string        `json:"policy_id,omitempty"`
	RequestedAt   time.Time     `json:"requested_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	Version       uint64        `json:"version"`
}

// RequestList is a page of the requests the caller may see.
type RequestList struct {
	Items      []RequestView `json:"items"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// ClaimView is one claim on a policy.
type ClaimView struct {
	ClaimID    string `json:"claim_id"`
	IncidentOn string `json:"incident_on"`
	// Claimed is the amount the company claims.
	Claimed     money.Amount `json:"claimed"`
	Description string       `json:"description"`
	// Assessed is what the insurer assessed the claim at: the most it will pay on it; 0 until assessed.
	Assessed money.Amount `json:"assessed"`
	// Paid is what settlements have paid on the claim so far.
	Paid   money.Amount `json:"paid"`
	Status string       `json:"status"` // filed, assessed, part_paid, settled, denied
	// DenyReason is why the insurer denied the claim; absent unless it did.
	DenyReason string `json:"deny_reason,omitempty"`
	// A guarantee claim's loan, default and what the bank expects back.
	LoanDealID string `json:"loan_deal_id,omitempty"`
	DefaultID  string `json:"default_id,omitempty"`
	// ExpectedRecovery is what the bank expects back from the guarantee: the amount claimed, the insurer's share of the default's loss; guarantee claims only.
	ExpectedRecovery money.Amount `json:"expected_recovery,omitzero"`
	// FiledAt is when the claim was filed.
	FiledAt time.Time `json:"filed_at"`
}

// PolicyView is a policy with its claims.
type PolicyView struct {
	PolicyID     string `json:"policy_id"`
	PolicyNumber string `json:"policy_number"`
	RequestID    string `json:"request_id"`
	QuoteID      string `json:"quote_id"`
	CompanyID    string `json:"company_id"`
	// The company's name as it registered it; absent if unknown.
	CompanyName    string          `json:"company_name,omitempty"`
	InsurerID      string          `json:"insurer_id"`
	City           fundbridge.City `json:"city"`
	Coverage       Coverage        `json:"coverage"`
	Patents        []InsuredPatent `json:"patents"`
	SumInsured     money.Amount    `json:"sum_insured"`
	AggregateLimit money.Amount    `json:"aggregate_limit"`
	RemainingLimit money.Amount    `json:"remaining_limit"`
	Premium        money.Amount    `json:"premium"`
	Subsidy        money.Amount    `json:"subsidy"`
	ProgrammeID    string          `json:"subsidy_programme_id,omitempty"`
	PremiumDue     money.Amount    `json:"premium_due"`
	PremiumPaid    bool            `json:"premium_paid"`
	StartsOn       string          `json:"starts_on"`
	EndsOn         string          `json:"ends_on"`
	LoanDealID     string          `json:"loan_deal_id,omitempty"`
	Status         string          `json:"status"`
	// Claims are the claims filed on the policy, oldest first.
	Claims     []ClaimView  `json:"claims"`
	ClaimsPaid money.Amount `json:"claims_paid"`
	// Cancellation is how the policy was cancelled and its premium refunded; absent unless it was.
	Cancellation *PolicyCancelled `json:"cancellation,omitempty"`
	BoundAt      time.Time        `json:"bound_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
	Version      uint64           `json:"version"`
}

// PolicyList is a page of the policies the caller may see.
type PolicyList struct {
	Items      []PolicyView `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// DrawView is one policy's subsidy from a programme.
type DrawView struct {
	PolicyID  string `json:"policy_id"`
	CompanyID string `json:"company_id"`
	// Year is the calendar year (China time) the policy starts in, against whose per-company cap the subsidy counts.
	Year   int          `json:"year"`
	Amount money.Amount `json:"amount"`
	// Returned is what of the subsidy was given back when the policy was cancelled; 0 otherwise.
	Returned money.Amount `json:"returned"`
}

// ProgrammeView is a subsidy programme with its budget used and left.
type ProgrammeView struct {
	ProgrammeID string            `json:"programme_id"`
	Name        string            `json:"name"`
	Sponsor     string            `json:"sponsor"`
	Share       decimal.Decimal   `json:"share"`
	CapPerYear  money.Amount      `json:"cap_per_company_per_year"`
	Budget      money.Amount      `json:"budget"`
	Drawn       money.Amount      `json:"drawn"`
	Left        money.Amount      `json:"left"`
	Coverages   []Coverage        `json:"coverages"`
	Cities      []fundbridge.City `json:"cities,omitempty"`
	Closed      bool              `json:"closed"`
	Draws       []DrawView        `json:"draws,omitempty"` // operators only
	Version     uint64            `json:"version"`
}

// ProgrammeList is the subsidy programmes.
type ProgrammeList struct {
	Items []ProgrammeView `json:"items"`
}
