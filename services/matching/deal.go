package matching

import (
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications"
	"github.com/fundbridge/fundbridge/services/svc"
)

// The deal aggregate: one fund screening one application, step by step,
// to a closing or a pass. Its stream is "deal-<fundID>_<applicationID>".

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

// next is the step after s on the pipeline, "" at its end or off it.
func (s Step) next() Step {
	p := Pipeline()
	i := slices.Index(p, s)
	if i < 0 || i == len(p)-1 {
		return ""
	}
	return p[i+1]
}

// DealID is the deal of a fund and an application.
func DealID(fundID, applicationID string) string { return fundID + "_" + applicationID }

// TermSheet is the offer on the table.
type TermSheet struct {
	Amount    money.Amount    `json:"amount"`
	PreMoney  money.Amount    `json:"pre_money"`
	PostMoney money.Amount    `json:"post_money"`
	Ownership decimal.Decimal `json:"ownership"`         // fraction, 10 places
	Percent   string          `json:"ownership_percent"` // "16.67%"
	Accepted  bool            `json:"accepted"`
}

// Deal is the aggregate's state, and also how the views show a deal.
type Deal struct {
	ID            string `json:"deal_id"`
	FundID        string `json:"fund_id"`
	ApplicationID string `json:"application_id"`
	applications.Slice
	Score       int          `json:"score"` // at sourcing
	Step        Step         `json:"step"`
	PassedAt    Step         `json:"passed_at,omitempty"`
	PassReason  string       `json:"pass_reason,omitempty"`
	TermSheet   *TermSheet   `json:"term_sheet,omitempty"` // never mutated: replaced
	DeclineNote string       `json:"last_decline_reason,omitempty"`
	Closed      *DealClosing `json:"closing,omitempty"`
	SourcedAt   time.Time    `json:"sourced_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	Version     uint64       `json:"version"`
	// Position of the sourcing, to list deals in the order they came.
	Position uint64 `json:"-"`
}

// DealClosing is what a closed deal invested.
type DealClosing struct {
	Amount    money.Amount    `json:"amount"`
	Ownership decimal.Decimal `json:"ownership"`
	Percent   string          `json:"ownership_percent"`
}

func (d Deal) exists() bool { return d.ID != "" }

// open reports whether the deal can still move.
func (d Deal) open() bool { return d.exists() && d.Step != StepClosed && d.Step != StepPassed }

// dealDecider folds deal streams for the repository.
func dealDecider() svc.Decider[Deal] {
	return svc.Decider[Deal]{Type: DealAggregate, Initial: func() Deal { return Deal{} }, Evolve: evolveDeal}
}

// evolveDeal applies one event. Deal is a value and its pointers are
// replaced, never written through, so the input is never changed.
func evolveDeal(d Deal, e events.Event, payload any) Deal {
	switch p := payload.(type) {
	case DealSourced:
		d = Deal{ID: p.DealID, FundID: p.FundID, ApplicationID: p.ApplicationID, Slice: p.Slice, Score: p.Score,
			Step: StepSourced, SourcedAt: e.RecordedAt, Position: e.Position}
	case DealAdvanced:
		d.Step = p.To
	case DealPassed:
		d.Step, d.PassedAt, d.PassReason = StepPassed, p.Step, p.Reason
	case TermSheetIssued:
		d.Step = StepTermSheet
		d.TermSheet = &TermSheet{Amount: p.Amount, PreMoney: p.PreMoney, PostMoney: p.PostMoney, Ownership: p.Ownership, Percent: percent(p.Ownership)}
	case TermSheetAccepted:
		if d.TermSheet != nil {
			ts := *d.TermSheet
			ts.Accepted = true
			d.TermSheet = &ts
		}
	case TermSheetDeclined:
		d.Step, d.TermSheet, d.DeclineNote = StepICReview, nil, p.Reason
	case DealClosed:
		d.Step = StepClosed
		d.Closed = &DealClosing{Amount: p.Amount, Ownership: p.Ownership, Percent: percent(p.Ownership)}
	default:
		return d
	}
	d.UpdatedAt, d.Version = e.RecordedAt, e.Version
	return d
}

// refuseClosed is the refusal for a deal that cannot move: it does not
// exist, or it ended.
func refuseClosed(d Deal) error {
	if !d.exists() {
		return fundbridge.Errorf(fundbridge.ENOTFOUND, "no deal %s", d.ID)
	}
	if d.Step == StepPassed {
		return fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s was passed at %s", d.ID, d.PassedAt)
	}
	return fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is closed", d.ID)
}

// Sourcing is what the engine said about the pair when a deal is sourced.
type Sourcing struct {
	FundID      string
	Application Application
	Evaluation  Evaluation
}

// decideSource opens a deal from a current match.
func decideSource(d Deal, s Sourcing) ([]events.Payload, error) {
	if d.exists() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is already sourced; it is at %s", d.ID, d.Step)
	}
	if !s.Evaluation.Matches {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "application %s does not match fund %s: %s",
			s.Application.ID, s.FundID, joinReasons(s.Evaluation.Against))
	}
	return []events.Payload{DealSourced{
		DealID: DealID(s.FundID, s.Application.ID), FundID: s.FundID, ApplicationID: s.Application.ID,
		Score: s.Evaluation.Score, Slice: s.Application.Slice,
	}}, nil
}

// decideAdvance moves a deal exactly one step forward, up to ic_review;
// a term sheet and a closing have their own commands.
func decideAdvance(d Deal, cmd AdvanceDeal) ([]events.Payload, error) {
	if !d.open() {
		return nil, refuseClosed(d)
	}
	if cmd.To != d.Step.next() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot move from %s to %s", d.Step, cmd.To)
	}
	switch cmd.To {
	case StepTermSheet:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot move from %s to %s: issue a term sheet", d.Step, cmd.To)
	case StepClosed:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot move from %s to %s: close the deal once the startup accepts", d.Step, cmd.To)
	}
	return []events.Payload{DealAdvanced{DealID: d.ID, From: d.Step, To: cmd.To}}, nil
}

// decidePass ends an open deal with a reason.
func decidePass(d Deal, cmd PassDeal) ([]events.Payload, error) {
	if !d.open() {
		return nil, refuseClosed(d)
	}
	return []events.Payload{DealPassed{DealID: d.ID, Step: d.Step, Reason: cmd.Reason}}, nil
}

// decideIssueTermSheet fixes amount and pre-money at ic_review. The
// ownership it gives must respect the fund's mandate, and the amount its
// ticket range and dry powder.
func decideIssueTermSheet(d Deal, fund FundInfo, cmd IssueTermSheet) ([]events.Payload, error) {
	if !d.open() {
		return nil, refuseClosed(d)
	}
	if d.Step != StepICReview {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot issue a term sheet at %s; the deal must be at %s", d.Step, StepICReview)
	}
	if !fund.Open {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "fund %s is closed", fund.ID)
	}
	if fund.Mandate == nil {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "fund %s has no mandate", fund.ID)
	}
	m := fund.Mandate
	post := cmd.PreMoney.Add(cmd.Amount)
	own := cmd.Amount.Ratio(post)
	switch {
	case cmd.Amount.LessThan(m.TicketMin):
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "term sheet %s below fund minimum %s", cmd.Amount.Human(), m.TicketMin.Human())
	case cmd.Amount.GreaterThan(m.TicketMax):
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "term sheet %s above fund maximum %s", cmd.Amount.Human(), m.TicketMax.Human())
	case m.MaxOwnership.IsPositive() && own.GreaterThan(m.MaxOwnership):
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "ownership %s (%s of %s post-money) above fund maximum %s",
			percent(own), cmd.Amount.Human(), post.Human(), percent(m.MaxOwnership))
	case cmd.Amount.GreaterThan(fund.DryPowder):
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "term sheet %s above the fund's dry powder %s", cmd.Amount.Human(), fund.DryPowder.Human())
	}
	return []events.Payload{TermSheetIssued{DealID: d.ID, Amount: cmd.Amount, PreMoney: cmd.PreMoney, PostMoney: post, Ownership: own}}, nil
}

// pendingTermSheet refuses unless a term sheet awaits the startup.
func pendingTermSheet(d Deal) error {
	switch {
	case !d.open():
		return refuseClosed(d)
	case d.Step != StepTermSheet || d.TermSheet == nil:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s has no term sheet out; it is at %s", d.ID, d.Step)
	case d.TermSheet.Accepted:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "the term sheet of deal %s is already accepted", d.ID)
	}
	return nil
}

// decideAcceptTermSheet is the startup's yes.
func decideAcceptTermSheet(d Deal) ([]events.Payload, error) {
	if err := pendingTermSheet(d); err != nil {
		return nil, err
	}
	return []events.Payload{TermSheetAccepted{DealID: d.ID}}, nil
}

// decideDeclineTermSheet is the startup's no: back to ic_review, where
// the fund may issue another.
func decideDeclineTermSheet(d Deal, cmd DeclineTermSheet) ([]events.Payload, error) {
	if err := pendingTermSheet(d); err != nil {
		return nil, err
	}
	return []events.Payload{TermSheetDeclined{DealID: d.ID, Reason: cmd.Reason}}, nil
}

// decideClose closes a deal whose term sheet the startup accepted. The
// service has the fund commit the capital first.
func decideClose(d Deal) ([]events.Payload, error) {
	switch {
	case !d.open():
		return nil, refuseClosed(d)
	case d.Step != StepTermSheet || d.TermSheet == nil:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot close deal %s at %s; it closes from %s once the startup accepts", d.ID, d.Step, StepTermSheet)
	case !d.TermSheet.Accepted:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "the startup has not accepted the term sheet of deal %s yet", d.ID)
	}
	return []events.Payload{DealClosed{
		DealID: d.ID, FundID: d.FundID, ApplicationID: d.ApplicationID, CompanyID: d.CompanyID,
		Amount: d.TermSheet.Amount, Ownership: d.TermSheet.Ownership,
	}}, nil
}

func joinReasons(rs []string) string {
	if len(rs) == 0 {
		return "no reason given"
	}
	return strings.Join(rs, "; ")
}
