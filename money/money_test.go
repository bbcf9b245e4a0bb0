package money

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
)

func TestParse(t *testing.T) {
	for _, ok := range []string{"0", "1", "1250000.00", "0.5", "99.99", "10000000000000"} {
		if _, err := Parse("amount", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for in, reason := range map[string]string{
		"-1":              "must not be negative",
		"1.001":           "has more than 2 decimal places",
		"10000000000001":  "is larger than ¥10000000000000",
		"1e6":             "",
		"":                "",
		" 1":              "",
		"01":              "",
		"1,000":           "",
		"NaN":             "",
		"100000000000000": "is larger than ¥10000000000000",
		"1e3":             `must be written out without an exponent, like "1000.00", not "1e3"`,
		"0.5e1":           `must be written out without an exponent, like "1000.00", not "1e3"`,
		"1e-2":            `must be written out without an exponent, like "1000.00", not "1e3"`,
		"+5":              `must not have a sign; write "5.00", not "+5"`,
		"5.":              `must have digits after the point, like "5.00", or no point`,
		".5":              `must have a digit before the point, like "0.50"`,
		"00005":           `must not start with a zero, like "5.00", not "005.00"`,
		"5.5.5":           "",
		"١":               "",
	} {
		_, err := Parse("loan.amount", in)
		f := fundbridge.ErrorFields(err)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(f) != 1 || f[0].Field != "loan.amount" {
			t.Errorf("%q: %v, want invalid naming loan.amount", in, err)
			continue
		}
		if reason != "" && f[0].Reason != reason {
			t.Errorf("%q: reason %q, want %q", in, f[0].Reason, reason)
		}
	}
}

func TestJSONIsAStringWithTwoPlaces(t *testing.T) {
	b, _ := json.Marshal(struct{ A Amount }{MustParse("1250000")})
	if string(b) != `{"A":"1250000.00"}` {
		t.Errorf("marshal = %s", b)
	}
	var v struct{ A Amount }
	if err := json.Unmarshal([]byte(`{"A":1250000}`), &v); err == nil {
		t.Error("a JSON number was accepted as an amount")
	}
	if err := json.Unmarshal([]byte(`{"A":"12.5"}`), &v); err != nil || v.A.String() != "12.50" {
		t.Errorf("unmarshal = %v %v", v.A, err)
	}
}

func TestRoundingIsHalfUpToTheFen(t *testing.T) {
	for in, want := range map[string]string{"0.005": "0.01", "0.004": "0.00", "2.675": "2.68", "1.125": "1.13"} {
		if got := FromDecimal(decimal.RequireFromString(in)).String(); got != want {
			t.Errorf("%s rounds to %s, want %s", in, got, want)
		}
	}
}

func TestSplitSumsExactlyToTheWhole(t *testing.T) {
	thirds, err := Split(MustParse("100"), []decimal.Decimal{decimal.NewFromInt(1), decimal.NewFromInt(1), decimal.NewFromInt(1)})
	if err != nil {
		t.Fatal(err)
	}
	if thirds[0].String() != "33.34" || thirds[1].String() != "33.33" || thirds[2].String() != "33.33" {
		t.Errorf("100 in thirds = %v", thirds)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		total := FromDecimal(decimal.New(r.Int64N(1_000_000_000_00), -2))
		weights := make([]decimal.Decimal, 1+r.IntN(9))
		for i := range weights {
			weights[i] = decimal.New(r.Int64N(10_000), -int32(r.IntN(4)))
		}
		weights[0] = weights[0].Add(decimal.NewFromInt(1))
		parts, err := Split(total, weights)
		if err != nil {
			t.Fatal(err)
		}
		sum := Zero
		for _, p := range parts {
			if p.IsNegative() || p.Decimal().Exponent() < -2 {
				t.Fatalf("part %s of %s", p, total)
			}
			sum = sum.Add(p)
		}
		if !sum.Equal(total) {
			t.Fatalf("split of %s by %v sums to %s", total, weights, sum)
		}
	}
	if _, err := Split(MustParse("1"), nil); err == nil {
		t.Error("split with no weights succeeded")
	}
	if _, err := Split(MustParse("1"), []decimal.Decimal{decimal.Zero}); err == nil {
		t.Error("split with zero weights succeeded")
	}
}

func TestUnmarshalJSONIsAsStrictAsParse(t *testing.T) {
	for _, in := range []string{"1e3", "+5", "5.", ".5", "0.5e1", "00005", "1e-2", "1.001", "-1", " 1", "1 ", "0x10", "Infinity"} {
		var a Amount
		b, _ := json.Marshal(in)
		err := json.Unmarshal(b, &a)
		if err == nil {
			t.Errorf("%q was read as %s", in, a)
			continue
		}
		if _, perr := Parse("amount", in); perr == nil {
			t.Errorf("%q: Parse accepted what UnmarshalJSON refused", in)
		}
	}
}

// wire is the pattern every amount on the wire matches, as the design
// states it, with MaxAmount's 14 digits.
var wire = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$`)

// TestAmountsRoundTripExactly: every amount string a client may send comes
// back from JSON as the same value, written with two places.
func TestAmountsRoundTripExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		s := randomAmount(r)
		roundTrip(t, s)
	}
}

func randomAmount(r *rand.Rand) string {
	s := "0"
	if n := r.IntN(15); n > 0 {
		s = string(rune('1' + r.IntN(9)))
		for range n - 1 {
			s += string(rune('0' + r.IntN(10)))
		}
	}
	switch r.IntN(3) {
	case 1:
		s += "." + string(rune('0'+r.IntN(10)))
	case 2:
		s += "." + string(rune('0'+r.IntN(10))) + string(rune('0'+r.IntN(10)))
	}
	return s
}

func roundTrip(t *testing.T, s string) {
	t.Helper()
	a, err := Parse("amount", s)
	if matches := wire.MatchString(s); matches != (err == nil) && !(matches && len(strings.SplitN(s, ".", 2)[0]) >= maxDigits) {
		t.Fatalf("%q: pattern %v, Parse %v", s, matches, err)
	}
	if err != nil {
		return
	}
	want := decimal.RequireFromString(s)
	if !a.Decimal().Equal(want) {
		t.Fatalf("%q parsed as %s", s, a.Decimal())
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back Amount
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%q: its own JSON %s is refused: %v", s, b, err)
	}
	if !back.Equal(a) || back.String() != a.String() || !wire.MatchString(a.String()) {
		t.Fatalf("%q → %s → %s", s, b, back)
	}
}

// FuzzParse: Parse accepts exactly the wire pattern (within MaxAmount),
// UnmarshalJSON agrees with it, and what it accepts round-trips.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "1250000.00", "0.5", "1e3", "+5", "5.", ".5", "0.5e1", "00005", "1e-2", "-1", "10000000000000", "10000000000000.01", "99999999999999.99", "１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		roundTrip(t, s)
		a, perr := Parse("amount", s)
		var u Amount
		b, _ := json.Marshal(s)
		uerr := json.Unmarshal(b, &u)
		if perr == nil && (uerr != nil || !u.Equal(a)) {
			t.Fatalf("%q: Parse %s, UnmarshalJSON %s %v", s, a, u, uerr)
		}
		if uerr == nil && !wire.MatchString(s) {
			t.Fatalf("%q: UnmarshalJSON accepted what the pattern refuses", s)
		}
	})
}

// A sentence shows an amount short only where nothing is lost, so two
// different amounts never read the same.
func TestHumanNeverRounds(t *testing.T) {
	for in, want := range map[string]string{
		"30000000.00": "¥30m", "1250000.00": "¥1.25m", "2004000.00": "¥2.004m", "2000000.50": "¥2,000,000.50",
		"2000100.00": "¥2,000,100", "800000.00": "¥800k", "12500.00": "¥12.5k", "12345.00": "¥12,345",
		"12345.67": "¥12,345.67", "950.00": "¥950", "950.5": "¥950.5", "0": "¥0",
		"1234567890123.45": "¥1,234,567,890,123.45", "1200000000.00": "¥1.2bn", "1200500000.00": "¥1,200,500,000", "1200000500.00": "¥1,200,000,500",
	} {
		a, err := Parse("amount", in)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Human(); got != want {
			t.Errorf("Human(%s) = %q, want %q", in, got, want)
		}
	}
	if got := FromDecimal(decimal.RequireFromString("-1234.5")).Exact(); got != "¥-1,234.50" {
		t.Errorf("Exact of a negative: %q", got)
	}
}
