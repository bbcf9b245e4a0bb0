package matching

import (
	"fmt"
	"slices"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

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
