package timeline_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/timeline"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

func TestTimeline(t *testing.T) {
	p := timeline.New()
	pos := uint64(0)
	founder := fundbridge.Actor{UserID: "u-c1", Role: fundbridge.RoleStartup, OrgID: "c1"}
	manager := fundbridge.Actor{UserID: "u-o1", Role: fundbridge.RoleFundManager, OrgID: "o1"}
	apply := func(by fundbridge.Actor, payload events.Payload) error {
		pos++
		return p.Apply(events.Event{Type: payload.EventType(), Position: pos, RecordedAt: time.Unix(int64(pos), 0), Actor: by, LastInCommit: true}, payload)
	}
	must := func(by fundbridge.Actor, payload events.Payload) {
		t.Helper()
		if err := apply(by, payload); err != nil {
			t.Fatalf("%s: %v", payload.EventType(), err)
		}
	}
	seed := applicationsapi.Slice{CompanyID: "c1", Stage: fundbridge.StageSeed, Layer: fundbridge.LayerTechnology, Sector: "nlp", City: "beijing"}
	startup := seed
	startup.Stage = fundbridge.StageStartup
	terms := applicationsapi.ApplicationTerms{AmountRequested: money.MustParse("5000000.00"),
		Instruments: []fundbridge.Instrument{fundbridge.InstrumentVentureLoan, fundbridge.InstrumentEquity}}
	must(manager, fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "o1", Name: "Sky Fund", CommittedCapital: money.MustParse("1.00")})
	must(founder, applicationsapi.CompanyRegistered{CompanyID: "c1", Stage: fundbridge.StageSeed, CompanyProfile: applicationsapi.CompanyProfile{Name: "Deep AI", City: "beijing", Layer: "technology", Sector: "nlp"}})
	must(founder, applicationsapi.ApplicationSubmitted{ApplicationID: "a1", Slice: seed, ApplicationTerms: terms})
	must(founder, applicationsapi.CompanyStageChanged{CompanyID: "c1", From: fundbridge.StageSeed, To: fundbridge.StageStartup})
	must(manager, matchingapi.DealSourced{DealID: "f1_a1", FundID: "f1", ApplicationID: "a1", Score: 81, Slice: startup})
	must(manager, matchingapi.DealAdvanced{DealID: "f1_a1", From: matchingapi.StepSourced, To: matchingapi.StepScreening})
	must(manager, matchingapi.TermSheetIssued{DealID: "f1_a1", Amount: money.MustParse("4000000.00"), PreMoney: money.MustParse("16000000.00"), PostMoney: money.MustParse("20000000.00"), Ownership: decimal.RequireFromString("0.2")})
	must(manager, matchingapi.DealClosed{DealID: "f1_a1", FundID: "f1", ApplicationID: "a1", CompanyID: "c1", Amount: money.MustParse("4000000.00"), Ownership: decimal.RequireFromString("0.2")})
	must(founder, applicationsapi.ApplicationFunded{ApplicationID: "a1", DealID: "f1_a1", FundID: "f1", Instrument: fundbridge.InstrumentEquity, Amount: money.MustParse("4000000.00"), Slice: startup})

	company, entries, ok := p.Timeline("c1", time.Time{})
	if !ok || company.Name != "Deep AI" || company.Stage != fundbridge.StageStartup || len(entries) != 8 {
		t.Fatalf("company %+v with %d entries", company, len(entries))
	}
	want := []struct {
		summary string
		stage   fundbridge.Stage
		role    fundbridge.Role
		amount  string
	}{
		{"Registered Deep AI (technology/nlp, beijing) at the seed stage", fundbridge.StageSeed, fundbridge.RoleStartup, ""},
		{"Applied for ¥5m: equity, venture_loan", fundbridge.StageSeed, fundbridge.RoleStartup, "5000000.00"},
		{"Moved from the seed stage to startup", fundbridge.StageStartup, fundbridge.RoleStartup, ""},
		{"Sky Fund opened a deal (match score 81)", fundbridge.StageStartup, fundbridge.RoleFundManager, ""},
		{"Sky Fund moved the deal to screening", fundbridge.StageStartup, fundbridge.RoleFundManager, ""},
		{"Sky Fund issued a term sheet: ¥4m at ¥16m pre-money for 20.00%", fundbridge.StageStartup, fundbridge.RoleFundManager, "4000000.00"},
		{"Sky Fund closed the deal: ¥4m for 20.00%", fundbridge.StageStartup, fundbridge.RoleFundManager, "4000000.00"},
		{"Funded ¥4m by Sky Fund (equity)", fundbridge.StageStartup, fundbridge.RoleStartup, "4000000.00"},
	}
	for i, w := range want {
		e := entries[i]
		amount := ""
		if e.Amount != nil {
			amount = e.Amount.String()
		}
		if e.Summary != w.summary || e.Stage != w.stage || e.ActorRole != w.role || amount != w.amount {
			t.Errorf("entry %d: %q at %s by %s, amount %q; want %q at %s by %s, %q", i, e.Summary, e.Stage, e.ActorRole, amount, w.summary, w.stage, w.role, w.amount)
		}
	}
	if d := entries[4]; d.DealID != "f1_a1" || d.FundID != "f1" || d.ApplicationID != "a1" || d.Position != 6 {
		t.Errorf("deal entry %+v", d)
	}
	// As of before the stage changed: the first two entries, at seed.
	if early, es, ok := p.Timeline("c1", time.Unix(3, 0)); !ok || len(es) != 2 || early.Stage != fundbridge.StageSeed {
		t.Errorf("as of position 3: %+v with %d entries", early, len(es))
	}
	if _, _, ok := p.Timeline("c1", time.Unix(1, 0)); ok {
		t.Error("a timeline as of before the company existed")
	}
	if _, _, ok := p.Timeline("nobody", time.Time{}); ok {
		t.Error("a timeline for a company never seen")
	}
	for name, bad := range map[string]events.Payload{
		"no company":   applicationsapi.CompanyRegistered{Stage: fundbridge.StageSeed},
		"bad stage":    applicationsapi.CompanyStageChanged{CompanyID: "c1", To: "unicorn"},
		"unknown deal": matchingapi.DealAdvanced{DealID: "nope"},
		"bad amount":   applicationsapi.ApplicationSubmitted{ApplicationID: "a2", Slice: seed, ApplicationTerms: applicationsapi.ApplicationTerms{AmountRequested: money.MustParse("10000000000000.00").Add(money.MustParse("1.00"))}},
	} {
		if err := apply(founder, bad); err == nil {
			t.Errorf("%s: applied", name)
		}
	}
}
