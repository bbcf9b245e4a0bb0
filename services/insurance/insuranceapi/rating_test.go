package insuranceapi

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
)

func day(s string) time.Time {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestWorkedExample is the example docs/insurance.md walks through.
func TestWorkedExample(t *testing.T) {
	table := SampleRatingTable("ins-a")
	p, err := table.Premium(PremiumInput{
		Coverage: CoverageInfringementLoss, Claims: ClaimsOne, SumInsured: money.MustParse("2000000.00"),
		StartsOn: day("2026-03-01"), Months: 12,
		Patents: []RatedPatent{
			{Number: "CN202110000001.1", Kind: PatentInvention, FiledOn: day("2021-05-10")},    // 4 years: 3-6
			{Number: "CN202220000002.2", Kind: PatentUtilityModel, FiledOn: day("2022-04-01")}, // 3 years: 3-6
			{Number: "CN201810000003.3", Kind: PatentInvention, FiledOn: day("2018-11-20")},    // 7 years: 7-11
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Rates: 0.02×1.00×1.00×1.25 = 0.0250; 0.02×1.20×1.00×1.25 = 0.0300;
	// 0.02×1.00×0.95×1.25 = 0.02375, published as 0.0238. The utility
	// model governs; three patents earn the 0.95 portfolio factor:
	// 0.0300 × 2,000,000 × 0.95 × 12/12 = 57,000.00.
	want := Premium{Rate: decimal.RequireFromString("0.03"), GoverningPatent: "CN202220000002.2", AgeBand: "3-6",
		PortfolioFactor: decimal.RequireFromString("0.95"), PeriodFactor: "12/12", Computed: money.MustParse("57000.00"), Amount: money.MustParse("57000.00")}
	if g, w := mustJSON(t, p), mustJSON(t, want); g != w {
		t.Errorf("premium\n  %s\nwant\n  %s", g, w)
	}
	if low, high := QuoteBand(p.Amount); low.String() != "45600.00" || high.String() != "68400.00" {
		t.Errorf("quote band %s to %s, want 45600.00 to 68400.00", low, high)
	}
	// Six months of ¥100,000 enforcement cover on a young invention:
	// 0.0165 × 100,000 × 6/12 = 825.00, below the ¥3,000 minimum.
	p, err = table.Premium(PremiumInput{Coverage: CoverageEnforcement, Claims: ClaimsNone, SumInsured: money.MustParse("100000.00"),
		StartsOn: day("2026-03-01"), Months: 6, Patents: []RatedPatent{{Number: "n", Kind: PatentInvention, FiledOn: day("2025-01-01")}}})
	if err != nil || p.Computed.String() != "825.00" || !p.MinimumApplied || p.Amount.String() != "3000.00" {
		t.Errorf("below the minimum: %+v, %v", p, err)
	}
}

func TestPremiumRefusesWhatTheTableDoesNotPrice(t *testing.T) {
	table := SampleRatingTable("ins-a")
	table.Rates = table.Rates[:36] // enforcement only
	_, err := table.Premium(PremiumInput{Coverage: CoveragePledgeGuarantee, Claims: ClaimsNone, SumInsured: money.MustParse("1.00"),
		StartsOn: day("2026-03-01"), Months: 12, Patents: []RatedPatent{{Number: "n", Kind: PatentInvention, FiledOn: day("2025-01-01")}}})
	if err == nil {
		t.Fatal("a coverage without rates was priced")
	}
	if table.Offers(CoveragePledgeGuarantee) || !table.Offers(CoverageEnforcement) {
		t.Error("Offers does not follow the rates")
	}
}

func TestSampleTableIsValidAndRoundTrips(t *testing.T) {
	table := SampleRatingTable("ins-a")
	if err := table.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(table.Rates) != 3*3*4*3 {
		t.Errorf("%d rates, want every coverage × kind × age band × claims band", len(table.Rates))
	}
	var back RatingTable
	if err := json.Unmarshal([]byte(mustJSON(t, table)), &back); err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, back) != mustJSON(t, table) {
		t.Error("the table changed through JSON")
	}
}

// halfUp is the reference rounding: x rounded half-up to the fen, by
// exact rational arithmetic.
func halfUp(x *big.Rat) money.Amount {
	fen := new(big.Rat).Mul(x, big.NewRat(100, 1))
	fen.Add(fen, big.NewRat(1, 2))
	q := new(big.Int).Quo(fen.Num(), fen.Denom()) // floor, x ≥ 0
	return money.FromDecimal(decimal.NewFromBigInt(q, -2))
}

func rat(d decimal.Decimal) *big.Rat { return d.Rat() }

func randomInput(r *rand.Rand) PremiumInput {
	in := PremiumInput{
		Coverage: Coverages[r.IntN(len(Coverages))], Claims: ClaimsBands[r.IntN(len(ClaimsBands))],
		StartsOn: day("2026-01-01").AddDate(0, 0, r.IntN(1000)), Months: 1 + r.IntN(MaxMonths),
	}
	for range 1 + r.IntN(12) {
		in.Patents = append(in.Patents, RatedPatent{Number: "n", Kind: PatentKinds[r.IntN(len(PatentKinds))], FiledOn: day("2005-01-01").AddDate(0, 0, r.IntN(7500))})
	}
	return in
}

// cases is how many random cases a property test tries: fewer under
// -short (the race detector's pass), where each costs ten times more.
func cases(n int) int {
	if testing.Short() {
		return n / 10
	}
	return n
}

func randomAmount(r *rand.Rand, maxFen int64) money.Amount {
	return money.FromDecimal(decimal.New(1+r.Int64N(maxFen), -2))
}

// Property: the premium never falls as the sum insured grows, never falls
// below the minimum, and is the exact product rounded half-up to the fen.
func TestPremiumProperties(t *testing.T) {
	table := SampleRatingTable("ins-a")
	r := rand.New(rand.NewPCG(12, 2026))
	for i := range cases(20000) {
		in := randomInput(r)
		a, b := randomAmount(r, 1_000_000_000_00), randomAmount(r, 1_000_000_000_00)
		if b.LessThan(a) {
			a, b = b, a
		}
		if i%4 == 0 { // neighbours, where rounding could misorder them
			b = a.Add(money.MustParse("0.01"))
		}
		in.SumInsured = a
		pa, err := table.Premium(in)
		if err != nil {
			t.Fatal(err)
		}
		in.SumInsured = b
		pb, err := table.Premium(in)
		if err != nil {
			t.Fatal(err)
		}
		if pb.Amount.LessThan(pa.Amount) {
			t.Fatalf("sum insured %s costs %s, more than %s costs %s (%+v)", a, pa.Amount, b, pb.Amount, in)
		}
		if pa.Amount.LessThan(table.MinimumPremium) {
			t.Fatalf("premium %s below the minimum", pa.Amount)
		}
		exact := new(big.Rat).Mul(rat(pb.Rate), rat(b.Decimal()))
		exact.Mul(exact, rat(pb.PortfolioFactor))
		exact.Mul(exact, big.NewRat(int64(in.Months), 12))
		if want := halfUp(exact); !pb.Computed.Equal(want) {
			t.Fatalf("computed %s, want %s half-up from %s", pb.Computed, want, exact.FloatString(12))
		}
	}
}

// Property: a pro-rata share is the exact share rounded half-up, and the
// share and what is left add up to the whole.
func TestProRataProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 2026))
	for range cases(50000) {
		a := randomAmount(r, 10_000_000_00)
		whole := 1 + r.IntN(1100)
		part := r.IntN(whole + 1)
		got := ProRata(a, part, whole)
		want := halfUp(new(big.Rat).Mul(rat(a.Decimal()), big.NewRat(int64(part), int64(whole))))
		if !got.Equal(want) {
			t.Fatalf("ProRata(%s, %d, %d) = %s, want %s", a, part, whole, got, want)
		}
		if got.IsNegative() || got.GreaterThan(a) || !got.Add(a.Sub(got)).Equal(a) {
			t.Fatalf("ProRata(%s, %d, %d) = %s is not a part of the whole", a, part, whole, got)
		}
	}
	if got := ProRata(money.MustParse("0.01"), 1, 2); got.String() != "0.01" {
		t.Errorf("half a fen rounds up: got %s", got)
	}
}

func TestQuoteBandEdgesAreInside(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 2026))
	for range cases(20000) {
		table := randomAmount(r, 1_000_000_00)
		low, high := QuoteBand(table)
		d := table.Decimal()
		if low.Decimal().LessThan(d.Mul(decimal.RequireFromString("0.8"))) || high.Decimal().GreaterThan(d.Mul(decimal.RequireFromString("1.2"))) {
			t.Fatalf("band %s to %s of %s leaves ±20%%", low, high, table)
		}
		if low.Decimal().Sub(decimal.New(1, -2)).GreaterThanOrEqual(d.Mul(decimal.RequireFromString("0.8"))) {
			t.Fatalf("band of %s starts at %s, a fen too high", table, low)
		}
	}
}

func TestPeriodEnd(t *testing.T) {
	for _, c := range []struct {
		start  string
		months int
		end    string
	}{
		{"2026-03-01", 12, "2027-02-28"},
		{"2027-03-01", 12, "2028-02-29"},
		{"2026-01-15", 1, "2026-02-14"},
		{"2026-01-31", 1, "2026-02-27"},
		{"2026-08-31", 6, "2027-02-27"},
		{"2026-04-01", 6, "2026-09-30"},
		{"2026-12-31", 36, "2029-12-30"},
	} {
		if got := PeriodEnd(day(c.start), c.months).Format(DateLayout); got != c.end {
			t.Errorf("PeriodEnd(%s, %d) = %s, want %s", c.start, c.months, got, c.end)
		}
	}
	if got := AgeYears(day("2020-02-29"), day("2026-02-28")); got != 5 {
		t.Errorf("age on the eve of the sixth anniversary: %d", got)
	}
	if got := Today(time.Date(2026, 2, 28, 16, 0, 0, 0, time.UTC)).Format(DateLayout); got != "2026-03-01" {
		t.Errorf("16:00 UTC is the next day in China: %s", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
