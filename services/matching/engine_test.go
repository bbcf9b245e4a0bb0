package matching

import (
	"fmt"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

func yuanM(n int64) money.Amount { return money.Yuan(n * 1_000_000) }

// testMandate: growth and expansion, computer vision, Beijing or
// Shanghai, ¥10m–¥50m, at most 20%.
func testMandate(mods ...func(*fundsapi.Mandate)) fundsapi.Mandate {
	m := fundsapi.Mandate{
		Stages:       []fundbridge.Stage{fundbridge.StageGrowth, fundbridge.StageExpansion},
		Sectors:      []fundbridge.Sector{"computer_vision"},
		Cities:       []fundbridge.City{"beijing", "shanghai"},
		TicketMin:    yuanM(10),
		TicketMax:    yuanM(50),
		MaxOwnership: decimal.RequireFromString("0.20"),
	}
	for _, mod := range mods {
		mod(&m)
	}
	return m
}

// testApplication: a growth computer-vision company in Beijing asking
// ¥30m of equity at ¥150m pre-money (16.67%).
func testApplication(id string, mods ...func(*applicationsapi.ApplicationSubmitted)) applicationsapi.ApplicationSubmitted {
	v := yuanM(150)
	a := applicationsapi.ApplicationSubmitted{
		ApplicationID: id, CompanyName: "Company " + id,
		Slice: applicationsapi.Slice{CompanyID: "c-" + id, Stage: fundbridge.StageGrowth, Layer: fundbridge.LayerTechnology, Sector: "computer_vision", City: "beijing"},
		ApplicationTerms: applicationsapi.ApplicationTerms{
			AmountRequested: yuanM(30), Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity}, ValuationAsk: &v,
		},
	}
	for _, mod := range mods {
		mod(&a)
	}
	return a
}

// engineWith registers fund "f1" (¥1b committed) with the mandate and
// opens the applications.
func engineWith(m fundsapi.Mandate, apps ...applicationsapi.ApplicationSubmitted) *Engine {
	e := NewEngine()
	e.RegisterFund("f1", "org-1", "Fund One", fundsapi.FundVC, yuanM(1000))
	e.SetMandate("f1", m)
	for _, a := range apps {
		e.OpenApplication(a)
	}
	return e
}

func explain(t *testing.T, e *Engine, fundID, appID string) Evaluation {
	t.Helper()
	ev, ok := e.Explain(fundID, appID)
	if !ok {
		t.Fatalf("explain %s/%s: unknown", fundID, appID)
	}
	// The board and the explanation must agree.
	score, onBoard := e.Score(fundID, appID)
	if onBoard != ev.Matches || (onBoard && score != ev.Score) {
		t.Fatalf("board says %v/%d, explanation says %v/%d", onBoard, score, ev.Matches, ev.Score)
	}
	return ev
}

func TestEngineHardFilters(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mandate []func(*fundsapi.Mandate)
		app     []func(*applicationsapi.ApplicationSubmitted)
		setup   func(*Engine)
		against string
	}{
		{name: "stage", app: mods(func(a *applicationsapi.ApplicationSubmitted) { a.Stage = fundbridge.StageSeed }),
			against: "stage seed is not in mandate (growth, expansion)"},
		{name: "sector", app: mods(func(a *applicationsapi.ApplicationSubmitted) { a.Sector = "nlp" }),
			against: "sector nlp is outside mandate (sectors computer_vision)"},
		{name: "layer", mandate: mmods(func(m *fundsapi.Mandate) { m.Sectors, m.Layers = nil, []fundbridge.Layer{fundbridge.LayerApplication} }),
			against: "sector computer_vision is outside mandate (layers application)"},
		{name: "excluded sector", mandate: mmods(func(m *fundsapi.Mandate) { m.Sectors, m.ExcludedSectors = nil, []fundbridge.Sector{"computer_vision"} }),
			against: "sector computer_vision is excluded by mandate"},
		{name: "excluded company", mandate: mmods(func(m *fundsapi.Mandate) { m.ExcludedCompanies = []string{"c-a1"} }),
			against: "company c-a1 is excluded by mandate"},
		{name: "ticket above", mandate: mmods(func(m *fundsapi.Mandate) { m.TicketMin, m.TicketMax = yuanM(5), yuanM(20) }),
			against: "ticket ¥30m above fund maximum ¥20m"},
		{name: "ticket below", app: mods(func(a *applicationsapi.ApplicationSubmitted) { a.AmountRequested = yuanM(1) }),
			against: "ticket ¥1m below fund minimum ¥10m"},
		{name: "dry powder below minimum ticket", setup: func(e *Engine) { e.SetDryPowder("f1", yuanM(8)) },
			against: "dry powder ¥8m below fund minimum ticket ¥10m"},
		{name: "dry powder short of the ticket", setup: func(e *Engine) { e.SetDryPowder("f1", yuanM(25)) },
			against: "dry powder ¥25m cannot cover ticket ¥30m"},
		{name: "dry powder short of the fund maximum", setup: func(e *Engine) { e.SetDryPowder("f1", yuanM(15)) },
			mandate: mmods(func(m *fundsapi.Mandate) { m.TicketMax = yuanM(20) }),
			against: "dry powder ¥15m cannot cover ticket ¥20m"},
		{name: "city", app: mods(func(a *applicationsapi.ApplicationSubmitted) { a.City = "hangzhou" }),
			against: "city hangzhou is outside mandate cities (beijing, shanghai)"},
		{name: "instruments", app: mods(func(a *applicationsapi.ApplicationSubmitted) {
			a.Instruments = []fundbridge.Instrument{fundbridge.InstrumentVentureLoan, fundbridge.InstrumentPatentInsurance}
		}), against: "wants venture_loan, patent_insurance; the fund invests equity"},
		{name: "closed fund", setup: func(e *Engine) { e.CloseFund("f1") }, against: "fund is closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := engineWith(testMandate(tc.mandate...), testApplication("a1", tc.app...))
			if tc.setup != nil {
				tc.setup(e)
			}
			ev := explain(t, e, "f1", "a1")
			if ev.Matches || ev.Score != 0 {
				t.Errorf("matches = %v, score %d; want excluded", ev.Matches, ev.Score)
			}
			if !slices.Contains(ev.Against, tc.against) {
				t.Errorf("against = %q\nwant it to hold %q", ev.Against, tc.against)
			}
			if b := e.FundBoard("f1"); len(b) != 0 {
				t.Errorf("fund board = %v, want empty", b)
			}
			if b := e.ApplicationBoard("a1"); len(b) != 0 {
				t.Errorf("application board = %v, want empty", b)
			}
		})
	}
	t.Run("no mandate", func(t *testing.T) {
		e := NewEngine()
		e.RegisterFund("f1", "org-1", "Fund One", fundsapi.FundVC, yuanM(1000))
		e.OpenApplication(testApplication("a1"))
		if ev := explain(t, e, "f1", "a1"); ev.Matches || !slices.Equal(ev.Against, []string{"fund has no mandate yet"}) {
			t.Errorf("evaluation = %+v", ev)
		}
	})
	t.Run("loan plus equity takes equity", func(t *testing.T) {
		e := engineWith(testMandate(), testApplication("a1", func(a *applicationsapi.ApplicationSubmitted) {
			a.Instruments = []fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}
		}))
		if ev := explain(t, e, "f1", "a1"); !ev.Matches {
			t.Errorf("evaluation = %+v, want a match", ev)
		}
	})
	t.Run("every failed filter is explained", func(t *testing.T) {
		e := engineWith(testMandate(), testApplication("a1", func(a *applicationsapi.ApplicationSubmitted) {
			a.Stage, a.City, a.AmountRequested = fundbridge.StageSeed, "wuhan", yuanM(80)
		}))
		ev := explain(t, e, "f1", "a1")
		want := []string{"stage seed is not in mandate (growth, expansion)", "ticket ¥80m above fund maximum ¥50m", "city wuhan is outside mandate cities (beijing, shanghai)"}
		for _, w := range want {
			if !slices.Contains(ev.Against, w) {
				t.Errorf("against = %q, want %q among them", ev.Against, w)
			}
		}
	})
}

func mods(fs ...func(*applicationsapi.ApplicationSubmitted)) []func(*applicationsapi.ApplicationSubmitted) {
	return fs
}

func mmods(fs ...func(*fundsapi.Mandate)) []func(*fundsapi.Mandate) { return fs }

func TestEngineScoreAndReasons(t *testing.T) {
	perfectFor := []string{
		"stage growth is in mandate",
		"sector computer_vision is a focus sector",
		"ticket ¥30m sits near the middle of fund range ¥10m–¥50m",
		"dry powder ¥1bn is over 10x the ticket",
		"city beijing is a mandate city",
		"wants equity",
		"ownership 16.67% at the valuation ask is within fund maximum 20.00%",
	}
	for _, tc := range []struct {
		name    string
		mandate []func(*fundsapi.Mandate)
		app     []func(*applicationsapi.ApplicationSubmitted)
		dry     int64 // ¥m; 0 keeps ¥1b
		score   int
		pro     string // a reason for that must be given
		con     string // a reason against that must be given
	}{
		{name: "perfect", score: 100},
		{name: "layer only", mandate: mmods(func(m *fundsapi.Mandate) { m.Sectors, m.Layers = nil, []fundbridge.Layer{fundbridge.LayerTechnology} }),
			score: 90, pro: "layer technology is in mandate (sector computer_vision not listed by name)"},
		{name: "any sector", mandate: mmods(func(m *fundsapi.Mandate) { m.Sectors = nil }), score: 85, pro: "mandate is open to any sector"},
		{name: "sector listed beside another layer", mandate: mmods(func(m *fundsapi.Mandate) { m.Layers = []fundbridge.Layer{fundbridge.LayerApplication} }),
			score: 100, pro: "sector computer_vision is a focus sector"},
		{name: "any city", mandate: mmods(func(m *fundsapi.Mandate) { m.Cities = nil }), score: 97, pro: "mandate takes any city"},
		{name: "ownership above maximum", mandate: mmods(func(m *fundsapi.Mandate) { m.MaxOwnership = decimal.RequireFromString("0.15") }),
			score: 80, con: "ownership 16.67% at the valuation ask is above fund maximum 15.00%"},
		{name: "no maximum ownership", mandate: mmods(func(m *fundsapi.Mandate) { m.MaxOwnership = decimal.Zero }),
			score: 95, pro: "ownership 16.67% at the valuation ask; the fund sets no maximum"},
		{name: "no valuation ask", app: mods(func(a *applicationsapi.ApplicationSubmitted) { a.ValuationAsk = nil }),
			score: 90, con: "no valuation ask yet to check ownership against"},
		{name: "ticket at the edge", app: mods(func(a *applicationsapi.ApplicationSubmitted) { a.AmountRequested, a.ValuationAsk = yuanM(49), nil }),
			score: 100 - 16 - 10, con: "ticket ¥49m is at the edge of fund range ¥10m–¥50m"},
		{name: "ticket off centre", app: mods(func(a *applicationsapi.ApplicationSubmitted) {
			v := yuanM(200)
			a.AmountRequested, a.ValuationAsk = yuanM(40), &v
		}),
			score: 100 - 8, pro: "ticket ¥40m is within fund range ¥10m–¥50m"},
		{name: "ticket at the minimum", app: mods(func(a *applicationsapi.ApplicationSubmitted) { a.AmountRequested = yuanM(10) }),
			score: 100 - 16, con: "ticket ¥10m is at the edge of fund range ¥10m–¥50m"},
		{name: "dry powder 5x", dry: 150, score: 97, pro: "dry powder ¥150m is over 5x the ticket"},
		{name: "dry powder 2x", dry: 60, score: 93, pro: "dry powder ¥60m is over 2x the ticket"},
		{name: "dry powder just covers", dry: 30, score: 89, con: "dry powder ¥30m leaves little headroom over ticket ¥30m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := engineWith(testMandate(tc.mandate...), testApplication("a1", tc.app...))
			if tc.dry != 0 {
				e.SetDryPowder("f1", yuanM(tc.dry))
			}
			ev := explain(t, e, "f1", "a1")
			if !ev.Matches || ev.Score != tc.score {
				t.Fatalf("matches %v, score %d, want %d\nfor %q\nagainst %q", ev.Matches, ev.Score, tc.score, ev.For, ev.Against)
			}
			if tc.name == "perfect" && (!slices.Equal(ev.For, perfectFor) || len(ev.Against) != 0) {
				t.Errorf("for = %q\nagainst = %q\nwant for = %q", ev.For, ev.Against, perfectFor)
			}
			if tc.pro != "" && !slices.Contains(ev.For, tc.pro) {
				t.Errorf("for = %q, want %q", ev.For, tc.pro)
			}
			if tc.con != "" && !slices.Contains(ev.Against, tc.con) {
				t.Errorf("against = %q, want %q", ev.Against, tc.con)
			}
		})
	}
}

func TestEngineRankingIsDeterministic(t *testing.T) {
	var apps []applicationsapi.ApplicationSubmitted
	for i, amount := range []int64{30, 12, 30, 45, 30, 25} {
		apps = append(apps, testApplication(fmt.Sprintf("a%d", 6-i), func(a *applicationsapi.ApplicationSubmitted) { a.AmountRequested = yuanM(amount) }))
	}
	want := []Match{{"f1", "a2", 100}, {"f1", "a4", 100}, {"f1", "a6", 100}, {"f1", "a1", 96}, {"f1", "a5", 84}, {"f1", "a3", 68}}
	for range 5 {
		e := engineWith(testMandate())
		for _, i := range []int{3, 0, 5, 1, 4, 2} { // another order than the IDs'
			e.OpenApplication(apps[i])
		}
		if got := e.FundBoard("f1"); !slices.Equal(got, want) {
			t.Fatalf("board = %v\nwant %v (score descending, then ID)", got, want)
		}
	}
	e := engineWith(testMandate(), apps...)
	for _, f := range []string{"f3", "f2"} {
		e.RegisterFund(f, "org-1", f, fundsapi.FundVC, yuanM(1000))
		e.SetMandate(f, testMandate())
	}
	got := e.ApplicationBoard("a2")
	if len(got) != 3 || got[0].FundID != "f1" || got[1].FundID != "f2" || got[2].FundID != "f3" {
		t.Fatalf("application board = %v, want f1, f2, f3 (equal scores by fund ID)", got)
	}
}

func TestEngineRematchesOnMandateChange(t *testing.T) {
	growthCV := testApplication("growth-cv")
	growthNLP := testApplication("growth-nlp", func(a *applicationsapi.ApplicationSubmitted) { a.Sector = "nlp" })
	seedCV := testApplication("seed-cv", func(a *applicationsapi.ApplicationSubmitted) {
		a.Stage, a.AmountRequested = fundbridge.StageSeed, yuanM(2)
	})
	e := engineWith(testMandate(), growthCV, growthNLP, seedCV)
	for i := range 200 { // applications the mandates never reach: other stages
		e.OpenApplication(testApplication(fmt.Sprintf("preipo-%03d", i), func(a *applicationsapi.ApplicationSubmitted) { a.Stage = fundbridge.StagePreIPO }))
	}
	if board := ids(e.FundBoard("f1")); !slices.Equal(board, []string{"growth-cv"}) {
		t.Fatalf("board = %v", board)
	}

	before := e.Evaluations
	changed := e.SetMandate("f1", testMandate(func(m *fundsapi.Mandate) {
		m.Stages = []fundbridge.Stage{fundbridge.StageSeed, fundbridge.StageGrowth}
		m.Sectors = []fundbridge.Sector{"nlp"}
		m.TicketMin = yuanM(1)
	}))
	slices.Sort(changed)
	if !slices.Equal(changed, []string{"growth-cv", "growth-nlp"}) {
		t.Errorf("changed = %v, want growth-cv (lost) and growth-nlp (gained)", changed)
	}
	if board := ids(e.FundBoard("f1")); !slices.Equal(board, []string{"growth-nlp"}) {
		t.Errorf("board = %v: growth-cv left, growth-nlp joined", board)
	}
	if n := e.Evaluations - before; n > 3 {
		t.Errorf("the mandate change evaluated %d applications; only the seed and growth ones in its sectors are candidates", n)
	}

	before = e.Evaluations
	e.OpenApplication(testApplication("growth-nlp-2", func(a *applicationsapi.ApplicationSubmitted) { a.Sector = "nlp" }))
	if n := e.Evaluations - before; n != 1 {
		t.Errorf("a new application evaluated %d funds, want the 1 whose mandate could take it", n)
	}
}

func TestEngineWithdrawnApplicationLeavesTheBoards(t *testing.T) {
	e := engineWith(testMandate(), testApplication("a1"), testApplication("a2"))
	e.RegisterFund("f2", "org-2", "Fund Two", fundsapi.FundVC, yuanM(1000))
	e.SetMandate("f2", testMandate())
	e.CloseApplication("a1")
	for _, f := range []string{"f1", "f2"} {
		if board := ids(e.FundBoard(f)); !slices.Equal(board, []string{"a2"}) {
			t.Errorf("%s board = %v, want a2 only", f, board)
		}
	}
	if _, ok := e.Explain("f1", "a1"); ok {
		t.Error("a withdrawn application is still explained")
	}
	if b := e.ApplicationBoard("a1"); b != nil {
		t.Errorf("withdrawn application's board = %v", b)
	}
	// Its handle is reused; the newcomer must not inherit its matches.
	e.OpenApplication(testApplication("a3", func(a *applicationsapi.ApplicationSubmitted) { a.Stage = fundbridge.StageSeed }))
	if board := ids(e.FundBoard("f1")); !slices.Equal(board, []string{"a2"}) {
		t.Errorf("board = %v after a non-matching newcomer, want a2 only", board)
	}
}

func TestEngineClosedFundLeavesTheBoards(t *testing.T) {
	e := engineWith(testMandate(), testApplication("a1"))
	e.RegisterFund("f2", "org-2", "Fund Two", fundsapi.FundVC, yuanM(1000))
	e.SetMandate("f2", testMandate())
	e.CloseFund("f1")
	if got := fundIDs(e.ApplicationBoard("a1")); !slices.Equal(got, []string{"f2"}) {
		t.Errorf("application board = %v, want f2 only", got)
	}
	if b := e.FundBoard("f1"); len(b) != 0 {
		t.Errorf("closed fund's board = %v", b)
	}
	e.OpenApplication(testApplication("a2"))
	if got := fundIDs(e.ApplicationBoard("a2")); !slices.Equal(got, []string{"f2"}) {
		t.Errorf("a new application matched %v, want f2 only", got)
	}
	if f, ok := e.Fund("f1"); !ok || f.Open {
		t.Errorf("closed fund = %+v, %v: known and closed", f, ok)
	}
}

func TestEngineDryPowderDropRemovesMatches(t *testing.T) {
	e := engineWith(testMandate(),
		testApplication("a10", func(a *applicationsapi.ApplicationSubmitted) { a.AmountRequested = yuanM(10) }),
		testApplication("a30"))
	if changed := e.SetDryPowder("f1", yuanM(20)); !slices.Equal(changed, []string{"a30"}) {
		t.Errorf("less dry powder changed %v, want a30 (lost)", changed)
	}
	if board := ids(e.FundBoard("f1")); !slices.Equal(board, []string{"a10"}) {
		t.Errorf("board = %v, want a10 only", board)
	}
	if ev := explain(t, e, "f1", "a30"); !slices.Contains(ev.Against, "dry powder ¥20m cannot cover ticket ¥30m") {
		t.Errorf("against = %q", ev.Against)
	}
	if gained := e.SetDryPowder("f1", yuanM(500)); !slices.Equal(gained, []string{"a30"}) {
		t.Errorf("more dry powder gained %v, want a30", gained)
	}
}

// TestEngineAgreesWithBruteForce drives a seeded market through every
// kind of change and checks each board against evaluating every pair:
// the index may skip work, never a match.
func TestEngineAgreesWithBruteForce(t *testing.T) {
	g := newMarket(42)
	e := NewEngine()
	g.addFunds(e, 150)
	g.addApplications(e, 1500)
	check := func(step string) {
		t.Helper()
		for fid, f := range e.funds {
			var want []string
			for aid, a := range e.apps {
				if _, ok := e.evaluate(f, a, nil); ok {
					want = append(want, aid)
				}
			}
			slices.Sort(want)
			got := ids(e.FundBoard(fid))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: fund %s board has %d, brute force %d", step, fid, len(got), len(want))
			}
		}
	}
	check("built")
	entries := boardEntries(e)
	if entries == 0 {
		t.Fatal("the market matches nothing")
	}
	for i := range 40 {
		fid := fmt.Sprintf("f%05d", g.r.IntN(150))
		switch i % 4 {
		case 0:
			e.SetMandate(fid, g.mandate())
		case 1:
			f, _ := e.Fund(fid)
			e.SetDryPowder(fid, money.FromDecimal(f.DryPowder.Decimal().Div(decimal.NewFromInt(int64(2+g.r.IntN(20))))))
		case 2:
			e.CloseApplication(fmt.Sprintf("a%06d", g.r.IntN(1500)))
			e.OpenApplication(g.application(1500 + i))
		case 3:
			e.CloseFund(fid)
		}
		check(fmt.Sprintf("change %d", i))
	}
}

// ids lists a fund board's applications.
func ids(ms []Match) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ApplicationID
	}
	return out
}

// fundIDs lists an application board's funds.
func fundIDs(ms []Match) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.FundID
	}
	return out
}
