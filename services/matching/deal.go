package matching

import (
	"slices"
	"strings"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// The deal aggregate: one fund screening one application, step by step,
// to a closing or a pass. Its stream is "deal-<fundID>_<applicationID>".

// next is the step after s on the pipeline, "" at its end or off it.
func nextStep(s matchingapi.Step) matchingapi.Step {
	p := matchingapi.Pipeline()
	i := slices.Index(p, s)
	if i < 0 || i == len(p)-1 {
		return ""
	}
	return p[i+1]
}

func dealExists(d matchingapi.Deal) bool { return d.ID != "" }

// open reports whether the deal can still move.
func dealOpen(d matchingapi.Deal) bool {
	return dealExists(d) && d.Step != matchingapi.StepClosed && d.Step != matchingapi.StepPassed
}

// dealDecider folds deal streams for the repository.
func dealDecider() svc.Decider[matchingapi.Deal] {
	return svc.Decider[matchingapi.Deal]{Type: matchingapi.DealAggregate, Initial: func() matchingapi.Deal { return matchingapi.Deal{} }, Evolve: evolveDeal}
}

// evolveDeal applies one event. Deal is a value and its pointers are
// replaced, never written through, so the input is never changed.
var evolveDeal = dealFolds().Apply

// dealFolds is the deal's fold, one step per event type; each step stamps
// the version and the time of the change, and an event it does not know
// changes nothing.
func dealFolds() *fold.Evolve[matchingapi.Deal] {
	var f fold.Evolve[matchingapi.Deal]
	fold.Step(&f, func(_ matchingapi.Deal, e events.Event, p matchingapi.DealSourced) matchingapi.Deal {
		return matchingapi.Deal{ID: p.DealID, FundID: p.FundID, ApplicationID: p.ApplicationID, Slice: p.Slice, Score: p.Score,
			Step: matchingapi.StepSourced, SourcedAt: e.RecordedAt, Position: e.Position}
	})
	fold.Step(&f, func(d matchingapi.Deal, _ events.Event, p matchingapi.DealAdvanced) matchingapi.Deal {
		d.Step = p.To
		return d
	})
	fold.Step(&f, func(d matchingapi.Deal, _ events.Event, p matchingapi.DealPassed) matchingapi.Deal {
		d.Step, d.PassedAt, d.PassReason = matchingapi.StepPassed, p.Step, p.Reason
		return d
	})
	fold.Step(&f, func(d matchingapi.Deal, _ events.Event, p matchingapi.TermSheetIssued) matchingapi.Deal {
		d.Step = matchingapi.StepTermSheet
		d.TermSheet = &matchingapi.TermSheet{Amount: p.Amount, PreMoney: p.PreMoney, PostMoney: p.PostMoney, Ownership: p.Ownership, Percent: percent(p.Ownership)}
		return d
	})
	fold.Step(&f, func(d matchingapi.Deal, _ events.Event, _ matchingapi.TermSheetAccepted) matchingapi.Deal {
		if d.TermSheet != nil {
			ts := *d.TermSheet
			ts.Accepted = true
			d.TermSheet = &ts
		}
		return d
	})
	fold.Step(&f, func(d matchingapi.Deal, _ events.Event, p matchingapi.TermSheetDeclined) matchingapi.Deal {
		d.Step, d.TermSheet, d.DeclineNote = matchingapi.StepICReview, nil, p.Reason
		return d
	})
	fold.Step(&f, func(d matchingapi.Deal, _ events.Event, p matchingapi.DealClosingStarted) matchingapi.Deal {
		d.ClosingProcess = p.Process
		return d
	})
	fold.Step(&f, func(d matchingapi.Deal, _ events.Event, p matchingapi.DealClosingAbandoned) matchingapi.Deal {
		d.ClosingProcess, d.LastClosingFailure = "", p.Reason
		return d
	})
	fold.Step(&f, func(d matchingapi.Deal, _ events.Event, p matchingapi.DealClosed) matchingapi.Deal {
		d.Step, d.ClosingProcess = matchingapi.StepClosed, ""
		d.Closed = &matchingapi.DealClosing{Amount: p.Amount, Ownership: p.Ownership, Percent: percent(p.Ownership)}
		return d
	})
	f.Then(func(d matchingapi.Deal, e events.Event) matchingapi.Deal {
		d.UpdatedAt, d.Version = e.RecordedAt, e.Version
		return d
	})
	return &f
}

// refuseClosed is the refusal for a deal that cannot move: it does not
// exist, or it ended.
func refuseClosed(d matchingapi.Deal) error {
	if !dealExists(d) {
		return fundbridge.Errorf(fundbridge.ENOTFOUND, "no deal %s", d.ID)
	}
	if d.Step == matchingapi.StepPassed {
		return fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s was passed at %s", d.ID, d.PassedAt)
	}
	return fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is closed", d.ID)
}

// Sourcing is what the engine said about the pair when a deal is sourced.
type Sourcing struct {
	FundID      string
	Application matchingapi.Application
	Evaluation  Evaluation
}

// decideSource opens a deal from a current match.
func decideSource(d matchingapi.Deal, s Sourcing) ([]events.Payload, error) {
	if dealExists(d) {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is already sourced; it is at %s", d.ID, d.Step)
	}
	if !s.Evaluation.Matches {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "application %s does not match fund %s: %s",
			s.Application.ID, s.FundID, joinReasons(s.Evaluation.Against))
	}
	return []events.Payload{matchingapi.DealSourced{
		DealID: matchingapi.DealID(s.FundID, s.Application.ID), FundID: s.FundID, ApplicationID: s.Application.ID,
		Score: s.Evaluation.Score, Slice: s.Application.Slice,
	}}, nil
}

// decideAdvance moves a deal exactly one step forward, up to ic_review;
// a term sheet and a closing have their own commands.
func decideAdvance(d matchingapi.Deal, cmd matchingapi.AdvanceDeal) ([]events.Payload, error) {
	if !dealOpen(d) {
		return nil, refuseClosed(d)
	}
	if cmd.To != nextStep(d.Step) {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot move from %s to %s", d.Step, cmd.To)
	}
	switch cmd.To {
	case matchingapi.StepTermSheet:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot move from %s to %s: issue a term sheet", d.Step, cmd.To)
	case matchingapi.StepClosed:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot move from %s to %s: close the deal once the startup accepts", d.Step, cmd.To)
	}
	return []events.Payload{matchingapi.DealAdvanced{DealID: d.ID, From: d.Step, To: cmd.To}}, nil
}

// decidePass ends an open deal with a reason.
func decidePass(d matchingapi.Deal, cmd matchingapi.PassDeal) ([]events.Payload, error) {
	if !dealOpen(d) {
		return nil, refuseClosed(d)
	}
	if err := refuseWhileClosing(d, "passed"); err != nil {
		return nil, err
	}
	return []events.Payload{matchingapi.DealPassed{DealID: d.ID, Step: d.Step, Reason: cmd.Reason}}, nil
}

// decideIssueTermSheet fixes amount and pre-money at ic_review. The
// ownership it gives must respect the fund's mandate, and the amount its
// ticket range and dry powder.
func decideIssueTermSheet(d matchingapi.Deal, fund FundInfo, cmd matchingapi.IssueTermSheet) ([]events.Payload, error) {
	if !dealOpen(d) {
		return nil, refuseClosed(d)
	}
	if d.Step != matchingapi.StepICReview {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot issue a term sheet at %s; the deal must be at %s", d.Step, matchingapi.StepICReview)
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
	return []events.Payload{matchingapi.TermSheetIssued{DealID: d.ID, Amount: cmd.Amount, PreMoney: cmd.PreMoney, PostMoney: post, Ownership: own}}, nil
}

// pendingTermSheet refuses unless a term sheet awaits the startup.
func pendingTermSheet(d matchingapi.Deal) error {
	switch {
	case !dealOpen(d):
		return refuseClosed(d)
	case d.Step != matchingapi.StepTermSheet || d.TermSheet == nil:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s has no term sheet out; it is at %s", d.ID, d.Step)
	case d.TermSheet.Accepted:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "the term sheet of deal %s is already accepted", d.ID)
	}
	return nil
}

// decideAcceptTermSheet is the startup's yes.
func decideAcceptTermSheet(d matchingapi.Deal) ([]events.Payload, error) {
	if err := pendingTermSheet(d); err != nil {
		return nil, err
	}
	return []events.Payload{matchingapi.TermSheetAccepted{DealID: d.ID}}, nil
}

// decideDeclineTermSheet is the startup's no: back to ic_review, where
// the fund may issue another.
func decideDeclineTermSheet(d matchingapi.Deal, cmd matchingapi.DeclineTermSheet) ([]events.Payload, error) {
	if err := pendingTermSheet(d); err != nil {
		return nil, err
	}
	return []events.Payload{matchingapi.TermSheetDeclined{DealID: d.ID, Reason: cmd.Reason}}, nil
}

// refuseWhileClosing refuses a move while a closing process works on the deal.
func refuseWhileClosing(d matchingapi.Deal, move string) error {
	if d.ClosingProcess == "" {
		return nil
	}
	return fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is closing (process %s): it cannot be %s until that ends", d.ID, d.ClosingProcess, move)
}

// decideStartClosing starts closing a deal whose term sheet the startup
// accepted: the closing process (the given instance) does the rest. No
// other service is called here: the process reserves the application and
// commits the capital, and closes the deal with deal.complete_closing.
func decideStartClosing(d matchingapi.Deal, process string) ([]events.Payload, error) {
	switch {
	case !dealOpen(d):
		return nil, refuseClosed(d)
	case d.Step != matchingapi.StepTermSheet || d.TermSheet == nil:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "cannot close deal %s at %s; it closes from %s once the startup accepts", d.ID, d.Step, matchingapi.StepTermSheet)
	case !d.TermSheet.Accepted:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "the startup has not accepted the term sheet of deal %s yet", d.ID)
	}
	if err := refuseWhileClosing(d, "closed again"); err != nil {
		return nil, err
	}
	return []events.Payload{matchingapi.DealClosingStarted{
		DealID: d.ID, Process: process, FundID: d.FundID, ApplicationID: d.ApplicationID, CompanyID: d.CompanyID,
		Amount: d.TermSheet.Amount, Ownership: d.TermSheet.Ownership,
	}}, nil
}

// decideHoldClosing answers the closing process's first step: the deal is
// still closing under it (and stays so until it completes or abandons).
func decideHoldClosing(d matchingapi.Deal, c matchingapi.ClosingStep) ([]events.Payload, error) {
	if d.ClosingProcess != c.Process {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is not being closed by process %s", d.ID, c.Process)
	}
	return nil, nil
}

// decideCompleteClosing closes the deal for the process that holds it.
func decideCompleteClosing(d matchingapi.Deal, c matchingapi.ClosingStep) ([]events.Payload, error) {
	if d.ClosingProcess != c.Process {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is not being closed by process %s", d.ID, c.Process)
	}
	return []events.Payload{matchingapi.DealClosed{
		DealID: d.ID, FundID: d.FundID, ApplicationID: d.ApplicationID, CompanyID: d.CompanyID,
		Amount: d.TermSheet.Amount, Ownership: d.TermSheet.Ownership,
	}}, nil
}

// decideAbandonClosing puts the deal back at its accepted term sheet once
// the process released what it took; for any other process, nothing.
func decideAbandonClosing(d matchingapi.Deal, c matchingapi.ClosingStep, reason string) ([]events.Payload, error) {
	if d.ClosingProcess != c.Process {
		return nil, nil
	}
	return []events.Payload{matchingapi.DealClosingAbandoned{DealID: d.ID, Process: c.Process, Reason: reason}}, nil
}

func joinReasons(rs []string) string {
	if len(rs) == 0 {
		return "no reason given"
	}
	return strings.Join(rs, "; ")
}
