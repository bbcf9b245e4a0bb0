package applications

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Application is the application aggregate's state, folded from its stream
// (application-<id>); the views fold the same state.
type Application struct {
	ID          string                           `json:"id"` // empty until drafted
	CompanyName string                           `json:"company_name"`
	Slice       applicationsapi.Slice            `json:"slice"` // as of the latest event
	Terms       applicationsapi.ApplicationTerms `json:"terms"`
	Status      applicationsapi.Status           `json:"status"`
	FundIDs     []string                         `json:"fund_ids,omitempty"`    // matched, in the order matched
	ReviewedBy  []string                         `json:"reviewed_by,omitempty"` // funds that took it under review
	Deals       []applicationsapi.FundedDeal     `json:"deals,omitempty"`
	History     []applicationsapi.StatusChange   `json:"history,omitempty"`
	Reason      string                           `json:"reason,omitempty"`      // of the withdrawal or rejection
	ReservedBy  string                           `json:"reserved_by,omitempty"` // the deal closing on it, if any
	CreatedAt   time.Time                        `json:"created_at"`
	SubmittedAt time.Time                        `json:"submitted_at"` // zero while a draft
	UpdatedAt   time.Time                        `json:"updated_at"`
	Version     uint64                           `json:"version"`
}

// Exists reports whether the application has been drafted.
func (a Application) Exists() bool { return a.ID != "" }

func (a Application) matchedTo(fundID string) bool { return slices.Contains(a.FundIDs, fundID) }

func (a Application) deal(dealID string) (applicationsapi.FundedDeal, bool) {
	for _, d := range a.Deals {
		if d.DealID == dealID {
			return d, true
		}
	}
	return applicationsapi.FundedDeal{}, false
}

func applicationDecider() svc.Decider[Application] {
	return svc.Decider[Application]{
		Type:           "application",
		Initial:        func() Application { return Application{} },
		Evolve:         applicationFolds().Apply,
		SnapshotSchema: "application.v1",
	}
}

// applicationFolds is the application's fold, one step per event type.
// Slices are appended to clipped copies, so a state already handed out is
// never changed under its reader.
func applicationFolds() *fold.Evolve[Application] {
	var f fold.Evolve[Application]
	fold.Step(&f, func(a Application, e events.Event, p applicationsapi.ApplicationDrafted) Application {
		a.ID, a.CompanyName, a.Slice, a.Terms = p.ApplicationID, p.CompanyName, p.Slice, p.ApplicationTerms
		a.CreatedAt = e.RecordedAt
		return moveTo(a, e, applicationsapi.StatusDraft, "")
	})
	fold.Step(&f, func(a Application, _ events.Event, p applicationsapi.ApplicationUpdated) Application {
		a.Slice, a.Terms = p.Slice, p.ApplicationTerms
		return a
	})
	fold.Step(&f, func(a Application, e events.Event, p applicationsapi.ApplicationSubmitted) Application {
		a.CompanyName, a.Slice, a.Terms = p.CompanyName, p.Slice, p.ApplicationTerms
		a.SubmittedAt = e.RecordedAt
		return moveTo(a, e, applicationsapi.StatusSubmitted, "")
	})
	fold.Step(&f, func(a Application, e events.Event, p applicationsapi.ApplicationMatched) Application {
		a.Slice = p.Slice
		for _, f := range p.FundIDs {
			if !a.matchedTo(f) {
				a.FundIDs = append(slices.Clip(a.FundIDs), f)
			}
		}
		if a.Status == applicationsapi.StatusSubmitted {
			a = moveTo(a, e, applicationsapi.StatusMatched, "")
		}
		return a
	})
	fold.Step(&f, func(a Application, e events.Event, p applicationsapi.ApplicationUnmatched) Application {
		a.Slice = p.Slice
		a.FundIDs = slices.DeleteFunc(slices.Clone(a.FundIDs), func(f string) bool { return slices.Contains(p.FundIDs, f) })
		if a.Status == applicationsapi.StatusMatched && len(a.FundIDs) == 0 {
			a = moveTo(a, e, applicationsapi.StatusSubmitted, "no fund matches it any more")
		}
		return a
	})
	fold.Step(&f, func(a Application, e events.Event, p applicationsapi.ApplicationUnderReview) Application {
		a.Slice = p.Slice
		if !slices.Contains(a.ReviewedBy, p.FundID) {
			a.ReviewedBy = append(slices.Clip(a.ReviewedBy), p.FundID)
		}
		if a.Status == applicationsapi.StatusMatched {
			a = moveTo(a, e, applicationsapi.StatusUnderReview, "")
		}
		return a
	})
	fold.Step(&f, func(a Application, _ events.Event, p applicationsapi.ApplicationReserved) Application {
		a.Slice, a.ReservedBy = p.Slice, p.DealID
		return a
	})
	fold.Step(&f, func(a Application, _ events.Event, p applicationsapi.ReservationReleased) Application {
		a.Slice = p.Slice
		if a.ReservedBy == p.DealID {
			a.ReservedBy = ""
		}
		return a
	})
	fold.Step(&f, func(a Application, e events.Event, p applicationsapi.ApplicationFunded) Application {
		a.Slice = p.Slice
		if a.ReservedBy == p.DealID {
			a.ReservedBy = "" // the closing that held it is done
		}
		a.Deals = append(slices.Clip(a.Deals), applicationsapi.FundedDeal{DealID: p.DealID, FundID: p.FundID, Instrument: p.Instrument, Amount: p.Amount, At: e.RecordedAt})
		if a.Status != applicationsapi.StatusFunded {
			a = moveTo(a, e, applicationsapi.StatusFunded, "")
		}
		return a
	})
	fold.Step(&f, func(a Application, e events.Event, p applicationsapi.ApplicationWithdrawn) Application {
		a.Slice, a.Reason = p.Slice, p.Reason
		return moveTo(a, e, applicationsapi.StatusWithdrawn, p.Reason)
	})
	fold.Step(&f, func(a Application, e events.Event, p applicationsapi.ApplicationRejected) Application {
		a.Slice, a.Reason = p.Slice, p.Reason
		return moveTo(a, e, applicationsapi.StatusRejected, p.Reason)
	})
	fold.Step(&f, func(a Application, e events.Event, p applicationsapi.ApplicationExpired) Application {
		a.Slice = p.Slice
		return moveTo(a, e, applicationsapi.StatusExpired, "")
	})
	f.Then(func(a Application, e events.Event) Application {
		a.UpdatedAt, a.Version = e.RecordedAt, e.Version
		return a
	})
	return &f
}

// moveTo records a move to status s, with its reason, at the event's time.
func moveTo(a Application, e events.Event, s applicationsapi.Status, reason string) Application {
	a.Status = s
	a.History = append(slices.Clip(a.History), applicationsapi.StatusChange{Status: s, At: e.RecordedAt, Reason: reason})
	return a
}

func applicationNotFound(id string) error {
	return fundbridge.Errorf(fundbridge.ENOTFOUND, "no application %s", id)
}

// illegal is the refusal of a move the current status forbids.
func illegal(a Application, move string) error {
	if !a.Exists() {
		return fundbridge.Errorf(fundbridge.ENOTFOUND, "no such application")
	}
	return fundbridge.Errorf(fundbridge.ECONFLICT, "application %s is %s: it cannot be %s", a.ID, a.Status, move)
}

func in(s applicationsapi.Status, allowed ...applicationsapi.Status) bool {
	return slices.Contains(allowed, s)
}

// draftApplication decides application.draft for the application id of
// company c. The command is validated.
func draftApplication(a Application, id string, c Company, cmd applicationsapi.DraftApplication) ([]events.Payload, error) {
	if a.Exists() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "application %s already exists", a.ID)
	}
	if !c.Registered() {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "company %s is not registered: register it before applying", cmd.CompanyID)
	}
	return []events.Payload{applicationsapi.ApplicationDrafted{
		ApplicationID: id, CompanyName: c.Profile.Name, Slice: c.slice(), ApplicationTerms: cmd.Terms(),
	}}, nil
}

// updateApplication decides application.update: the terms are replaced
// whole, and only while the application is a draft.
func updateApplication(a Application, c Company, cmd applicationsapi.UpdateApplication) ([]events.Payload, error) {
	if !a.Exists() {
		return nil, applicationNotFound(cmd.ApplicationID)
	}
	if a.Status != applicationsapi.StatusDraft {
		return nil, illegal(a, "updated (only drafts can be)")
	}
	terms := cmd.Apply(a.Terms)
	if sameJSON(terms, a.Terms) && c.slice() == a.Slice {
		return nil, nil
	}
	return []events.Payload{applicationsapi.ApplicationUpdated{ApplicationID: a.ID, Slice: c.slice(), ApplicationTerms: terms}}, nil
}

// submitApplication decides application.submit: a draft goes to matching
// only when its terms are complete.
func submitApplication(a Application, c Company) ([]events.Payload, error) {
	if a.Status != applicationsapi.StatusDraft {
		return nil, illegal(a, "submitted")
	}
	if problems := applicationsapi.TermsProblems(a.Terms, true); len(problems) > 0 {
		return nil, &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: "the application is incomplete", Fields: problems}
	}
	return []events.Payload{applicationsapi.ApplicationSubmitted{
		ApplicationID: a.ID, CompanyName: c.Profile.Name, Slice: c.slice(), ApplicationTerms: a.Terms,
	}}, nil
}

// reserved refuses a move while a deal's closing holds the application.
func reserved(a Application, move string) error {
	if a.ReservedBy == "" {
		return nil
	}
	return fundbridge.Errorf(fundbridge.ECONFLICT, "application %s is being closed by deal %s: it cannot be %s until that closing ends", a.ID, a.ReservedBy, move)
}

// withdrawApplication decides application.withdraw: the startup may pull
// out until the application is decided, but not while a deal closes on it.
func withdrawApplication(a Application, c Company, cmd applicationsapi.WithdrawApplication) ([]events.Payload, error) {
	if err := reserved(a, "withdrawn"); err != nil {
		return nil, err
	}
	if !in(a.Status, applicationsapi.StatusDraft, applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview) {
		return nil, illegal(a, "withdrawn")
	}
	return []events.Payload{applicationsapi.ApplicationWithdrawn{ApplicationID: a.ID, Reason: cmd.Reason, Slice: c.slice()}}, nil
}

// markMatched decides application.mark_matched. Matching is incremental, so
// a later match adds funds (also while under review, without moving the
// status back); funds already matched are not recorded twice.
func markMatched(a Application, c Company, cmd applicationsapi.MarkMatched) ([]events.Payload, error) {
	if !in(a.Status, applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview) {
		return nil, illegal(a, "matched")
	}
	var fresh []string
	for _, f := range cmd.FundIDs {
		if !a.matchedTo(f) && !slices.Contains(fresh, f) {
			fresh = append(fresh, f)
		}
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	return []events.Payload{applicationsapi.ApplicationMatched{ApplicationID: a.ID, FundIDs: fresh, Slice: c.slice()}}, nil
}

// markUnmatched decides application.mark_unmatched: the funds listed that
// are recorded as matches are removed; others change nothing. A matched
// application left with no fund goes back to submitted; one under review
// stays so (its deals go on).
func markUnmatched(a Application, c Company, cmd applicationsapi.MarkUnmatched) ([]events.Payload, error) {
	if !in(a.Status, applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview) {
		return nil, illegal(a, "unmatched")
	}
	var gone []string
	for _, f := range cmd.FundIDs {
		if a.matchedTo(f) && !slices.Contains(gone, f) {
			gone = append(gone, f)
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	return []events.Payload{applicationsapi.ApplicationUnmatched{ApplicationID: a.ID, FundIDs: gone, Slice: c.slice()}}, nil
}

// markUnderReview decides application.mark_under_review. Several funds may
// review at once; a fund already reviewing changes nothing.
func markUnderReview(a Application, c Company, cmd applicationsapi.MarkUnderReview) ([]events.Payload, error) {
	if !in(a.Status, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview) {
		return nil, illegal(a, "put under review")
	}
	if !a.matchedTo(cmd.FundID) {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "fund %s was not matched to application %s", cmd.FundID, a.ID)
	}
	if slices.Contains(a.ReviewedBy, cmd.FundID) {
		return nil, nil
	}
	return []events.Payload{applicationsapi.ApplicationUnderReview{ApplicationID: a.ID, FundID: cmd.FundID, Slice: c.slice()}}, nil
}

// reserveApplication decides application.reserve: a deal's closing holds
// the application before it commits capital. Refused once the application
// is withdrawn, rejected, expired or funded by another deal, or while
// another deal's closing holds it; reserving again for the same deal, or
// after that deal funded it, changes nothing.
func reserveApplication(a Application, c Company, cmd applicationsapi.ReserveApplication) ([]events.Payload, error) {
	if _, funded := a.deal(cmd.DealID); funded || a.ReservedBy == cmd.DealID {
		return nil, nil
	}
	if a.ReservedBy != "" {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "application %s is being closed by deal %s", a.ID, a.ReservedBy)
	}
	if a.Status == applicationsapi.StatusFunded {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "application %s is funded by deal %s: it cannot be funded by deal %s too", a.ID, a.Deals[len(a.Deals)-1].DealID, cmd.DealID)
	}
	if !in(a.Status, applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview) {
		return nil, illegal(a, "funded")
	}
	return []events.Payload{applicationsapi.ApplicationReserved{ApplicationID: a.ID, DealID: cmd.DealID, FundID: cmd.FundID, Slice: c.slice()}}, nil
}

// releaseReservation decides application.release_reservation: only the
// deal that holds the application releases it; anything else is a no-op,
// so a closing may undo a reservation whose outcome it never learned.
func releaseReservation(a Application, c Company, cmd applicationsapi.ReleaseReservation) ([]events.Payload, error) {
	if a.ReservedBy != cmd.DealID {
		return nil, nil
	}
	return []events.Payload{applicationsapi.ReservationReleased{ApplicationID: a.ID, DealID: cmd.DealID, Reason: cmd.Reason, Slice: c.slice()}}, nil
}

// markFunded decides application.mark_funded. An application may be funded
// by several deals (a loan and its equity tranche); each is recorded once.
// The deal that holds a reservation may fund it whatever matching has
// recorded so far: the reservation already checked the application.
func markFunded(a Application, c Company, cmd applicationsapi.MarkFunded) ([]events.Payload, error) {
	holder := a.ReservedBy != "" && a.ReservedBy == cmd.DealID
	if a.ReservedBy != "" && !holder {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "application %s is being closed by deal %s", a.ID, a.ReservedBy)
	}
	allowed := []applicationsapi.Status{applicationsapi.StatusMatched, applicationsapi.StatusUnderReview, applicationsapi.StatusFunded}
	if holder {
		allowed = append(allowed, applicationsapi.StatusSubmitted)
	}
	if !in(a.Status, allowed...) {
		return nil, illegal(a, "funded")
	}
	amount := *cmd.Amount
	if d, seen := a.deal(cmd.DealID); seen {
		if d.FundID == cmd.FundID && d.Instrument == cmd.Instrument && d.Amount.Equal(amount) {
			return nil, nil
		}
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "deal %s is already recorded on application %s with other terms", cmd.DealID, a.ID)
	}
	if !holder && !a.matchedTo(cmd.FundID) {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "fund %s was not matched to application %s", cmd.FundID, a.ID)
	}
	return []events.Payload{applicationsapi.ApplicationFunded{
		ApplicationID: a.ID, DealID: cmd.DealID, FundID: cmd.FundID, Instrument: cmd.Instrument, Amount: amount, Slice: c.slice(),
	}}, nil
}

// rejectApplication decides application.reject (by an operator).
func rejectApplication(a Application, c Company, cmd applicationsapi.RejectApplication) ([]events.Payload, error) {
	if err := reserved(a, "rejected"); err != nil {
		return nil, err
	}
	if !in(a.Status, applicationsapi.StatusSubmitted, applicationsapi.StatusMatched, applicationsapi.StatusUnderReview) {
		return nil, illegal(a, "rejected")
	}
	return []events.Payload{applicationsapi.ApplicationRejected{ApplicationID: a.ID, Reason: cmd.Reason, Slice: c.slice()}}, nil
}

// expireApplication decides application.expire: one nobody took under
// review in time lapses.
func expireApplication(a Application, c Company) ([]events.Payload, error) {
	if err := reserved(a, "expired"); err != nil {
		return nil, err
	}
	if !in(a.Status, applicationsapi.StatusSubmitted, applicationsapi.StatusMatched) {
		return nil, illegal(a, "expired")
	}
	return []events.Payload{applicationsapi.ApplicationExpired{ApplicationID: a.ID, Slice: c.slice()}}, nil
}

// sameJSON compares values as they are recorded: decimals that print the
// same are the same amount.
func sameJSON(a, b any) bool {
	x, errX := json.Marshal(a)
	y, errY := json.Marshal(b)
	return errX == nil && errY == nil && string(x) == string(y)
}
