package matching

import (
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

// evaluate applies the hard filters and scores a pair. With why nil it
// stops at the first failed filter and builds no text: the hot path.
// With why set it checks everything and explains each finding.
//
// The score adds up to 100 for a perfect fit: stage in mandate 10; sector
// listed 25, its layer listed 15, any sector 10; ticket centrality in the
// range 20 down to 4 at the edges; dry powder over 10x/5x/2x the ticket
// 15/12/8, else 4; city listed 10, any city 7; ownership at the valuation
// ask within the maximum 20, no maximum 15, no ask 10, above it 0.
func (e *Engine) evaluate(f *fund, a *app, why *Evaluation) (int, bool) {
	if !f.info.Open || f.m == nil {
		if why != nil {
			if !f.info.Open {
				why.con("fund_closed", "fund is closed")
			} else {
				why.con("fund_no_mandate", "fund has no mandate yet")
			}
		}
		return 0, false
	}
	m := f.m
	// The hot path rejects on the bit filters before touching decimals,
	// whose digits live elsewhere in memory.
	if why == nil && (a.stageBit&m.stages == 0 || !a.equity || m.restrictCities && a.cityBit&m.cities == 0) {
		return 0, false
	}
	s := score{why: why, ok: true}
	if !s.add(stageFit(m, a, why)) || !s.add(sectorFit(m, a, why)) || !s.add(companyFit(m, a, why)) {
		return 0, false
	}
	points, fits, need := ticketFit(m, a, why)
	if !s.add(points, fits) || !s.add(dryPowderFit(f, m, a, need, why)) || !s.add(cityFit(m, a, why)) ||
		!s.add(instrumentFit(a, why)) || !s.add(ownershipFit(m, a, why)) || !s.ok {
		return 0, false
	}
	return s.total, true
}

// score adds up a pair's criteria.
type score struct {
	total int
	ok    bool
	why   *Evaluation
}

// add counts one criterion's points. It reports whether to go on: a
// failed criterion ends a quiet evaluation, while an explained one goes
// through them all.
func (s *score) add(points int, fits bool) bool {
	s.total += points
	if !fits {
		s.ok = false
		return s.why != nil
	}
	return true
}

// Each criterion below returns its points and whether the pair passes it,
// and says why only when why is not nil (no text on the hot path).

func stageFit(m *mandate, a *app, why *Evaluation) (int, bool) {
	if a.stageBit&m.stages == 0 {
		if why != nil {
			why.con("stage_not_in_mandate", "stage %s is not in mandate (%s)", a.info.Stage, listOf(m.src.Stages))
		}
		return 0, false
	}
	if why != nil {
		why.pro("stage_in_mandate", "stage %s is in mandate", a.info.Stage)
	}
	return 10, true
}

func sectorFit(m *mandate, a *app, why *Evaluation) (int, bool) {
	switch {
	case a.sectorBit&m.excluded != 0:
		if why != nil {
			why.con("sector_excluded", "sector %s is excluded by mandate", a.info.Sector)
		}
		return 0, false
	case m.sectors == 0 && m.layers == 0:
		if why != nil {
			why.pro("mandate_any_sector", "mandate is open to any sector")
		}
		return 10, true
	case a.sectorBit&m.sectors != 0:
		if why != nil {
			why.pro("sector_in_focus", "sector %s is a focus sector", a.info.Sector)
		}
		return 25, true
	case a.layerBit&m.layers != 0:
		if why != nil {
			why.pro("layer_in_mandate", "layer %s is in mandate (sector %s not listed by name)", a.info.Layer, a.info.Sector)
		}
		return 15, true
	}
	if why != nil {
		why.con("sector_outside_mandate", "sector %s is outside mandate (%s)", a.info.Sector, focus(m.src))
	}
	return 0, false
}

func companyFit(m *mandate, a *app, why *Evaluation) (int, bool) {
	if _, excluded := m.excludedCompanies[a.info.CompanyID]; !excluded {
		return 0, true
	}
	if why != nil {
		why.con("company_excluded", "company %s is excluded by mandate", a.info.CompanyID)
	}
	return 0, false
}

// ticketFit also returns what the fund would have to put in: the ticket,
// or the fund's maximum when the ticket is above it.
func ticketFit(m *mandate, a *app, why *Evaluation) (points int, fits bool, need int64) {
	switch {
	case a.amount < m.min:
		if why != nil {
			why.con("ticket_below_minimum", "ticket %s below fund minimum %s", human(a.info.Amount), human(m.src.TicketMin))
		}
		return 0, false, a.amount
	case a.amount > m.max:
		if why != nil {
			why.con("ticket_above_maximum", "ticket %s above fund maximum %s", human(a.info.Amount), human(m.src.TicketMax))
		}
		return 0, false, m.max
	}
	k := 0
	for k < centralityBands-1 && (a.amount < m.lo[k] || a.amount > m.hi[k]) {
		k++
	}
	if why != nil {
		rng := amountRange{m.src.TicketMin, m.src.TicketMax}
		switch {
		case k <= 1:
			why.pro("ticket_central", "ticket %s sits near the middle of fund range %s", human(a.info.Amount), rng)
		case k < centralityBands-1:
			why.pro("ticket_within_range", "ticket %s is within fund range %s", human(a.info.Amount), rng)
		default:
			why.con("ticket_at_edge", "ticket %s is at the edge of fund range %s", human(a.info.Amount), rng)
		}
	}
	return 20 - 4*k, true, a.amount
}

func dryPowderFit(f *fund, m *mandate, a *app, need int64, why *Evaluation) (int, bool) {
	dry := human(f.info.DryPowder)
	switch {
	case f.dry < m.min:
		if why != nil {
			why.con("dry_powder_below_minimum", "dry powder %s below fund minimum ticket %s", dry, human(m.src.TicketMin))
		}
		return 0, false
	case f.dry < need:
		if why != nil {
			why.con("dry_powder_short", "dry powder %s cannot cover ticket %s", dry, human(yuanOf(need)))
		}
		return 0, false
	case f.dry >= a.x10:
		if why != nil {
			why.pro("dry_powder_10x", "dry powder %s is over 10x the ticket", dry)
		}
		return 15, true
	case f.dry >= a.x5:
		if why != nil {
			why.pro("dry_powder_5x", "dry powder %s is over 5x the ticket", dry)
		}
		return 12, true
	case f.dry >= a.x2:
		if why != nil {
			why.pro("dry_powder_2x", "dry powder %s is over 2x the ticket", dry)
		}
		return 8, true
	}
	if why != nil {
		why.con("dry_powder_tight", "dry powder %s leaves little headroom over ticket %s", dry, human(a.info.Amount))
	}
	return 4, true
}

func cityFit(m *mandate, a *app, why *Evaluation) (int, bool) {
	switch {
	case !m.restrictCities:
		if why != nil {
			why.pro("mandate_any_city", "mandate takes any city")
		}
		return 7, true
	case a.cityBit&m.cities != 0:
		if why != nil {
			why.pro("city_in_mandate", "city %s is a mandate city", a.info.City)
		}
		return 10, true
	}
	if why != nil {
		why.con("city_outside_mandate", "city %s is outside mandate cities (%s)", a.info.City, listOf(m.src.Cities))
	}
	return 0, false
}

func instrumentFit(a *app, why *Evaluation) (int, bool) {
	if !a.equity {
		if why != nil {
			why.con("wants_no_equity", "wants %s; the fund invests equity", listOf(a.info.Instruments))
		}
		return 0, false
	}
	if why != nil {
		why.pro("wants_instruments", "wants %s", listOf(a.info.Instruments))
	}
	return 0, true
}

// ownershipFit never fails a pair: ownership above the fund's maximum
// scores nothing, and the term sheet's own check refuses it later.
func ownershipFit(m *mandate, a *app, why *Evaluation) (int, bool) {
	switch {
	case !a.hasOwn:
		if why != nil {
			why.con("no_valuation_ask", "no valuation ask yet to check ownership against")
		}
		return 10, true
	case !m.capsOwnership:
		if why != nil {
			why.pro("ownership_no_maximum", "ownership %s at the valuation ask; the fund sets no maximum", pct(a.own))
		}
		return 15, true
	case a.ownE10 <= m.maxOwnE10:
		if why != nil {
			why.pro("ownership_within_maximum", "ownership %s at the valuation ask is within fund maximum %s", pct(a.own), pct(m.maxOwn))
		}
		return 20, true
	}
	if why != nil {
		why.con("ownership_above_maximum", "ownership %s at the valuation ask is above fund maximum %s", pct(a.own), pct(m.maxOwn))
	}
	return 0, true
}

// Explain evaluates a fund against an open application with reasons.
// ok is false when either is unknown or the application is not open.
func (e *Engine) Explain(fundID, applicationID string) (ev Evaluation, ok bool) {
	f, a := e.funds[fundID], e.apps[applicationID]
	if f == nil || a == nil {
		return Evaluation{}, false
	}
	ev = Evaluation{FundID: fundID, ApplicationID: applicationID, For: []string{}, Against: []string{}}
	ev.Score, ev.Matches = e.evaluate(f, a, &ev)
	return ev, true
}

// percent shows a fraction as a percentage with two places: "16.67%".
func percent(d decimal.Decimal) string {
	return d.Shift(2).StringFixed(2) + "%"
}

func list[T ~string](vs []T) string {
	if len(vs) == 0 {
		return "none"
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = string(v)
	}
	return strings.Join(parts, ", ")
}

// focus describes what sectors a mandate names.
func focus(m fundsapi.Mandate) string {
	var parts []string
	if len(m.Sectors) > 0 {
		parts = append(parts, "sectors "+list(m.Sectors))
	}
	if len(m.Layers) > 0 {
		parts = append(parts, "layers "+list(m.Layers))
	}
	return strings.Join(parts, "; ")
}
