package applicationsapi

import (
	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc/check"
)

// Queries.

// GetCompany is company.get. A startup's company_id defaults to its org.
type GetCompany struct {
	CompanyID string `json:"company_id"`
	After     uint64 `json:"after,omitempty"` // wait until the view reflects this position
}

func (q GetCompany) Validate() error {
	var fe fieldErrors
	fe.ID("company_id", q.CompanyID, maxIDLength, true)
	return fe.Err("invalid query")
}

// ListCompanies is company.list.
type ListCompanies struct {
	Stage  fundbridge.Stage  `json:"stage,omitempty"`
	Layer  fundbridge.Layer  `json:"layer,omitempty"`
	Sector fundbridge.Sector `json:"sector,omitempty"`
	City   fundbridge.City   `json:"city,omitempty"`
	Sort   string            `json:"sort,omitempty"` // name (default), -name, founded_on, -founded_on
	Limit  int               `json:"limit,omitempty"`
	Cursor string            `json:"cursor,omitempty"`
	After  uint64            `json:"after,omitempty"`
}

// companySorts are the orders company.list knows.
func companySorts() []string { return []string{"name", "-name", "founded_on", "-founded_on"} }

func (q ListCompanies) Validate() error {
	var fe fieldErrors
	check.Enum(&fe.Fields, "stage", q.Stage, fundbridge.Stages, false)
	check.Enum(&fe.Fields, "layer", q.Layer, fundbridge.Layers, false)
	check.Enum(&fe.Fields, "sector", q.Sector, fundbridge.AllSectors(), false)
	check.Enum(&fe.Fields, "city", q.City, fundbridge.Cities, false)
	check.Enum(&fe.Fields, "sort", q.Sort, companySorts(), false)
	fe.Limit(q.Limit, MaxLimit, DefaultLimit)
	return fe.Err("invalid query")
}

// GetApplication is application.get.
type GetApplication struct {
	ApplicationID string `json:"application_id"`
	After         uint64 `json:"after,omitempty"`
}

func (q GetApplication) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", q.ApplicationID, maxIDLength, true)
	return fe.Err("invalid query")
}

// ListApplications is application.list.
type ListApplications struct {
	Status     Status                `json:"status,omitempty"`
	Stage      fundbridge.Stage      `json:"stage,omitempty"`
	Layer      fundbridge.Layer      `json:"layer,omitempty"`
	Sector     fundbridge.Sector     `json:"sector,omitempty"`
	City       fundbridge.City       `json:"city,omitempty"`
	Instrument fundbridge.Instrument `json:"instrument,omitempty"`
	// Only applications asking at least this much (inclusive).
	AmountMin *money.Amount `json:"amount_min,omitempty"`
	// Only applications asking at most this much (inclusive).
	AmountMax *money.Amount `json:"amount_max,omitempty"`
	CompanyID string        `json:"company_id,omitempty"`
	// Sort: -created_at (default), created_at, submitted_at, -submitted_at,
	// amount_requested, -amount_requested.
	Sort   string `json:"sort,omitempty"`
	Limit  int    `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
	After  uint64 `json:"after,omitempty"`
}

// applicationSorts are the orders application.list knows.
func applicationSorts() []string {
	return []string{"-created_at", "created_at", "submitted_at", "-submitted_at", "amount_requested", "-amount_requested"}
}

func (q ListApplications) Validate() error {
	var fe fieldErrors
	check.Enum(&fe.Fields, "status", q.Status, Statuses(), false)
	check.Enum(&fe.Fields, "stage", q.Stage, fundbridge.Stages, false)
	check.Enum(&fe.Fields, "layer", q.Layer, fundbridge.Layers, false)
	check.Enum(&fe.Fields, "sector", q.Sector, fundbridge.AllSectors(), false)
	check.Enum(&fe.Fields, "city", q.City, fundbridge.Cities, false)
	check.Enum(&fe.Fields, "instrument", q.Instrument, fundbridge.Instruments, false)
	minOK := q.AmountMin == nil || fe.bound("amount_min", *q.AmountMin)
	maxOK := q.AmountMax == nil || fe.bound("amount_max", *q.AmountMax)
	if minOK && maxOK && q.AmountMin != nil && q.AmountMax != nil && q.AmountMin.GreaterThan(*q.AmountMax) {
		fe.Add("amount_min", "must not be above amount_max")
	}
	fe.ID("company_id", q.CompanyID, maxIDLength, false)
	check.Enum(&fe.Fields, "sort", q.Sort, applicationSorts(), false)
	fe.Limit(q.Limit, MaxLimit, DefaultLimit)
	return fe.Err("invalid query")
}

// ListResult is a page of a list.
type ListResult[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"` // give it back as ?cursor= for the next page; empty on the last page
}
