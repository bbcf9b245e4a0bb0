package applications

import (
	"slices"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Company is the company aggregate's state, folded from its stream
// (company-<id>). The views fold the same state, so a command's reply and
// a later query show the company the same way.
type Company struct {
	ID           string           `json:"id"` // empty until registered
	USCC         string           `json:"uscc"`
	Stage        fundbridge.Stage `json:"stage"`
	Profile      CompanyProfile   `json:"profile"`
	Patents      []Patent         `json:"patents,omitempty"`
	StageHistory []StageChange    `json:"stage_history,omitempty"`
	RegisteredAt time.Time        `json:"registered_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
	Version      uint64           `json:"version"`
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
	From fundbridge.Stage `json:"from,omitempty"`
	To   fundbridge.Stage `json:"to"`
	At   time.Time        `json:"at"`
}

// Registered reports whether the company exists.
func (c Company) Registered() bool { return c.ID != "" }

// slice is where the company stands now, as application events record it.
func (c Company) slice() Slice {
	return Slice{CompanyID: c.ID, Stage: c.Stage, Layer: c.Profile.Layer, Sector: c.Profile.Sector, City: c.Profile.City}
}

// patent returns the company's patent with this number.
func (c Company) patent(number string) (Patent, bool) {
	for _, p := range c.Patents {
		if p.Number == number {
			return p, true
		}
	}
	return Patent{}, false
}

func companyDecider() svc.Decider[Company] {
	return svc.Decider[Company]{
		Type:           "company",
		Initial:        func() Company { return Company{} },
		Evolve:         evolveCompany,
		SnapshotSchema: "company.v1",
	}
}

// evolveCompany folds one event. Slices are appended to clipped copies, so
// a state already handed out is never changed under its reader.
func evolveCompany(c Company, e events.Event, payload any) Company {
	switch p := payload.(type) {
	case CompanyRegistered:
		c.ID, c.USCC, c.Stage, c.Profile = p.CompanyID, p.USCC, p.Stage, p.CompanyProfile
		c.RegisteredAt = e.RecordedAt
		c.StageHistory = append(slices.Clip(c.StageHistory), StageChange{To: p.Stage, At: e.RecordedAt})
	case CompanyProfileUpdated:
		c.Profile = p.CompanyProfile
	case CompanyStageChanged:
		c.Stage = p.To
		c.StageHistory = append(slices.Clip(c.StageHistory), StageChange{From: p.From, To: p.To, At: e.RecordedAt})
	case PatentAdded:
		c.Patents = append(slices.Clip(c.Patents), Patent{
			Number: p.Number, Kind: p.Kind, Title: p.Title, FiledOn: p.FiledOn, GrantedOn: p.GrantedOn,
			ExpiresOn: p.ExpiresOn, Holding: p.Holding, AddedAt: e.RecordedAt,
		})
	default:
		return c
	}
	c.UpdatedAt, c.Version = e.RecordedAt, e.Version
	return c
}

func companyNotFound(id string) error {
	return fundbridge.Errorf(fundbridge.ENOTFOUND, "no company %s", id)
}

// registerCompany decides company.register. The command is validated.
func registerCompany(c Company, cmd RegisterCompany) ([]events.Payload, error) {
	if c.Registered() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "company %s is already registered", c.ID)
	}
	return []events.Payload{CompanyRegistered{
		CompanyID: cmd.CompanyID, USCC: cmd.USCC, Stage: cmd.Stage, CompanyProfile: cmd.profile(),
	}}, nil
}

// updateCompanyProfile decides company.update: the fields given replace
// the profile's; an unchanged profile appends nothing.
func updateCompanyProfile(c Company, cmd UpdateCompanyProfile) ([]events.Payload, error) {
	if !c.Registered() {
		return nil, companyNotFound(cmd.CompanyID)
	}
	profile := cmd.apply(c.Profile)
	var fe fieldErrors
	if fe.sectorInLayer(profile); len(fe.FieldErrors) > 0 { // a new layer without a sector of it, say
		return nil, fe.Err("invalid company profile")
	}
	if profile == c.Profile {
		return nil, nil
	}
	return []events.Payload{CompanyProfileUpdated{CompanyID: c.ID, CompanyProfile: profile}}, nil
}

// changeCompanyStage decides company.change_stage. Any known stage other
// than the current one is allowed: companies also step back (a down round).
func changeCompanyStage(c Company, cmd ChangeCompanyStage) ([]events.Payload, error) {
	if !c.Registered() {
		return nil, companyNotFound(cmd.CompanyID)
	}
	if cmd.Stage == c.Stage {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "company %s is already at stage %s", c.ID, c.Stage)
	}
	return []events.Payload{CompanyStageChanged{CompanyID: c.ID, From: c.Stage, To: cmd.Stage}}, nil
}

// addPatent decides company.add_patent; the expiry is derived, never entered.
func addPatent(c Company, cmd AddPatent) ([]events.Payload, error) {
	if !c.Registered() {
		return nil, companyNotFound(cmd.CompanyID)
	}
	if _, dup := c.patent(cmd.Number); dup {
		return nil, &fundbridge.Error{
			Code:    fundbridge.ECONFLICT,
			Message: "patent " + cmd.Number + " is already registered to company " + c.ID,
			Fields:  []fundbridge.FieldError{{Field: "number", Reason: "already registered to this company"}},
		}
	}
	filed, err := time.Parse(dateLayout, cmd.FiledOn)
	if err != nil { // Validate refuses this; a decider must not trust it blindly
		return nil, fundbridge.Invalid("invalid patent", fundbridge.FieldError{Field: "filed_on", Reason: "must be a date YYYY-MM-DD"})
	}
	return []events.Payload{PatentAdded{
		CompanyID: c.ID, Number: cmd.Number, Kind: cmd.Kind, Title: cmd.Title,
		FiledOn: cmd.FiledOn, GrantedOn: cmd.GrantedOn,
		ExpiresOn: PatentExpiry(cmd.Kind, filed).Format(dateLayout),
		Holding:   cmd.Holding,
	}}, nil
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
