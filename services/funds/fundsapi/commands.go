package fundsapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc/check"
)

// Limits on input, so that one command stays a small event.
const (
	maxNameLength      = 200
	maxRefLength       = 200 // org, deal, application and company IDs
	maxReasonLength    = 500
	maxExcludedCompany = 1000
	maxOwnershipPlaces = 4
	DefaultListLimit   = 50
	MaxListLimit       = 200
)

// RegisterFund registers a fund. ManagerOrg is for operators registering
// on behalf of an org; a fund manager's funds belong to its own org.
type RegisterFund struct {
	Name string `json:"name"`
	// The fund's type.
	Type             FundType     `json:"type"`
	CommittedCapital money.Amount `json:"committed_capital"`
	ManagerOrg       string       `json:"manager_org,omitempty"`
}

// Validate names every bad field.
func (c RegisterFund) Validate() error {
	var fe fieldErrors
	fe.Line("name", c.Name, maxNameLength, true)
	fe.fundType("type", c.Type)
	fe.Amount("committed_capital", c.CommittedCapital, maxAmount())
	if c.ManagerOrg != "" {
		fe.Ref("manager_org", c.ManagerOrg, maxRefLength)
	}
	return fe.Err("invalid fund")
}

// SetMandate replaces a fund's whole mandate. MaxOwnership is a string on
// the wire (a fraction like "0.20"): decimal.Decimal would also accept a
// JSON number, and numbers are how fractions go wrong.
type SetMandate struct {
	FundID            string              `json:"fund_id"`
	Stages            []fundbridge.Stage  `json:"stages" jsonschema_description:"Lifecycle stages the fund invests in: a hard filter."`
	Layers            []fundbridge.Layer  `json:"layers,omitempty" jsonschema_description:"AI industry layers: a layer admits every sector of it. With neither layers nor sectors the fund takes any sector."`
	Sectors           []fundbridge.Sector `json:"sectors,omitempty" jsonschema_description:"Sectors by name (a named sector scores more than one admitted by its layer). With neither layers nor sectors the fund takes any sector."`
	Cities            []fundbridge.City   `json:"cities,omitempty" jsonschema_description:"Cities the fund invests in; empty: anywhere. A hard filter when set."` // empty: anywhere
	TicketMin         money.Amount        `json:"ticket_min" jsonschema_description:"Smallest ticket: an application asking less does not match (the bound itself matches)."`
	TicketMax         money.Amount        `json:"ticket_max" jsonschema_description:"Largest ticket: an application asking more does not match (the bound itself matches)."`
	MaxOwnership      string              `json:"max_ownership" jsonschema_description:"Largest stake, a fraction like \"0.20\". In matching it only lowers the score of an application whose valuation ask would give more; a term sheet above it is refused."`
	ExcludedSectors   []fundbridge.Sector `json:"excluded_sectors,omitempty" jsonschema_description:"Sectors never matched, even when their layer is admitted."`
	ExcludedCompanies []string            `json:"excluded_companies,omitempty" jsonschema_description:"Company IDs never matched."`
}

// Validate names every bad field.
func (c SetMandate) Validate() error {
	_, err := c.Mandate()
	return err
}

// Mandate validates the command and returns the mandate it sets.
func (c SetMandate) Mandate() (Mandate, error) {
	var fe fieldErrors
	fe.fundID(c.FundID)
	if len(c.Stages) == 0 {
		fe.Add("stages", "at least one stage is required")
	}
	check.EnumList(&fe.Fields, "stages", c.Stages, fundbridge.Stages)
	check.EnumList(&fe.Fields, "layers", c.Layers, fundbridge.Layers)
	check.EnumList(&fe.Fields, "sectors", c.Sectors, fundbridge.AllSectors())
	if len(c.Layers) > 0 {
		for i, s := range c.Sectors {
			if l := s.Layer(); l != "" && !slices.Contains(c.Layers, l) {
				fe.Add(fmt.Sprintf("sectors[%d]", i), fmt.Sprintf("%q belongs to layer %q, which is not among layers", s, l))
			}
		}
	}
	check.EnumList(&fe.Fields, "cities", c.Cities, fundbridge.Cities)
	minOK := fe.Amount("ticket_min", c.TicketMin, maxAmount())
	maxOK := fe.Amount("ticket_max", c.TicketMax, maxAmount())
	if minOK && maxOK && c.TicketMax.LessThan(c.TicketMin) {
		fe.Add("ticket_max", fmt.Sprintf("must be at least ticket_min, the smallest ticket (%s)", c.TicketMin.Human()))
	}
	ownership := fe.fraction("max_ownership", c.MaxOwnership)
	check.EnumList(&fe.Fields, "excluded_sectors", c.ExcludedSectors, fundbridge.AllSectors())
	for i, s := range c.ExcludedSectors {
		if slices.Contains(c.Sectors, s) {
			fe.Add(fmt.Sprintf("excluded_sectors[%d]", i), fmt.Sprintf("%q is also listed in sectors", s))
		}
	}
	if len(c.ExcludedCompanies) > maxExcludedCompany {
		fe.Add("excluded_companies", fmt.Sprintf("%d companies, at most %d", len(c.ExcludedCompanies), maxExcludedCompany))
	} else {
		seen := make(map[string]bool, len(c.ExcludedCompanies))
		for i, id := range c.ExcludedCompanies {
			name := fmt.Sprintf("excluded_companies[%d]", i)
			if fe.Ref(name, id, maxRefLength) {
				if seen[id] {
					fe.Add(name, fmt.Sprintf("%q is listed twice", id))
				}
				seen[id] = true
			}
		}
	}
	if err := fe.Err("invalid mandate"); err != nil {
		return Mandate{}, err
	}
	return Mandate{
		Stages: c.Stages, Layers: c.Layers, Sectors: c.Sectors, Cities: c.Cities,
		TicketMin: c.TicketMin, TicketMax: c.TicketMax, MaxOwnership: ownership,
		ExcludedSectors: c.ExcludedSectors, ExcludedCompanies: c.ExcludedCompanies,
	}, nil
}

// CommitCapital commits equity from a fund to a deal. The matching
// service sends it once a deal closes; a deal is committed at most once.
type CommitCapital struct {
	FundID        string       `json:"fund_id"`
	DealID        string       `json:"deal_id"`
	ApplicationID string       `json:"application_id"`
	CompanyID     string       `json:"company_id"`
	Amount        money.Amount `json:"amount"`
}

// Validate names every bad field.
func (c CommitCapital) Validate() error {
	var fe fieldErrors
	fe.fundID(c.FundID)
	fe.Ref("deal_id", c.DealID, maxRefLength)
	fe.Ref("application_id", c.ApplicationID, maxRefLength)
	fe.Ref("company_id", c.CompanyID, maxRefLength)
	fe.Amount("amount", c.Amount, maxAmount())
	return fe.Err("invalid commitment")
}

// ReleaseCapital gives back what a deal committed, because its closing
// could not complete. Releasing a deal that holds no commitment changes
// nothing, so a closing may undo a commit whose outcome it never learned.
type ReleaseCapital struct {
	FundID string `json:"fund_id"`
	DealID string `json:"deal_id"`
	Reason string `json:"reason,omitempty"`
}

// Validate names every bad field.
func (c ReleaseCapital) Validate() error {
	var fe fieldErrors
	fe.fundID(c.FundID)
	fe.Ref("deal_id", c.DealID, maxRefLength)
	fe.Line("reason", c.Reason, maxReasonLength, false)
	return fe.Err("invalid release")
}

// CloseFund closes a fund to new mandates and commitments.
type CloseFund struct {
	FundID string `json:"fund_id"`
	Reason string `json:"reason,omitempty"`
}

// Validate names every bad field.
func (c CloseFund) Validate() error {
	var fe fieldErrors
	fe.fundID(c.FundID)
	fe.Line("reason", c.Reason, maxReasonLength, false)
	return fe.Err("invalid close")
}

// GetFund asks for one fund, as of at least position After.
type GetFund struct {
	FundID string `json:"fund_id"`
	After  uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q GetFund) Validate() error {
	var fe fieldErrors
	fe.fundID(q.FundID)
	return fe.Err("invalid query")
}

// Sorts a fund list accepts; the default is by name.
const (
	SortName                 = "name"
	SortNameDesc             = "-name"
	SortDryPowder            = "dry_powder"
	SortDryPowderDesc        = "-dry_powder"
	SortCommittedCapital     = "committed_capital"
	SortCommittedCapitalDesc = "-committed_capital"
)

func sorts() []string {
	return []string{SortName, SortNameDesc, SortDryPowder, SortDryPowderDesc, SortCommittedCapital, SortCommittedCapitalDesc}
}

// ListFunds asks for a page of funds. Stage, sector and city select funds
// whose mandate would take a company there: a mandate without sectors or
// cities takes any; a fund without a mandate takes nothing yet.
type ListFunds struct {
	// Only funds of this type.
	Type       FundType          `json:"type,omitempty"`
	Status     string            `json:"status,omitempty"` // only funds in this status: open or closed
	ManagerOrg string            `json:"manager_org,omitempty"`
	Stage      fundbridge.Stage  `json:"stage,omitempty"`
	Sector     fundbridge.Sector `json:"sector,omitempty"`
	City       fundbridge.City   `json:"city,omitempty"`
	// Only funds with at least this much dry powder (inclusive).
	MinDryPowder money.Amount `json:"min_dry_powder,omitzero"`
	Sort         string       `json:"sort,omitempty"`
	Limit        int          `json:"limit,omitempty"` // default 50, at most 200
	Cursor       string       `json:"cursor,omitempty"`
	After        uint64       `json:"after,omitempty"`
}

// Validate names every bad field.
func (q ListFunds) Validate() error {
	var fe fieldErrors
	if q.Type != "" {
		fe.fundType("type", q.Type)
	}
	if q.Status != "" && q.Status != StatusOpen && q.Status != StatusClosed {
		fe.Add("status", fundbridge.EnumError(q.Status, []string{StatusOpen, StatusClosed}))
	}
	if q.ManagerOrg != "" {
		fe.Ref("manager_org", q.ManagerOrg, maxRefLength)
	}
	if q.Stage != "" && !q.Stage.Valid() {
		fe.Add("stage", fundbridge.EnumError(q.Stage, fundbridge.Stages))
	}
	if q.Sector != "" && !q.Sector.Valid() {
		fe.Add("sector", fundbridge.EnumError(q.Sector, fundbridge.AllSectors()))
	}
	if q.City != "" && !q.City.Valid() {
		fe.Add("city", fundbridge.EnumError(q.City, fundbridge.Cities))
	}
	if !q.MinDryPowder.IsZero() {
		fe.Amount("min_dry_powder", q.MinDryPowder, maxAmount())
	}
	if q.Sort != "" && !slices.Contains(sorts(), q.Sort) {
		fe.Add("sort", fundbridge.EnumError(q.Sort, sorts()))
	}
	if q.Limit < 0 || q.Limit > MaxListLimit {
		fe.Add("limit", fmt.Sprintf("must be between 1 and %d (0 for the default %d)", MaxListLimit, DefaultListLimit))
	}
	return fe.Err("invalid query")
}

// FundList is a page of funds.
type FundList struct {
	Items      []FundView `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// fieldErrors collects every bad field of one input; the checks this
// service shares among its commands are its methods.
type fieldErrors struct{ check.Fields }

// fundID checks a fund ID: what a stream ID and a NATS subject token may
// hold, so a bad one is refused here rather than by the store.
func (fe *fieldErrors) fundID(id string) {
	switch {
	case id == "":
		fe.Add("fund_id", "required")
	case len(id) > 100 || strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}):
		fe.Add("fund_id", "must be 1 to 100 letters, digits, '_' or '-'")
	}
}

func (fe *fieldErrors) fundType(field string, t FundType) {
	switch {
	case t == "":
		fe.Add(field, "required")
	case !t.Valid():
		fe.Add(field, fundbridge.EnumError(t, FundTypes))
	}
}

// fraction parses a share in (0, 1] given as a string like "0.20": a
// plain decimal, without sign, exponent or spaces, of at most 4 places.
func (fe *fieldErrors) fraction(field, s string) decimal.Decimal {
	if s == "" {
		fe.Add(field, `required: a fraction like "0.20"`)
		return decimal.Decimal{}
	}
	notDigit := func(r rune) bool { return r < '0' || r > '9' }
	whole, places, point := strings.Cut(s, ".")
	if whole == "" || strings.ContainsFunc(whole, notDigit) || point && (places == "" || strings.ContainsFunc(places, notDigit)) {
		fe.Add(field, fmt.Sprintf(`%q is not a decimal fraction like "0.20"`, s))
		return decimal.Decimal{}
	}
	d, err := decimal.NewFromString(s)
	switch {
	case err != nil:
		fe.Add(field, fmt.Sprintf(`%q is not a decimal fraction like "0.20"`, s))
	case len(places) > maxOwnershipPlaces:
		fe.Add(field, fmt.Sprintf("has more than %d decimal places", maxOwnershipPlaces))
	case !d.IsPositive() || d.GreaterThan(decimal.NewFromInt(1)):
		fe.Add(field, fmt.Sprintf("%s is not a share of the company: give a fraction greater than 0 and at most 1 (0.2 for 20%%)", s))
	default:
		return d
	}
	return decimal.Decimal{}
}

// maxAmount is the largest amount money.Parse takes.
func maxAmount() money.Amount { return money.FromDecimal(money.MaxAmount) }
