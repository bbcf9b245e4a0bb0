package matchingapi

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// The events of the screening pipeline: one deal per (fund, application),
// in stream "deal-<fundID>_<applicationID>". They are the service's public
// contract: the projections read them to show pipelines and closings.

// DealSourced opens a deal from a current match. The slice is the
// application's at sourcing, so pipeline views slice without joining.
type DealSourced struct {
	DealID        string `json:"deal_id"`
	FundID        string `json:"fund_id"`
	ApplicationID string `json:"application_id"`
	Score         int    `json:"score"`
	applicationsapi.Slice
}

// DealAdvanced moves a deal one step forward.
type DealAdvanced struct {
	DealID string `json:"deal_id"`
	From   Step   `json:"from"`
	To     Step   `json:"to"`
}

// DealPassed ends a deal at an open step.
type DealPassed struct {
	DealID string `json:"deal_id"`
	Step   Step   `json:"step"`
	Reason string `json:"reason"`
}

// TermSheetIssued moves a deal from ic_review to term_sheet. Ownership is
// amount / post-money as a fraction with 10 places.
type TermSheetIssued struct {
	DealID    string          `json:"deal_id"`
	Amount    money.Amount    `json:"amount"`
	PreMoney  money.Amount    `json:"pre_money"`
	PostMoney money.Amount    `json:"post_money"`
	Ownership decimal.Decimal `json:"ownership"`
}

// TermSheetAccepted is the startup's yes; the fund may now close.
type TermSheetAccepted struct {
	DealID string `json:"deal_id"`
}

// TermSheetDeclined is the startup's no; the deal returns to ic_review.
type TermSheetDeclined struct {
	DealID string `json:"deal_id"`
	Reason string `json:"reason"`
}

// DealClosed records an equity investment the fund has committed.
type DealClosed struct {
	DealID        string          `json:"deal_id"`
	FundID        string          `json:"fund_id"`
	ApplicationID string          `json:"application_id"`
	CompanyID     string          `json:"company_id"`
	Amount        money.Amount    `json:"amount"`
	Ownership     decimal.Decimal `json:"ownership"`
}

// DealClosingStarted is the manager's close of a deal whose term sheet the
// startup accepted: the closing process (Process, an instance of the
// process "closing") now reserves the application, commits the capital and
// funds the application; DealClosed or DealClosingAbandoned ends it.
// Meanwhile the deal cannot be passed or closed again.
type DealClosingStarted struct {
	DealID        string          `json:"deal_id"`
	Process       string          `json:"process"`
	FundID        string          `json:"fund_id"`
	ApplicationID string          `json:"application_id"`
	CompanyID     string          `json:"company_id"`
	Amount        money.Amount    `json:"amount"`
	Ownership     decimal.Decimal `json:"ownership"`
}

// DealClosingAbandoned ends a closing that could not complete, after the
// process released whatever it had taken; the deal is back at its
// accepted term sheet.
type DealClosingAbandoned struct {
	DealID  string `json:"deal_id"`
	Process string `json:"process"`
	Reason  string `json:"reason"`
}

func (DealSourced) EventType() string          { return "deal.sourced.v1" }
func (DealClosingStarted) EventType() string   { return "deal.closing_started.v1" }
func (DealClosingAbandoned) EventType() string { return "deal.closing_abandoned.v1" }
func (DealAdvanced) EventType() string         { return "deal.advanced.v1" }
func (DealPassed) EventType() string           { return "deal.passed.v1" }
func (TermSheetIssued) EventType() string      { return "deal.term_sheet_issued.v1" }
func (TermSheetAccepted) EventType() string    { return "deal.term_sheet_accepted.v1" }
func (TermSheetDeclined) EventType() string    { return "deal.term_sheet_declined.v1" }
func (DealClosed) EventType() string           { return "deal.closed.v1" }

// Register adds the service's event types to r.
func Register(r *events.Registry) {
	events.Register[DealSourced](r, DealSourced{}.EventType())
	events.Register[DealAdvanced](r, DealAdvanced{}.EventType())
	events.Register[DealPassed](r, DealPassed{}.EventType())
	events.Register[TermSheetIssued](r, TermSheetIssued{}.EventType())
	events.Register[TermSheetAccepted](r, TermSheetAccepted{}.EventType())
	events.Register[TermSheetDeclined](r, TermSheetDeclined{}.EventType())
	events.Register[DealClosed](r, DealClosed{}.EventType())
	events.Register[DealClosingStarted](r, DealClosingStarted{}.EventType())
	events.Register[DealClosingAbandoned](r, DealClosingAbandoned{}.EventType())
}

// DealAggregate is the deal's stream type.
const DealAggregate = "deal"

// Step is where a deal stands in the screening pipeline.
type Step string

const (
	StepSourced      Step = "sourced"
	StepScreening    Step = "screening"
	StepFirstMeeting Step = "first_meeting"
	StepDueDiligence Step = "due_diligence"
	StepICReview     Step = "ic_review"
	StepTermSheet    Step = "term_sheet"
	StepClosed       Step = "closed"
	StepPassed       Step = "passed" // terminal, from any open step
)

// Pipeline lists the steps in order; passed is off the line.
func Pipeline() []Step {
	return []Step{StepSourced, StepScreening, StepFirstMeeting, StepDueDiligence, StepICReview, StepTermSheet, StepClosed}
}

// Steps lists every step a deal can be at, passed last.
func Steps() []Step { return append(Pipeline(), StepPassed) }

// Valid reports whether s is a known step.
func (s Step) Valid() bool { return slices.Contains(Steps(), s) }

// DealID is the deal of a fund and an application.
func DealID(fundID, applicationID string) string { return fundID + "_" + applicationID }

// TermSheet is the offer on the table.
type TermSheet struct {
	Amount    money.Amount    `json:"amount"`
	PreMoney  money.Amount    `json:"pre_money"`
	PostMoney money.Amount    `json:"post_money"`
	Ownership decimal.Decimal `json:"ownership"`         // the share of the company the fund takes: amount / post_money, a fraction with 10 places
	Percent   string          `json:"ownership_percent"` // "16.67%"
	// Whether the company accepted the term sheet.
	Accepted bool `json:"accepted"`
}

// Deal is the aggregate's state, and also how the views show a deal.
type Deal struct {
	ID            string `json:"deal_id"`
	FundID        string `json:"fund_id"`
	ApplicationID string `json:"application_id"`
	applicationsapi.Slice
	// CompanyName is the company's name, beside company_id: filled when
	// the deal is read or answered, never recorded with the deal.
	CompanyName string `json:"company_name,omitempty" jsonschema_description:"The company's name as it now stands, beside company_id."`
	Score       int    `json:"score"` // how well the application fitted the fund when the deal was sourced, 0 to 100
	Step        Step   `json:"step"`
	// The step the deal was at when the fund passed; absent unless it passed.
	PassedAt Step `json:"passed_at,omitempty"`
	// Why the fund passed, when it did.
	PassReason string     `json:"pass_reason,omitempty"`
	TermSheet  *TermSheet `json:"term_sheet,omitempty"` // the term sheet on the table, if one was issued (a new one replaces it)
	// Why the company last declined a term sheet, if it did.
	DeclineNote string `json:"last_decline_reason,omitempty"`
	// How the deal closed: the capital committed and when; absent until it
	// closes.
	Closed *DealClosing `json:"closing,omitempty"`
	// ClosingProcess is the closing process at work on the deal, if any;
	// LastClosingFailure says why the last one did not close it.
	ClosingProcess string `json:"closing_process,omitempty"`
	// Why the last attempt to close the deal failed, if one did (such as the
	// fund's dry powder running out); the deal stays at its step.
	LastClosingFailure string `json:"last_closing_failure,omitempty"`
	// When the fund sourced the deal.
	SourcedAt time.Time `json:"sourced_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   uint64    `json:"version"`
	// Position of the sourcing, to list deals in the order they came.
	Position uint64 `json:"-"`
}

// DealClosing is what a closed deal invested.
type DealClosing struct {
	Amount    money.Amount    `json:"amount"`
	Ownership decimal.Decimal `json:"ownership"`
	Percent   string          `json:"ownership_percent"`
}
