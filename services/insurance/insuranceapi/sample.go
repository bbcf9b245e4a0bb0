package insuranceapi

import (
	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
)

// SampleRatingTable is the table the demo publishes for an insurer, and
// the worked example in docs/insurance.md. Each rate is a base rate for
// the coverage times a multiplier for the patent kind, its age and the
// company's claims history, rounded to four places (a hundredth of a
// percent).
func SampleRatingTable(insurerID string) RatingTable {
	d := decimal.RequireFromString
	base := []struct {
		c    Coverage
		rate decimal.Decimal
	}{
		{CoverageEnforcement, d("0.0150")},
		{CoverageInfringementLoss, d("0.0200")},
		{CoveragePledgeGuarantee, d("0.0120")},
	}
	kinds := []struct {
		k PatentKind
		f decimal.Decimal
	}{
		// A utility model or design is granted without substantive
		// examination, so it is more often found invalid when enforced.
		{PatentInvention, d("1.00")},
		{PatentUtilityModel, d("1.20")},
		{PatentDesign, d("1.10")},
	}
	ages := []struct {
		b AgeBand
		f decimal.Decimal
	}{
		{AgeBand{Name: "0-2", From: 0, To: 3}, d("1.10")},   // untested in the market
		{AgeBand{Name: "3-6", From: 3, To: 7}, d("1.00")},   // proven, in its prime
		{AgeBand{Name: "7-11", From: 7, To: 12}, d("0.95")}, // survived challenges
		{AgeBand{Name: "12+", From: 12}, d("1.05")},         // technology ageing, copied more
	}
	claims := []struct {
		b ClaimsBand
		f decimal.Decimal
	}{
		{ClaimsNone, d("1.00")},
		{ClaimsOne, d("1.25")},
		{ClaimsSeveral, d("1.60")},
	}
	t := RatingTable{
		InsurerID: insurerID,
		PortfolioFactors: []PortfolioFactor{
			{MinPatents: 3, Factor: MustFraction("0.95")},
			{MinPatents: 10, Factor: MustFraction("0.90")},
		},
		MinimumPremium: money.MustParse("3000.00"),
	}
	for _, a := range ages {
		t.AgeBands = append(t.AgeBands, a.b)
	}
	for _, b := range base {
		for _, k := range kinds {
			for _, a := range ages {
				for _, c := range claims {
					t.Rates = append(t.Rates, Rate{
						Coverage: b.c, PatentKind: k.k, AgeBand: a.b.Name, Claims: c.b,
						Rate: Fraction{b.rate.Mul(k.f).Mul(a.f).Mul(c.f).Round(4)},
					})
				}
			}
		}
	}
	return t
}
