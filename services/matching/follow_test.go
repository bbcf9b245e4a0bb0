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

// The user's report: a company moved from growth to expansion after
// applying. Its application stayed on a growth-only fund's board with the
// reason "stage growth is in mandate", and five expansion-stage funds it
// fits did not list it.
func TestEngineFollowsTheCompanyFromGrowthToExpansion(t *testing.T) {
	// Given a growth-only fund, five expansion funds, and a growth company's
	// application matching the growth fund only.
	e := NewEngine()
	e.RegisterFund("growth", "org-g", "Growth Fund", fundsapi.FundVC, yuanM(1000))
	e.SetMandate("growth", testMandate(func(m *fundsapi.Mandate) { m.Stages = []fundbridge.Stage{fundbridge.StageGrowth} }))
	var expansion []string
	for i := range 5 {
		id := fmt.Sprintf("expansion-%d", i)
		expansion = append(expansion, id)
		e.RegisterFund(id, "org-e", "Expansion Fund", fundsapi.FundPE, yuanM(1000))
		e.SetMandate(id, testMandate(func(m *fundsapi.Mandate) { m.Stages = []fundbridge.Stage{fundbridge.StageExpansion} }))
	}
	e.OpenApplication(testApplication("a1"))
	if got := fundIDs(e.ApplicationBoard("a1")); !slices.Equal(got, []string{"growth"}) {
		t.Fatalf("before the move the application matches %v, want the growth fund", got)
	}

	// When the company moves to expansion.
	moved := e.MoveCompany("c-a1", func(s applicationsapi.Slice) applicationsapi.Slice {
		s.Stage = fundbridge.StageExpansion
		return s
	})

	// Then it leaves the growth fund's board and joins the five expansion
	// funds' boards, with reasons that name its stage now.
	if !slices.Equal(moved, []string{"a1"}) {
		t.Errorf("moved %v, want a1", moved)
	}
	got := fundIDs(e.ApplicationBoard("a1"))
	slices.Sort(got)
	if !slices.Equal(got, expansion) {
		t.Errorf("after the move the application matches %v, want the five expansion funds", got)
	}
	if board := ids(e.FundBoard("growth")); len(board) != 0 {
		t.Errorf("the growth-only fund still lists %v", board)
	}
	for _, f := range expansion {
		if board := ids(e.FundBoard(f)); !slices.Equal(board, []string{"a1"}) {
			t.Errorf("fund %s lists %v, want a1", f, board)
		}
		ev := explain(t, e, f, "a1")
		if !slices.Contains(ev.For, "stage expansion is in mandate") {
			t.Errorf("fund %s reasons for: %v; want the stage as it is now", f, ev.For)
		}
	}
	ev := explain(t, e, "growth", "a1")
	if ev.Matches || !slices.Contains(ev.Against, "stage expansion is not in mandate (growth)") {
		t.Errorf("growth fund: matches %v, against %v", ev.Matches, ev.Against)
	}
	if a, _ := e.Application("a1"); a.Stage != fundbridge.StageExpansion || a.CompanyID != "c-a1" {
		t.Errorf("the application shows stage %s, company %s", a.Stage, a.CompanyID)
	}
}

func TestEngineFollowsTheCompanysSectorAndCity(t *testing.T) {
	// Given a Beijing computer-vision fund and an application that fits it.
	e := engineWith(testMandate(), testApplication("a1"), testApplication("other"))
	// When the company moves to Chengdu: the fund restricts cities.
	e.MoveCompany("c-a1", func(s applicationsapi.Slice) applicationsapi.Slice { s.City = "chengdu"; return s })
	// Then it leaves the board; the other company's application stays.
	if board := ids(e.FundBoard("f1")); !slices.Equal(board, []string{"other"}) {
		t.Fatalf("board = %v, want only the other application", board)
	}
	// When it comes back to Shanghai and turns to NLP, a sector the fund
	// does not name but whose layer (technology) a mandate can take.
	e.MoveCompany("c-a1", func(s applicationsapi.Slice) applicationsapi.Slice { s.City, s.Sector = "shanghai", "nlp"; return s })
	if board := ids(e.FundBoard("f1")); !slices.Equal(board, []string{"other"}) {
		t.Fatalf("board = %v: NLP is outside a computer-vision mandate", board)
	}
	e.SetMandate("f1", testMandate(func(m *fundsapi.Mandate) { m.Sectors, m.Layers = nil, []fundbridge.Layer{fundbridge.LayerTechnology} }))
	// Then a mandate naming the technology layer admits it.
	if board := ids(e.FundBoard("f1")); !slices.Contains(board, "a1") {
		t.Fatalf("board = %v: the technology layer admits NLP", board)
	}
	if ev := explain(t, e, "f1", "a1"); !slices.Contains(ev.For, "layer technology is in mandate (sector nlp not listed by name)") {
		t.Errorf("reasons for: %v", ev.For)
	}
	// A company with no open application moves nothing.
	if moved := e.MoveCompany("nobody", func(s applicationsapi.Slice) applicationsapi.Slice { return s }); len(moved) != 0 {
		t.Errorf("moved %v", moved)
	}
	// A closed application does not follow its company.
	e.CloseApplication("a1")
	if moved := e.MoveCompany("c-a1", func(s applicationsapi.Slice) applicationsapi.Slice { return s }); len(moved) != 0 {
		t.Errorf("a closed application moved: %v", moved)
	}
}

func TestEngineMandateChangeReportsGainedAndLost(t *testing.T) {
	// Given a fund matching a1 but not a2 (NLP).
	e := engineWith(testMandate(), testApplication("a1"), testApplication("a2", func(a *applicationsapi.ApplicationSubmitted) { a.Sector = "nlp" }))
	// When its mandate moves from computer vision to NLP.
	changed := e.SetMandate("f1", testMandate(func(m *fundsapi.Mandate) { m.Sectors = []fundbridge.Sector{"nlp"} }))
	// Then both applications' matches changed.
	slices.Sort(changed)
	if !slices.Equal(changed, []string{"a1", "a2"}) {
		t.Errorf("changed = %v, want a1 (lost) and a2 (gained)", changed)
	}
	// When the fund closes, a2 loses it.
	if changed := e.CloseFund("f1"); !slices.Equal(changed, []string{"a2"}) {
		t.Errorf("closing changed %v, want a2", changed)
	}
	// When dry powder falls below the ticket, the match is lost.
	e = engineWith(testMandate(), testApplication("a1"))
	if changed := e.SetDryPowder("f1", yuanM(20)); !slices.Equal(changed, []string{"a1"}) {
		t.Errorf("a dry-powder drop changed %v, want a1", changed)
	}
}

// The property: whatever happens (mandates, dry powder, funds closing,
// programmes published and withdrawn, applications opening and closing,
// companies moving), every fund's and programme's board, every
// application's matches and its pairs are exactly what evaluating the
// current state from scratch gives.
func TestEngineMatchesAreAlwaysTheCurrentOnes(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		g := newMarket(seed)
		e := NewEngine()
		g.addFunds(e, 120)
		g.addProgrammes(e, 40)
		g.addApplications(e, 800)
		sectors := fundbridge.AllSectors()
		for i := range 300 {
			fid := fmt.Sprintf("f%05d", g.r.IntN(120))
			switch g.r.IntN(8) {
			case 6:
				bank, p := g.programme(g.r.IntN(60))
				e.PublishProgramme(bank, p)
			case 7:
				bank, p := g.programme(g.r.IntN(60))
				e.WithdrawProgramme(bank, p.ProgrammeID)
			case 0:
				e.SetMandate(fid, g.mandate())
			case 1:
				f, _ := e.Fund(fid)
				e.SetDryPowder(fid, money.FromDecimal(f.DryPowder.Decimal().Mul(decimal.NewFromFloat(0.2+g.r.Float64()*1.6)).Round(2)))
			case 2:
				e.CloseApplication(fmt.Sprintf("a%06d", g.r.IntN(800)))
				e.OpenApplication(g.application(800 + i))
			case 3:
				if g.r.IntN(4) == 0 {
					e.CloseFund(fid)
				}
			default:
				sector := sectors[g.r.IntN(len(sectors))]
				stage, city := g.stage(), g.city()
				e.MoveCompany(fmt.Sprintf("c%d", g.r.IntN(800+i)), func(s applicationsapi.Slice) applicationsapi.Slice {
					switch g.r.IntN(3) {
					case 0:
						s.Stage = stage
					case 1:
						s.Layer, s.Sector = sector.Layer(), sector
					default:
						s.City = city
					}
					return s
				})
			}
			if i%25 == 24 {
				checkAgainstScratch(t, e, fmt.Sprintf("seed %d, step %d", seed, i))
			}
		}
	}
}

// checkAgainstScratch rebuilds an engine from the current funds and
// applications and compares every board both ways.
func checkAgainstScratch(t *testing.T, e *Engine, step string) {
	t.Helper()
	fresh := NewEngine()
	for id, f := range e.funds {
		fresh.RegisterFund(id, f.info.ManagerOrg, f.info.Name, f.info.Type, f.info.CommittedCapital)
		fresh.SetDryPowder(id, f.info.DryPowder)
		if f.info.Mandate != nil {
			fresh.SetMandate(id, *f.info.Mandate)
		}
		if !f.info.Open {
			fresh.CloseFund(id)
		}
	}
	for _, p := range e.progList {
		fresh.PublishProgramme(p.info.BankID, p.info.Programme)
	}
	for _, a := range e.apps {
		fresh.OpenApplication(a.src)
	}
	for _, p := range e.progList {
		if got, want := e.ProgrammeBoard(p.info.BankID, p.info.ProgrammeID), fresh.ProgrammeBoard(p.info.BankID, p.info.ProgrammeID); !slices.Equal(got, want) {
			t.Fatalf("%s: programme %s board has %d matches, from scratch %d", step, p.info.ProgrammeID, len(got), len(want))
		}
	}
	for id := range e.funds {
		if got, want := e.FundBoard(id), fresh.FundBoard(id); !slices.Equal(got, want) {
			t.Fatalf("%s: fund %s board has %d matches, from scratch %d", step, id, len(got), len(want))
		}
	}
	for id := range e.apps {
		if got, want := e.ApplicationBoard(id), fresh.ApplicationBoard(id); !slices.Equal(got, want) {
			t.Fatalf("%s: application %s matches %v, from scratch %v", step, id, fundIDs(got), fundIDs(want))
		}
		if got, want := e.Pairs(id, 20, nil), fresh.Pairs(id, 20, nil); !slices.Equal(got, want) {
			t.Fatalf("%s: application %s pairs %v, from scratch %v", step, id, got, want)
		}
	}
}

// The benchmark's baseline and the engine agree on the pairs, on a small
// market, so the figures compare the same work.
func TestBenchLoanPlusEquityAgreesWithBruteForce(t *testing.T) {
	rs, err := BenchLoanPlusEquity(t.Context(), BenchConfig{Funds: 300, Programmes: 60, Open: 300, Batch: 20, Rounds: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Pairs != 5 || rs[0].Baseline <= 0 || rs[0].Met == nil {
		t.Fatalf("results = %+v", rs)
	}
	g := newMarket(9)
	e := NewEngine()
	g.addFunds(e, 300)
	g.addProgrammes(e, 60)
	paired := 0
	for i := range 200 {
		s := g.application(i)
		s.Instruments, s.CreditDataConsent = []fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}, true
		e.OpenApplication(s)
		got, want := e.Pairs(s.ApplicationID, 20, nil), e.bruteForcePairs(s, 20)
		if !slices.Equal(got, want) {
			t.Fatalf("application %s: pairs %v, brute force %v", s.ApplicationID, got, want)
		}
		if len(got) > 0 {
			paired++
		}
	}
	if paired < 20 {
		t.Errorf("only %d of 200 applications have pairs: the market is too thin to test", paired)
	}
}
