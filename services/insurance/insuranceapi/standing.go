package insuranceapi

import (
	"net/http"
	"strings"

	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// A patent's standing is what cover depends on that the applications
// service does not record: the owner's consent that a licensee insure
// the patent, and pending invalidation or ownership proceedings. An
// operator records it from the documents the parties file; a request is
// decided on the standing recorded when it is made.

// RecordPatentStanding records a patent's standing, replacing the last.
type RecordPatentStanding struct {
	Number string `json:"number"`
	// LicenseeID is the company the owner consented to insure the patent
	// (with OwnerConsent); empty when there is no consent.
	LicenseeID   string `json:"licensee_id,omitempty"`
	OwnerConsent bool   `json:"owner_consent"`
	InDispute    bool   `json:"in_dispute"`
	Note         string `json:"note,omitempty"`
}

// Validate names every bad field.
func (c RecordPatentStanding) Validate() error {
	var fe fieldErrors
	patentNumber(&fe, "number", c.Number)
	if c.LicenseeID != "" {
		fe.id("licensee_id", c.LicenseeID)
	}
	if c.OwnerConsent && c.LicenseeID == "" {
		fe.Add("licensee_id", "required with owner_consent: the company the owner consented to")
	}
	fe.Line("note", c.Note, maxReasonLength, false)
	return fe.Err("invalid patent standing")
}

// patentNumber checks a CN application number with its check digit.
func patentNumber(fe *fieldErrors, field, n string) {
	switch {
	case n == "":
		fe.Add(field, "required")
	case len(n) != 16 || !strings.HasPrefix(n, "CN") || n[14] != '.' || strings.Trim(n[2:14], "0123456789") != "":
		fe.Add(field, "must be a CN application number like CN202310123456.6")
	case applicationsapi.PatentCheckDigit(n[2:14]) != n[15]:
		fe.Add(field, "check digit does not match: must be "+string(applicationsapi.PatentCheckDigit(n[2:14])))
	}
}

// PatentRef names a patent.
type PatentRef struct {
	Number string `json:"number"`
	After  uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q PatentRef) Validate() error {
	var fe fieldErrors
	patentNumber(&fe, "number", q.Number)
	return fe.Err("invalid patent")
}

// PatentStandingRecorded: an operator recorded a patent's standing.
type PatentStandingRecorded struct {
	Number       string `json:"number"`
	LicenseeID   string `json:"licensee_id,omitempty"`
	OwnerConsent bool   `json:"owner_consent"`
	InDispute    bool   `json:"in_dispute"`
	Note         string `json:"note,omitempty"`
}

// EventType names the event.
func (PatentStandingRecorded) EventType() string { return "insurance.patent_standing_recorded.v1" }

// PatentStandingView is a patent's standing as recorded; a patent never
// recorded is in no dispute and has no consent.
type PatentStandingView struct {
	PatentStandingRecorded
	Version uint64 `json:"version"`
}

// OpRecordStanding and OpGetStanding are the standing's operations.
const (
	OpRecordStanding = "patent.record_standing"
	OpGetStanding    = "patent.standing"
)

// The standing's endpoints.
var (
	RecordStandingEndpoint = svc.NewCommand[RecordPatentStanding, PatentStandingView](Name, OpRecordStanding, operators,
		route(http.MethodPut, "/patent-standing/{number}", tag, "Record a patent's standing for insurance (operators): the owner's consent that a licensee insure it, and pending invalidation or ownership proceedings")).Doing("record patent standing")
	GetStandingEndpoint = svc.NewQuery[PatentRef, PatentStandingView](Name, OpGetStanding, parties,
		route(http.MethodGet, "/patent-standing/{number}", tag, "A patent's standing for insurance as recorded (a patent never recorded: no consent, no dispute)"))
)
