package insurance

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/process"
)

// The policy process (services/process) keeps the service's durable
// deadlines and its one flow that starts in another service. Its
// instances, in the streams insurance_process-insurance-<id>:
//
//	quote-<quote id>      quoted → at the end of its last valid day (China
//	                      time) sends request.expire_quote; an accepted
//	                      quote cancels the deadline and sends policy.bind
//	                      (no change when the accept bound it)
//	policy-<policy id>    bound → at the end of its last day sends
//	                      policy.expire; a cancellation cancels it and
//	                      sends subsidy.return (no change when the
//	                      cancellation returned it)
//	guarantee-<loan id>   a pledge_guarantee policy bound for the loan
//	                      deal, then the loan's default (loan.defaulted.v1):
//	                      sends policy.file_guarantee_claim for the
//	                      insurer's part of the loss, once
//
// The deadlines are JetStream message schedules: they fire once, after a
// restart too, and on one of several instances (the process's lease).

// ProcessName names the policy process, and ProcessAggregate is the type
// of its instances' streams, "insurance_process-insurance-<id>": a type
// of the service's own, which its NATS user alone may append to.
const (
	ProcessName      = "insurance"
	ProcessAggregate = "insurance_process"
)

// ProcessOptions tune the policy process.
type ProcessOptions struct {
	// Instance names this manager in the lease (default: a fresh ID).
	Instance string
	// DeadlineAt is when a deadline for the end of a day (midnight UTC
	// naming a day in China time) fires. Default: the instant that day
	// ends in China. Tests move it.
	DeadlineAt func(lastDay time.Time) time.Time
}

// EndOfDay is the instant the day ends in China (UTC+8): the next day's
// midnight there.
func EndOfDay(day time.Time) time.Time { return day.AddDate(0, 0, 1).Add(-8 * time.Hour) }

// Watching is the process's own record of what an instance watches.
type Watching struct {
	Kind       string `json:"kind"` // quote, policy, guarantee
	RequestID  string `json:"request_id,omitempty"`
	QuoteID    string `json:"quote_id,omitempty"`
	PolicyID   string `json:"policy_id,omitempty"`
	LoanDealID string `json:"loan_deal_id,omitempty"`
}

// DefaultSeen records a secured loan's default, with what the claim on
// its guarantee will ask.
type DefaultSeen struct {
	LoanDealID  string       `json:"loan_deal_id"`
	DefaultID   string       `json:"default_id"` // the loan.defaulted.v1 event's ID
	DefaultedOn string       `json:"defaulted_on"`
	Loss        money.Amount `json:"loss"`
	Allocated   money.Amount `json:"allocated"` // the insurer's part under the risk-sharing table
	Share       string       `json:"insurer_share"`
}

func (Watching) EventType() string    { return "insurance_process.watching.v1" }
func (DefaultSeen) EventType() string { return "insurance_process.default_seen.v1" }

// RegisterProcess adds the policy process's events (and the process
// manager's) to r.
func RegisterProcess(r *events.Registry) {
	if !r.Known(process.Observed{}.EventType()) {
		process.Register(r)
	}
	if !r.Known(Watching{}.EventType()) {
		events.Register[Watching](r, Watching{}.EventType())
		events.Register[DefaultSeen](r, DefaultSeen{}.EventType())
	}
}

// Watch is the state of one instance.
type Watch struct {
	Kind       string       `json:"kind"` // quote or policy; "" until one is seen
	RequestID  string       `json:"request_id,omitempty"`
	QuoteID    string       `json:"quote_id,omitempty"`
	PolicyID   string       `json:"policy_id,omitempty"`
	LoanDealID string       `json:"loan_deal_id,omitempty"`
	Default    *DefaultSeen `json:"default,omitempty"`
}

// PolicyProcess is the definition the process manager runs.
func PolicyProcess(o ProcessOptions) process.Definition[Watch] {
	at := o.DeadlineAt
	if at == nil {
		at = EndOfDay
	}
	return process.Definition[Watch]{
		Name:    ProcessName,
		Initial: func() Watch { return Watch{} },
		Evolve:  evolveWatch,
		Route: map[string]func(events.Event, any) string{
			api.InsuranceQuoted{}.EventType(): func(_ events.Event, p any) string { return "quote-" + p.(api.InsuranceQuoted).QuoteID },
			api.QuoteAccepted{}.EventType():   func(_ events.Event, p any) string { return "quote-" + p.(api.QuoteAccepted).QuoteID },
			api.PolicyBound{}.EventType():     func(_ events.Event, p any) string { return policyInstance(p.(api.PolicyBound)) },
			api.PolicyCancelled{}.EventType(): func(_ events.Event, p any) string { return "policy-" + p.(api.PolicyCancelled).PolicyID },
			dealsapi.LoanDefaulted{}.EventType(): func(_ events.Event, p any) string {
				return "guarantee-" + p.(dealsapi.LoanDefaulted).LoanID
			},
		},
		On:         func(s Watch, in process.Observation) process.Decision { return onWatched(s, in, at) },
		OnReply:    onWatchReply,
		OnDeadline: onWatchDeadline,
	}
}

// policyInstance is the instance that watches a bound policy: a
// guarantee policy's is its loan's, where the loan's default arrives (an
// event routes to one instance, and a default names only its loan). A
// cancelled guarantee policy's expiry still fires there, and is no change.
func policyInstance(b api.PolicyBound) string {
	if b.LoanDealID != "" {
		return "guarantee-" + b.LoanDealID
	}
	return "policy-" + b.PolicyID
}

func evolveWatch(s Watch, p any) Watch {
	switch p := p.(type) {
	case Watching:
		s.Kind, s.RequestID, s.QuoteID, s.PolicyID, s.LoanDealID = p.Kind, p.RequestID, p.QuoteID, p.PolicyID, p.LoanDealID
	case DefaultSeen:
		d := p
		s.Default = &d
	}
	return s
}

func onWatched(s Watch, in process.Observation, at func(time.Time) time.Time) process.Decision {
	switch e := in.Payload.(type) {
	case api.InsuranceQuoted:
		until, err := api.ParseDate(e.ValidUntil)
		if s.Kind != "" || err != nil {
			return process.Decision{}
		}
		return process.Decision{
			Record:   []events.Payload{Watching{Kind: "quote", RequestID: e.RequestID, QuoteID: e.QuoteID}},
			Schedule: []process.Deadline{{Name: "expire", At: at(until)}},
		}
	case api.QuoteAccepted:
		if s.Kind != "quote" {
			return process.Decision{}
		}
		// The accept binds the policy and draws its subsidy itself; the
		// process binds again (no change if it was) so that a crash
		// between the accept and the bind leaves no accepted quote
		// without its policy.
		return process.Decision{Cancel: []string{"expire"}, Send: []process.Command{{Step: "bind", Service: Name, Op: api.OpBind,
			Payload: api.BindPolicy{RequestID: e.RequestID, QuoteID: e.QuoteID}}}}
	case api.PolicyBound:
		ends, err := api.ParseDate(e.EndsOn)
		if s.Kind != "" || err != nil {
			return process.Decision{}
		}
		d := process.Decision{
			Record:   []events.Payload{Watching{Kind: "policy", PolicyID: e.PolicyID, LoanDealID: e.LoanDealID}},
			Schedule: []process.Deadline{{Name: "expire", At: at(ends)}},
		}
		if s.Default != nil {
			// The loan defaulted before the policy was bound: the claim
			// is filed, and the policy refuses a default before its cover.
			d.Send = []process.Command{claimCommand(e.PolicyID, *s.Default)}
		}
		return d
	case api.PolicyCancelled:
		if s.Kind != "policy" || s.LoanDealID != "" {
			return process.Decision{}
		}
		if !e.RefundToProgramme.IsPositive() {
			return process.Decision{Cancel: []string{"expire"}, Complete: true}
		}
		// The cancellation returns the programme's part itself; the
		// process returns it again (no change if it was), so a crash in
		// between loses no budget.
		return process.Decision{Cancel: []string{"expire"}, Send: []process.Command{{Step: "return", Service: Name, Op: api.OpReturnSubsidy,
			Payload: api.ReturnSubsidy{ProgrammeID: e.SubsidyProgrammeID, PolicyID: e.PolicyID, Amount: e.RefundToProgramme}}}}
	case dealsapi.LoanDefaulted:
		return onDefault(s, in, e)
	}
	return process.Decision{}
}

// onDefault files the guarantee claim of a defaulted loan when a policy
// guarantees it: the insurer's part of the loss as the deal allocated it.
// A loan with no insurer's share asks nothing.
func onDefault(s Watch, in process.Observation, e dealsapi.LoanDefaulted) process.Decision {
	if s.Default != nil || !e.Allocation.Insurer.IsPositive() || !e.Loss.IsPositive() {
		return process.Decision{}
	}
	share := e.Allocation.Insurer.Decimal().Div(e.Loss.Decimal()).Round(4)
	if !share.IsPositive() {
		share = decimal.New(1, -4)
	}
	seen := DefaultSeen{LoanDealID: e.LoanID, DefaultID: in.Event.ID, DefaultedOn: api.Today(in.At()).Format(api.DateLayout),
		Loss: e.Loss, Allocated: e.Allocation.Insurer, Share: share.String()}
	d := process.Decision{Record: []events.Payload{seen}}
	if s.Kind == "policy" {
		d.Send = []process.Command{claimCommand(s.PolicyID, seen)}
	}
	return d
}

func claimCommand(policyID string, d DefaultSeen) process.Command {
	return process.Command{Step: "claim", Service: Name, Op: api.OpGuaranteeClaim, Payload: api.FileGuaranteeClaim{
		PolicyID: policyID, LoanDealID: d.LoanDealID, DefaultID: d.DefaultID, DefaultedOn: d.DefaultedOn,
		Loss: d.Loss, Share: d.Share, Allocated: d.Allocated,
	}}
}

// onWatchReply ends the instance once its expiry, bind or return is
// recorded. A claim's reply (or refusal, which the process stream
// records) leaves the policy's expiry to come.
func onWatchReply(_ Watch, r process.Reply) process.Decision {
	if r.Step == "claim" {
		return process.Decision{}
	}
	if !r.OK() {
		return process.Decision{Fail: r.Step + " was refused: " + r.Refusal.Message}
	}
	return process.Decision{Complete: true}
}

func onWatchDeadline(s Watch, _ process.Wake) process.Decision {
	switch s.Kind {
	case "quote":
		return process.Decision{Send: []process.Command{{Step: "expire", Service: Name, Op: api.OpExpireQuote,
			Payload: api.ExpireQuote{RequestID: s.RequestID, QuoteID: s.QuoteID}}}}
	case "policy":
		return process.Decision{Send: []process.Command{{Step: "expire", Service: Name, Op: api.OpExpirePolicy,
			Payload: api.ExpirePolicy{PolicyID: s.PolicyID}}}}
	}
	return process.Decision{}
}
