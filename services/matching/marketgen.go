package matching

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

// A seeded market for the engine's tests and benchmarks (and `fundbridge
// bench matching`), so that every figure is measured on the same kind of
// market.

// market generates a seeded, realistic market: funds that specialise in
// one or two stages, a few sectors or a layer, sometimes some cities,
// with ticket ranges typical of their stages; applications spread over
// stages, sectors and cities with amounts typical of their stage.
type market struct{ r *rand.Rand }

func newMarket(seed uint64) *market {
	return &market{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// stageTicket is the typical round of a stage, in yuan.
func stageTicket(s fundbridge.Stage) (lo, hi float64) {
	switch s {
	case fundbridge.StageSeed:
		return 500e3, 5e6
	case fundbridge.StageStartup:
		return 2e6, 20e6
	case fundbridge.StageGrowth:
		return 10e6, 100e6
	case fundbridge.StageExpansion:
		return 50e6, 300e6
	}
	return 100e6, 1e9
}

func (g *market) stage() fundbridge.Stage {
	w := g.r.IntN(100)
	switch {
	case w < 30:
		return fundbridge.StageSeed
	case w < 60:
		return fundbridge.StageStartup
	case w < 80:
		return fundbridge.StageGrowth
	case w < 92:
		return fundbridge.StageExpansion
	}
	return fundbridge.StagePreIPO
}

// city favours the big five, as the market does.
func (g *market) city() fundbridge.City {
	if g.r.IntN(100) < 60 {
		return fundbridge.Cities[g.r.IntN(5)]
	}
	return fundbridge.Cities[g.r.IntN(len(fundbridge.Cities))]
}

// yuan is a log-uniform amount in [lo, hi], rounded to ¥10k.
func (g *market) yuan(lo, hi float64) money.Amount {
	v := math.Exp(math.Log(lo) + g.r.Float64()*(math.Log(hi)-math.Log(lo)))
	return money.Yuan(int64(v/10e3) * 10e3)
}

func (g *market) pick(n int, from func() string) []string {
	var out []string
	for len(out) < n {
		if s := from(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func asEnum[T ~string](ss []string) []T {
	out := make([]T, len(ss))
	for i, s := range ss {
		out[i] = T(s)
	}
	return out
}

func (g *market) mandate() fundsapi.Mandate {
	sectors := fundbridge.AllSectors()
	primary := g.stage()
	i := slices.Index(fundbridge.Stages, primary)
	m := fundsapi.Mandate{Stages: []fundbridge.Stage{primary}}
	if w := g.r.IntN(100); w < 50 && i+1 < len(fundbridge.Stages) {
		m.Stages = append(m.Stages, fundbridge.Stages[i+1])
	} else if w < 60 && i > 0 {
		m.Stages = append(m.Stages, fundbridge.Stages[i-1])
	}
	lo, hi := stageTicket(primary)
	m.TicketMin = g.yuan(lo, hi/2)
	m.TicketMax = money.FromDecimal(m.TicketMin.Decimal().Mul(decimal.NewFromFloat(2 + 3*g.r.Float64())))
	switch w := g.r.IntN(100); {
	case w < 20: // any sector
	case w < 45:
		m.Layers = []fundbridge.Layer{fundbridge.Layers[g.r.IntN(len(fundbridge.Layers))]}
	default:
		m.Sectors = asEnum[fundbridge.Sector](g.pick(1+g.r.IntN(4), func() string { return string(sectors[g.r.IntN(len(sectors))]) }))
	}
	if g.r.IntN(100) < 10 {
		m.ExcludedSectors = []fundbridge.Sector{sectors[g.r.IntN(len(sectors))]}
	}
	if g.r.IntN(100) < 45 {
		m.Cities = asEnum[fundbridge.City](g.pick(1+g.r.IntN(3), func() string { return string(g.city()) }))
	}
	if g.r.IntN(100) < 5 {
		m.ExcludedCompanies = []string{fmt.Sprintf("c%d", g.r.IntN(100_000))}
	}
	m.MaxOwnership = decimal.New(int64(10+g.r.IntN(21)), -2)
	return m
}

// fund returns a fund's ID, org, committed capital and mandate.
func (g *market) fund(i int) (id, org string, committed money.Amount, m fundsapi.Mandate) {
	m = g.mandate()
	committed = money.FromDecimal(m.TicketMax.Decimal().Mul(decimal.NewFromInt(int64(10 + g.r.IntN(31)))))
	return fmt.Sprintf("f%05d", i), fmt.Sprintf("org%04d", i/3), committed, m
}

func (g *market) application(i int) applicationsapi.ApplicationSubmitted {
	sectors := fundbridge.AllSectors()
	stage := g.stage()
	sector := sectors[g.r.IntN(len(sectors))]
	lo, hi := stageTicket(stage)
	s := applicationsapi.ApplicationSubmitted{
		ApplicationID: fmt.Sprintf("a%06d", i),
		CompanyName:   fmt.Sprintf("Company %d", i),
		Slice:         applicationsapi.Slice{CompanyID: fmt.Sprintf("c%d", i), Stage: stage, Layer: sector.Layer(), Sector: sector, City: g.city()},
	}
	s.AmountRequested = g.yuan(lo, hi)
	s.CreditDataConsent = i%3 != 0 // from the index, so the random stream is what it always was
	switch w := g.r.IntN(100); {
	case w < 55:
		s.Instruments = []fundbridge.Instrument{fundbridge.InstrumentEquity}
	case w < 70:
		s.Instruments = []fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}
	case w < 75:
		s.Instruments = []fundbridge.Instrument{fundbridge.InstrumentEquity, fundbridge.InstrumentVentureLoan}
	case w < 90:
		s.Instruments = []fundbridge.Instrument{fundbridge.InstrumentVentureLoan}
	default:
		s.Instruments = []fundbridge.Instrument{fundbridge.InstrumentPatentInsurance}
	}
	if g.r.IntN(100) < 60 {
		v := money.FromDecimal(s.AmountRequested.Decimal().Mul(decimal.NewFromInt(int64(3 + g.r.IntN(13)))))
		s.ValuationAsk = &v
	}
	return s
}

func (g *market) addFunds(e *Engine, n int) {
	for i := range n {
		id, org, committed, m := g.fund(i)
		e.RegisterFund(id, org, "Fund "+id, fundsapi.FundVC, committed)
		e.SetMandate(id, m)
	}
}

func (g *market) addApplications(e *Engine, n int) {
	for i := range n {
		e.OpenApplication(g.application(i))
	}
}

// programme generates a bank's lending programme: one to three stages
// around a primary one, a layer, a few sectors or any, sometimes cities,
// a loan range typical of its stages, sometimes requiring an equity
// partner or consent to credit data.
func (g *market) programme(i int) (bankID string, p dealsapi.Programme) {
	sectors := fundbridge.AllSectors()
	primary := g.stage()
	s := slices.Index(fundbridge.Stages, primary)
	p = dealsapi.Programme{ProgrammeID: fmt.Sprintf("p%05d", i), Name: fmt.Sprintf("Programme %d", i), Stages: []fundbridge.Stage{primary}}
	if s+1 < len(fundbridge.Stages) && g.r.IntN(2) == 0 {
		p.Stages = append(p.Stages, fundbridge.Stages[s+1])
	}
	lo, hi := stageTicket(primary)
	p.LoanMin = g.yuan(lo/2, hi/4)
	p.LoanMax = g.yuan(hi/2, hi*2)
	switch w := g.r.IntN(100); {
	case w < 30:
	case w < 60:
		p.Layers = []fundbridge.Layer{fundbridge.Layers[g.r.IntN(len(fundbridge.Layers))]}
	default:
		p.Sectors = asEnum[fundbridge.Sector](g.pick(1+g.r.IntN(4), func() string { return string(sectors[g.r.IntN(len(sectors))]) }))
	}
	if g.r.IntN(100) < 40 {
		p.Cities = asEnum[fundbridge.City](g.pick(1+g.r.IntN(3), func() string { return string(g.city()) }))
	}
	p.MaxMonths = 12 * (1 + g.r.IntN(5))
	p.RequiresEquityPartner = g.r.IntN(100) < 40
	p.NeedsCreditConsent = g.r.IntN(100) < 50
	return fmt.Sprintf("b%04d", i/4), p
}

func (g *market) addProgrammes(e *Engine, n int) {
	for i := range n {
		bank, p := g.programme(i)
		e.PublishProgramme(bank, p)
	}
}
