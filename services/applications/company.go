package applications

import (
	"slices"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Company is the company aggregate's state, folded from its stream
// (company-<id>). The views fold the same state, so a command's reply and
// a later query show the company the same way.
type Company struct {
	ID           string                         `json:"id"` // empty until registered
	USCC         string                         `json:"uscc"`
	Stage        fundbridge.Stage               `json:"stage"`
	Profile      applicationsapi.CompanyProfile `json:"profile"`
	Patents      []applicationsapi.Patent       `json:"patents,omitempty"`
	StageHistory []applicationsapi.StageChange  `json:"stage_history,omitempty"`
	RegisteredAt time.Time                      `json:"registered_at"`
	UpdatedAt    time.Time                      `json:"updated_at"`
	Version      uint64                         `json:"version"`
}

// Registered reports whether the company exists.
func (c Company) Registered() bool { return c.ID != "" }

// slice is where the company stands now, as application events record it.
func (c Company) slice() applicationsapi.Slice {
	return applicationsapi.Slice{CompanyID: c.ID, Stage: c.Stage, Layer: c.Profile.Layer, Sector: c.Profile.Sector, City: c.Profile.City}
}

// patent returns the company's patent with this number.
func (c Company) patent(number string) (applicationsapi.Patent, bool) {
	for _, p := range c.Patents {
		if p.Number == number {
			return p, true
		}
	}
	return applicationsapi.Patent{}, false
}

func companyDecider() svc.Decider[Company] {
	return svc.Decider[Company]{
		Type:           "company",
		Initial:        func() Company { return Company{} },
		Evolve:         companyFolds().Apply,
		SnapshotSchema: "company.v1",
	}
}

// companyFolds is the company's fold, one step per event type. Slices
// are appended to clipped copies, so a state already handed out is never
// changed under its reader.
func companyFolds() *fold.Evolve[Company] {
	var f fold.Evolve[Company]
	fold.Step(&f, func(c Company, e events.Event, p applicationsapi.CompanyRegistered) Company {
		c.ID, c.USCC, c.Stage, c.Profile = p.CompanyID, p.USCC, p.Stage, p.CompanyProfile
		c.RegisteredAt = e.RecordedAt
		c.StageHistory = append(slices.Clip(c.StageHistory), applicationsapi.StageChange{To: p.Stage, At: e.RecordedAt})
		return c
	})
	fold.Step(&f, func(c Company, _ events.Event, p applicationsapi.CompanyProfileUpdated) Company {
		c.Profile = p.CompanyProfile
		return c
	})
	fold.Step(&f, func(c Company, e events.Event, p applicationsapi.CompanyStageChanged) Company {
		c.Stage = p.To
		c.StageHistory = append(slices.Clip(c.StageHistory), applicationsapi.StageChange{From: p.From, To: p.To, At: e.RecordedAt})
		return c
	})
	fold.Step(&f, func(c Company, e events.Event, p applicationsapi.PatentAdded) Company {
		c.Patents = append(slices.Clip(c.Patents), applicationsapi.Patent{
			Number: p.Number, Kind: p.Kind, Title: p.Title, FiledOn: p.FiledOn, GrantedOn: p.GrantedOn,
			ExpiresOn: p.ExpiresOn, Holding: p.Holding, AddedAt: e.RecordedAt,
		})
		return c
	})
	f.Then(func(c Company, e events.Event) Company {
		c.UpdatedAt, c.Version = e.RecordedAt, e.Version
		return c
	})
	return &f
}

func companyNotFound(id string) error {
	return fundbridge.Errorf(fundbridge.ENOTFOUND, "no company %s", id)
}

// registerCompany decides company.register. The command is validated.
func registerCompany(c Company, cmd applicationsapi.RegisterCompany) ([]events.Payload, error) {
	if c.Registered() {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "company %s is already registered", c.ID)
	}
	return []events.Payload{applicationsapi.CompanyRegistered{
		CompanyID: cmd.CompanyID, USCC: cmd.USCC, Stage: cmd.Stage, CompanyProfile: cmd.Profile(),
	}}, nil
}

// updateCompanyProfile decides company.update: the fields given replace
// the profile's; an unchanged profile appends nothing.
func updateCompanyProfile(c Company, cmd applicationsapi.UpdateCompanyProfile) ([]events.Payload, error) {
	if !c.Registered() {
		return nil, companyNotFound(cmd.CompanyID)
	}
	profile := cmd.Apply(c.Profile)
	if err := applicationsapi.SectorInLayer(profile); err != nil { // a new layer without a sector of it, say
		return nil, err
	}
	if profile == c.Profile {
		return nil, nil
	}
	return []events.Payload{applicationsapi.CompanyProfileUpdated{CompanyID: c.ID, CompanyProfile: profile}}, nil
}

// changeCompanyStage decides company.change_stage. Any known stage other
// than the current one is allowed: companies also step back (a down round).
func changeCompanyStage(c Company, cmd applicationsapi.ChangeCompanyStage) ([]events.Payload, error) {
	if !c.Registered() {
		return nil, companyNotFound(cmd.CompanyID)
	}
	if cmd.Stage == c.Stage {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "company %s is already at stage %s", c.ID, c.Stage)
	}
	return []events.Payload{applicationsapi.CompanyStageChanged{CompanyID: c.ID, From: c.Stage, To: cmd.Stage}}, nil
}

// addPatent decides company.add_patent; the expiry is derived, never entered.
func addPatent(c Company, cmd applicationsapi.AddPatent) ([]events.Payload, error) {
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
	filed, err := time.Parse(applicationsapi.DateLayout, cmd.FiledOn)
	if err != nil { // Validate refuses this; a decider must not trust it blindly
		return nil, fundbridge.Invalid("invalid patent", fundbridge.FieldError{Field: "filed_on", Reason: "must be a date YYYY-MM-DD"})
	}
	return []events.Payload{applicationsapi.PatentAdded{
		CompanyID: c.ID, Number: cmd.Number, Kind: cmd.Kind, Title: cmd.Title,
		FiledOn: cmd.FiledOn, GrantedOn: cmd.GrantedOn,
		ExpiresOn: applicationsapi.PatentExpiry(cmd.Kind, filed).Format(applicationsapi.DateLayout),
		Holding:   cmd.Holding,
	}}, nil
}
