package applicationsapi

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc/check"
)

// Limits on what users enter.
const (
	DateLayout      = "2006-01-02"
	maxRequestYuan  = 10_000_000_000 // ¥10bn: the largest amount one application may ask for
	maxUseOfFunds   = 2000           // characters
	maxNameLength   = 200            // characters
	maxTitleLength  = 500            // characters
	maxReasonLength = 2000           // characters
	maxHeadcount    = 10_000_000
	maxIDLength     = 128
	maxFundsInMatch = 500
	DefaultLimit    = 50
	MaxLimit        = 200
)

func MaxRequest() money.Amount { return money.Yuan(maxRequestYuan) }

// Commands of the company aggregate.

// RegisterCompany is company.register. A startup registers its own
// organisation (company_id defaults to its org); the platform (system or
// operator) names the company ID at sign-up.
type RegisterCompany struct {
	CompanyID string            `json:"company_id"`
	USCC      string            `json:"uscc"`
	Name      string            `json:"name"`
	City      fundbridge.City   `json:"city"`
	Layer     fundbridge.Layer  `json:"layer"`
	Sector    fundbridge.Sector `json:"sector"`
	FoundedOn string            `json:"founded_on"` // the date the company was founded, YYYY-MM-DD (China time); not in the future
	Headcount int               `json:"headcount"`
	Stage     fundbridge.Stage  `json:"stage"`
}

func (c RegisterCompany) Profile() CompanyProfile {
	return CompanyProfile{Name: strings.TrimSpace(c.Name), City: c.City, Layer: c.Layer, Sector: c.Sector, FoundedOn: c.FoundedOn, Headcount: c.Headcount}
}

// Validate checks the command against today's date.
func (c RegisterCompany) Validate() error { return c.ValidateAt(time.Now()) }

// ValidateAt checks the command as of now (dates may not be in the future).
func (c RegisterCompany) ValidateAt(now time.Time) error {
	var fe fieldErrors
	fe.ID("company_id", c.CompanyID, maxIDLength, true)
	fe.uscc("uscc", c.USCC)
	fe.profile(c.Profile(), ChinaToday(now))
	check.Enum(&fe.Fields, "stage", c.Stage, fundbridge.Stages, true)
	return fe.Err("invalid company")
}

// UpdateCompanyProfile is company.update (HTTP PATCH): the fields given
// replace the profile's; those left out stay as they are.
type UpdateCompanyProfile struct {
	CompanyID string             `json:"company_id"`
	Name      *string            `json:"name,omitempty"`
	City      *fundbridge.City   `json:"city,omitempty"`
	Layer     *fundbridge.Layer  `json:"layer,omitempty"`
	Sector    *fundbridge.Sector `json:"sector,omitempty"`
	FoundedOn *string            `json:"founded_on,omitempty"`
	Headcount *int               `json:"headcount,omitempty"`
}

// apply returns the profile p with the command's fields in it.
func (c UpdateCompanyProfile) Apply(p CompanyProfile) CompanyProfile {
	if c.Name != nil {
		p.Name = strings.TrimSpace(*c.Name)
	}
	if c.City != nil {
		p.City = *c.City
	}
	if c.Layer != nil {
		p.Layer = *c.Layer
	}
	if c.Sector != nil {
		p.Sector = *c.Sector
	}
	if c.FoundedOn != nil {
		p.FoundedOn = *c.FoundedOn
	}
	if c.Headcount != nil {
		p.Headcount = *c.Headcount
	}
	return p
}

func (c UpdateCompanyProfile) Validate() error { return c.ValidateAt(time.Now()) }

// ValidateAt checks the fields given; whether the sector belongs to the
// layer is checked against the merged profile when deciding.
func (c UpdateCompanyProfile) ValidateAt(now time.Time) error {
	var fe fieldErrors
	fe.ID("company_id", c.CompanyID, maxIDLength, true)
	if c.Name != nil {
		fe.Line("name", *c.Name, maxNameLength, true)
	}
	if c.City != nil {
		check.Enum(&fe.Fields, "city", *c.City, fundbridge.Cities, true)
	}
	if c.Layer != nil {
		check.Enum(&fe.Fields, "layer", *c.Layer, fundbridge.Layers, true)
	}
	if c.Sector != nil {
		check.Enum(&fe.Fields, "sector", *c.Sector, fundbridge.AllSectors(), true)
	}
	if c.FoundedOn != nil {
		fe.date("founded_on", *c.FoundedOn, ChinaToday(now), true)
	}
	if c.Headcount != nil {
		fe.headcount(*c.Headcount)
	}
	return fe.Err("invalid company profile")
}

// ChangeCompanyStage is company.change_stage.
type ChangeCompanyStage struct {
	CompanyID string           `json:"company_id"`
	Stage     fundbridge.Stage `json:"stage"`
}

func (c ChangeCompanyStage) Validate() error {
	var fe fieldErrors
	fe.ID("company_id", c.CompanyID, maxIDLength, true)
	check.Enum(&fe.Fields, "stage", c.Stage, fundbridge.Stages, true)
	return fe.Err("invalid stage change")
}

// AddPatent is company.add_patent. The expiry is derived from the kind and
// the filing date.
type AddPatent struct {
	CompanyID string        `json:"company_id"`
	Number    string        `json:"number"` // the patent number: CN, 12 digits, a dot and the check digit, such as CN202310123456.6
	Kind      PatentKind    `json:"kind"`
	Title     string        `json:"title"`
	FiledOn   string        `json:"filed_on"`
	GrantedOn string        `json:"granted_on,omitempty"` // YYYY-MM-DD (China time); empty while pending
	Holding   PatentHolding `json:"holding"`
}

func (c AddPatent) Validate() error { return c.ValidateAt(time.Now()) }

func (c AddPatent) ValidateAt(now time.Time) error {
	var fe fieldErrors
	today := ChinaToday(now)
	fe.ID("company_id", c.CompanyID, maxIDLength, true)
	if reason := patentNumberProblem(c.Number); reason != "" {
		fe.Add("number", reason)
	}
	check.Enum(&fe.Fields, "kind", c.Kind, []PatentKind{PatentInvention, PatentUtilityModel, PatentDesign}, true)
	fe.Line("title", c.Title, maxTitleLength, true)
	filed, filedOK := fe.date("filed_on", c.FiledOn, today, true)
	if granted, ok := fe.date("granted_on", c.GrantedOn, today, false); ok && filedOK {
		if granted.Before(filed) {
			fe.Add("granted_on", "must not be before filed_on")
		} else if c.Kind.valid() && !granted.Before(PatentExpiry(c.Kind, filed)) {
			fe.Add("granted_on", "must be before the patent expires")
		}
	}
	check.Enum(&fe.Fields, "holding", c.Holding, []PatentHolding{HoldingOwner, HoldingLicensee}, true)
	return fe.Err("invalid patent")
}

func (k PatentKind) valid() bool {
	return k == PatentInvention || k == PatentUtilityModel || k == PatentDesign
}

// patentNumberProblem checks a CN application number: "CN", 12 digits
// (year, kind, serial), ".", and the CNIPA check digit of the 12.
func patentNumberProblem(n string) string {
	const want = "must be CN, 12 digits, a point and a check digit, like CN202310123456.6"
	switch {
	case n == "":
		return "required"
	case len(n) != 16 || !strings.HasPrefix(n, "CN") || n[14] != '.':
		return want
	}
	for _, ch := range n[2:14] {
		if ch < '0' || ch > '9' {
			return want
		}
	}
	if ch := n[15]; (ch < '0' || ch > '9') && ch != 'X' {
		return want
	}
	if check := PatentCheckDigit(n[2:14]); n[15] != check {
		return fmt.Sprintf("has check digit %c, but the 12 digits give %c: a typo in the number?", n[15], check)
	}
	return ""
}

// PatentCheckDigit is CNIPA's check digit of the 12 digits of an
// application number: the digits weighted 2,3,4,5,6,7,8,9,2,3,4,5, the
// sum mod 11, 10 written X.
func PatentCheckDigit(digits12 string) byte {
	weights := [12]int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}
	sum := 0
	for i := range weights {
		sum += int(digits12[i]-'0') * weights[i]
	}
	if r := sum % 11; r < 10 {
		return byte('0' + r)
	}
	return 'X'
}

// Commands of the application aggregate.

// DraftApplication is application.draft. A draft may still lack
// instruments and the use of funds; submitting requires them.
type DraftApplication struct {
	CompanyID         string                  `json:"company_id"` // the company applying; a startup's defaults to its own
	AmountRequested   *money.Amount           `json:"amount_requested"`
	Instruments       []fundbridge.Instrument `json:"instruments" jsonschema_description:"What the company asks for. equity is matched with funds; venture_loan with banks' lending programmes; loan_plus_equity with both, and with fund-bank pairs; patent_insurance with neither (insurers quote it)."`
	UseOfFunds        string                  `json:"use_of_funds"`
	ValuationAsk      *money.Amount           `json:"valuation_ask,omitempty"`
	CreditDataConsent bool                    `json:"credit_data_consent" jsonschema_description:"Whether banks may see the company's credit data; programmes that need it match only applications that give it."`
}

func (c DraftApplication) Terms() ApplicationTerms {
	return NewTerms(c.AmountRequested, c.Instruments, c.UseOfFunds, c.ValuationAsk, c.CreditDataConsent)
}

func (c DraftApplication) Validate() error {
	var fe fieldErrors
	fe.ID("company_id", c.CompanyID, maxIDLength, true)
	fe.amount("amount_requested", c.AmountRequested, MaxRequest())
	fe.instruments(c.Instruments, false)
	fe.useOfFunds(c.UseOfFunds, false)
	fe.valuation(c.ValuationAsk)
	return fe.Err("invalid application")
}

// UpdateApplication is application.update (HTTP PATCH) of a draft: the
// fields given replace the terms'; valuation_ask: null removes the ask.
type UpdateApplication struct {
	ApplicationID     string                   `json:"application_id"`
	AmountRequested   *money.Amount            `json:"amount_requested,omitempty"`
	Instruments       *[]fundbridge.Instrument `json:"instruments,omitempty" jsonschema_description:"What the company asks for. equity is matched with funds; venture_loan with banks' lending programmes; loan_plus_equity with both, and with fund-bank pairs; patent_insurance with neither (insurers quote it)."`
	UseOfFunds        *string                  `json:"use_of_funds,omitempty"`
	ValuationAsk      OptionalAmount           `json:"valuation_ask,omitzero"`
	CreditDataConsent *bool                    `json:"credit_data_consent,omitempty" jsonschema_description:"Whether banks may see the company's credit data; programmes that need it match only applications that give it."`
}

// apply returns the terms t with the command's fields in it.
func (c UpdateApplication) Apply(t ApplicationTerms) ApplicationTerms {
	if c.AmountRequested != nil {
		t.AmountRequested = *c.AmountRequested
	}
	if c.Instruments != nil {
		t.Instruments = slices.Clone(*c.Instruments)
		if t.Instruments == nil {
			t.Instruments = []fundbridge.Instrument{}
		}
	}
	if c.UseOfFunds != nil {
		t.UseOfFunds = strings.TrimSpace(*c.UseOfFunds)
	}
	if c.ValuationAsk.Set {
		t.ValuationAsk = c.ValuationAsk.Value
	}
	if c.CreditDataConsent != nil {
		t.CreditDataConsent = *c.CreditDataConsent
	}
	return t
}

func (c UpdateApplication) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	if c.AmountRequested != nil {
		fe.amount("amount_requested", c.AmountRequested, MaxRequest())
	}
	if c.Instruments != nil {
		fe.instruments(*c.Instruments, false)
	}
	if c.UseOfFunds != nil {
		fe.useOfFunds(*c.UseOfFunds, false)
	}
	fe.valuation(c.ValuationAsk.Value)
	return fe.Err("invalid application")
}

// OptionalAmount is an amount in a partial update: left out, it leaves the
// amount as it is; null removes it; a value replaces it.
type OptionalAmount struct {
	Set   bool
	Value *money.Amount
}

func (o *OptionalAmount) UnmarshalJSON(b []byte) error {
	o.Set, o.Value = true, nil
	if string(b) == "null" {
		return nil
	}
	var a money.Amount
	if err := a.UnmarshalJSON(b); err != nil {
		return err
	}
	o.Value = &a
	return nil
}

func (o OptionalAmount) MarshalJSON() ([]byte, error) {
	if o.Value == nil {
		return []byte("null"), nil
	}
	return o.Value.MarshalJSON()
}

func NewTerms(amount *money.Amount, instruments []fundbridge.Instrument, useOfFunds string, valuation *money.Amount, consent bool) ApplicationTerms {
	t := ApplicationTerms{Instruments: slices.Clone(instruments), UseOfFunds: strings.TrimSpace(useOfFunds), ValuationAsk: valuation, CreditDataConsent: consent}
	if t.Instruments == nil {
		t.Instruments = []fundbridge.Instrument{}
	}
	if amount != nil {
		t.AmountRequested = *amount
	}
	return t
}

// SubmitApplication is application.submit.
type SubmitApplication struct {
	ApplicationID string `json:"application_id"`
}

func (c SubmitApplication) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	return fe.Err("invalid submission")
}

// WithdrawApplication is application.withdraw.
type WithdrawApplication struct {
	ApplicationID string `json:"application_id"`
	Reason        string `json:"reason,omitempty"`
}

func (c WithdrawApplication) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	fe.Text("reason", c.Reason, maxReasonLength, false)
	return fe.Err("invalid withdrawal")
}

// MarkMatched is application.mark_matched, sent by matching.
type MarkMatched struct {
	ApplicationID string   `json:"application_id"`
	FundIDs       []string `json:"fund_ids"`
}

func (c MarkMatched) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	switch {
	case len(c.FundIDs) == 0:
		fe.Add("fund_ids", "at least one fund is required")
	case len(c.FundIDs) > maxFundsInMatch:
		fe.Add("fund_ids", fmt.Sprintf("%d funds, at most %d", len(c.FundIDs), maxFundsInMatch))
	}
	for i, f := range c.FundIDs {
		field := fmt.Sprintf("fund_ids[%d]", i)
		if fe.ID(field, f, maxIDLength, true) && slices.Contains(c.FundIDs[:i], f) {
			fe.Add(field, "listed twice")
		}
	}
	return fe.Err("invalid match")
}

// MarkUnmatched is application.mark_unmatched, sent by matching when funds
// recorded as matches no longer match.
type MarkUnmatched MarkMatched

func (c MarkUnmatched) Validate() error { return MarkMatched(c).Validate() }

// MarkUnderReview is application.mark_under_review, sent when a fund
// starts screening the application.
type MarkUnderReview struct {
	ApplicationID string `json:"application_id"`
	FundID        string `json:"fund_id"`
}

func (c MarkUnderReview) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	fe.ID("fund_id", c.FundID, maxIDLength, true)
	return fe.Err("invalid review")
}

// MarkFunded is application.mark_funded, sent when a deal closes.
type MarkFunded struct {
	ApplicationID string                `json:"application_id"`
	DealID        string                `json:"deal_id"`
	FundID        string                `json:"fund_id"`
	Instrument    fundbridge.Instrument `json:"instrument"`
	Amount        *money.Amount         `json:"amount"`
}

func (c MarkFunded) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.ID("fund_id", c.FundID, maxIDLength, true)
	check.Enum(&fe.Fields, "instrument", c.Instrument, fundbridge.Instruments, true)
	fe.amount("amount", c.Amount, MaxRequest())
	return fe.Err("invalid funding")
}

// ReserveApplication is application.reserve, sent by a deal's closing
// before it commits any capital: it holds the application for the deal.
type ReserveApplication struct {
	ApplicationID string `json:"application_id"`
	DealID        string `json:"deal_id"`
	FundID        string `json:"fund_id"`
}

func (c ReserveApplication) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.ID("fund_id", c.FundID, maxIDLength, true)
	return fe.Err("invalid reservation")
}

// ReleaseReservation is application.release_reservation, sent by a
// closing that could not complete. Releasing a reservation the deal does
// not hold changes nothing.
type ReleaseReservation struct {
	ApplicationID string `json:"application_id"`
	DealID        string `json:"deal_id"`
	Reason        string `json:"reason,omitempty"`
}

func (c ReleaseReservation) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.Text("reason", c.Reason, maxReasonLength, false)
	return fe.Err("invalid release")
}

// RejectApplication is application.reject, by an operator.
type RejectApplication struct {
	ApplicationID string `json:"application_id"`
	Reason        string `json:"reason"`
}

func (c RejectApplication) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	fe.Text("reason", c.Reason, maxReasonLength, true)
	return fe.Err("invalid rejection")
}

// ExpireApplication is application.expire.
type ExpireApplication struct {
	ApplicationID string `json:"application_id"`
}

func (c ExpireApplication) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	return fe.Err("invalid expiry")
}
