package insuranceapi

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
)

// QuoteBandPercent is how far an insurer's quote may stray from the
// premium its own published table gives: at most 20% below or above. The
// table lets a startup predict its premium; the band lets the insurer
// price what the table cannot see, without making the table meaningless.
const QuoteBandPercent = 20

// Limits on a rating table, so that one table stays a small event.
const (
	maxAgeBands         = 20
	maxRates            = 2000
	maxPortfolioFactors = 20
	maxRatePlaces       = 6
	maxFactorPlaces     = 4
)

// RatingTable is an insurer's published price list: the annual rate for
// each coverage type, patent kind, patent age band and claims-history
// band, a discount for insuring several patents at once, and a minimum
// premium. It is served as is by GET /api/v1/insurers/{id}/rating-table.
type RatingTable struct {
	InsurerID string `json:"insurer_id"`
	// AgeBands group patents by whole years from filing to the policy's
	// first day; they start at 0 and follow each other without gaps, and
	// the last has no upper bound.
	AgeBands []AgeBand `json:"age_bands"`
	// Rates are annual, as a fraction of the sum insured ("0.0150" is
	// 1.5%). Every coverage type the insurer offers has a rate for every
	// patent kind, age band and claims band.
	Rates []Rate `json:"rates"`
	// PortfolioFactors discount a policy on several patents: the factor
	// with the largest MinPatents not above the count applies; none, 1.
	PortfolioFactors []PortfolioFactor `json:"portfolio_factors,omitempty"`
	// MinimumPremium is the least the insurer writes a policy for.
	MinimumPremium money.Amount `json:"minimum_premium"`
}

// AgeBand is a range of patent ages in whole years: From ≤ age < To, and
// no upper bound when To is 0.
type AgeBand struct {
	Name string `json:"name"`
	// From is the band's lowest patent age in whole years (inclusive).
	From int `json:"from_years"`
	// To is the age in whole years the band ends before (exclusive); 0 or absent for no upper bound.
	To int `json:"to_years,omitempty"`
}

func (b AgeBand) holds(age int) bool { return age >= b.From && (b.To == 0 || age < b.To) }

// Rate is one cell of the table.
type Rate struct {
	// Coverage is the coverage type the rate prices.
	Coverage Coverage `json:"coverage"`
	// PatentKind is the kind of patent: invention, utility_model or design.
	PatentKind PatentKind `json:"patent_kind"`
	// AgeBand is the name of one of the table's age bands.
	AgeBand string `json:"age_band"`
	// Claims is the claims-history band: none, one or several claims paid in the three years before the request.
	Claims ClaimsBand `json:"claims"`
	// Rate is the annual rate, a fraction of the sum insured ("0.0150" is 1.5%).
	Rate Fraction `json:"rate"`
}

// PortfolioFactor multiplies the premium of a policy on at least
// MinPatents patents.
type PortfolioFactor struct {
	// MinPatents is the fewest patents a policy must insure for the factor to apply (inclusive).
	MinPatents int `json:"min_patents"`
	// Factor multiplies the premium, a decimal fraction ("0.90" is a 10% discount).
	Factor Fraction `json:"factor"`
}

// RatedPatent is what the table prices about one patent.
type RatedPatent struct {
	Number  string     `json:"number"`
	Kind    PatentKind `json:"kind"`
	FiledOn time.Time  `json:"filed_on"`
}

// PremiumInput is everything a premium depends on.
type PremiumInput struct {
	Coverage   Coverage
	Patents    []RatedPatent
	Claims     ClaimsBand
	SumInsured money.Amount
	StartsOn   time.Time
	Months     int
}

// Premium is a premium and how the table gave it, so that a startup (and
// an auditor) can follow the sum.
type Premium struct {
	// Rate is the governing annual rate: a policy on several patents is
	// rated on the riskiest of them, whose number and age band follow.
	Rate            decimal.Decimal `json:"rate"`
	GoverningPatent string          `json:"governing_patent"`
	AgeBand         string          `json:"age_band"`
	PortfolioFactor decimal.Decimal `json:"portfolio_factor"`
	// PeriodFactor is months/12, as a fraction string ("12/12").
	PeriodFactor   string       `json:"period_factor"`
	Computed       money.Amount `json:"computed"` // rate × sum insured × factors, half-up to the fen
	MinimumApplied bool         `json:"minimum_applied"`
	Amount         money.Amount `json:"amount"` // the premium: Computed, or the minimum if higher
}

// AgeYears is a patent's age in whole years from filing to on.
func AgeYears(filed, on time.Time) int {
	years := on.Year() - filed.Year()
	if on.Month() < filed.Month() || on.Month() == filed.Month() && on.Day() < filed.Day() {
		years--
	}
	return max(years, 0)
}

// Premium prices a policy by the table: the annual rate of the riskiest
// patent × sum insured × portfolio factor × months/12, rounded half-up to
// the fen, and never below the minimum premium.
func (t RatingTable) Premium(in PremiumInput) (Premium, error) {
	if len(in.Patents) == 0 {
		return Premium{}, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "a premium needs at least one patent")
	}
	if in.Months < 1 || in.Months > MaxMonths {
		return Premium{}, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "a policy runs 1 to %d months, not %d", MaxMonths, in.Months)
	}
	var p Premium
	for _, pat := range in.Patents {
		band, ok := t.ageBand(AgeYears(pat.FiledOn, in.StartsOn))
		if !ok {
			return Premium{}, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "the rating table of insurer %s has no age band for patent %s", t.InsurerID, pat.Number)
		}
		rate, ok := t.rate(in.Coverage, pat.Kind, band.Name, in.Claims)
		if !ok {
			return Premium{}, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "insurer %s publishes no %s rate for a %s patent aged %s with claims history %q",
				t.InsurerID, in.Coverage, pat.Kind, band.Name, in.Claims)
		}
		if p.GoverningPatent == "" || rate.GreaterThan(p.Rate) {
			p.Rate, p.GoverningPatent, p.AgeBand = rate, pat.Number, band.Name
		}
	}
	p.PortfolioFactor = t.portfolioFactor(len(in.Patents))
	p.PeriodFactor = fmt.Sprintf("%d/12", in.Months)
	exact := p.Rate.Mul(in.SumInsured.Decimal()).Mul(p.PortfolioFactor).Mul(decimal.NewFromInt(int64(in.Months)))
	p.Computed = fenHalfUp(exact, 12)
	p.Amount = p.Computed
	if p.Computed.LessThan(t.MinimumPremium) {
		p.Amount, p.MinimumApplied = t.MinimumPremium, true
	}
	return p, nil
}

func (t RatingTable) ageBand(age int) (AgeBand, bool) {
	for _, b := range t.AgeBands {
		if b.holds(age) {
			return b, true
		}
	}
	return AgeBand{}, false
}

func (t RatingTable) rate(c Coverage, k PatentKind, band string, claims ClaimsBand) (decimal.Decimal, bool) {
	for _, r := range t.Rates {
		if r.Coverage == c && r.PatentKind == k && r.AgeBand == band && r.Claims == claims {
			return r.Rate.Decimal, true
		}
	}
	return decimal.Decimal{}, false
}

func (t RatingTable) portfolioFactor(patents int) decimal.Decimal {
	f, best := decimal.NewFromInt(1), 0
	for _, pf := range t.PortfolioFactors {
		if pf.MinPatents <= patents && pf.MinPatents > best {
			f, best = pf.Factor.Decimal, pf.MinPatents
		}
	}
	return f
}

// Offers reports whether the table has rates for coverage c.
func (t RatingTable) Offers(c Coverage) bool {
	return slices.ContainsFunc(t.Rates, func(r Rate) bool { return r.Coverage == c })
}

// QuoteBand is the range a quote on a table premium must fall in, both
// ends included: the band's edges rounded inwards to the fen.
func QuoteBand(table money.Amount) (low, high money.Amount) {
	d := table.Decimal()
	low = money.FromDecimal(d.Mul(decimal.New(100-QuoteBandPercent, -2)).Shift(2).Ceil().Shift(-2))
	high = money.FromDecimal(d.Mul(decimal.New(100+QuoteBandPercent, -2)).Shift(2).Floor().Shift(-2))
	return low, high
}

// ProRata is the share part/whole of an amount, rounded half-up to the fen.
func ProRata(a money.Amount, part, whole int) money.Amount {
	return fenHalfUp(a.Decimal().Mul(decimal.NewFromInt(int64(part))), int64(whole))
}

// fenHalfUp is num/den rounded half-up to the fen, exactly: the quotient
// is never rounded on the way, which could round a 0.004999… up. num ≥ 0,
// den > 0.
func fenHalfUp(num decimal.Decimal, den int64) money.Amount {
	d := decimal.NewFromInt(den)
	two := decimal.NewFromInt(2)
	q, _ := num.Shift(2).Mul(two).Add(d).QuoRem(d.Mul(two), 0)
	return money.FromDecimal(q.Shift(-2))
}
