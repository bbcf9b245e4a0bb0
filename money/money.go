// Package money holds amounts of CNY: decimal, never float; strings with
// two places on the wire; computed amounts rounded half-up to the fen; and
// splits that always sum exactly to the whole.
package money

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
)

// MaxAmount bounds any single amount: ¥10 trillion, far beyond any deal,
// so that an overflowing input is refused rather than carried.
var MaxAmount = decimal.RequireFromString("10000000000000")

// Amount is a sum of CNY with at most two decimal places.
type Amount struct{ d decimal.Decimal }

// Zero is ¥0.00.
var Zero = Amount{}

// maxDigits bounds the whole part of an amount as written: MaxAmount has
// 14 digits, so a longer one is refused without being read.
const maxDigits = 14

// Parse reads an amount as entered: a string matching
// ^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$ and nothing else (no sign, exponent,
// spaces, leading zeros or bare point), at most MaxAmount. The error
// names field and says what is wrong for a person.
func Parse(field, s string) (Amount, error) {
	if reason := check(s); reason != "" {
		return Amount{}, fundbridge.Invalid("invalid amount", fundbridge.FieldError{Field: field, Reason: reason})
	}
	d, err := decimal.NewFromString(s)
	if err != nil { // unreachable: check admits only plain decimals
		return Amount{}, fundbridge.Invalid("invalid amount", fundbridge.FieldError{Field: field, Reason: mustLook})
	}
	if d.GreaterThan(MaxAmount) {
		return Amount{}, fundbridge.Invalid("invalid amount", fundbridge.FieldError{Field: field, Reason: "is larger than ¥" + MaxAmount.String()})
	}
	return Amount{d}, nil
}

const mustLook = `must be a decimal string with at most 2 decimal places, like "1250000.00"`

// Valid reports whether s is an amount as written on the wire.
func Valid(s string) bool { return check(s) == "" }

// check reports why s is not an amount as written on the wire, or "".
// It is hand-written rather than a regexp: every amount of every event
// read passes through it.
func check(s string) string {
	whole, frac, point := s, "", false
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			whole, frac, point = s[:i], s[i+1:], true
			break
		}
	}
	switch {
	case s == "":
		return "is empty; " + mustLook
	case s[0] == '-':
		return "must not be negative"
	case s[0] == '+':
		return `must not have a sign; write "5.00", not "+5"`
	case whole == "":
		return `must have a digit before the point, like "0.50"`
	case point && frac == "":
		return `must have digits after the point, like "5.00", or no point`
	}
	if r := digits(whole); r != "" {
		if r == "e" {
			return `must be written out without an exponent, like "1000.00", not "1e3"`
		}
		return mustLook
	}
	if r := digits(frac); r != "" {
		if r == "e" {
			return `must be written out without an exponent, like "1000.00", not "1e3"`
		}
		return mustLook
	}
	switch {
	case len(whole) > 1 && whole[0] == '0':
		return `must not start with a zero, like "5.00", not "005.00"`
	case len(frac) > 2:
		return "has more than 2 decimal places"
	case len(whole) > maxDigits:
		return "is larger than ¥" + MaxAmount.String()
	}
	return ""
}

// digits returns "" if s is all ASCII digits, "e" if it holds an exponent
// marker, else "x".
func digits(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			if c == 'e' || c == 'E' {
				return "e"
			}
			return "x"
		}
	}
	return ""
}

// MustParse is Parse for constants in code and tests.
func MustParse(s string) Amount {
	a, err := Parse("amount", s)
	if err != nil {
		panic(err)
	}
	return a
}

// FromDecimal rounds d half-up to the fen.
func FromDecimal(d decimal.Decimal) Amount { return Amount{RoundFen(d)} }

// Yuan returns n yuan.
func Yuan(n int64) Amount { return Amount{decimal.NewFromInt(n)} }

// RoundFen rounds half-up (away from zero) to 0.01.
func RoundFen(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

// Decimal is the amount as a decimal.
func (a Amount) Decimal() decimal.Decimal { return a.d }

// String is the amount with exactly two places: "1250000.00".
func (a Amount) String() string { return a.d.StringFixed(2) }

func (a Amount) Add(b Amount) Amount            { return Amount{a.d.Add(b.d)} }
func (a Amount) Sub(b Amount) Amount            { return Amount{a.d.Sub(b.d)} }
func (a Amount) Cmp(b Amount) int               { return a.d.Cmp(b.d) }
func (a Amount) IsZero() bool                   { return a.d.IsZero() }
func (a Amount) IsPositive() bool               { return a.d.IsPositive() }
func (a Amount) IsNegative() bool               { return a.d.IsNegative() }
func (a Amount) LessThan(b Amount) bool         { return a.d.LessThan(b.d) }
func (a Amount) GreaterThan(b Amount) bool      { return a.d.GreaterThan(b.d) }
func (a Amount) Equal(b Amount) bool            { return a.d.Equal(b.d) }
func (a Amount) Mul(f decimal.Decimal) Amount   { return FromDecimal(a.d.Mul(f)) }
func (a Amount) Ratio(b Amount) decimal.Decimal { return a.d.DivRound(b.d, 10) }

// Min returns the smaller amount.
func Min(a, b Amount) Amount {
	if a.LessThan(b) {
		return a
	}
	return b
}

// Human formats the amount for a sentence, short where that loses
// nothing ("¥1.2bn", "¥30m", "¥2.004m", "¥800k", "¥12.5k", "¥950") and in
// full where it would ("¥2,000,000.50", "¥12,345"): a refusal comparing
// two amounts never shows them equal, and no figure is rounded.
func (a Amount) Human() string {
	d, billion, million, thousand := a.d.Abs(), decimal.NewFromInt(1_000_000_000), decimal.NewFromInt(1_000_000), decimal.NewFromInt(1_000)
	switch {
	case d.LessThan(thousand):
		return "¥" + a.d.String()
	case d.LessThan(million) && d.Mod(decimal.NewFromInt(100)).IsZero():
		return "¥" + a.d.Shift(-3).String() + "k"
	case d.GreaterThanOrEqual(million) && d.LessThan(billion) && d.Mod(thousand).IsZero():
		return "¥" + a.d.Shift(-6).String() + "m"
	case d.GreaterThanOrEqual(billion) && d.Mod(million).IsZero():
		return "¥" + a.d.Shift(-9).String() + "bn"
	}
	if a.d.IsInteger() {
		return "¥" + grouped(a.d.String())
	}
	return a.Exact()
}

// Exact writes the amount in full with thousands separators and its fen:
// "¥1,234,567.89".
func (a Amount) Exact() string {
	whole, frac, _ := strings.Cut(a.String(), ".")
	return "¥" + grouped(whole) + "." + frac
}

// grouped puts a comma between each three digits of a whole number.
func grouped(whole string) string {
	sign := ""
	if strings.HasPrefix(whole, "-") {
		sign, whole = "-", whole[1:]
	}
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// MarshalJSON writes the amount as a string with two places.
func (a Amount) MarshalJSON() ([]byte, error) {
	return []byte(`"` + a.String() + `"`), nil
}

// UnmarshalJSON reads a string amount, exactly as Parse does. Numbers are
// refused: a float on the wire is how money goes wrong.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("amount must be a string like \"1250000.00\", not %s", b)
	}
	if reason := check(s); reason != "" {
		return fmt.Errorf("amount %q %s", s, reason)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("amount %q %s", s, mustLook)
	}
	a.d = d
	return nil
}

// Split divides total in proportion to weights by largest remainder: each
// part is rounded down to the fen, and the fen left over go one each to
// the parts with the largest remainders (ties to the earlier part). The
// parts always sum exactly to total.
func Split(total Amount, weights []decimal.Decimal) ([]Amount, error) {
	if len(weights) == 0 {
		return nil, fmt.Errorf("split %s: no weights", total)
	}
	sum := decimal.Zero
	for i, w := range weights {
		if w.IsNegative() {
			return nil, fmt.Errorf("split %s: weight %d is negative", total, i)
		}
		sum = sum.Add(w)
	}
	if !sum.IsPositive() {
		return nil, fmt.Errorf("split %s: weights sum to zero", total)
	}
	fen := total.d.Shift(2) // whole fen
	parts := make([]Amount, len(weights))
	type rem struct {
		i int
		r decimal.Decimal
	}
	rems := make([]rem, len(weights))
	allocated := decimal.Zero
	for i, w := range weights {
		// Whole fen and remainder, exactly: every remainder is over the
		// same sum, so comparing remainders compares the fractions.
		floor, r := fen.Mul(w).QuoRem(sum, 0)
		parts[i] = Amount{floor.Shift(-2)}
		allocated = allocated.Add(floor)
		rems[i] = rem{i, r}
	}
	left := fen.Sub(allocated).IntPart()
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r.GreaterThan(rems[b].r) })
	for k := int64(0); k < left; k++ {
		i := rems[k%int64(len(rems))].i
		parts[i] = parts[i].Add(Amount{decimal.New(1, -2)})
	}
	return parts, nil
}
