package insurance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// requestType names the request streams: "insurance-<id>".
const requestType = "insurance"

// Request statuses.
const (
	RequestOpen      = "open"      // insurers may quote, the startup may accept
	RequestAccepted  = "accepted"  // a quote was taken; its policy is bound
	RequestWithdrawn = "withdrawn" // the startup no longer wants cover
)

// Quote statuses.
const (
	QuoteOpen     = "open"
	QuoteExpired  = "expired"
	QuoteAccepted = "accepted"
	// QuoteClosed is never recorded: views show it for a quote still open
	// on a request that took another quote or was withdrawn.
	QuoteClosed = "closed"
)

// Quote is one insurer's offer on a request.
type Quote struct {
	QuoteID        string       `json:"quote_id"`
	InsurerID      string       `json:"insurer_id"`
	Premium        money.Amount `json:"premium"`
	TablePremium   money.Amount `json:"table_premium"`
	AggregateLimit money.Amount `json:"aggregate_limit"`
	ValidUntil     time.Time    `json:"valid_until"`
	Note           string       `json:"note,omitempty"`
	Status         string       `json:"status"`
	QuotedAt       time.Time    `json:"quoted_at"`
}

// validOn reports whether the quote can still be accepted on day.
func (q Quote) validOn(day time.Time) bool { return q.Status == QuoteOpen && !day.After(q.ValidUntil) }

// Decline is an insurer's refusal to quote.
type Decline struct {
	InsurerID string `json:"insurer_id"`
	Reason    string `json:"reason"`
}

// Request is the request aggregate's state. It is a value: evolve returns
// a new one and never writes into the slices of the one it was given.
type Request struct {
	ID          string              `json:"id"`
	CompanyID   string              `json:"company_id"`
	City        fundbridge.City     `json:"city"`
	Stage       fundbridge.Stage    `json:"stage,omitempty"`
	Coverage    api.Coverage        `json:"coverage"`
	Patents     []api.InsuredPatent `json:"patents"`
	SumInsured  money.Amount        `json:"sum_insured"`
	StartsOn    time.Time           `json:"starts_on"`
	Months      int                 `json:"months"`
	EndsOn      time.Time           `json:"ends_on"`
	Claims      api.ClaimsBand      `json:"claims"`
	LoanDealID  string              `json:"loan_deal_id,omitempty"`
	Insurers    []string            `json:"insurers"`
	Quotes      []Quote             `json:"quotes,omitempty"`
	Declines    []Decline           `json:"declines,omitempty"`
	Status      string              `json:"status"`
	Accepted    string              `json:"accepted_quote,omitempty"`
	PolicyID    string              `json:"policy_id,omitempty"`
	RequestedAt time.Time           `json:"requested_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
	Version     uint64              `json:"version"`
}

// Exists reports whether the request was made.
func (r Request) Exists() bool { return r.ID != "" }

func (r Request) quote(id string) (Quote, bool) {
	for _, q := range r.Quotes {
		if q.QuoteID == id {
			return q, true
		}
	}
	return Quote{}, false
}

// openQuoteBy is the insurer's quote that can still be accepted on day.
func (r Request) openQuoteBy(insurer string, day time.Time) (Quote, bool) {
	for _, q := range r.Quotes {
		if q.InsurerID == insurer && q.validOn(day) {
			return q, true
		}
	}
	return Quote{}, false
}

// visible reports whether the actor may see the request: the company,
// the insurers it was sent to, and the platform.
func (r Request) visible(a fundbridge.Actor) bool {
	switch a.Role {
	case fundbridge.RoleStartup:
		return a.OrgID == r.CompanyID
	case fundbridge.RoleInsurer:
		return slices.Contains(r.Insurers, a.OrgID)
	}
	return platform(a)
}

// requestDecider is the request aggregate for the repository.
func requestDecider() svc.Decider[Request] {
	return svc.Decider[Request]{Type: requestType, Initial: func() Request { return Request{} }, Evolve: evolveRequest, SnapshotSchema: "insurance-request.v1"}
}

// evolveRequest folds one event into the state. Pure: slices are copied
// before they change. An event the request does not know changes nothing.
var evolveRequest = requestFolds().Apply

func requestFolds() *fold.Evolve[Request] {
	var f fold.Evolve[Request]
	fold.Step(&f, func(_ Request, e events.Event, p api.InsuranceRequested) Request {
		starts, _ := api.ParseDate(p.StartsOn)
		ends, _ := api.ParseDate(p.EndsOn)
		return Request{
			ID: p.RequestID, CompanyID: p.CompanyID, City: p.City, Stage: p.Stage, Coverage: p.Coverage,
			Patents: slices.Clone(p.Patents), SumInsured: p.SumInsured, StartsOn: starts, Months: p.Months, EndsOn: ends,
			Claims: p.Claims, LoanDealID: p.LoanDealID, Insurers: slices.Clone(p.Insurers), Status: RequestOpen, RequestedAt: e.RecordedAt,
		}
	})
	fold.Step(&f, func(r Request, e events.Event, p api.InsuranceQuoted) Request {
		until, _ := api.ParseDate(p.ValidUntil)
		r.Quotes = append(slices.Clip(r.Quotes), Quote{
			QuoteID: p.QuoteID, InsurerID: p.InsurerID, Premium: p.Premium, TablePremium: p.TablePremium,
			AggregateLimit: p.AggregateLimit, ValidUntil: until, Note: p.Note, Status: QuoteOpen, QuotedAt: e.RecordedAt,
		})
		return r
	})
	fold.Step(&f, func(r Request, _ events.Event, p api.InsuranceDeclined) Request {
		r.Declines = append(slices.Clip(r.Declines), Decline{InsurerID: p.InsurerID, Reason: p.Reason})
		return r
	})
	fold.Step(&f, func(r Request, _ events.Event, p api.QuoteExpired) Request {
		r.Quotes = withQuoteStatus(r.Quotes, p.QuoteID, QuoteExpired)
		return r
	})
	fold.Step(&f, func(r Request, _ events.Event, p api.QuoteAccepted) Request {
		r.Quotes = withQuoteStatus(r.Quotes, p.QuoteID, QuoteAccepted)
		r.Status, r.Accepted, r.PolicyID = RequestAccepted, p.QuoteID, p.PolicyID
		return r
	})
	fold.Step(&f, func(r Request, _ events.Event, _ api.InsuranceWithdrawn) Request {
		r.Status = RequestWithdrawn
		return r
	})
	f.Then(func(r Request, e events.Event) Request {
		r.Version, r.UpdatedAt = e.Version, e.RecordedAt
		return r
	})
	return &f
}

func withQuoteStatus(quotes []Quote, id, status string) []Quote {
	quotes = slices.Clone(quotes)
	for i := range quotes {
		if quotes[i].QuoteID == id {
			quotes[i].Status = status
		}
	}
	return quotes
}

// decideRequest decides a startup's request for cover on its patents.
// Every patent that cannot be insured is named in one refusal.
func decideRequest(r Request, a fundbridge.Actor, id string, cmd api.RequestInsurance, facts RequestFacts, now time.Time) ([]events.Payload, error) {
	if err := requireRole(a, "request insurance", fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	company, err := actingOrg(a, cmd.CompanyID, "company_id", "request insurance")
	if err != nil {
		return nil, err
	}
	if r.Exists() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "insurance request %s already exists", id)
	}
	if !facts.Company.Registered || facts.Company.CompanyID != company {
		return nil, notFound("company", company)
	}
	today := api.Today(now)
	starts := today
	if cmd.StartsOn != "" {
		starts, _ = api.ParseDate(cmd.StartsOn) // Validate checked it
		if starts.Before(today) {
			return nil, fundbridge.Invalid("invalid insurance request", fundbridge.FieldError{Field: "starts_on", Reason: "must not be before today, " + today.Format(api.DateLayout)})
		}
	}
	patents, problems := insurablePatents(facts.Company, cmd.Patents, starts)
	for i, insurer := range cmd.Insurers {
		if !facts.Offering[insurer] {
			problems = append(problems, fundbridge.FieldError{Field: fmt.Sprintf("insurers[%d]", i), Reason: fmt.Sprintf("insurer %s publishes no rating table for %s cover", insurer, cmd.Coverage)})
		}
	}
	problems = append(problems, loanProblems(cmd, company, facts.LoanDeal)...)
	if len(problems) > 0 {
		return nil, &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: "this cover cannot be requested: " + problems[0].Reason, Fields: problems}
	}
	months := cmd.MonthsOrDefault()
	return []events.Payload{api.InsuranceRequested{
		RequestID: id, CompanyID: company, City: facts.Company.City, Stage: facts.Company.Stage, Coverage: cmd.Coverage,
		Patents: patents, SumInsured: cmd.SumInsured, StartsOn: starts.Format(api.DateLayout), Months: months,
		EndsOn: api.PeriodEnd(starts, months).Format(api.DateLayout), Claims: api.ClaimsBandOf(cmd.PriorClaims),
		LoanDealID: cmd.LoanDealID, Insurers: slices.Clone(cmd.Insurers),
	}}, nil
}

// insurablePatents looks each number up among the company's patents and
// names each that cannot be insured from starts on.
func insurablePatents(c CompanyFacts, numbers []string, starts time.Time) ([]api.InsuredPatent, []fundbridge.FieldError) {
	var patents []api.InsuredPatent
	var problems []fundbridge.FieldError
	for i, n := range numbers {
		field := fmt.Sprintf("patents[%d]", i)
		p, ok := c.patent(n)
		if !ok {
			problems = append(problems, fundbridge.FieldError{Field: field, Reason: fmt.Sprintf("patent %s is not registered to company %s", n, c.CompanyID)})
			continue
		}
		if reason := uninsurable(p, starts); reason != "" {
			problems = append(problems, fundbridge.FieldError{Field: field, Reason: reason})
			continue
		}
		patents = append(patents, p.InsuredPatent)
	}
	return patents, problems
}

// uninsurable says why a patent cannot be insured on a policy starting
// on starts, or "" if it can.
func uninsurable(p PatentFact, starts time.Time) string {
	switch {
	case p.Holding == api.HoldingLicensee && !p.OwnerConsent:
		return fmt.Sprintf("patent %s is licensed to the company: its owner's consent to insure it must be recorded first", p.Number)
	case p.GrantedOn == "":
		return fmt.Sprintf("patent %s is not granted yet", p.Number)
	case p.Lapsed:
		return fmt.Sprintf("patent %s is no longer in force", p.Number)
	case p.InDispute:
		return fmt.Sprintf("patent %s is in dispute", p.Number)
	}
	return expiryProblem(p.InsuredPatent, starts)
}

// expiryProblem refuses a patent with less than MinYearsToExpiry years of
// term left on the policy's first day.
func expiryProblem(p api.InsuredPatent, starts time.Time) string {
	expires, err := api.ParseDate(p.ExpiresOn)
	switch {
	case err != nil:
		return fmt.Sprintf("patent %s has no valid expiry date", p.Number)
	case !expires.After(starts):
		return fmt.Sprintf("patent %s expired on %s", p.Number, p.ExpiresOn)
	case expires.Before(starts.AddDate(api.MinYearsToExpiry, 0, 0)):
		return fmt.Sprintf("patent %s expires on %s, less than %d years after the policy would start on %s",
			p.Number, p.ExpiresOn, api.MinYearsToExpiry, starts.Format(api.DateLayout))
	}
	return ""
}

// loanProblems checks the loan a guarantee policy secures: the company's
// own, and the sum insured no more than its principal.
func loanProblems(cmd api.RequestInsurance, company string, deal *LoanDealFacts) []fundbridge.FieldError {
	if cmd.Coverage != api.CoveragePledgeGuarantee {
		return nil
	}
	switch {
	case deal == nil || deal.DealID != cmd.LoanDealID || deal.CompanyID != company:
		return []fundbridge.FieldError{{Field: "loan_deal_id", Reason: fmt.Sprintf("company %s has no loan deal %s", company, cmd.LoanDealID)}}
	case cmd.SumInsured.GreaterThan(deal.Principal):
		return []fundbridge.FieldError{{Field: "sum_insured", Reason: fmt.Sprintf("must not exceed the loan's principal %s", deal.Principal)}}
	}
	return nil
}

// insurerRoles may act for an insurer: the insurer itself, operators and
// the platform.
func insurerRoles() []fundbridge.Role {
	return []fundbridge.Role{fundbridge.RoleInsurer, fundbridge.RoleOperator, fundbridge.RoleSystem}
}

// insurerOf checks an insurer's command on a request: the role, then the
// input, then that the request was sent to the insurer it acts for (else
// it is not found). It returns that insurer.
func insurerOf(r Request, a fundbridge.Actor, cmd interface{ Validate() error }, requestID, named, what string) (string, error) {
	if err := requireRole(a, what, insurerRoles()...); err != nil {
		return "", err
	}
	if err := cmd.Validate(); err != nil {
		return "", err
	}
	insurer, err := actingOrg(a, named, "insurer_id", what)
	if err != nil {
		return "", err
	}
	if !r.Exists() || !slices.Contains(r.Insurers, insurer) {
		return "", notFound("insurance request", requestID)
	}
	return insurer, nil
}

// requireOpen refuses a step on a request no longer open, saying why.
func requireOpen(r Request) error {
	switch r.Status {
	case RequestOpen:
		return nil
	case RequestAccepted:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "insurance request %s is closed: the company accepted a quote on it and its policy is bound", r.ID)
	case RequestWithdrawn:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "insurance request %s is closed: the company withdrew it", r.ID)
	}
	return fundbridge.Errorf(fundbridge.ECONFLICT, "insurance request %s is %s", r.ID, r.Status)
}

// decideQuote decides an insurer's quote. The premium must fall within
// the quote band around what the insurer's own published table gives.
func decideQuote(r Request, a fundbridge.Actor, cmd api.QuoteInsurance, table api.RatingTable, tableVersion uint64, now time.Time) ([]events.Payload, error) {
	insurer, err := insurerOf(r, a, cmd, cmd.RequestID, cmd.InsurerID, "quote insurance")
	if err != nil {
		return nil, err
	}
	if err := requireOpen(r); err != nil {
		return nil, err
	}
	today := api.Today(now)
	if q, ok := r.openQuoteBy(insurer, today); ok {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "insurer %s already quoted %s on request %s, valid until %s", insurer, q.QuoteID, r.ID, q.ValidUntil.Format(api.DateLayout))
	}
	if slices.ContainsFunc(r.Declines, func(d Decline) bool { return d.InsurerID == insurer }) {
		// A decline is the insurer's answer, as final as a quote it made:
		// the startup must not find one after the other.
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "insurer %s declined request %s and cannot quote it", insurer, r.ID)
	}
	if table.InsurerID != insurer {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "insurer %s has not published a rating table", insurer)
	}
	tp, err := table.Premium(r.premiumInput(api.Today(now)))
	if err != nil {
		return nil, err
	}
	if low, high := api.QuoteBand(tp.Amount); cmd.Premium.LessThan(low) || cmd.Premium.GreaterThan(high) {
		return nil, &fundbridge.Error{
			Code:    fundbridge.EUNPROCESSABLE,
			Message: fmt.Sprintf("premium %s is outside the quote band %s to %s (the table premium %s ± %d%%)", cmd.Premium.Exact(), low.Exact(), high.Exact(), tp.Amount.Exact(), api.QuoteBandPercent),
			Fields:  []fundbridge.FieldError{{Field: "premium", Reason: fmt.Sprintf("must be between %s and %s", low, high)}},
		}
	}
	return []events.Payload{api.InsuranceQuoted{
		RequestID: r.ID, QuoteID: fmt.Sprintf("%s-q%d", r.ID, len(r.Quotes)+1), InsurerID: insurer,
		Premium: cmd.Premium, TablePremium: tp.Amount, TableVersion: tableVersion, AggregateLimit: r.SumInsured,
		ValidUntil: today.AddDate(0, 0, api.QuoteValidDays).Format(api.DateLayout), Note: strings.TrimSpace(cmd.Note),
	}}, nil
}

// policyStart is the first day of cover if bound on today: the requested
// start, or today when that has passed; the period keeps its length.
func (r Request) policyStart(today time.Time) time.Time {
	if r.StartsOn.Before(today) {
		return today
	}
	return r.StartsOn
}

// premiumInput is what the rating table prices for this request.
func (r Request) premiumInput(today time.Time) api.PremiumInput {
	in := api.PremiumInput{Coverage: r.Coverage, Claims: r.Claims, SumInsured: r.SumInsured, StartsOn: r.policyStart(today), Months: r.Months}
	for _, p := range r.Patents {
		filed, _ := api.ParseDate(p.FiledOn)
		in.Patents = append(in.Patents, api.RatedPatent{Number: p.Number, Kind: p.Kind, FiledOn: filed})
	}
	return in
}
