package applicationsapi

import (
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
)

// The events of companies and their funding applications. They are the
// service's public contract: other services and the projections read them.
// Each application event carries the company's stage, layer, sector and
// city at the time, so views slice by them without joining.

// CompanyProfile is what a company says about itself.
type CompanyProfile struct {
	Name      string            `json:"name"`
	City      fundbridge.City   `json:"city"`
	Layer     fundbridge.Layer  `json:"layer"`
	Sector    fundbridge.Sector `json:"sector"`
	FoundedOn string            `json:"founded_on"` // the date the company was founded, YYYY-MM-DD (China time); not in the future
	Headcount int               `json:"headcount"`
}

type CompanyRegistered struct {
	CompanyID string           `json:"company_id"` // also the startup's org ID
	USCC      string           `json:"uscc"`
	Stage     fundbridge.Stage `json:"stage"`
	CompanyProfile
}

// USCCClaimed gives a USCC to one company. Its stream exists once per
// code, so appending it with "no stream" makes codes unique.
type USCCClaimed struct {
	USCC      string `json:"uscc"`
	CompanyID string `json:"company_id"`
}

func (USCCClaimed) EventType() string { return "uscc.claimed.v1" }

type CompanyProfileUpdated struct {
	CompanyID string `json:"company_id"`
	CompanyProfile
}

type CompanyStageChanged struct {
	CompanyID string           `json:"company_id"`
	From      fundbridge.Stage `json:"from"`
	To        fundbridge.Stage `json:"to"`
}

// PatentKind is the kind of a Chinese patent; it sets the term.
type PatentKind string

const (
	PatentInvention    PatentKind = "invention"     // 发明, 20 years from filing
	PatentUtilityModel PatentKind = "utility_model" // 实用新型, 10 years
	PatentDesign       PatentKind = "design"        // 外观设计, 15 years
)

// PatentHolding is how the company holds a patent.
type PatentHolding string

const (
	HoldingOwner    PatentHolding = "owner"
	HoldingLicensee PatentHolding = "licensee"
)

type PatentAdded struct {
	CompanyID string        `json:"company_id"`
	Number    string        `json:"number"` // CN number, e.g. CN202310123456.6
	Kind      PatentKind    `json:"kind"`
	Title     string        `json:"title"`
	FiledOn   string        `json:"filed_on"`             // YYYY-MM-DD
	GrantedOn string        `json:"granted_on,omitempty"` // YYYY-MM-DD; empty while pending
	ExpiresOn string        `json:"expires_on"`           // derived from kind and filing date
	Holding   PatentHolding `json:"holding"`
}

// Slice is where the company stood when an application event happened.
type Slice struct {
	CompanyID string            `json:"company_id"`
	Stage     fundbridge.Stage  `json:"stage"`
	Layer     fundbridge.Layer  `json:"layer"`
	Sector    fundbridge.Sector `json:"sector"`
	City      fundbridge.City   `json:"city"`
}

// ApplicationTerms are what a startup asks for.
type ApplicationTerms struct {
	AmountRequested   money.Amount            `json:"amount_requested"`
	Instruments       []fundbridge.Instrument `json:"instruments"`
	UseOfFunds        string                  `json:"use_of_funds"`
	ValuationAsk      *money.Amount           `json:"valuation_ask,omitempty"` // pre-money, optional
	CreditDataConsent bool                    `json:"credit_data_consent"`     // whether banks may see its credit data
}

type ApplicationDrafted struct {
	ApplicationID string `json:"application_id"`
	CompanyName   string `json:"company_name"`
	Slice
	ApplicationTerms
}

type ApplicationUpdated struct {
	ApplicationID string `json:"application_id"`
	Slice
	ApplicationTerms
}

// ApplicationSubmitted carries everything matching needs, so the match
// engine never reads drafts.
type ApplicationSubmitted struct {
	ApplicationID string `json:"application_id"`
	CompanyName   string `json:"company_name"`
	Slice
	ApplicationTerms
}

type ApplicationMatched struct {
	ApplicationID string   `json:"application_id"`
	FundIDs       []string `json:"fund_ids"`
	Slice
}

// ApplicationUnmatched records funds that no longer match the
// application: its company or a fund's mandate changed since they were
// matched. Matching records both ways, so an application's fund_ids are
// always the funds it matches now.
type ApplicationUnmatched struct {
	ApplicationID string   `json:"application_id"`
	FundIDs       []string `json:"fund_ids"`
	Slice
}

type ApplicationUnderReview struct {
	ApplicationID string `json:"application_id"`
	FundID        string `json:"fund_id"`
	Slice
}

type ApplicationFunded struct {
	ApplicationID string                `json:"application_id"`
	DealID        string                `json:"deal_id"`
	FundID        string                `json:"fund_id"`
	Instrument    fundbridge.Instrument `json:"instrument"`
	Amount        money.Amount          `json:"amount"`
	Slice
}

// ApplicationReserved holds the application for one deal while that deal
// closes: nobody may withdraw, reject or expire it, and no other deal may
// reserve it, until the deal funds it or the reservation is released.
type ApplicationReserved struct {
	ApplicationID string `json:"application_id"`
	DealID        string `json:"deal_id"`
	FundID        string `json:"fund_id"`
	Slice
}

// ReservationReleased ends a reservation whose deal did not close.
type ReservationReleased struct {
	ApplicationID string `json:"application_id"`
	DealID        string `json:"deal_id"`
	Reason        string `json:"reason,omitempty"`
	Slice
}

type ApplicationWithdrawn struct {
	ApplicationID string `json:"application_id"`
	Reason        string `json:"reason,omitempty"`
	Slice
}

type ApplicationRejected struct {
	ApplicationID string `json:"application_id"`
	Reason        string `json:"reason"`
	Slice
}

type ApplicationExpired struct {
	ApplicationID string `json:"application_id"`
	Slice
}

func (CompanyRegistered) EventType() string      { return "company.registered.v1" }
func (CompanyProfileUpdated) EventType() string  { return "company.profile_updated.v1" }
func (CompanyStageChanged) EventType() string    { return "company.stage_changed.v1" }
func (PatentAdded) EventType() string            { return "company.patent_added.v1" }
func (ApplicationDrafted) EventType() string     { return "application.drafted.v1" }
func (ApplicationUpdated) EventType() string     { return "application.updated.v1" }
func (ApplicationSubmitted) EventType() string   { return "application.submitted.v1" }
func (ApplicationMatched) EventType() string     { return "application.matched.v1" }
func (ApplicationUnmatched) EventType() string   { return "application.unmatched.v1" }
func (ApplicationUnderReview) EventType() string { return "application.under_review.v1" }
func (ApplicationFunded) EventType() string      { return "application.funded.v1" }
func (ApplicationWithdrawn) EventType() string   { return "application.withdrawn.v1" }
func (ApplicationRejected) EventType() string    { return "application.rejected.v1" }
func (ApplicationExpired) EventType() string     { return "application.expired.v1" }
func (ApplicationReserved) EventType() string    { return "application.reserved.v1" }
func (ReservationReleased) EventType() string    { return "application.reservation_released.v1" }

// Register adds the service's event types to r.
func Register(r *events.Registry) {
	events.Register[CompanyRegistered](r, CompanyRegistered{}.EventType())
	events.Register[USCCClaimed](r, USCCClaimed{}.EventType())
	events.Register[CompanyProfileUpdated](r, CompanyProfileUpdated{}.EventType())
	events.Register[CompanyStageChanged](r, CompanyStageChanged{}.EventType())
	events.Register[PatentAdded](r, PatentAdded{}.EventType())
	events.Register[ApplicationDrafted](r, ApplicationDrafted{}.EventType())
	events.Register[ApplicationUpdated](r, ApplicationUpdated{}.EventType())
	events.Register[ApplicationSubmitted](r, ApplicationSubmitted{}.EventType())
	events.Register[ApplicationMatched](r, ApplicationMatched{}.EventType())
	events.Register[ApplicationUnmatched](r, ApplicationUnmatched{}.EventType())
	events.Register[ApplicationUnderReview](r, ApplicationUnderReview{}.EventType())
	events.Register[ApplicationFunded](r, ApplicationFunded{}.EventType())
	events.Register[ApplicationWithdrawn](r, ApplicationWithdrawn{}.EventType())
	events.Register[ApplicationRejected](r, ApplicationRejected{}.EventType())
	events.Register[ApplicationExpired](r, ApplicationExpired{}.EventType())
	events.Register[ApplicationReserved](r, ApplicationReserved{}.EventType())
	events.Register[ReservationReleased](r, ReservationReleased{}.EventType())
}

// Status is where an application is in its lifecycle:
// draft → submitted → matched → under review → funded | withdrawn | rejected | expired.
type Status string

const (
	StatusDraft       Status = "draft"
	StatusSubmitted   Status = "submitted"
	StatusMatched     Status = "matched"
	StatusUnderReview Status = "under_review"
	StatusFunded      Status = "funded"
	StatusWithdrawn   Status = "withdrawn"
	StatusRejected    Status = "rejected"
	StatusExpired     Status = "expired"
)

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusDraft, StatusSubmitted, StatusMatched, StatusUnderReview, StatusFunded, StatusWithdrawn, StatusRejected, StatusExpired}
}

// PatentExpiry is when a Chinese patent's term ends: 20 years from filing
// for an invention, 10 for a utility model, and 15 for a design filed on or
// after 2021-06-01 (the fourth amendment of the Patent Law; designs filed
// before had 10). A term from 29 February ends on 28 February.
func PatentExpiry(kind PatentKind, filed time.Time) time.Time {
	years := 0
	switch kind {
	case PatentInvention:
		years = 20
	case PatentUtilityModel:
		years = 10
	case PatentDesign:
		years = 15
		if filed.Before(time.Date(2021, time.June, 1, 0, 0, 0, 0, time.UTC)) {
			years = 10
		}
	}
	end := time.Date(filed.Year()+years, filed.Month(), filed.Day(), 0, 0, 0, 0, time.UTC)
	if end.Month() != filed.Month() { // 29 February in a common year rolled into March
		end = end.AddDate(0, 0, -end.Day())
	}
	return end
}
