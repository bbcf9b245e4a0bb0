package viewsapi

import (
	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
)

// InsurerBookQuery asks for an insurer's book; an insurer may leave out
// its own ID.
type InsurerBookQuery struct {
	InsurerID string `json:"insurer_id,omitempty" jsonschema_description:"The insurer (its org ID). An insurer sees only its own book and may leave this out; an operator names any insurer."`
	AsOf      string `json:"as_of,omitempty" jsonschema_description:"The book as it stood by the end of this China day (YYYY-MM-DD) or at this RFC 3339 time: the log folded up to then."`
	After     uint64 `json:"after,omitempty" jsonschema_description:"Wait (at most 5 s) until the view has folded the log up to this position: pass a command's Fundbridge-Position to see your own write."`
}

// ForActor makes an insurer's omitted insurer its own.
func (q InsurerBookQuery) ForActor(a fundbridge.Actor) (InsurerBookQuery, error) {
	if q.InsurerID == "" && a.Role == fundbridge.RoleInsurer {
		q.InsurerID = a.OrgID
	}
	return q, nil
}

// Validate names every bad field.
func (q InsurerBookQuery) Validate() error {
	if q.InsurerID == "" {
		return fundbridge.Invalid("no insurer", fundbridge.FieldError{Field: "insurer_id", Reason: "required"})
	}
	_, err := projections.ParseAsOf("as_of", q.AsOf)
	return err
}

// InsurerFigures are an insurer's figures, for one coverage type or in
// total. Every count is of the insurer's own requests, quotes, policies
// and claims since the log began; "open" and "in force" are as of the
// answer's position.
type InsurerFigures struct {
	Coverage        string       `json:"coverage" jsonschema:"enum=total,enum=enforcement,enum=infringement_loss,enum=pledge_guarantee" jsonschema_description:"The coverage type, or total for all three."`
	Requests        int          `json:"requests" jsonschema_description:"Insurance requests sent to the insurer."`
	Declined        int          `json:"declined" jsonschema_description:"Requests it declined without a quote."`
	Quotes          int          `json:"quotes" jsonschema_description:"Quotes it gave."`
	QuotesOpen      int          `json:"quotes_open" jsonschema_description:"Quotes neither accepted, expired nor withdrawn with their request."`
	QuotedOpen      money.Amount `json:"premium_quoted_open" jsonschema_description:"The premium of the open quotes."`
	Bound           int          `json:"policies_bound" jsonschema_description:"Policies bound."`
	AwaitingPremium int          `json:"policies_awaiting_premium" jsonschema_description:"Bound policies whose premium is not paid yet (not in force)."`
	InForce         int          `json:"policies_in_force" jsonschema_description:"Policies whose premium is paid, not expired or cancelled."`
	SumInsured      money.Amount `json:"sum_insured_in_force" jsonschema_description:"The sums insured of the policies in force."`
	PremiumWritten  money.Amount `json:"premium_written" jsonschema_description:"The premium of every policy bound (gross, before subsidies and refunds)."`
	PremiumReceived money.Amount `json:"premium_received" jsonschema_description:"Premium paid, by the companies and by subsidy programmes together."`
	Refunded        money.Amount `json:"premium_refunded" jsonschema_description:"Premium returned on cancellations (pro rata by days)."`
	ClaimsFiled     int          `json:"claims_filed" jsonschema_description:"Claims filed on its policies."`
	ClaimsOpen      int          `json:"claims_open" jsonschema_description:"Claims neither paid in full (to their assessed amount) nor denied."`
	ClaimsDenied    int          `json:"claims_denied" jsonschema_description:"Claims it denied."`
	ClaimsPaid      money.Amount `json:"claims_paid" jsonschema_description:"Settlements paid, partial ones included."`
	LossRatio       string       `json:"loss_ratio" jsonschema_description:"claims_paid / premium_written as a decimal fraction with 4 places; \"0\" when no premium was written."`
}

// InsurerBookResult is an insurer's book: the total, then one row per
// coverage type in Items (the CSV).
type InsurerBookResult struct {
	InsurerID string           `json:"insurer_id"`
	Total     InsurerFigures   `json:"total" jsonschema_description:"The figures over every coverage type."`
	Items     []InsurerFigures `json:"items" jsonschema_description:"One row per coverage type: enforcement, infringement_loss, pledge_guarantee; every type listed, zeros included."`
	Position  uint64           `json:"position" jsonschema_description:"The log position the answer reflects."`
}

// SubsidyProgrammesQuery asks for the premium subsidy programmes' budgets.
type SubsidyProgrammesQuery struct {
	AsOf  string `json:"as_of,omitempty" jsonschema_description:"The budgets as they stood by the end of this China day (YYYY-MM-DD) or at this RFC 3339 time."`
	After uint64 `json:"after,omitempty" jsonschema_description:"Wait (at most 5 s) until the view has folded the log up to this position."`
}

// Validate names every bad field.
func (q SubsidyProgrammesQuery) Validate() error {
	_, err := projections.ParseAsOf("as_of", q.AsOf)
	return err
}

// SubsidyProgrammeBudget is one programme's budget, used and left.
type SubsidyProgrammeBudget struct {
	ProgrammeID string       `json:"programme_id"`
	Name        string       `json:"name"`
	Sponsor     string       `json:"sponsor"`
	Share       string       `json:"share" jsonschema_description:"The fraction of a premium the programme pays, before its caps."`
	Status      string       `json:"status" jsonschema:"enum=open,enum=closed"`
	Budget      money.Amount `json:"budget" jsonschema_description:"The programme's whole budget."`
	Drawn       money.Amount `json:"drawn" jsonschema_description:"Subsidies drawn by bound policies."`
	Returned    money.Amount `json:"returned" jsonschema_description:"Subsidies given back when subsidised policies were cancelled."`
	Used        money.Amount `json:"used" jsonschema_description:"drawn - returned."`
	Left        money.Amount `json:"left" jsonschema_description:"budget - used; never negative."`
	UsedShare   string       `json:"used_share" jsonschema_description:"used / budget as a decimal fraction with 4 places; \"0\" for a budget of 0."`
	Policies    int          `json:"policies" jsonschema_description:"Policies that drew a subsidy."`
	Capped      int          `json:"capped" jsonschema_description:"Of those, subsidies cut by what was left of the budget or by the company's yearly cap."`
}

// SubsidyProgrammesResult lists every programme, in the order created.
type SubsidyProgrammesResult struct {
	Items    []SubsidyProgrammeBudget `json:"items"`
	Position uint64                   `json:"position" jsonschema_description:"The log position the answer reflects."`
}
