package insuranceapi

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Validate names every bad field of a table. A table must price every
// case of each coverage type it offers, so no startup asking for that
// coverage is left without a predictable premium.
func (t RatingTable) Validate() error {
	var fe fieldErrors
	if t.InsurerID != "" {
		fe.id("insurer_id", t.InsurerID)
	}
	bands := t.checkAgeBands(&fe)
	t.checkRates(&fe, bands)
	t.checkPortfolio(&fe)
	if fe.money("minimum_premium", t.MinimumPremium) && t.MinimumPremium.IsNegative() {
		fe.Add("minimum_premium", "must not be negative")
	}
	return fe.Err("invalid rating table")
}

// checkAgeBands checks the bands start at 0, follow each other without
// gaps and end open; it returns the names of the good ones.
func (t RatingTable) checkAgeBands(fe *fieldErrors) map[string]bool {
	names := map[string]bool{}
	switch {
	case len(t.AgeBands) == 0:
		fe.Add("age_bands", "at least one age band is required")
		return names
	case len(t.AgeBands) > maxAgeBands:
		fe.Add("age_bands", fmt.Sprintf("%d bands, at most %d", len(t.AgeBands), maxAgeBands))
		return names
	}
	next := 0
	for i, b := range t.AgeBands {
		at := fmt.Sprintf("age_bands[%d]", i)
		if fe.Line(at+".name", b.Name, 40, true) {
			if names[b.Name] {
				fe.Add(at+".name", fmt.Sprintf("%q is used twice", b.Name))
			}
			names[b.Name] = true
		}
		if b.From != next {
			fe.Add(at+".from_years", fmt.Sprintf("must be %d, where the band before ends", next))
		}
		last := i == len(t.AgeBands)-1
		switch {
		case last && b.To != 0:
			fe.Add(at+".to_years", "the last band has no upper bound: leave it out")
		case !last && b.To <= b.From:
			fe.Add(at+".to_years", fmt.Sprintf("must be above from_years %d", b.From))
		}
		next = b.To
	}
	return names
}

type rateKey struct {
	c      Coverage
	k      PatentKind
	band   string
	claims ClaimsBand
}

func (t RatingTable) checkRates(fe *fieldErrors, bands map[string]bool) {
	if len(t.Rates) == 0 {
		fe.Add("rates", "at least one rate is required")
		return
	}
	if len(t.Rates) > maxRates {
		fe.Add("rates", fmt.Sprintf("%d rates, at most %d", len(t.Rates), maxRates))
		return
	}
	seen := map[rateKey]bool{}
	offered := map[Coverage]bool{}
	for i, r := range t.Rates {
		at := fmt.Sprintf("rates[%d]", i)
		enum(fe, at+".coverage", r.Coverage, Coverages)
		enum(fe, at+".patent_kind", r.PatentKind, PatentKinds)
		if !bands[r.AgeBand] {
			fe.Add(at+".age_band", fmt.Sprintf("%q is not one of the table's age bands", r.AgeBand))
		}
		enum(fe, at+".claims", r.Claims, ClaimsBands)
		fe.fraction(at+".rate", r.Rate.Decimal, maxRatePlaces, decimal.NewFromInt(1))
		key := rateKey{r.Coverage, r.PatentKind, r.AgeBand, r.Claims}
		if seen[key] {
			fe.Add(at, fmt.Sprintf("a second rate for %s, %s, %s, %s", r.Coverage, r.PatentKind, r.AgeBand, r.Claims))
		}
		seen[key] = true
		offered[r.Coverage] = true
	}
	for _, c := range Coverages {
		if !offered[c] {
			continue
		}
		for _, k := range PatentKinds {
			for _, b := range t.AgeBands {
				for _, cl := range ClaimsBands {
					if bands[b.Name] && !seen[rateKey{c, k, b.Name, cl}] {
						fe.Add("rates", fmt.Sprintf("no rate for %s, %s, %s, %s", c, k, b.Name, cl))
					}
				}
			}
		}
	}
}

func (t RatingTable) checkPortfolio(fe *fieldErrors) {
	if len(t.PortfolioFactors) > maxPortfolioFactors {
		fe.Add("portfolio_factors", fmt.Sprintf("%d factors, at most %d", len(t.PortfolioFactors), maxPortfolioFactors))
		return
	}
	prev := 1
	for i, pf := range t.PortfolioFactors {
		at := fmt.Sprintf("portfolio_factors[%d]", i)
		if pf.MinPatents <= prev {
			fe.Add(at+".min_patents", fmt.Sprintf("must be above %d", prev))
		} else {
			prev = pf.MinPatents
		}
		fe.fraction(at+".factor", pf.Factor.Decimal, maxFactorPlaces, decimal.NewFromInt(1))
	}
}
