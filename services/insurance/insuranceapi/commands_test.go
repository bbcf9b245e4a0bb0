package insuranceapi

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
)

// rawAmount decodes an amount as the wire would; what the wire now
// refuses (negative, beyond the maximum) is built in code, so Validate
// is still shown to refuse it.
func rawAmount(s string) money.Amount {
	var a money.Amount
	if err := json.Unmarshal([]byte(`"`+s+`"`), &a); err != nil {
		return money.FromDecimal(decimal.RequireFromString(s))
	}
	return a
}

func fields(err error) []string {
	var names []string
	for _, f := range fundbridge.ErrorFields(err) {
		names = append(names, f.Field)
	}
	return names
}

// expectFields checks that v is refused as invalid, naming exactly want.
func expectFields(t *testing.T, name string, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
		return
	}
	if fundbridge.ErrorCode(err) != fundbridge.EINVALID {
		t.Errorf("%s: %v, want invalid", name, err)
		return
	}
	got := fields(err)
	slices.Sort(got)
	got = slices.Compact(got) // a field may be named for several reasons
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: names %v, want %v (%v)", name, got, want, err)
	}
}

func TestValidateNamesEveryBadField(t *testing.T) {
	good := RequestInsurance{Coverage: CoverageEnforcement, Patents: []string{"CN1"}, SumInsured: money.MustParse("1.00"), Insurers: []string{"ins-a"}}
	expectFields(t, "a good request", good.Validate())
	expectFields(t, "an empty request", RequestInsurance{}.Validate(), "coverage", "patents", "sum_insured", "insurers")
	expectFields(t, "a bad request", RequestInsurance{
		CompanyID: "co 1", Coverage: "theft", Patents: []string{"CN1", "CN1", ""}, SumInsured: rawAmount("0"),
		StartsOn: "2026-02-30", Months: 37, PriorClaims: -1, LoanDealID: "deal-1", Insurers: []string{"ins-a", "ins-a", "ins/b"},
	}.Validate(), "company_id", "coverage", "patents[1]", "patents[2]", "sum_insured", "starts_on", "months", "prior_claims", "loan_deal_id", "insurers[1]", "insurers[2]")
	expectFields(t, "a guarantee without its loan", RequestInsurance{Coverage: CoveragePledgeGuarantee, Patents: []string{"CN1"}, SumInsured: rawAmount("-5"), Insurers: []string{"i"}}.Validate(),
		"loan_deal_id", "sum_insured")
	expectFields(t, "a bad quote", QuoteInsurance{InsurerID: "a b", Premium: rawAmount("0"), Note: "\x00"}.Validate(), "request_id", "insurer_id", "premium", "note")
	expectFields(t, "a bad decline", DeclineInsurance{RequestID: "r1"}.Validate(), "reason")
	expectFields(t, "a bad quote reference", AcceptQuote{}.Validate(), "request_id", "quote_id")
	expectFields(t, "a bad expiry", ExpireQuote{RequestID: "r1"}.Validate(), "quote_id")
	expectFields(t, "a bad bind", BindPolicy{QuoteID: "q"}.Validate(), "request_id")
	expectFields(t, "a bad payment", PayPremium{PolicyID: "p", Amount: rawAmount("-0.01")}.Validate(), "amount")
	expectFields(t, "a zero payment", PayPremium{PolicyID: "p", Amount: rawAmount("0")}.Validate())
	expectFields(t, "a bad subsidy", ApplySubsidy{Amount: rawAmount("0")}.Validate(), "policy_id", "programme_id", "amount")
	expectFields(t, "a bad claim", FileClaim{PolicyID: "p", IncidentOn: "1 June", Amount: rawAmount("1e3")}.Validate(), "incident_on", "description")
	expectFields(t, "a bad assessment", AssessClaim{PolicyID: "p", ClaimID: "c", Amount: rawAmount("0.001")}.Validate(), "amount")
	expectFields(t, "a bad settlement", SettleClaim{PolicyID: "p", Amount: rawAmount("100000000000000")}.Validate(), "claim_id", "amount")
	expectFields(t, "a bad denial", DenyClaim{PolicyID: "p", ClaimID: "c", Reason: " "}.Validate(), "reason")
	expectFields(t, "a bad cancellation", CancelPolicy{PolicyID: "p", EffectiveOn: "2026-13-01"}.Validate(), "effective_on")
	expectFields(t, "a bad policy expiry", ExpirePolicy{}.Validate(), "policy_id")
	expectFields(t, "a bad programme", CreateSubsidyProgramme{Share: "5e-1", Coverages: []Coverage{"theft", CoverageEnforcement, CoverageEnforcement}, Cities: []fundbridge.City{"atlantis"}}.Validate(),
		"name", "sponsor", "share", "cap_per_company_per_year", "budget", "coverages[0]", "coverages[2]", "cities[0]")
	expectFields(t, "a programme paying more than the premium", CreateSubsidyProgramme{Name: "n", Sponsor: "s", Share: "1.01", CapPerYear: money.MustParse("1.00"), Budget: money.MustParse("1.00"), Coverages: Coverages}.Validate(),
		"share")
	expectFields(t, "a programme with a share too fine", CreateSubsidyProgramme{Name: "n", Sponsor: "s", Share: "0.12345", CapPerYear: money.MustParse("1.00"), Budget: money.MustParse("1.00"), Coverages: Coverages}.Validate(),
		"share")
	expectFields(t, "a bad draw", DrawSubsidy{ProgrammeID: "g", PolicyID: "p", City: "atlantis", Coverage: CoverageEnforcement, Premium: money.MustParse("1.00")}.Validate(),
		"company_id", "city", "starts_on")
	expectFields(t, "a bad guarantee claim", FileGuaranteeClaim{PolicyID: "p", DefaultedOn: "2026-02-29", Loss: rawAmount("0"), Share: "30%"}.Validate(),
		"loan_deal_id", "default_id", "defaulted_on", "loss", "insurer_share")
	expectFields(t, "a bad return", ReturnSubsidy{ProgrammeID: "g", PolicyID: "p"}.Validate(), "amount")
	expectFields(t, "a bad closure", CloseSubsidyProgramme{}.Validate(), "programme_id")
}

func TestValidateRatingTable(t *testing.T) {
	d := MustFraction
	table := SampleRatingTable("")
	table.AgeBands[1].From = 4                  // a gap after 0-2
	table.AgeBands[3].To = 30                   // the last band must be open
	table.Rates[0].Rate = d("1.5")              // above 100%
	table.Rates[1].Rate = d("0.0000001")        // too fine
	table.Rates[2].Coverage = "theft"           // unknown
	table.Rates[3].AgeBand = "ancient"          // unknown
	table.Rates[5] = table.Rates[4]             // twice
	table.PortfolioFactors[1].MinPatents = 2    // not increasing
	table.PortfolioFactors[0].Factor = d("1.2") // not a discount
	table.Rates[6].Rate = d("1e9999")           // enormous, without expanding it
	table.MinimumPremium = rawAmount("-1")
	expectFields(t, "a broken table", table.Validate(),
		"age_bands[1].from_years", "age_bands[3].to_years", "rates[0].rate", "rates[1].rate", "rates[2].coverage", "rates[3].age_band",
		"rates[5]", "rates[6].rate", "rates", "portfolio_factors[0].factor", "portfolio_factors[1].min_patents", "minimum_premium")
	expectFields(t, "an empty table", RatingTable{}.Validate(), "age_bands", "rates")
	expectFields(t, "a wrapped table", PublishRatingTable{InsurerID: "i j", Table: RatingTable{AgeBands: []AgeBand{{Name: "all"}}}}.Validate(), "insurer_id", "table.rates")
}

func TestFractionIsADecimalString(t *testing.T) {
	var r Rate
	if err := json.Unmarshal([]byte(`{"rate":"0.0150"}`), &r); err != nil || r.Rate.String() != "0.015" {
		t.Errorf("a decimal string: %v, %s", err, r.Rate)
	}
	for _, bad := range []string{`0.015`, `"1.5e-2"`, `"-0.01"`, `"+0.01"`, `""`, `" 0.01"`, `"abc"`, `null`} {
		var r Rate
		if err := json.Unmarshal([]byte(`{"rate":`+bad+`}`), &r); err == nil {
			t.Errorf("rate %s accepted as %s", bad, r.Rate)
		}
	}
	if got := mustJSON(t, PortfolioFactor{MinPatents: 3, Factor: MustFraction("0.95")}); got != `{"min_patents":3,"factor":"0.95"}` {
		t.Errorf("written as %s", got)
	}
}
