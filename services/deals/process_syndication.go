package deals

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/process"
)

// A deal's syndication is a process (services/process) from its proposal
// to its loan opening or its expiry. The commands on the deal (commit,
// record_equity) still answer at once and do what follows in their own
// handler, so their caller's position covers it; the process is what
// makes it certain, after a crash of that handler, and what acts when no
// one sends a command at all:
//
//	loan_deal.proposed      arm the deadline "deadline" at the syndication deadline
//	loan_deal.bank_invited  remember the bank (its exposure is settled at the end)
//	loan_deal.book_closed   settle_<i>: every invited bank down to its allocation
//	loan_deal.closed        cancel the deadline; open_loan: loan.open → completed
//	deadline fires          expire_<n>: deal.expire (refused once closed: nothing to do)
//	loan_deal.expired       release_<i>: every invited bank down to 0, and
//	                        release_equity: fund.release of the tranche → completed
//
// Settling never reserves and fund.release of nothing changes nothing, so
// a step repeated by the handler and the process, or after a crash, takes
// effect once. The equity is released at expiry whether or not the deal
// recorded it: a crash between the funds service committing it and the
// deal recording it leaves capital the deal never knew of, and the
// deadline still gives it back.

// SyndicationName is the process's name: its instances live in the
// streams "process-syndication-<deal id>".
const SyndicationName = "syndication"

// Syndication is the state of one deal's syndication.
type Syndication struct {
	DealID   string    `json:"deal_id"`
	FundID   string    `json:"fund_id"`
	Deadline time.Time `json:"deadline"`
	Banks    []string  `json:"banks"` // invited, the lead first
	// Ending is "closing" once the deal closed, "expiring" once it
	// expired: the steps that finish it are under way.
	Ending   string `json:"ending,omitempty"`
	LoanOpen bool   `json:"loan_open,omitempty"`
	Expiries int    `json:"expiries,omitempty"`  // expire commands sent
	InFlight int    `json:"in_flight,omitempty"` // commands without a reply
}

// SyndicationBegun is the process's own record of the deal it follows.
type SyndicationBegun struct {
	DealID   string    `json:"deal_id"`
	FundID   string    `json:"fund_id"`
	LeadBank string    `json:"lead_bank_id"`
	Deadline time.Time `json:"deadline"`
}

func (SyndicationBegun) EventType() string { return "syndication.begun.v1" }

// SyndicationBankAdded records a bank invited into the syndicate.
type SyndicationBankAdded struct {
	BankID string `json:"bank_id"`
}

func (SyndicationBankAdded) EventType() string { return "syndication.bank_added.v1" }

// SyndicationEnding records that the deal closed or expired.
type SyndicationEnding struct {
	Ending string `json:"ending"` // closing | expiring
}

func (SyndicationEnding) EventType() string { return "syndication.ending.v1" }

const (
	endingClosing  = "closing"
	endingExpiring = "expiring"
	deadlineName   = "deadline"
)

// RegisterProcesses adds the deals processes' events (and the process
// manager's) to r.
func RegisterProcesses(r *events.Registry) {
	if !r.Known(process.Observed{}.EventType()) {
		process.Register(r)
	}
	if r.Known(SyndicationBegun{}.EventType()) {
		return
	}
	events.Register[SyndicationBegun](r, SyndicationBegun{}.EventType())
	events.Register[SyndicationBankAdded](r, SyndicationBankAdded{}.EventType())
	events.Register[SyndicationEnding](r, SyndicationEnding{}.EventType())
	events.Register[ArrearsWatched](r, ArrearsWatched{}.EventType())
	events.Register[ArrearsChecked](r, ArrearsChecked{}.EventType())
}

// processID names the process instance of a deal or loan: its ID, hashed
// when too long for a stream ID.
func processID(id string) string {
	if len(id) > 80 {
		sum := sha256.Sum256([]byte(id))
		return "h" + hex.EncodeToString(sum[:16])
	}
	return id
}

// SyndicationProcessID is the instance of the syndication of deal id.
func SyndicationProcessID(dealID string) string { return processID(dealID) }

// SyndicationProcess is the definition the process manager runs.
func SyndicationProcess() process.Definition[Syndication] {
	route := func(id func(any) string) func(events.Event, any) string {
		return func(_ events.Event, p any) string { return processID(id(p)) }
	}
	return process.Definition[Syndication]{
		Name:    SyndicationName,
		Initial: func() Syndication { return Syndication{} },
		Evolve:  evolveSyndication,
		Route: map[string]func(events.Event, any) string{
			dealsapi.DealProposed{}.EventType(): route(func(p any) string { return p.(dealsapi.DealProposed).DealID }),
			dealsapi.BankInvited{}.EventType():  route(func(p any) string { return p.(dealsapi.BankInvited).DealID }),
			dealsapi.BookClosed{}.EventType():   route(func(p any) string { return p.(dealsapi.BookClosed).DealID }),
			dealsapi.DealClosed{}.EventType():   route(func(p any) string { return p.(dealsapi.DealClosed).DealID }),
			dealsapi.DealExpired{}.EventType():  route(func(p any) string { return p.(dealsapi.DealExpired).DealID }),
		},
		On:         onSyndicationEvent,
		OnReply:    onSyndicationReply,
		OnDeadline: onSyndicationDeadline,
	}
}

func evolveSyndication(s Syndication, p any) Syndication {
	switch p := p.(type) {
	case SyndicationBegun:
		s = Syndication{DealID: p.DealID, FundID: p.FundID, Deadline: p.Deadline, Banks: []string{p.LeadBank}}
	case SyndicationBankAdded:
		s.Banks = append(slices.Clip(s.Banks), p.BankID)
	case SyndicationEnding:
		s.Ending = p.Ending
	case process.CommandIssued:
		s.InFlight++
		if p.Op == dealsapi.OpExpire {
			s.Expiries++
		}
	case process.CommandSucceeded:
		s.InFlight--
		if p.Step == "open_loan" {
			s.LoanOpen = true
		}
	case process.CommandRefused:
		s.InFlight--
	}
	return s
}

func onSyndicationEvent(s Syndication, in process.Observation) process.Decision {
	switch p := in.Payload.(type) {
	case dealsapi.DealProposed:
		if s.DealID != "" {
			return process.Decision{}
		}
		return process.Decision{
			Record:   []events.Payload{SyndicationBegun{DealID: p.DealID, FundID: p.Equity.FundID, LeadBank: p.LeadBankID, Deadline: p.SyndicationDeadline}},
			Schedule: []process.Deadline{{Name: deadlineName, At: p.SyndicationDeadline}},
		}
	}
	if s.DealID == "" || s.Ending != "" {
		return process.Decision{} // a deal the process never saw proposed, or already ending
	}
	switch p := in.Payload.(type) {
	case dealsapi.BankInvited:
		if slices.Contains(s.Banks, p.BankID) {
			return process.Decision{}
		}
		return process.Decision{Record: []events.Payload{SyndicationBankAdded{BankID: p.BankID}}}
	case dealsapi.BookClosed:
		allocated := map[string]money.Amount{}
		for _, a := range p.Allocations {
			allocated[a.BankID] = a.Allocated
		}
		return process.Decision{Send: s.settleAll("settle", allocated, "scaled back as the book closed")}
	case dealsapi.DealClosed:
		return process.Decision{
			Record: []events.Payload{SyndicationEnding{Ending: endingClosing}},
			Cancel: []string{deadlineName},
			Send:   []process.Command{{Step: "open_loan", Service: Name, Op: dealsapi.OpOpenLoan, Payload: dealsapi.DealRef{DealID: s.DealID}}},
		}
	case dealsapi.DealExpired:
		send := s.settleAll("release", nil, "the deal expired at its syndication deadline")
		send = append(send, process.Command{Step: "release_equity", Service: fundsapi.Name, Op: fundsapi.OpRelease,
			Payload: fundsapi.ReleaseCapital{FundID: s.FundID, DealID: s.DealID, Reason: "the loan plus equity deal expired at its syndication deadline"}})
		return process.Decision{
			Record: []events.Payload{SyndicationEnding{Ending: endingExpiring}},
			Cancel: []string{deadlineName},
			Send:   send,
		}
	}
	return process.Decision{}
}

// settleAll brings every invited bank's exposure for the deal down to
// its target (0 when not named), one step per bank by its place in the
// syndicate.
func (s Syndication) settleAll(step string, targets map[string]money.Amount, reason string) []process.Command {
	out := make([]process.Command, 0, len(s.Banks))
	for i, bank := range s.Banks {
		target, ok := targets[bank]
		if !ok {
			target = money.Zero
		}
		out = append(out, process.Command{Step: step + "_" + strconv.Itoa(i), Service: Name, Op: dealsapi.OpSettleExposure,
			Payload: dealsapi.SettleExposure{BankID: bank, DealID: s.DealID, Target: target, Reason: reason}})
	}
	return out
}

// onSyndicationDeadline expires a deal still open at its deadline.
func onSyndicationDeadline(s Syndication, w process.Wake) process.Decision {
	if w.Name != deadlineName || s.Ending != "" || s.DealID == "" {
		return process.Decision{}
	}
	return process.Decision{Send: []process.Command{{Step: "expire_" + strconv.Itoa(s.Expiries+1), Service: Name, Op: dealsapi.OpExpire,
		Payload: dealsapi.DealRef{DealID: s.DealID}}}}
}

func onSyndicationReply(s Syndication, r process.Reply) process.Decision {
	if !r.OK() {
		switch {
		case r.Step == "open_loan":
			return process.Decision{Fail: "the deal closed but its loan did not open: " + r.Refusal.Message}
		case strings.HasPrefix(r.Step, "expire_"):
			switch r.Refusal.Code {
			case fundbridge.ECONFLICT:
				return process.Decision{} // closed meanwhile: its close ends the process
			case fundbridge.EUNPROCESSABLE:
				// The deals instance's clock is behind the timer's: ask again.
				return process.Decision{Schedule: []process.Deadline{{Name: deadlineName, At: r.At.Add(time.Second)}}}
			}
			return process.Decision{Fail: "the deal could not expire: " + r.Refusal.Message}
		}
		return process.Decision{Fail: "step " + r.Step + " was refused: " + r.Refusal.Message}
	}
	if s.InFlight > 0 {
		return process.Decision{}
	}
	switch {
	case s.Ending == endingClosing && s.LoanOpen, s.Ending == endingExpiring:
		return process.Decision{Complete: true}
	}
	return process.Decision{}
}
