package applications

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// refused is a "then" of a refusal: the error's code, and optionally a
// field it must name and words its message must hold.
type refused struct {
	code  string
	field string
	says  string
}

// given/when/then: fold the given events (through JSON and the registry,
// as a load does) into the decider's state, run when on it, and compare
// with want: the events expected ([]events.Payload; nil for none) or a
// refused.
func check[S any](t *testing.T, d svc.Decider[S], given []events.Payload, when func(S) ([]events.Payload, error), want any) {
	t.Helper()
	reg := events.NewRegistry()
	applicationsapi.Register(reg)
	state := d.Initial()
	for i, p := range given {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("given[%d]: %v", i, err)
		}
		e, payload, err := reg.Decode(events.Event{Type: p.EventType(), StreamID: d.Type + "-x", Version: uint64(i + 1),
			RecordedAt: testNow().Add(time.Duration(i-len(given)) * time.Hour), Payload: data})
		if err != nil {
			t.Fatalf("given[%d]: %v", i, err)
		}
		state = d.Evolve(state, e, payload)
	}
	got, err := when(state)
	switch want := want.(type) {
	case refused:
		if err == nil {
			t.Fatalf("then: %s, got events %s", want.code, asJSON(got))
		}
		if code := fundbridge.ErrorCode(err); code != want.code {
			t.Fatalf("then: %s, got %v", want.code, err)
		}
		if want.field != "" && !namesField(err, want.field) {
			t.Fatalf("then: an error naming %s, got %v", want.field, err)
		}
		if want.says != "" && !strings.Contains(err.Error(), want.says) {
			t.Fatalf("then: an error saying %q, got %v", want.says, err)
		}
	case []events.Payload:
		if err != nil {
			t.Fatalf("then: %s, got %v", asJSON(want), err)
		}
		if asJSON(got) != asJSON(want) {
			t.Fatalf("then:\n got %s\nwant %s", asJSON(got), asJSON(want))
		}
	default:
		t.Fatalf("want %T: use []events.Payload or refused", want)
	}
}

func namesField(err error, field string) bool {
	for _, f := range fundbridge.ErrorFields(err) {
		if f.Field == field {
			return true
		}
	}
	return false
}

func asJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return "unencodable: " + err.Error()
	}
	return string(data)
}

// testNow is the clock of the pure tests: 15 June 2025, noon in Beijing.
func testNow() time.Time { return time.Date(2025, 6, 15, 4, 0, 0, 0, time.UTC) }

// usccFor completes 17 characters with their check character.
func usccFor(t testing.TB, first17 string) string {
	check, ok := fundbridge.USCCCheck(first17)
	if !ok {
		t.Fatalf("%q is not 17 USCC characters", first17)
	}
	return first17 + string(check)
}

func registered(t testing.TB) applicationsapi.CompanyRegistered {
	return applicationsapi.CompanyRegistered{CompanyID: "acme", USCC: usccFor(t, "91110108MA01C2XK0"), Stage: fundbridge.StageSeed, CompanyProfile: applicationsapi.CompanyProfile{
		Name: "Acme Vision", City: "beijing", Layer: fundbridge.LayerTechnology, Sector: "computer_vision", FoundedOn: "2021-03-01", Headcount: 12,
	}}
}

func registerCmd(t testing.TB) applicationsapi.RegisterCompany {
	r := registered(t)
	return applicationsapi.RegisterCompany{CompanyID: r.CompanyID, USCC: r.USCC, Name: r.Name, City: r.City, Layer: r.Layer, Sector: r.Sector,
		FoundedOn: r.FoundedOn, Headcount: r.Headcount, Stage: r.Stage}
}

// validated runs Validate(At) before the decider, as the service does.
func validated[S, C any](cmd C, decide func(S, C) ([]events.Payload, error)) func(S) ([]events.Payload, error) {
	return func(s S) ([]events.Payload, error) {
		var err error
		switch c := any(cmd).(type) {
		case interface{ ValidateAt(time.Time) error }:
			err = c.ValidateAt(testNow())
		case interface{ Validate() error }:
			err = c.Validate()
		}
		if err != nil {
			return nil, err
		}
		return decide(s, cmd)
	}
}

func TestCompanyRegister(t *testing.T) {
	d := companyDecider()
	t.Run("registers", func(t *testing.T) {
		check(t, d, nil, validated(registerCmd(t), registerCompany), []events.Payload{registered(t)})
	})
	t.Run("twice is a conflict", func(t *testing.T) {
		check(t, d, []events.Payload{registered(t)}, validated(registerCmd(t), registerCompany), refused{code: fundbridge.ECONFLICT, says: "already registered"})
	})
	bad := func(field string, edit func(*applicationsapi.RegisterCompany)) {
		t.Run("invalid "+field, func(t *testing.T) {
			cmd := registerCmd(t)
			edit(&cmd)
			check(t, d, nil, validated(cmd, registerCompany), refused{code: fundbridge.EINVALID, field: field})
		})
	}
	bad("uscc", func(c *applicationsapi.RegisterCompany) { c.USCC = c.USCC[:17] + string(wrongCheck(c.USCC[17])) })
	bad("uscc", func(c *applicationsapi.RegisterCompany) { c.USCC = "91110108MA01C2XK" })
	bad("uscc", func(c *applicationsapi.RegisterCompany) { c.USCC = "91110108MA01C2XKI0" })
	bad("company_id", func(c *applicationsapi.RegisterCompany) { c.CompanyID = "" })
	bad("company_id", func(c *applicationsapi.RegisterCompany) { c.CompanyID = "acme.cn" })
	bad("name", func(c *applicationsapi.RegisterCompany) { c.Name = "  " })
	bad("city", func(c *applicationsapi.RegisterCompany) { c.City = "atlantis" })
	bad("layer", func(c *applicationsapi.RegisterCompany) { c.Layer = "middleware" })
	bad("sector", func(c *applicationsapi.RegisterCompany) { c.Sector = "blockchain" })
	bad("sector", func(c *applicationsapi.RegisterCompany) { c.Sector = "robotics" }) // an application-layer sector
	bad("founded_on", func(c *applicationsapi.RegisterCompany) { c.FoundedOn = "2023-02-30" })
	bad("founded_on", func(c *applicationsapi.RegisterCompany) { c.FoundedOn = "2025-06-16" })
	bad("founded_on", func(c *applicationsapi.RegisterCompany) { c.FoundedOn = "15/06/2020" })
	bad("headcount", func(c *applicationsapi.RegisterCompany) { c.Headcount = 0 })
	bad("stage", func(c *applicationsapi.RegisterCompany) { c.Stage = "series_b" })
	bad("stage", func(c *applicationsapi.RegisterCompany) { c.Stage = "" })
	t.Run("founded today in Beijing, still yesterday in UTC", func(t *testing.T) {
		cmd := registerCmd(t)
		cmd.FoundedOn = "2025-06-16"
		late := time.Date(2025, 6, 15, 17, 0, 0, 0, time.UTC) // 01:00 on the 16th in Beijing
		if err := cmd.ValidateAt(late); err != nil {
			t.Fatal(err)
		}
	})
}

func wrongCheck(c byte) byte {
	if c == '0' {
		return '1'
	}
	return '0'
}

func ptr[T any](v T) *T { return &v }

func TestCompanyUpdateProfile(t *testing.T) {
	d := companyDecider()
	profile := registered(t).CompanyProfile
	t.Run("replaces the fields given", func(t *testing.T) {
		upd := applicationsapi.UpdateCompanyProfile{CompanyID: "acme", Name: ptr(" Acme Robotics "), City: ptr[fundbridge.City]("shenzhen"),
			Layer: ptr(fundbridge.LayerApplication), Sector: ptr[fundbridge.Sector]("robotics"), Headcount: ptr(40)}
		want := profile
		want.Name, want.City, want.Layer, want.Sector, want.Headcount = "Acme Robotics", "shenzhen", fundbridge.LayerApplication, "robotics", 40
		check(t, d, []events.Payload{registered(t)}, validated(upd, updateCompanyProfile), []events.Payload{applicationsapi.CompanyProfileUpdated{CompanyID: "acme", CompanyProfile: want}})
	})
	t.Run("one field", func(t *testing.T) {
		want := profile
		want.FoundedOn = "2020-12-31"
		check(t, d, []events.Payload{registered(t)}, validated(applicationsapi.UpdateCompanyProfile{CompanyID: "acme", FoundedOn: ptr("2020-12-31")}, updateCompanyProfile),
			[]events.Payload{applicationsapi.CompanyProfileUpdated{CompanyID: "acme", CompanyProfile: want}})
	})
	t.Run("unchanged appends nothing", func(t *testing.T) {
		same := applicationsapi.UpdateCompanyProfile{CompanyID: "acme", Name: ptr(profile.Name), Headcount: ptr(profile.Headcount)}
		check(t, d, []events.Payload{registered(t)}, validated(same, updateCompanyProfile), []events.Payload(nil))
		check(t, d, []events.Payload{registered(t)}, validated(applicationsapi.UpdateCompanyProfile{CompanyID: "acme"}, updateCompanyProfile), []events.Payload(nil))
	})
	t.Run("a new layer without a sector of it", func(t *testing.T) {
		check(t, d, []events.Payload{registered(t)}, validated(applicationsapi.UpdateCompanyProfile{CompanyID: "acme", Layer: ptr(fundbridge.LayerFoundation)}, updateCompanyProfile),
			refused{code: fundbridge.EINVALID, field: "sector"})
	})
	t.Run("unknown company", func(t *testing.T) {
		check(t, d, nil, validated(applicationsapi.UpdateCompanyProfile{CompanyID: "acme", Headcount: ptr(3)}, updateCompanyProfile), refused{code: fundbridge.ENOTFOUND})
	})
	bad := func(field string, upd applicationsapi.UpdateCompanyProfile) {
		t.Run("invalid "+field, func(t *testing.T) {
			upd.CompanyID = "acme"
			check(t, d, []events.Payload{registered(t)}, validated(upd, updateCompanyProfile), refused{code: fundbridge.EINVALID, field: field})
		})
	}
	bad("headcount", applicationsapi.UpdateCompanyProfile{Headcount: ptr(0)})
	bad("name", applicationsapi.UpdateCompanyProfile{Name: ptr("")})
	bad("city", applicationsapi.UpdateCompanyProfile{City: ptr[fundbridge.City]("")})
	bad("sector", applicationsapi.UpdateCompanyProfile{Sector: ptr[fundbridge.Sector]("metaverse")})
	bad("founded_on", applicationsapi.UpdateCompanyProfile{FoundedOn: ptr("2099-01-01")})
}

func TestCompanyChangeStage(t *testing.T) {
	d := companyDecider()
	t.Run("moves on", func(t *testing.T) {
		check(t, d, []events.Payload{registered(t)}, validated(applicationsapi.ChangeCompanyStage{CompanyID: "acme", Stage: fundbridge.StageGrowth}, changeCompanyStage),
			[]events.Payload{applicationsapi.CompanyStageChanged{CompanyID: "acme", From: fundbridge.StageSeed, To: fundbridge.StageGrowth}})
	})
	t.Run("steps back", func(t *testing.T) {
		given := []events.Payload{registered(t), applicationsapi.CompanyStageChanged{CompanyID: "acme", From: fundbridge.StageSeed, To: fundbridge.StageGrowth}}
		check(t, d, given, validated(applicationsapi.ChangeCompanyStage{CompanyID: "acme", Stage: fundbridge.StageStartup}, changeCompanyStage),
			[]events.Payload{applicationsapi.CompanyStageChanged{CompanyID: "acme", From: fundbridge.StageGrowth, To: fundbridge.StageStartup}})
	})
	t.Run("same stage is a conflict", func(t *testing.T) {
		check(t, d, []events.Payload{registered(t)}, validated(applicationsapi.ChangeCompanyStage{CompanyID: "acme", Stage: fundbridge.StageSeed}, changeCompanyStage),
			refused{code: fundbridge.ECONFLICT, says: "already at stage seed"})
	})
	t.Run("unknown stage", func(t *testing.T) {
		check(t, d, []events.Payload{registered(t)}, validated(applicationsapi.ChangeCompanyStage{CompanyID: "acme", Stage: "unicorn"}, changeCompanyStage),
			refused{code: fundbridge.EINVALID, field: "stage"})
	})
	t.Run("unknown company", func(t *testing.T) {
		check(t, d, nil, validated(applicationsapi.ChangeCompanyStage{CompanyID: "acme", Stage: fundbridge.StageGrowth}, changeCompanyStage), refused{code: fundbridge.ENOTFOUND})
	})
}

func TestCompanyAddPatent(t *testing.T) {
	d := companyDecider()
	patent := applicationsapi.AddPatent{CompanyID: "acme", Number: "CN202310123456.6", Kind: applicationsapi.PatentInvention, Title: "Depth from a single image", FiledOn: "2023-01-10", GrantedOn: "2024-08-01", Holding: applicationsapi.HoldingOwner}
	added := func(p applicationsapi.AddPatent, expires string) applicationsapi.PatentAdded {
		return applicationsapi.PatentAdded{CompanyID: "acme", Number: p.Number, Kind: p.Kind, Title: p.Title, FiledOn: p.FiledOn, GrantedOn: p.GrantedOn, ExpiresOn: expires, Holding: p.Holding}
	}
	for _, tc := range []struct {
		name          string
		kind          applicationsapi.PatentKind
		filed, expiry string
	}{
		{"invention: 20 years", applicationsapi.PatentInvention, "2023-01-10", "2043-01-10"},
		{"utility model: 10 years", applicationsapi.PatentUtilityModel, "2023-01-10", "2033-01-10"},
		{"design: 15 years", applicationsapi.PatentDesign, "2023-01-10", "2038-01-10"},
		{"design filed before the 2021 amendment: 10 years", applicationsapi.PatentDesign, "2021-05-31", "2031-05-31"},
		{"from 29 February", applicationsapi.PatentInvention, "2024-02-29", "2044-02-29"},
		{"from 29 February to a common year", applicationsapi.PatentUtilityModel, "2024-02-29", "2034-02-28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := patent
			p.Kind, p.FiledOn, p.GrantedOn = tc.kind, tc.filed, ""
			check(t, d, []events.Payload{registered(t)}, validated(p, addPatent), []events.Payload{added(p, tc.expiry)})
		})
	}
	t.Run("a licensee with a pending patent", func(t *testing.T) {
		p := patent
		p.GrantedOn, p.Holding, p.Number = "", applicationsapi.HoldingLicensee, "CN202420000002.X"
		check(t, d, []events.Payload{registered(t)}, validated(p, addPatent), []events.Payload{added(p, "2043-01-10")})
	})
	t.Run("duplicate number is a conflict", func(t *testing.T) {
		check(t, d, []events.Payload{registered(t), added(patent, "2043-01-10")}, validated(patent, addPatent), refused{code: fundbridge.ECONFLICT, field: "number"})
	})
	t.Run("unknown company", func(t *testing.T) {
		check(t, d, nil, validated(patent, addPatent), refused{code: fundbridge.ENOTFOUND})
	})
	bad := func(field string, edit func(*applicationsapi.AddPatent)) {
		t.Run("invalid "+field, func(t *testing.T) {
			p := patent
			edit(&p)
			check(t, d, []events.Payload{registered(t)}, validated(p, addPatent), refused{code: fundbridge.EINVALID, field: field})
		})
	}
	bad("number", func(p *applicationsapi.AddPatent) { p.Number = "CN20231012345.7" })
	bad("number", func(p *applicationsapi.AddPatent) { p.Number = "US202310123456.7" })
	bad("number", func(p *applicationsapi.AddPatent) { p.Number = "CN202310123456-7" })
	bad("number", func(p *applicationsapi.AddPatent) { p.Number = "CN2023101234A6.7" })
	bad("number", func(p *applicationsapi.AddPatent) { p.Number = "CN202310123456.Y" })
	bad("number", func(p *applicationsapi.AddPatent) { p.Number = "CN202310123456.7" }) // the check digit is 6
	bad("number", func(p *applicationsapi.AddPatent) { p.Number = "CN202320654328.8" }) // the check digit is X
	bad("kind", func(p *applicationsapi.AddPatent) { p.Kind = "software" })
	bad("holding", func(p *applicationsapi.AddPatent) { p.Holding = "pledgee" })
	bad("title", func(p *applicationsapi.AddPatent) { p.Title = "" })
	bad("filed_on", func(p *applicationsapi.AddPatent) { p.FiledOn = "2026-01-01" })
	bad("filed_on", func(p *applicationsapi.AddPatent) { p.FiledOn = "" })
	bad("granted_on", func(p *applicationsapi.AddPatent) { p.GrantedOn = "2022-12-31" })
	bad("granted_on", func(p *applicationsapi.AddPatent) { p.GrantedOn = "2023-13-01" })
}

func TestCompanyStateFolds(t *testing.T) {
	d := companyDecider()
	reg := events.NewRegistry()
	applicationsapi.Register(reg)
	c := d.Initial()
	at := testNow()
	for i, p := range []events.Payload{
		registered(t),
		applicationsapi.CompanyStageChanged{CompanyID: "acme", From: fundbridge.StageSeed, To: fundbridge.StageStartup},
		applicationsapi.PatentAdded{CompanyID: "acme", Number: "CN202310123456.6", Kind: applicationsapi.PatentInvention, FiledOn: "2023-01-10", ExpiresOn: "2043-01-10", Holding: applicationsapi.HoldingOwner},
		applicationsapi.PatentAdded{CompanyID: "acme", Number: "CN202310123450.9"},
		applicationsapi.PatentAdded{CompanyID: "acme", Number: "CN202310123451.3"}, // three appends leave spare capacity
	} {
		c = d.Evolve(c, events.Event{Version: uint64(i + 1), RecordedAt: at}, p)
	}
	// Two futures of one state must not share what they append.
	a := d.Evolve(c, events.Event{Version: 6, RecordedAt: at}, applicationsapi.PatentAdded{CompanyID: "acme", Number: "CN202310123457.0"})
	b := d.Evolve(c, events.Event{Version: 6, RecordedAt: at}, applicationsapi.PatentAdded{CompanyID: "acme", Number: "CN202310123458.5"})
	if len(c.Patents) != 3 || a.Patents[3].Number != "CN202310123457.0" || b.Patents[3].Number != "CN202310123458.5" || c.Version != 5 {
		t.Fatalf("evolve shared or changed its input: %v / %v / %v", c.Patents, a.Patents, b.Patents)
	}
	if c.Stage != fundbridge.StageStartup || len(c.StageHistory) != 2 || c.slice() != (applicationsapi.Slice{CompanyID: "acme", Stage: "startup", Layer: "technology", Sector: "computer_vision", City: "beijing"}) {
		t.Fatalf("state = %+v", c)
	}
}
