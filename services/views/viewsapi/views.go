package viewsapi

import (
	"encoding/json"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/dealboard"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/projections/market"
	"github.com/fundbridge/fundbridge/projections/timeline"
)

// LifecycleQuery asks for the lifecycle-stage funnel. Empty filters take
// everything; dates are China calendar days, YYYY-MM-DD; as_of may also
// be an RFC 3339 time.
type LifecycleQuery struct {
	Layer  fundbridge.Layer  `json:"layer,omitempty"`
	Sector fundbridge.Sector `json:"sector,omitempty"`
	City   fundbridge.City   `json:"city,omitempty"`
	Period string            `json:"period,omitempty"` // month, quarter, year or "" for none
	From   string            `json:"from,omitempty"`   // first day counted
	To     string            `json:"to,omitempty"`     // last day counted
	AsOf   string            `json:"as_of,omitempty"`  // count only what was recorded by the end of this day
	After  uint64            `json:"after,omitempty"`
}

// Query validates q, naming every bad field, and returns the projection's query.
func (q LifecycleQuery) Query() (lifecycle.Query, error) {
	var fields []fundbridge.FieldError
	bad := func(err error) {
		fields = append(fields, fundbridge.ErrorFields(err)...)
	}
	out := lifecycle.Query{Layer: q.Layer, Sector: q.Sector, City: q.City}
	if q.Layer != "" && !q.Layer.Valid() {
		fields = append(fields, fundbridge.FieldError{Field: "layer", Reason: fundbridge.EnumError(q.Layer, fundbridge.Layers)})
	}
	if q.Sector != "" {
		switch {
		case !q.Sector.Valid():
			fields = append(fields, fundbridge.FieldError{Field: "sector", Reason: fundbridge.EnumError(q.Sector, fundbridge.AllSectors())})
		case q.Layer != "" && q.Layer.Valid() && q.Sector.Layer() != q.Layer:
			fields = append(fields, fundbridge.FieldError{Field: "sector", Reason: "is not a sector of layer " + string(q.Layer)})
		}
	}
	if q.City != "" && !q.City.Valid() {
		fields = append(fields, fundbridge.FieldError{Field: "city", Reason: fundbridge.EnumError(q.City, fundbridge.Cities)})
	}
	var err error
	if out.Period, err = projections.ParseGranularity("period", q.Period); err != nil {
		bad(err)
	}
	if q.From != "" {
		if out.From, err = projections.ParseDate("from", q.From); err != nil {
			bad(err)
		}
	}
	if q.To != "" {
		if out.To, err = projections.ParseDate("to", q.To); err != nil {
			bad(err)
		} else {
			out.To = out.To.Add(24 * time.Hour) // the whole last day
		}
	}
	if !out.From.IsZero() && !out.To.IsZero() && !out.From.Before(out.To) {
		fields = append(fields, fundbridge.FieldError{Field: "to", Reason: "is before from"})
	}
	if out.AsOf, err = projections.ParseAsOf("as_of", q.AsOf); err != nil {
		bad(err)
	}
	if len(fields) > 0 {
		return lifecycle.Query{}, fundbridge.Invalid("invalid lifecycle query", fields...)
	}
	return out, nil
}

// LifecycleResult holds a row per stage, per period when grouped.
type LifecycleResult struct {
	Items    []lifecycle.Row `json:"items"`
	Position uint64          `json:"position"` // the log position the answer reflects

	encoded []byte // the answer as JSON, made once for its many readers (Encoded)
}

// lifecycleJSON is LifecycleResult without its MarshalJSON.
type lifecycleJSON LifecycleResult

// Encoded returns r holding its own JSON, so that an answer kept for many
// readers is encoded once rather than for each (every amount of every row
// is a decimal made into a string: most of a lifecycle read's work).
func (r LifecycleResult) Encoded() (LifecycleResult, error) {
	r.encoded = nil
	b, err := json.Marshal(lifecycleJSON(r))
	if err != nil {
		return r, err
	}
	r.encoded = b
	return r, nil
}

// MarshalJSON is the JSON Encoded made, else the fields' own.
func (r LifecycleResult) MarshalJSON() ([]byte, error) {
	if r.encoded != nil {
		return r.encoded, nil
	}
	return json.Marshal(lifecycleJSON(r))
}

// MarketQuery asks for the market overview.
type MarketQuery struct {
	AsOf  string `json:"as_of,omitempty" jsonschema_description:"The view as it stood by the end of this China day (YYYY-MM-DD) or at this RFC 3339 time: the log folded up to then."`
	After uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q MarketQuery) Validate() error {
	_, err := projections.ParseAsOf("as_of", q.AsOf)
	return err
}

// MarketResult holds the overview's rows: the total, then each dimension.
type MarketResult struct {
	Items    []market.Row `json:"items"`
	Position uint64       `json:"position"`
}

// TimelineQuery asks for a company's timeline; a startup may leave out
// its own company's ID.
type TimelineQuery struct {
	CompanyID string `json:"company_id,omitempty"`
	AsOf      string `json:"as_of,omitempty" jsonschema_description:"Only the entries recorded by the end of this China day (YYYY-MM-DD), or up to and including this RFC 3339 time; the company's stage is then the one it had."`
	After     uint64 `json:"after,omitempty"`
}

// TimelineResult is a company's timeline, oldest first.
type TimelineResult struct {
	// The company the timeline is of.
	Company  timeline.CompanyView `json:"company"`
	Items    []timeline.EntryView `json:"items"`
	Position uint64               `json:"position"`
}

// DealBoardQuery asks for a fund's deal board.
type DealBoardQuery struct {
	FundID string `json:"fund_id"`
	AsOf   string `json:"as_of,omitempty" jsonschema_description:"The view as it stood by the end of this China day (YYYY-MM-DD) or at this RFC 3339 time: the log folded up to then."`
	After  uint64 `json:"after,omitempty"`
}

// DealBoardResult is the board with the position it reflects.
type DealBoardResult struct {
	dealboard.Board
	Position uint64 `json:"position"`
}

// StatusQuery asks how the projections stand.
type StatusQuery struct{}

// StatusResult lists every projection.
type StatusResult struct {
	Items []projections.Status `json:"items"`
	// Rebuilding is true while a rebuild asked over the bus runs.
	Rebuilding bool `json:"rebuilding"`
	// Quarantined counts the messages in the log that are not valid
	// commits, skipped by every reader; Quarantine lists them.
	Quarantined uint64 `json:"quarantined"`
	// The quarantined messages, oldest first.
	Quarantine []events.Quarantine `json:"quarantine"`
}

// RebuildQuery asks the running service to fold a projection ("" for all)
// again from position 0: fundbridge projections rebuild against a running
// server, which must never open the server's data directory itself.
type RebuildQuery struct {
	Name string `json:"name,omitempty"`
}

// RebuildResult says the rebuild started and up to which log position it
// folds; the caller follows it in status.
type RebuildResult struct {
	Name string `json:"name,omitempty"`
	Head uint64 `json:"head"`
}

// Validate names every bad field.
func (q LifecycleQuery) Validate() error {
	_, err := q.Query()
	return err
}

// ForActor makes a startup's omitted company its own.
func (q TimelineQuery) ForActor(a fundbridge.Actor) (TimelineQuery, error) {
	if q.CompanyID == "" && a.Role == fundbridge.RoleStartup {
		q.CompanyID = a.OrgID
	}
	return q, nil
}

// Validate names every bad field.
func (q TimelineQuery) Validate() error {
	if q.CompanyID == "" {
		return fundbridge.Invalid("no company", fundbridge.FieldError{Field: "company_id", Reason: "required"})
	}
	_, err := projections.ParseAsOf("as_of", q.AsOf)
	return err
}

// Validate names every bad field.
func (q DealBoardQuery) Validate() error {
	if q.FundID == "" {
		return fundbridge.Invalid("no fund", fundbridge.FieldError{Field: "fund_id", Reason: "required"})
	}
	_, err := projections.ParseAsOf("as_of", q.AsOf)
	return err
}
