package funds

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

var (
	managerA = fundbridge.Actor{UserID: "u-a", Role: fundbridge.RoleFundManager, OrgID: "org-a"}
	managerB = fundbridge.Actor{UserID: "u-b", Role: fundbridge.RoleFundManager, OrgID: "org-b"}
	operator = fundbridge.Actor{UserID: "u-op", Role: fundbridge.RoleOperator}
	platform = fundbridge.Actor{UserID: "matching", Role: fundbridge.RoleSystem}
	startup  = fundbridge.Actor{UserID: "u-s", Role: fundbridge.RoleStartup, OrgID: "co-1"}
	bank     = fundbridge.Actor{UserID: "u-bk", Role: fundbridge.RoleBank, OrgID: "bank-1"}
	insurer  = fundbridge.Actor{UserID: "u-in", Role: fundbridge.RoleInsurer, OrgID: "ins-1"}
)

// replay replays history through the registry, as the repository does,
// so the decoders and evolve are exercised together.
func replay(t *testing.T, history []events.Payload) fund {
	t.Helper()
	reg := events.NewRegistry()
	fundsapi.Register(reg)
	s := fundDecider().Initial()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, p := range history {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		e, payload, err := reg.Decode(events.Event{
			Type: p.EventType(), StreamID: "fund-f1", Version: uint64(i + 1), Position: uint64(i + 1),
			RecordedAt: at.Add(time.Duration(i) * time.Minute), Payload: data,
		})
		if err != nil {
			t.Fatal(err)
		}
		s = fundFolds().Apply(s, e, payload)
	}
	return s
}

// scenario is given events, when a command, then events or an error.
type scenario struct {
	name  string
	given []events.Payload
	when  func(fund) ([]events.Payload, error)
	then  []events.Payload // nil with no code: the command changes nothing
	code  string           // the error code expected instead of events
	field string           // a field the error must name, if any
	msg   string           // the exact message expected, if any
}

func check(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			got, err := sc.when(replay(t, sc.given))
			if sc.code != "" {
				if code := fundbridge.ErrorCode(err); code != sc.code {
					t.Fatalf("error %v (code %q), want code %q; events %v", err, code, sc.code, got)
				}
				if got != nil {
					t.Errorf("refused, yet decided %v", got)
				}
				if sc.field != "" && !namesField(err, sc.field) {
					t.Errorf("error %v does not name %s", err, sc.field)
				}
				if sc.msg != "" && fundbridge.ErrorMessage(err) != sc.msg {
					t.Errorf("message %q, want %q", fundbridge.ErrorMessage(err), sc.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, sc.then); g != w {
				t.Errorf("decided\n  %s\nwant\n  %s", g, w)
			}
			for i := range got {
				if got[i].EventType() != sc.then[i].EventType() {
					t.Errorf("event %d is %s, want %s", i, got[i].EventType(), sc.then[i].EventType())
				}
			}
		})
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

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func amt(s string) money.Amount { return money.MustParse(s) }

// rawAmount builds an amount no decoder reads (negative, beyond
// MaxAmount) but code could compute, which Validate must refuse.
func rawAmount(s string) money.Amount {
	return money.FromDecimal(decimal.RequireFromString(s))
}

var registered = fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "org-a", Name: "Qiming AI Seed I", Type: fundsapi.FundSeed, CommittedCapital: amt("500000000.00")}

func validMandate() fundsapi.SetMandate {
	return fundsapi.SetMandate{
		FundID: "f1", Stages: []fundbridge.Stage{fundbridge.StageSeed, fundbridge.StageStartup},
		Layers:  []fundbridge.Layer{fundbridge.LayerTechnology, fundbridge.LayerApplication},
		Sectors: []fundbridge.Sector{"computer_vision", "robotics"}, Cities: []fundbridge.City{"beijing", "shenzhen"},
		TicketMin: amt("2000000.00"), TicketMax: amt("20000000.00"), MaxOwnership: "0.20",
		ExcludedSectors: []fundbridge.Sector{"finance"}, ExcludedCompanies: []string{"co-9"},
	}
}

func mandateSet(m fundsapi.SetMandate) fundsapi.MandateSet {
	mandate, err := m.Mandate()
	if err != nil {
		panic(err)
	}
	return fundsapi.MandateSet{FundID: m.FundID, Mandate: mandate}
}

func commitment(deal, amount, after string) fundsapi.CapitalCommitted {
	return fundsapi.CapitalCommitted{FundID: "f1", DealID: deal, ApplicationID: "app-" + deal, CompanyID: "co-" + deal, Amount: amt(amount), DryPowderAfter: amt(after)}
}

func commit(deal, amount string) fundsapi.CommitCapital {
	return fundsapi.CommitCapital{FundID: "f1", DealID: deal, ApplicationID: "app-" + deal, CompanyID: "co-" + deal, Amount: amt(amount)}
}

func TestRegister(t *testing.T) {
	cmd := fundsapi.RegisterFund{Name: "  Qiming AI Seed I ", Type: fundsapi.FundSeed, CommittedCapital: amt("500000000.00")}
	register := func(a fundbridge.Actor, c fundsapi.RegisterFund) func(fund) ([]events.Payload, error) {
		return func(s fund) ([]events.Payload, error) { return decideRegister(s, a, "f1", c) }
	}
	with := func(f func(*fundsapi.RegisterFund)) fundsapi.RegisterFund { c := cmd; f(&c); return c }
	onBehalf := with(func(c *fundsapi.RegisterFund) { c.ManagerOrg = "org-a" })
	check(t, []scenario{
		{name: "fund manager registers for its own org", when: register(managerA, cmd), then: []events.Payload{registered}},
		{name: "fund manager naming its own org", when: register(managerA, onBehalf), then: []events.Payload{registered}},
		{name: "fund manager naming another org", when: register(managerB, onBehalf), code: fundbridge.EFORBIDDEN},
		{name: "operator on behalf of an org", when: register(operator, onBehalf), then: []events.Payload{registered}},
		{name: "platform on behalf of an org", when: register(platform, onBehalf), then: []events.Payload{registered}},
		{name: "operator without an org", when: register(operator, cmd), code: fundbridge.EINVALID, field: "manager_org"},
		{name: "fund manager without an org", when: register(fundbridge.Actor{UserID: "u", Role: fundbridge.RoleFundManager}, cmd), code: fundbridge.EFORBIDDEN},
		{name: "startup", when: register(startup, onBehalf), code: fundbridge.EFORBIDDEN},
		{name: "bank", when: register(bank, onBehalf), code: fundbridge.EFORBIDDEN},
		{name: "insurer", when: register(insurer, onBehalf), code: fundbridge.EFORBIDDEN},
		{name: "already registered", given: []events.Payload{registered}, when: register(managerA, cmd), code: fundbridge.ECONFLICT},
		{name: "at the ¥10 trillion bound", when: register(managerA, with(func(c *fundsapi.RegisterFund) { c.CommittedCapital = amt("10000000000000.00") })),
			then: []events.Payload{fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "org-a", Name: "Qiming AI Seed I", Type: fundsapi.FundSeed, CommittedCapital: amt("10000000000000.00")}}},
	})
	invalid := []struct {
		name, field string
		c           fundsapi.RegisterFund
	}{
		{"blank name", "name", with(func(c *fundsapi.RegisterFund) { c.Name = "   " })},
		{"long name", "name", with(func(c *fundsapi.RegisterFund) { c.Name = strings.Repeat("基", 201) })},
		{"control character in name", "name", with(func(c *fundsapi.RegisterFund) { c.Name = "Fund\x00" })},
		{"no type", "type", with(func(c *fundsapi.RegisterFund) { c.Type = "" })},
		{"bad type", "type", with(func(c *fundsapi.RegisterFund) { c.Type = "hedge" })},
		{"no capital", "committed_capital", with(func(c *fundsapi.RegisterFund) { c.CommittedCapital = money.Zero })},
		{"negative capital", "committed_capital", with(func(c *fundsapi.RegisterFund) { c.CommittedCapital = rawAmount("-1.00") })},
		{"overflowing capital", "committed_capital", with(func(c *fundsapi.RegisterFund) { c.CommittedCapital = rawAmount("10000000000000.01") })},
		{"astronomical exponent", "committed_capital", with(func(c *fundsapi.RegisterFund) { c.CommittedCapital = rawAmount("1e9999") })},
		{"manager org with a space", "manager_org", with(func(c *fundsapi.RegisterFund) { c.ManagerOrg = "org a" })},
	}
	var scs []scenario
	for _, tc := range invalid {
		scs = append(scs, scenario{name: tc.name, when: register(operator, tc.c), code: fundbridge.EINVALID, field: tc.field})
	}
	check(t, scs)
}

func TestSetMandate(t *testing.T) {
	set := func(a fundbridge.Actor, c fundsapi.SetMandate) func(fund) ([]events.Payload, error) {
		return func(s fund) ([]events.Payload, error) { return decideSetMandate(s, a, c) }
	}
	with := func(f func(*fundsapi.SetMandate)) fundsapi.SetMandate { c := validMandate(); f(&c); return c }
	m := validMandate()
	wider := with(func(c *fundsapi.SetMandate) {
		c.Cities = nil
		c.Layers = nil
		c.TicketMax = amt("500000000.00")
		c.MaxOwnership = "1"
	})
	check(t, []scenario{
		{name: "managing org sets it", given: []events.Payload{registered}, when: set(managerA, m), then: []events.Payload{mandateSet(m)}},
		{name: "operator replaces it whole", given: []events.Payload{registered, mandateSet(m)}, when: set(operator, wider), then: []events.Payload{mandateSet(wider)}},
		{name: "the same mandate again changes nothing", given: []events.Payload{registered, mandateSet(m)},
			when: set(managerA, with(func(c *fundsapi.SetMandate) { c.MaxOwnership = "0.2" }))},
		{name: "another manager's fund", given: []events.Payload{registered}, when: set(managerB, m), code: fundbridge.ENOTFOUND},
		{name: "no such fund", when: set(operator, m), code: fundbridge.ENOTFOUND},
		{name: "startup", given: []events.Payload{registered}, when: set(startup, m), code: fundbridge.EFORBIDDEN},
		{name: "bank", given: []events.Payload{registered}, when: set(bank, m), code: fundbridge.EFORBIDDEN},
		{name: "closed fund", given: []events.Payload{registered, fundsapi.FundClosed{FundID: "f1"}}, when: set(managerA, m), code: fundbridge.ECONFLICT},
		{name: "ticket above committed capital", given: []events.Payload{registered},
			when: set(managerA, with(func(c *fundsapi.SetMandate) { c.TicketMax = amt("500000000.01") })),
			code: fundbridge.EUNPROCESSABLE, field: "ticket_max", msg: "ticket maximum ¥500,000,000.01 exceeds committed capital ¥500m"},
	})

	invalid := []struct {
		name, field string
		c           fundsapi.SetMandate
	}{
		{"no fund", "fund_id", with(func(c *fundsapi.SetMandate) { c.FundID = "" })},
		{"fund ID with a dot", "fund_id", with(func(c *fundsapi.SetMandate) { c.FundID = "f.1" })},
		{"no stages", "stages", with(func(c *fundsapi.SetMandate) { c.Stages = nil })},
		{"unknown stage", "stages[1]", with(func(c *fundsapi.SetMandate) { c.Stages = []fundbridge.Stage{"seed", "series_a"} })},
		{"stage twice", "stages[1]", with(func(c *fundsapi.SetMandate) { c.Stages = []fundbridge.Stage{"seed", "seed"} })},
		{"unknown layer", "layers[0]", with(func(c *fundsapi.SetMandate) { c.Layers = []fundbridge.Layer{"quantum"} })},
		{"unknown sector", "sectors[0]", with(func(c *fundsapi.SetMandate) { c.Sectors = []fundbridge.Sector{"crypto"} })},
		{"sector outside the layers", "sectors[1]", with(func(c *fundsapi.SetMandate) { c.Layers = []fundbridge.Layer{"technology"} })},
		{"unknown city", "cities[1]", with(func(c *fundsapi.SetMandate) { c.Cities = []fundbridge.City{"beijing", "atlantis"} })},
		{"no ticket minimum", "ticket_min", with(func(c *fundsapi.SetMandate) { c.TicketMin = money.Zero })},
		{"negative ticket minimum", "ticket_min", with(func(c *fundsapi.SetMandate) { c.TicketMin = rawAmount("-5.00") })},
		{"overflowing ticket", "ticket_max", with(func(c *fundsapi.SetMandate) { c.TicketMax = rawAmount("99999999999999.99") })},
		{"ticket maximum below minimum", "ticket_max", with(func(c *fundsapi.SetMandate) { c.TicketMax = amt("1000000.00") })},
		{"no max ownership", "max_ownership", with(func(c *fundsapi.SetMandate) { c.MaxOwnership = "" })},
		{"zero ownership", "max_ownership", with(func(c *fundsapi.SetMandate) { c.MaxOwnership = "0" })},
		{"ownership above 1", "max_ownership", with(func(c *fundsapi.SetMandate) { c.MaxOwnership = "1.01" })},
		{"ownership as a percentage", "max_ownership", with(func(c *fundsapi.SetMandate) { c.MaxOwnership = "20" })},
		{"ownership with 5 places", "max_ownership", with(func(c *fundsapi.SetMandate) { c.MaxOwnership = "0.12345" })},
		{"ownership with an exponent", "max_ownership", with(func(c *fundsapi.SetMandate) { c.MaxOwnership = "2e-1" })},
		{"negative ownership", "max_ownership", with(func(c *fundsapi.SetMandate) { c.MaxOwnership = "-0.2" })},
		{"ownership not a number", "max_ownership", with(func(c *fundsapi.SetMandate) { c.MaxOwnership = "a fifth" })},
		{"unknown excluded sector", "excluded_sectors[0]", with(func(c *fundsapi.SetMandate) { c.ExcludedSectors = []fundbridge.Sector{"casinos"} })},
		{"sector both listed and excluded", "excluded_sectors[0]", with(func(c *fundsapi.SetMandate) { c.ExcludedSectors = []fundbridge.Sector{"robotics"} })},
		{"empty excluded company", "excluded_companies[1]", with(func(c *fundsapi.SetMandate) { c.ExcludedCompanies = []string{"co-9", ""} })},
		{"excluded company twice", "excluded_companies[1]", with(func(c *fundsapi.SetMandate) { c.ExcludedCompanies = []string{"co-9", "co-9"} })},
	}
	var scs []scenario
	for _, tc := range invalid {
		scs = append(scs, scenario{name: tc.name, given: []events.Payload{registered}, when: set(managerA, tc.c), code: fundbridge.EINVALID, field: tc.field})
	}
	check(t, scs)

	// Every bad field is named at once, not just the first.
	err := with(func(c *fundsapi.SetMandate) { c.Stages = nil; c.TicketMin = money.Zero; c.MaxOwnership = "2" }).Validate()
	for _, f := range []string{"stages", "ticket_min", "max_ownership"} {
		if !namesField(err, f) {
			t.Errorf("%v does not name %s", err, f)
		}
	}
	if got, _ := validMandate().Mandate(); !got.MaxOwnership.Equal(decimal.RequireFromString("0.2")) {
		t.Errorf("max ownership %s, want 0.2", got.MaxOwnership)
	}
}

func TestCommit(t *testing.T) {
	small := fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "org-a", Name: "Small", Type: fundsapi.FundAngel, CommittedCapital: amt("50000000.00")}
	do := func(a fundbridge.Actor, c fundsapi.CommitCapital) func(fund) ([]events.Payload, error) {
		return func(s fund) ([]events.Payload, error) { return decideCommit(s, a, c) }
	}
	twenty := []events.Payload{small, commitment("d0", "30000000.00", "20000000.00")}
	check(t, []scenario{
		{name: "platform commits", given: []events.Payload{small}, when: do(platform, commit("d1", "30000000.00")),
			then: []events.Payload{commitment("d1", "30000000.00", "20000000.00")}},
		{name: "operator commits", given: []events.Payload{small}, when: do(operator, commit("d1", "0.01")),
			then: []events.Payload{commitment("d1", "0.01", "49999999.99")}},
		{name: "beyond dry powder", given: twenty, when: do(platform, commit("d1", "30000000.00")),
			code: fundbridge.EUNPROCESSABLE, msg: "commitment ¥30m exceeds dry powder ¥20m"},
		{name: "a fen beyond dry powder", given: twenty, when: do(platform, commit("d1", "20000000.01")),
			code: fundbridge.EUNPROCESSABLE, msg: "commitment ¥20,000,000.01 exceeds dry powder ¥20m"},
		{name: "exactly the dry powder", given: twenty, when: do(platform, commit("d1", "20000000.00")),
			then: []events.Payload{commitment("d1", "20000000.00", "0.00")}},
		{name: "anything once none is left", given: append(twenty, commitment("d1", "20000000.00", "0.00")),
			when: do(platform, commit("d2", "0.01")), code: fundbridge.EUNPROCESSABLE},
		{name: "the same deal again changes nothing", given: twenty, when: do(platform, commit("d0", "30000000.00"))},
		{name: "the same deal again after closing changes nothing", given: append(twenty, fundsapi.FundClosed{FundID: "f1"}),
			when: do(platform, commit("d0", "30000000.00"))},
		{name: "the same deal with another amount", given: twenty, when: do(platform, commit("d0", "1.00")), code: fundbridge.ECONFLICT},
		{name: "closed fund", given: []events.Payload{small, fundsapi.FundClosed{FundID: "f1"}}, when: do(platform, commit("d1", "1.00")), code: fundbridge.ECONFLICT},
		{name: "no such fund", when: do(platform, commit("d1", "1.00")), code: fundbridge.ENOTFOUND},
		{name: "fund manager", given: []events.Payload{small}, when: do(managerA, commit("d1", "1.00")), code: fundbridge.EFORBIDDEN},
		{name: "startup", given: []events.Payload{small}, when: do(startup, commit("d1", "1.00")), code: fundbridge.EFORBIDDEN},
		{name: "zero", given: []events.Payload{small}, when: do(platform, commit("d1", "0.00")), code: fundbridge.EINVALID, field: "amount"},
		{name: "no deal", given: []events.Payload{small}, when: do(platform, fundsapi.CommitCapital{FundID: "f1", ApplicationID: "a", CompanyID: "c", Amount: amt("1.00")}),
			code: fundbridge.EINVALID, field: "deal_id"},
		{name: "no application or company", given: []events.Payload{small}, when: do(platform, fundsapi.CommitCapital{FundID: "f1", DealID: "d", Amount: amt("1.00")}),
			code: fundbridge.EINVALID, field: "company_id"},
	})

	// Dry powder is exact: a hundred commitments of ¥0.01 leave ¥0.99 of ¥1.99.
	history := []events.Payload{fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "org-a", Name: "Tiny", Type: fundsapi.FundAngel, CommittedCapital: amt("1.99")}}
	s := replay(t, history)
	for i := range 100 {
		got, err := decideCommit(s, platform, commit("d"+string(rune('A'+i%26))+strings.Repeat("x", i/26), "0.01"))
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, got...)
		s = replay(t, history)
	}
	if s.DryPowder().String() != "0.99" || s.Invested.String() != "1.00" || len(s.Commitments) != 100 {
		t.Fatalf("dry powder %s, invested %s, %d commitments; want 0.99, 1.00, 100", s.DryPowder(), s.Invested, len(s.Commitments))
	}
	var dp *DryPowderError
	if _, err := decideCommit(s, platform, commit("big", "1.00")); !errors.As(err, &dp) || dp.DryPowder.String() != "0.99" {
		t.Fatalf("commit beyond ¥0.99 = %v, want a DryPowderError", err)
	}
}

func TestClose(t *testing.T) {
	do := func(a fundbridge.Actor, c fundsapi.CloseFund) func(fund) ([]events.Payload, error) {
		return func(s fund) ([]events.Payload, error) { return decideClose(s, a, c) }
	}
	given := []events.Payload{registered}
	check(t, []scenario{
		{name: "managing org closes", given: given, when: do(managerA, fundsapi.CloseFund{FundID: "f1", Reason: " fully invested "}),
			then: []events.Payload{fundsapi.FundClosed{FundID: "f1", Reason: "fully invested"}}},
		{name: "operator closes without a reason", given: given, when: do(operator, fundsapi.CloseFund{FundID: "f1"}), then: []events.Payload{fundsapi.FundClosed{FundID: "f1"}}},
		{name: "another manager's fund", given: given, when: do(managerB, fundsapi.CloseFund{FundID: "f1"}), code: fundbridge.ENOTFOUND},
		{name: "insurer", given: given, when: do(insurer, fundsapi.CloseFund{FundID: "f1"}), code: fundbridge.EFORBIDDEN},
		{name: "no such fund", when: do(operator, fundsapi.CloseFund{FundID: "f1"}), code: fundbridge.ENOTFOUND},
		{name: "already closed", given: append(given, fundsapi.FundClosed{FundID: "f1"}), when: do(managerA, fundsapi.CloseFund{FundID: "f1"}), code: fundbridge.ECONFLICT},
		{name: "reason too long", given: given, when: do(managerA, fundsapi.CloseFund{FundID: "f1", Reason: strings.Repeat("x", 501)}), code: fundbridge.EINVALID, field: "reason"},
	})
}

func TestStateSurvivesASnapshot(t *testing.T) {
	s := replay(t, []events.Payload{registered, mandateSet(validMandate()), commitment("d1", "1.00", "499999999.00"), fundsapi.FundClosed{FundID: "f1", Reason: "done"}})
	data := mustJSON(t, s)
	var back fund
	if err := json.Unmarshal([]byte(data), &back); err != nil {
		t.Fatal(err)
	}
	if again := mustJSON(t, back); again != data || !back.DryPowder().Equal(s.DryPowder()) || back.Mandate == nil || !back.Closed {
		t.Fatalf("snapshot round trip:\n  %s\n  %s", data, again)
	}
}

func TestEvolveNeverWritesIntoItsInput(t *testing.T) {
	base := replay(t, []events.Payload{registered, mandateSet(validMandate()), commitment("d1", "1.00", "499999999.00")})
	reg := events.NewRegistry()
	fundsapi.Register(reg)
	branch := func(deal string) fund {
		data, _ := json.Marshal(commitment(deal, "1.00", "499999998.00"))
		e, p, err := reg.Decode(events.Event{Type: fundsapi.CapitalCommitted{}.EventType(), StreamID: "fund-f1", Version: 4, Payload: data})
		if err != nil {
			t.Fatal(err)
		}
		return fundFolds().Apply(base, e, p)
	}
	a, b := branch("d2"), branch("d3")
	if len(base.Commitments) != 1 || base.Version != 3 || !base.Invested.Equal(amt("1.00")) {
		t.Fatalf("the input changed: %+v", base)
	}
	if a.Commitments[1].DealID != "d2" || b.Commitments[1].DealID != "d3" {
		t.Fatalf("two branches from one state share storage: %s and %s", a.Commitments[1].DealID, b.Commitments[1].DealID)
	}
	if s := replay(t, []events.Payload{registered, fundsapi.FundClosed{FundID: "f1", Reason: "done"}}); s.status() != fundsapi.StatusClosed || s.CloseReason != "done" {
		t.Fatalf("closed fund folds to %+v", s)
	}
}

func TestRelease(t *testing.T) {
	small := fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "org-a", Name: "Small", Type: fundsapi.FundAngel, CommittedCapital: amt("50000000.00")}
	do := func(a fundbridge.Actor, deal string) func(fund) ([]events.Payload, error) {
		return func(s fund) ([]events.Payload, error) {
			return decideRelease(s, a, fundsapi.ReleaseCapital{FundID: "f1", DealID: deal, Reason: " closing failed "})
		}
	}
	two := []events.Payload{small, commitment("d0", "30000000.00", "20000000.00"), commitment("d1", "5000000.00", "15000000.00")}
	released := fundsapi.CapitalReleased{FundID: "f1", DealID: "d0", ApplicationID: "app-d0", Amount: amt("30000000.00"), DryPowderAfter: amt("45000000.00"), Reason: "closing failed"}
	check(t, []scenario{
		{name: "the platform releases a deal's commitment", given: two, when: do(platform, "d0"), then: []events.Payload{released}},
		{name: "a closed fund takes its capital back", given: append(two, fundsapi.FundClosed{FundID: "f1"}), when: do(platform, "d0"), then: []events.Payload{released}},
		{name: "a deal never committed changes nothing", given: two, when: do(platform, "d9")},
		{name: "released already changes nothing", given: append(two, released), when: do(platform, "d0")},
		{name: "operator", given: two, when: do(operator, "d0"), code: fundbridge.EFORBIDDEN},
		{name: "fund manager", given: two, when: do(managerA, "d0"), code: fundbridge.EFORBIDDEN},
		{name: "no such fund", when: do(platform, "d0"), code: fundbridge.ENOTFOUND},
	})
	s := replay(t, append(two, released))
	if s.DryPowder().String() != "45000000.00" || len(s.Commitments) != 1 || s.Commitments[0].DealID != "d1" {
		t.Fatalf("after release: dry powder %s, commitments %+v", s.DryPowder(), s.Commitments)
	}
	// Released, the deal may commit again (a later closing of the same deal).
	check(t, []scenario{{name: "commit again", given: append(two, released), when: func(s fund) ([]events.Payload, error) {
		return decideCommit(s, platform, commit("d0", "30000000.00"))
	}, then: []events.Payload{commitment("d0", "30000000.00", "15000000.00")}}})
	if err := (fundsapi.ReleaseCapital{FundID: "f1"}).Validate(); !namesField(err, "deal_id") {
		t.Errorf("a release without a deal: %v", err)
	}
}
