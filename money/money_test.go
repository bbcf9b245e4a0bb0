package money

import (
	"encoding/json"
	"math/rand/v2"
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
