package insurance

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// programme is Suzhou's 2026 programme: half of enforcement and
// infringement-loss premiums, at most ¥10,000 a company a year, from a
// budget of ¥30,000.
var programme = api.SubsidyProgrammeCreated{
	ProgrammeID: "sz-2026", Name: "苏州市专利保险补贴 2026", Sponsor: "Suzhou IP Office", Share: decimal.RequireFromString("0.5"),
	CapPerYear: amt("10000.00"), Budget: amt("30000.00"),
	Coverages: []api.Coverage{api.CoverageEnforcement, api.CoverageInfringementLoss}, Cities: []fundbridge.City{"suzhou"},
}

func createCmd() api.CreateSubsidyProgramme {
	return api.CreateSubsidyProgramme{
		Name: " 苏州市专利保险补贴 2026 ", Sponsor: "Suzhou IP Office", Share: "0.50", CapPerYear: amt("10000.00"), Budget: amt("30000.00"),
		Coverages: programme.Coverages, Cities: programme.Cities,
	}
}

func drawFor(policy, company, premium string) api.DrawSubsidy {
	return api.DrawSubsidy{ProgrammeID: "sz-2026", PolicyID: policy, CompanyID: company, City: "suzhou", Coverage: api.CoverageEnforcement, Premium: amt(premium), StartsOn: "2026-03-01"}
}

func drawn(policy, company, premium, whole, amount, left string) api.SubsidyDrawn {
	w, a := amt(whole), amt(amount)
	return api.SubsidyDrawn{ProgrammeID: "sz-2026", PolicyID: policy, CompanyID: company, Year: 2026, Premium: amt(premium), Whole: w, Amount: a, Capped: a.LessThan(w), BudgetLeft: amt(left)}
}

func TestCreateProgramme(t *testing.T) {
	create := func(a fundbridge.Actor, cmd api.CreateSubsidyProgramme) func(Programme) ([]events.Payload, error) {
		return func(g Programme) ([]events.Payload, error) { return decideCreateProgramme(g, a, "sz-2026", cmd) }
	}
	badShare := createCmd()
	badShare.Share = "1.5"
	check(t, programmeDecider(), []scenario[Programme]{
		{name: "by an operator", when: create(operator, createCmd()), then: []events.Payload{programme}},
		{name: "refused: a startup", when: create(founder, createCmd()), code: fundbridge.EFORBIDDEN},
		{name: "refused: an insurer", when: create(insurerA, createCmd()), code: fundbridge.EFORBIDDEN},
		{name: "refused: a share above the whole premium", when: create(operator, badShare), code: fundbridge.EINVALID, field: "share"},
		{name: "refused: twice", given: []events.Payload{programme}, when: create(operator, createCmd()), code: fundbridge.ECONFLICT},
	})
}

func TestDrawSubsidy(t *testing.T) {
	draw := func(cmd api.DrawSubsidy) func(Programme) ([]events.Payload, error) {
		return func(g Programme) ([]events.Payload, error) { return decideDraw(g, platformActor, cmd) }
	}
	first := drawn("p1", "co-1", "15000.00", "7500.00", "7500.00", "22500.00")
	// Three companies have drawn ¥25,000 of the ¥30,000.
	busy := []events.Payload{programme,
		drawn("p1", "co-1", "20000.00", "10000.00", "10000.00", "20000.00"),
		drawn("p2", "co-2", "20000.00", "10000.00", "10000.00", "10000.00"),
		drawn("p3", "co-3", "10000.00", "5000.00", "5000.00", "5000.00"),
	}
	spent := append(busy[:4:4], drawn("p4", "co-4", "20000.00", "10000.00", "5000.00", "0.00"))
	pledge := drawFor("p9", "co-9", "15000.00")
	pledge.Coverage = api.CoveragePledgeGuarantee
	beijing := drawFor("p9", "co-9", "15000.00")
	beijing.City = "beijing"
	nextYear := drawFor("p5", "co-1", "30000.00")
	nextYear.StartsOn = "2027-01-01"
	nextYearThen := drawn("p5", "co-1", "30000.00", "10000.00", "5000.00", "0.00") // the cap is whole again; the budget is not
	nextYearThen.Year = 2027
	closed := api.SubsidyProgrammeClosed{ProgrammeID: "sz-2026", Reason: "budget year over"}
	fortyPercent := programme
	fortyPercent.Share = decimal.RequireFromString("0.4")
	check(t, programmeDecider(), []scenario[Programme]{
		{name: "half the premium", given: []events.Payload{programme}, when: draw(drawFor("p1", "co-1", "15000.00")), then: []events.Payload{first}},
		{name: "half a premium in odd fen, half-up", given: []events.Payload{programme}, when: draw(drawFor("p1", "co-1", "3000.01")), then: []events.Payload{drawn("p1", "co-1", "3000.01", "1500.01", "1500.01", "28499.99")}},
		{name: "within the company's yearly cap", given: []events.Payload{programme}, when: draw(drawFor("p1", "co-1", "50000.00")), then: []events.Payload{drawn("p1", "co-1", "50000.00", "10000.00", "10000.00", "20000.00")}},
		{name: "what is left of the company's cap", given: []events.Payload{programme, first}, when: draw(drawFor("p2", "co-1", "15000.00")), then: []events.Payload{drawn("p2", "co-1", "15000.00", "2500.00", "2500.00", "20000.00")}},
		{name: "a new year, a new cap (capped by the budget)", given: busy, when: draw(nextYear), then: []events.Payload{nextYearThen}},
		{name: "capped by what is left of the budget", given: busy, when: draw(drawFor("p4", "co-4", "20000.00")), then: []events.Payload{spent[4]}},
		{name: "half a fen rounds up", given: []events.Payload{programme}, when: draw(drawFor("p1", "co-1", "0.01")), then: []events.Payload{drawn("p1", "co-1", "0.01", "0.01", "0.01", "29999.99")}},
		{name: "refused: a share that rounds to nothing", given: []events.Payload{fortyPercent}, when: draw(drawFor("p1", "co-1", "0.01")), code: fundbridge.EUNPROCESSABLE, says: "rounds to nothing"},
		{name: "the same policy again: no change", given: []events.Payload{programme, first}, when: draw(drawFor("p1", "co-1", "15000.00")), then: nil},
		{name: "refused: subsidy budget exhausted", given: spent, when: draw(drawFor("p5", "co-5", "1000.00")), code: fundbridge.EUNPROCESSABLE, says: "whole budget of ¥30,000.00"},
		{name: "refused: the company's cap used", given: busy, when: draw(drawFor("p5", "co-1", "1000.00")), code: fundbridge.EUNPROCESSABLE, says: "cap of ¥10,000.00"},
		{name: "refused: a coverage not eligible", given: []events.Payload{programme}, when: draw(pledge), code: fundbridge.EUNPROCESSABLE, says: "does not cover pledge_guarantee"},
		{name: "refused: a city not eligible", given: []events.Payload{programme}, when: draw(beijing), code: fundbridge.EUNPROCESSABLE, says: "beijing"},
		{name: "refused: closed", given: []events.Payload{programme, closed}, when: draw(drawFor("p1", "co-1", "15000.00")), code: fundbridge.ECONFLICT},
		{name: "refused: no programme", when: draw(drawFor("p1", "co-1", "15000.00")), code: fundbridge.ENOTFOUND},
		{name: "refused: a startup draws for itself", given: []events.Payload{programme}, when: func(g Programme) ([]events.Payload, error) {
			return decideDraw(g, founder, drawFor("p1", "co-1", "15000.00"))
		}, code: fundbridge.EFORBIDDEN},
	})
	_, err := decideDraw(replay(t, programmeDecider(), spent), platformActor, drawFor("p5", "co-5", "1000.00"))
	if exhausted := (*BudgetExhaustedError)(nil); !errors.As(err, &exhausted) {
		t.Errorf("a draw on a spent budget: %v, want a BudgetExhaustedError", err)
	}
}

func TestReturnAndCloseProgramme(t *testing.T) {
	ret := func(policy, amount string) func(Programme) ([]events.Payload, error) {
		return func(g Programme) ([]events.Payload, error) {
			return decideReturn(g, platformActor, api.ReturnSubsidy{ProgrammeID: "sz-2026", PolicyID: policy, Amount: amt(amount)})
		}
	}
	closeIt := func(a fundbridge.Actor) func(Programme) ([]events.Payload, error) {
		return func(g Programme) ([]events.Payload, error) {
			return decideCloseProgramme(g, a, api.CloseSubsidyProgramme{ProgrammeID: "sz-2026", Reason: "budget year over"})
		}
	}
	first := drawn("p1", "co-1", "15000.00", "7500.00", "7500.00", "22500.00")
	returned := api.SubsidyReturned{ProgrammeID: "sz-2026", PolicyID: "p1", CompanyID: "co-1", Year: 2026, Amount: amt("3719.18"), BudgetLeft: amt("26219.18")}
	closed := api.SubsidyProgrammeClosed{ProgrammeID: "sz-2026", Reason: "budget year over"}
	check(t, programmeDecider(), []scenario[Programme]{
		{name: "a refunded share goes back to the budget", given: []events.Payload{programme, first}, when: ret("p1", "3719.18"), then: []events.Payload{returned}},
		{name: "again: no change", given: []events.Payload{programme, first, returned}, when: ret("p1", "3719.18"), then: nil},
		{name: "refused: more than was drawn", given: []events.Payload{programme, first}, when: ret("p1", "7500.01"), code: fundbridge.EUNPROCESSABLE},
		{name: "refused: a policy that drew nothing", given: []events.Payload{programme, first}, when: ret("p2", "1.00"), code: fundbridge.ENOTFOUND},
		{name: "closed by an operator", given: []events.Payload{programme}, when: closeIt(operator), then: []events.Payload{closed}},
		{name: "closed again: no change", given: []events.Payload{programme, closed}, when: closeIt(operator), then: nil},
		{name: "refused: closed by an insurer", given: []events.Payload{programme}, when: closeIt(insurerA), code: fundbridge.EFORBIDDEN},
	})
	g := replay(t, programmeDecider(), []events.Payload{programme, first, returned})
	if !g.Left().Equal(amt("26219.18")) || !g.usedBy("co-1", 2026).Equal(amt("3780.82")) {
		t.Errorf("after a return: left %s, co-1 used %s", g.Left(), g.usedBy("co-1", 2026))
	}
}

func TestPublishRatingTable(t *testing.T) {
	publish := func(a fundbridge.Actor, cmd api.PublishRatingTable) func(TableState) ([]events.Payload, error) {
		return func(s TableState) ([]events.Payload, error) { return decidePublishTable(s, a, cmd) }
	}
	table := api.SampleRatingTable("")
	published := api.RatingTablePublished{InsurerID: "ins-a", Table: api.SampleRatingTable("ins-a")}
	dearer := api.SampleRatingTable("ins-a")
	dearer.MinimumPremium = amt("5000.00")
	broken := api.SampleRatingTable("")
	broken.Rates = broken.Rates[1:]
	check(t, tableDecider(), []scenario[TableState]{
		{name: "an insurer publishes its own", when: publish(insurerA, api.PublishRatingTable{Table: table}), then: []events.Payload{published}},
		{name: "an operator for an insurer", when: publish(operator, api.PublishRatingTable{InsurerID: "ins-a", Table: table}), then: []events.Payload{published}},
		{name: "the same table again: no change", given: []events.Payload{published}, when: publish(insurerA, api.PublishRatingTable{Table: table}), then: nil},
		{name: "a new table replaces it", given: []events.Payload{published}, when: publish(insurerA, api.PublishRatingTable{Table: dearer}), then: []events.Payload{api.RatingTablePublished{InsurerID: "ins-a", Table: dearer}}},
		{name: "refused: a rate missing", when: publish(insurerA, api.PublishRatingTable{Table: broken}), code: fundbridge.EINVALID, field: "table.rates"},
		{name: "refused: another insurer's table", when: publish(insurerB, api.PublishRatingTable{Table: api.SampleRatingTable("ins-a")}), code: fundbridge.EINVALID, field: "table.insurer_id"},
		{name: "refused: for another insurer", when: publish(insurerB, api.PublishRatingTable{InsurerID: "ins-a", Table: table}), code: fundbridge.EFORBIDDEN},
		{name: "refused: a startup", when: publish(founder, api.PublishRatingTable{Table: table}), code: fundbridge.EFORBIDDEN},
	})
}
