package matching

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/process"
)

// The close of a deal is a process (services/process), not a call made
// inside the deal's decide step. deal.close records DealClosingStarted;
// the process "closing" then, one step at a time:
//
//	hold     matching.deal.hold_closing          undo: deal.abandon_closing
//	reserve  applications.application.reserve    undo: application.release_reservation
//	commit   funds.fund.commit                   undo: fund.release
//	fund     applications.application.mark_funded
//	close    matching.deal.complete_closing      → completed
//
// A refusal at reserve, commit or fund undoes what was done, newest
// first, and the deal's abandon comes last, so that a new close of the
// deal can start only once nothing of this one is held any more. The
// hold step exists for that undo: it only checks that the deal is still
// closing under this process.

// ClosingName is the process's name: its instances live in the streams
// "process-closing-<id>".
const ClosingName = "closing"

// Closing is the state of one closing.
type Closing struct {
	DealID        string          `json:"deal_id"`
	FundID        string          `json:"fund_id"`
	ApplicationID string          `json:"application_id"`
	CompanyID     string          `json:"company_id"`
	Amount        money.Amount    `json:"amount"`
	Ownership     decimal.Decimal `json:"ownership"`
	// Refusal is the first refusal a step met: its code is what the close
	// command answers with.
	Refusal *fundbridge.Error `json:"refusal,omitempty"`
}

// ClosingBegun is the process's own record of what it closes.
type ClosingBegun struct {
	DealID        string          `json:"deal_id"`
	FundID        string          `json:"fund_id"`
	ApplicationID string          `json:"application_id"`
	CompanyID     string          `json:"company_id"`
	Amount        money.Amount    `json:"amount"`
	Ownership     decimal.Decimal `json:"ownership"`
}

func (ClosingBegun) EventType() string { return "closing.begun.v1" }

// RegisterClosing adds the closing process's events (and the process
// manager's) to r.
func RegisterClosing(r *events.Registry) {
	if !r.Known(process.Observed{}.EventType()) {
		process.Register(r)
	}
	events.Register[ClosingBegun](r, ClosingBegun{}.EventType())
}

// closingProcessID names the closing started by the deal's event at
// version: each attempt at closing a deal is its own instance. Deal IDs
// too long for a process ID are hashed.
func closingProcessID(dealID string, version uint64) string {
	suffix := "-" + strconv.FormatUint(version, 10)
	if len(dealID)+len(suffix) > 80 {
		sum := sha256.Sum256([]byte(dealID))
		dealID = "h" + hex.EncodeToString(sum[:16])
	}
	return dealID + suffix
}

// ClosingProcess is the definition the process manager runs.
func ClosingProcess() process.Definition[Closing] {
	return process.Definition[Closing]{
		Name:    ClosingName,
		Initial: func() Closing { return Closing{} },
		Evolve:  evolveClosing,
		Route: map[string]func(events.Event, any) string{
			matchingapi.DealClosingStarted{}.EventType(): func(_ events.Event, p any) string {
				return p.(matchingapi.DealClosingStarted).Process
			},
		},
		On:      onClosingStarted,
		OnReply: onClosingReply,
	}
}

func evolveClosing(s Closing, p any) Closing {
	switch p := p.(type) {
	case ClosingBegun:
		s = Closing{DealID: p.DealID, FundID: p.FundID, ApplicationID: p.ApplicationID, CompanyID: p.CompanyID, Amount: p.Amount, Ownership: p.Ownership}
	case process.CommandRefused:
		if s.Refusal == nil {
			s.Refusal = &fundbridge.Error{Code: p.Code, Message: p.Message}
		}
	}
	return s
}

func onClosingStarted(s Closing, in process.Observation) process.Decision {
	e, ok := in.Payload.(matchingapi.DealClosingStarted)
	if !ok || s.DealID != "" {
		return process.Decision{}
	}
	step := matchingapi.ClosingStep{DealID: e.DealID, Process: in.ProcessID}
	return process.Decision{
		Record: []events.Payload{ClosingBegun{DealID: e.DealID, FundID: e.FundID, ApplicationID: e.ApplicationID, CompanyID: e.CompanyID, Amount: e.Amount, Ownership: e.Ownership}},
		Send: []process.Command{{
			Step: "hold", Service: Name, Op: matchingapi.OpHoldClosing, Payload: step,
			Undo: &process.Command{Service: Name, Op: matchingapi.OpAbandonClosing, Payload: step},
		}},
	}
}

func onClosingReply(s Closing, r process.Reply) process.Decision {
	if !r.OK() {
		switch r.Step {
		case "hold":
			return process.Decision{Fail: "the deal is no longer closing: " + r.Refusal.Message}
		case "reserve":
			return process.Decision{Compensate: "the application cannot be reserved: " + r.Refusal.Message}
		case "commit":
			return process.Decision{Compensate: "the fund cannot commit the capital: " + r.Refusal.Message}
		case "fund":
			return process.Decision{Compensate: "the application cannot be marked funded: " + r.Refusal.Message}
		case "close":
			// Capital is committed and the application funded: undoing
			// those is for a person to decide, so the process says so.
			return process.Decision{Fail: "the deal refused to close after it was funded: " + r.Refusal.Message}
		}
		return process.Decision{}
	}
	switch r.Step {
	case "hold":
		return send(process.Command{
			Step: "reserve", Service: applicationsapi.Name, Op: applicationsapi.ReserveApplicationEndpoint.Op,
			Payload: applicationsapi.ReserveApplication{ApplicationID: s.ApplicationID, DealID: s.DealID, FundID: s.FundID},
			Undo: &process.Command{Service: applicationsapi.Name, Op: applicationsapi.ReleaseReservationEndpoint.Op,
				Payload: applicationsapi.ReleaseReservation{ApplicationID: s.ApplicationID, DealID: s.DealID, Reason: "the deal's closing did not complete"}},
		})
	case "reserve":
		return send(process.Command{
			Step: "commit", Service: fundsapi.Name, Op: fundsapi.OpCommit,
			Payload: fundsapi.CommitCapital{FundID: s.FundID, DealID: s.DealID, ApplicationID: s.ApplicationID, CompanyID: s.CompanyID, Amount: s.Amount},
			Undo: &process.Command{Service: fundsapi.Name, Op: fundsapi.OpRelease,
				Payload: fundsapi.ReleaseCapital{FundID: s.FundID, DealID: s.DealID, Reason: "the deal's closing did not complete"}},
		})
	case "commit":
		amount := s.Amount
		return send(process.Command{
			Step: "fund", Service: applicationsapi.Name, Op: applicationsapi.MarkFundedEndpoint.Op,
			Payload: applicationsapi.MarkFunded{ApplicationID: s.ApplicationID, DealID: s.DealID, FundID: s.FundID, Instrument: fundbridge.InstrumentEquity, Amount: &amount},
		})
	case "fund":
		return send(process.Command{Step: "close", Service: Name, Op: matchingapi.OpCompleteClosing,
			Payload: matchingapi.ClosingStep{DealID: s.DealID, Process: r.ProcessID}})
	case "close":
		return process.Decision{Complete: true}
	}
	return process.Decision{}
}

func send(c process.Command) process.Decision { return process.Decision{Send: []process.Command{c}} }
