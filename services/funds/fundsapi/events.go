package fundsapi

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
)

// The events of funds, their mandates and commitments: the service's
// public contract, read by matching and the projections.

// FundType is the kind of investor a fund is.
type FundType string

const (
	FundSeed     FundType = "seed"
	FundAngel    FundType = "angel"
	FundVC       FundType = "vc"
	FundPE       FundType = "pe"
	FundGuidance FundType = "guidance" // government guidance fund (政府引导基金)
	FundIndustry FundType = "industry" // corporate or industrial fund
)

// FundTypes lists every fund type.
var FundTypes = []FundType{FundSeed, FundAngel, FundVC, FundPE, FundGuidance, FundIndustry}

// Mandate is what a fund may invest in. Empty lists mean "any".
type Mandate struct {
	Stages            []fundbridge.Stage  `json:"stages"`
	Layers            []fundbridge.Layer  `json:"layers,omitempty"`
	Sectors           []fundbridge.Sector `json:"sectors,omitempty"`
	Cities            []fundbridge.City   `json:"cities,omitempty"` // restricted to these when set
	TicketMin         money.Amount        `json:"ticket_min"`
	TicketMax         money.Amount        `json:"ticket_max"`
	MaxOwnership      decimal.Decimal     `json:"max_ownership"` // the largest share of a company the fund takes, a fraction: "0.20" for 20%
	ExcludedSectors   []fundbridge.Sector `json:"excluded_sectors,omitempty"`
	ExcludedCompanies []string            `json:"excluded_companies,omitempty"` // company IDs
}

type FundRegistered struct {
	FundID           string       `json:"fund_id"`
	ManagerOrg       string       `json:"manager_org"`
	Name             string       `json:"name"`
	Type             FundType     `json:"type"`
	CommittedCapital money.Amount `json:"committed_capital"`
}

type MandateSet struct {
	FundID string `json:"fund_id"`
	Mandate
}

// CapitalCommitted is equity the fund has committed to a deal; it lowers
// the fund's dry powder.
type CapitalCommitted struct {
	FundID         string       `json:"fund_id"`
	DealID         string       `json:"deal_id"`
	ApplicationID  string       `json:"application_id"`
	CompanyID      string       `json:"company_id"`
	Amount         money.Amount `json:"amount"`
	DryPowderAfter money.Amount `json:"dry_powder_after"`
}

// CapitalReleased gives back a commitment whose deal did not close (the
// closing process undoing its commit); the dry powder rises by Amount.
type CapitalReleased struct {
	FundID         string       `json:"fund_id"`
	DealID         string       `json:"deal_id"`
	ApplicationID  string       `json:"application_id"`
	Amount         money.Amount `json:"amount"`
	DryPowderAfter money.Amount `json:"dry_powder_after"`
	Reason         string       `json:"reason,omitempty"`
}

type FundClosed struct {
	FundID string `json:"fund_id"`
	Reason string `json:"reason,omitempty"`
}

func (FundRegistered) EventType() string   { return "fund.registered.v1" }
func (MandateSet) EventType() string       { return "fund.mandate_set.v1" }
func (CapitalCommitted) EventType() string { return "fund.capital_committed.v1" }
func (FundClosed) EventType() string       { return "fund.closed.v1" }
func (CapitalReleased) EventType() string  { return "fund.capital_released.v1" }

// Register adds the service's event types to r.
func Register(r *events.Registry) {
	events.Register[FundRegistered](r, FundRegistered{}.EventType())
	events.Register[MandateSet](r, MandateSet{}.EventType())
	events.Register[CapitalCommitted](r, CapitalCommitted{}.EventType())
	events.Register[FundClosed](r, FundClosed{}.EventType())
	events.Register[CapitalReleased](r, CapitalReleased{}.EventType())
}

// Fund statuses as views show them.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Valid reports whether t is a known fund type.
func (t FundType) Valid() bool { return slices.Contains(FundTypes, t) }

// FundView is a fund as readers see it. Lists leave out the commitments;
// the detail lists them all.
type FundView struct {
	ID   string `json:"fund_id"`
	Name string `json:"name"`
	// The fund's type.
	Type             FundType     `json:"type"`
	ManagerOrg       string       `json:"manager_org"`
	CommittedCapital money.Amount `json:"committed_capital"`
	Invested         money.Amount `json:"invested"` // sum of commitments
	DryPowder        money.Amount `json:"dry_powder"`
	Mandate          *Mandate     `json:"mandate"` // what the fund invests in; null until one is set
	Status           string       `json:"status"`  // open, or closed to new deals
	// Why the fund was closed, when it is.
	CloseReason string `json:"close_reason,omitempty"`
	// How many deals the fund has committed capital to.
	CommitmentCount int `json:"commitment_count"`
	// The fund's commitments, oldest first; in the detail only, absent in lists.
	Commitments  []Commitment `json:"commitments,omitzero"`
	RegisteredAt time.Time    `json:"registered_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
	Version      uint64       `json:"version"`
}

// Commitment is one deal's equity commitment as the fund recorded it.
type Commitment struct {
	DealID        string `json:"deal_id"`
	ApplicationID string `json:"application_id"`
	CompanyID     string `json:"company_id"`
	// The company's name as it last registered it, in a fund's detail;
	// empty where the funds service never read it.
	CompanyName string       `json:"company_name,omitempty"`
	Amount      money.Amount `json:"amount"`
	// The fund's dry powder once this commitment was taken.
	DryPowderAfter money.Amount `json:"dry_powder_after"`
	// When the fund recorded the commitment.
	CommittedAt time.Time `json:"committed_at"`
	Version     uint64    `json:"version"` // the fund's version that recorded the commitment
}
