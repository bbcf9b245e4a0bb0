package applicationsapi

import (
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
)

// The replies of the applications service: companies and applications as
// users see them.

// CompanyView is a company as users see it.
type CompanyView struct {
	ID           string            `json:"company_id"`
	Name         string            `json:"name"`
	USCC         string            `json:"uscc"`
	City         fundbridge.City   `json:"city"`
	Layer        fundbridge.Layer  `json:"layer"`
	Sector       fundbridge.Sector `json:"sector"`
	FoundedOn    string            `json:"founded_on"`
	Headcount    int               `json:"headcount"`
	Stage        fundbridge.Stage  `json:"stage"`
	Patents      []PatentView      `json:"patents"`
	StageHistory []StageChange     `json:"stage_history"`
	RegisteredAt time.Time         `json:"registered_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	Version      uint64            `json:"version"`
}

// PatentView is a patent with whether it is in force today.
type PatentView struct {
	Patent
	Valid bool `json:"valid"` // whether the patent is granted and not expired
}

// ApplicationView is an application as users see it.
type ApplicationView struct {
	ID          string `json:"application_id"`
	CompanyName string `json:"company_name"`
	Slice              // company_id, stage, layer, sector, city as of the latest event
	Status      Status `json:"status"`
	ApplicationTerms
	// CreditDataShared says whether credit data may be shown to this
	// reader; there is no credit data in the view yet, only the flag.
	CreditDataShared bool           `json:"credit_data_shared"`
	FundIDs          []string       `json:"fund_ids"`    // a fund manager sees only its own funds
	ReviewedBy       []string       `json:"reviewed_by"` // IDs of the funds that have taken it under review
	Deals            []FundedDeal   `json:"deals"`
	StatusHistory    []StatusChange `json:"status_history"`
	Reason           string         `json:"reason,omitempty"`
	// ClosingDeal is the deal whose closing holds the application, if any.
	ClosingDeal string     `json:"closing_deal,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Version     uint64     `json:"version"`
}

// Patent is a patent the company owns or licenses.
type Patent struct {
	Number    string        `json:"number"`
	Kind      PatentKind    `json:"kind"`
	Title     string        `json:"title"`
	FiledOn   string        `json:"filed_on"`
	GrantedOn string        `json:"granted_on,omitempty"`
	ExpiresOn string        `json:"expires_on"`
	Holding   PatentHolding `json:"holding"`
	AddedAt   time.Time     `json:"added_at"`
}

// StageChange is one move of the company's lifecycle stage; registration
// is the first, with an empty From.
type StageChange struct {
	// The stage before; absent for the stage the company registered at.
	From fundbridge.Stage `json:"from,omitempty"`
	// The stage after.
	To fundbridge.Stage `json:"to"`
	At time.Time        `json:"at"`
}

// FundedDeal is a deal that funded the application.
type FundedDeal struct {
	DealID     string                `json:"deal_id"`
	FundID     string                `json:"fund_id"`
	Instrument fundbridge.Instrument `json:"instrument"`
	Amount     money.Amount          `json:"amount"`
	At         time.Time             `json:"at"`
}

// StatusChange is one step of the application's lifecycle.
type StatusChange struct {
	Status Status    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}
