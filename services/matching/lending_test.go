package matching

import (
	"fmt"
	"slices"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

// testProgramme: growth and expansion, the technology layer, Beijing,
// loans of ¥5m–¥50m for up to 60 months, no equity partner or consent
// required.
func testProgramme(id string, mods ...func(*dealsapi.Programme)) dealsapi.Programme {
	p := dealsapi.Programme{
		ProgrammeID: id, Name: "Programme " + id,
		Stages: []fundbridge.Stage{fundbridge.StageGrowth, fundbridge.StageExpansion},
		Layers: []fundbridge.Layer{fundbridge.LayerTechnology}, Cities: []fundbridge.City{"beijing"},
		LoanMin: yuanM(5), LoanMax: yuanM(50), MaxMonths: 60,
	}
	for _, mod := range mods {
		mod(&p)
	}
	return p
}

// loanApplication: testApplication asking for the instruments, with
// consent to share credit data.
func loanApplication(id string, instruments ...fundbridge.Instrument) applicationsapi.ApplicationSubmitted {
	return testApplication(id, func(a *applicationsapi.ApplicationSubmitted) {
		a.Instruments, a.CreditDataConsent = instruments, true
	})
}

func explainProgramme(t *testing.T, e *Engine, bankID, programmeID, appID string) Evaluation {
	t.Helper()
	ev, ok := e.ExplainProgramme(bankID, programmeID, appID)
	if !ok {
		t.Fatalf("explain %s/%s/%s: unknown", bankID, programmeID, appID)
	}
	on := slices.ContainsFunc(e.ProgrammeBoard(bankID, programmeID), func(m ProgrammeMatch) bool { return m.ApplicationID == appID && m.Score == ev.Score })
	if on != ev.Matches {
		t.Fatalf("board says %v, explanation says %v (score %d)", on, ev.Matches, ev.Score)
	}
	return ev
}

func TestProgrammeHardFilters(t *testing.T) {
	loan := []fundbridge.Instrument{fundbridge.InstrumentVentureLoan}
	for _, tc := range []struct {
		name    string
		prog    func(*dealsapi.Programme)
		app     func(*applicationsapi.ApplicationSubmitted)
		matches bool
		against string
	}{
		{name: "fits", matches: true},
		{name: "equity only wants no loan", app: func(a *applicationsapi.ApplicationSubmitted) {
			a.Instruments = []fundbridge.Instrument{fundbridge.InstrumentEquity}
		},
			against: "wants equity; the programme lends"},
		{name: "loan plus equity wants a loan", app: func(a *applicationsapi.ApplicationSubmitted) {
			a.Instruments = []fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}
		}, matches: true},
		{name: "stage outside", app: func(a *applicationsapi.ApplicationSubmitted) { a.Stage = fundbridge.StageSeed },
			against: "stage seed is not in programme (growth, expansion)"},
		{name: "no stages means any", prog: func(p *dealsapi.Programme) { p.Stages = nil }, app: func(a *applicationsapi.ApplicationSubmitted) { a.Stage = fundbridge.StageSeed }, matches: true},
		{name: "layer admits its sectors", app: func(a *applicationsapi.ApplicationSubmitted) { a.Sector = "nlp" }, matches: true},
		{name: "sector outside", app: func(a *applicationsapi.ApplicationSubmitted) {
			a.Layer, a.Sector = fundbridge.LayerApplication, "robotics"
		},
			against: "sector robotics is outside programme (sectors none; layers technology)"},
		{name: "loan at the minimum is in", app: func(a *applicationsapi.ApplicationSubmitted) { a.AmountRequested = yuanM(5) }, matches: true},
		{name: "loan at the maximum is in", app: func(a *applicationsapi.ApplicationSubmitted) { a.AmountRequested = yuanM(50) }, matches: true},
		{name: "loan below", app: func(a *applicationsapi.ApplicationSubmitted) { a.AmountRequested = yuanM(4) }, against: "loan ¥4m below programme minimum ¥5m"},
		{name: "loan above", app: func(a *applicationsapi.ApplicationSubmitted) { a.AmountRequested = yuanM(51) }, against: "loan ¥51m above programme maximum ¥50m"},
		{name: "city outside", app: func(a *applicationsapi.ApplicationSubmitted) { a.City = "shenzhen" }, against: "city shenzhen is outside programme cities (beijing)"},
		{name: "consent needed", prog: func(p *dealsapi.Programme) { p.NeedsCreditConsent = true }, app: func(a *applicationsapi.ApplicationSubmitted) { a.CreditDataConsent = false },
			against: "programme needs consent to share credit data; the application gives none"},
		{name: "consent not needed", app: func(a *applicationsapi.ApplicationSubmitted) { a.CreditDataConsent = false }, matches: true},
		{name: "equity partner required", prog: func(p *dealsapi.Programme) { p.RequiresEquityPartner = true },
			against: "programme requires an equity partner; the application asks for a loan alone"},
		{name: "equity partner present", prog: func(p *dealsapi.Programme) { p.RequiresEquityPartner = true },
			app: func(a *applicationsapi.ApplicationSubmitted) {
				a.Instruments = []fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}
			}, matches: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Given a bank's programme; when an application opens.
			e := NewEngine()
			e.NameBank("b1", "Bank One")
			var pm []func(*dealsapi.Programme)
			if tc.prog != nil {
				pm = append(pm, tc.prog)
			}
			e.PublishProgramme("b1", testProgramme("p1", pm...))
			a := loanApplication("a1", loan...)
			if tc.app != nil {
				tc.app(&a)
			}
			e.OpenApplication(a)
			// Then the programme matches it, or says why not.
			ev := explainProgramme(t, e, "b1", "p1", "a1")
			if ev.Matches != tc.matches {
				t.Fatalf("matches = %v, want %v; against %v", ev.Matches, tc.matches, ev.Against)
			}
			if tc.against != "" && !slices.Contains(ev.Against, tc.against) {
				t.Errorf("against = %q, want %q", ev.Against, tc.against)
			}
		})
	}
}

func TestProgrammeScoreAndReasons(t *testing.T) {
	e := NewEngine()
	e.NameBank("b1", "Bank One")
	e.PublishProgramme("b1", testProgramme("p1", func(p *dealsapi.Programme) {
		p.Sectors, p.RequiresEquityPartner, p.LoanMin, p.LoanMax = []fundbridge.Sector{"computer_vision"}, true, yuanM(10), yuanM(50)
	}))
	e.OpenApplication(loanApplication("a1", fundbridge.InstrumentLoanPlusEquity))
	ev := explainProgramme(t, e, "b1", "p1", "a1")
	// stage 15, sector by name 25, ¥30m in the middle of ¥10m–¥50m 20,
	// city 10, consent 10, an equity partner as required 20.
	if ev.Score != 100 {
		t.Errorf("score = %d, want 100; for %v", ev.Score, ev.For)
	}
	for _, want := range []string{"stage growth is in programme", "sector computer_vision is a programme sector", "loan ¥30m is within programme range ¥10m–¥50m",
		"city beijing is a programme city", "consents to share credit data with banks", "wants a loan plus equity, as the programme requires an equity partner",
		"programme lends for up to 60 months"} {
		if !slices.Contains(ev.For, want) {
			t.Errorf("reasons for %q lack %q", ev.For, want)
		}
	}
	if p, _ := e.Programme("b1", "p1"); p.BankName != "Bank One" {
		t.Errorf("bank name = %q", p.BankName)
	}
}

func TestProgrammeBoardsFollowChanges(t *testing.T) {
	// Given two programmes and an application that fits both.
	e := NewEngine()
	e.PublishProgramme("b1", testProgramme("p1"))
	e.PublishProgramme("b2", testProgramme("p2", func(p *dealsapi.Programme) { p.Cities = nil }))
	e.OpenApplication(loanApplication("a1", fundbridge.InstrumentVentureLoan))
	if got := len(e.ApplicationProgrammes("a1")); got != 2 {
		t.Fatalf("the application fits %d programmes, want 2", got)
	}
	// When the company moves to Shenzhen, only the programme open to any
	// city keeps it.
	e.MoveCompany("c-a1", func(s applicationsapi.Slice) applicationsapi.Slice { s.City = "shenzhen"; return s })
	if got := e.ApplicationProgrammes("a1"); len(got) != 1 || got[0].BankID != "b2" {
		t.Errorf("after the move: %v, want b2's only", got)
	}
	// When b2 narrows its programme to seed, the application leaves it.
	if changed := e.PublishProgramme("b2", testProgramme("p2", func(p *dealsapi.Programme) { p.Cities, p.Stages = nil, []fundbridge.Stage{fundbridge.StageSeed} })); !slices.Equal(changed, []string{"a1"}) {
		t.Errorf("republishing changed %v, want a1", changed)
	}
	if got := e.ProgrammeBoard("b2", "p2"); len(got) != 0 {
		t.Errorf("b2's board = %v", got)
	}
	// A withdrawn programme is gone; a closed application leaves every board.
	e.PublishProgramme("b2", testProgramme("p2", func(p *dealsapi.Programme) { p.Cities = nil }))
	if changed := e.WithdrawProgramme("b2", "p2"); !slices.Equal(changed, []string{"a1"}) {
		t.Errorf("withdrawing changed %v, want a1", changed)
	}
	if _, ok := e.Programme("b2", "p2"); ok {
		t.Error("a withdrawn programme is still known")
	}
	e.PublishProgramme("b2", testProgramme("p3", func(p *dealsapi.Programme) { p.Cities = nil }))
	e.CloseApplication("a1")
	if got := e.ProgrammeBoard("b2", "p3"); len(got) != 0 {
		t.Errorf("a closed application stays on %v", got)
	}
}

func TestPairsRankFundsAndProgrammesTogether(t *testing.T) {
	// Given three funds and three programmes fitting one loan-plus-equity
	// application, with different scores.
	e := NewEngine()
	for i, m := range []func(*fundsapi.Mandate){
		func(m *fundsapi.Mandate) {}, // 100: sector by name, ticket in the middle
		func(m *fundsapi.Mandate) { m.Sectors, m.Layers = nil, []fundbridge.Layer{fundbridge.LayerTechnology} }, // layer: 90
		func(m *fundsapi.Mandate) { m.Sectors, m.Cities = nil, nil },                                            // any sector, any city: 82
	} {
		id := fmt.Sprintf("f%d", i+1)
		e.RegisterFund(id, "org", "Fund "+id, fundsapi.FundVC, yuanM(1000))
		e.SetMandate(id, testMandate(m))
	}
	e.PublishProgramme("b1", testProgramme("p1", func(p *dealsapi.Programme) { p.Sectors = []fundbridge.Sector{"computer_vision"} }))
	e.PublishProgramme("b2", testProgramme("p2"))
	e.PublishProgramme("b3", testProgramme("p3", func(p *dealsapi.Programme) { p.Layers, p.Cities = nil, nil }))
	e.PublishProgramme("b4", testProgramme("p4", func(p *dealsapi.Programme) {
		p.RequiresEquityPartner = true
		p.Sectors = []fundbridge.Sector{"computer_vision"}
	}))
	e.OpenApplication(loanApplication("a1", fundbridge.InstrumentLoanPlusEquity))

	funds, progs := e.ApplicationBoard("a1"), e.ApplicationProgrammes("a1")
	if len(funds) != 3 || len(progs) != 4 {
		t.Fatalf("funds %v, programmes %v", funds, progs)
	}
	// When the pairs are asked for.
	pairs := e.Pairs("a1", 100, nil)
	// Then every fund pairs with every programme, ranked by the mean
	// score, the same as sorting all pairs.
	if len(pairs) != 12 {
		t.Fatalf("%d pairs, want 12", len(pairs))
	}
	var want []Pair
	for _, f := range funds {
		for _, p := range progs {
			want = append(want, Pair{FundID: f.FundID, BankID: p.BankID, ProgrammeID: p.ProgrammeID, FundScore: f.Score, ProgrammeScore: p.Score, Score: (f.Score + p.Score) / 2})
		}
	}
	slices.SortStableFunc(want, func(x, y Pair) int {
		if d := (y.FundScore + y.ProgrammeScore) - (x.FundScore + x.ProgrammeScore); d != 0 {
			return d
		}
		return y.FundScore - x.FundScore
	})
	if !slices.Equal(pairs, want) {
		t.Errorf("pairs\n%v\nwant\n%v", pairs, want)
	}
	if top := pairs[0]; top.FundID != "f1" || top.Score != 100 {
		t.Errorf("best pair = %+v, want f1 with a 100-point programme", top)
	}
	// A limit keeps the best; a filter keeps what an actor may see.
	if got := e.Pairs("a1", 2, nil); !slices.Equal(got, pairs[:2]) {
		t.Errorf("limit 2 = %v", got)
	}
	for _, p := range e.Pairs("a1", 100, func(p Pair) bool { return p.BankID == "b2" }) {
		if p.BankID != "b2" {
			t.Errorf("filtered pairs hold %v", p)
		}
	}
	// An application asking for a loan alone gets programmes, no pairs.
	e.OpenApplication(loanApplication("a2", fundbridge.InstrumentVentureLoan))
	if got := e.Pairs("a2", 100, nil); len(got) != 0 {
		t.Errorf("a loan alone has pairs %v", got)
	}
	if len(e.ApplicationProgrammes("a2")) != 3 {
		t.Errorf("a loan alone fits %v, want the three programmes without the equity partner rule", e.ApplicationProgrammes("a2"))
	}
}
