package insuranceapi

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
)

// Limits on input, so that one command stays a small event.
const (
	maxIDLength      = 100
	maxTextLength    = 2000
	maxReasonLength  = 500
	maxNameLength    = 200
	maxPatents       = 100
	maxInsurers      = 20
	maxProgrammeList = 50
	maxSharePlaces   = 4
)

// fieldErrors collects every bad field of one input; the checks the
// commands share are its methods. Each returns whether the field is good.
type fieldErrors struct{ fundbridge.FieldErrors }

// id checks an ID that names a stream or a NATS subject token: 1 to 100
// letters, digits, '_' or '-', so a bad one is refused here, not by the store.
func (fe *fieldErrors) id(field, id string) bool {
	switch {
	case id == "":
		fe.Add(field, "required")
	case len(id) > maxIDLength || strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}):
		fe.Add(field, fmt.Sprintf("must be 1 to %d letters, digits, '_' or '-'", maxIDLength))
	default:
		return true
	}
	return false
}

// text checks free text: valid UTF-8 without control characters (but
// line breaks), at most max characters, and not blank when required.
func (fe *fieldErrors) text(field, s string, max int, required bool) bool {
	switch {
	case required && strings.TrimSpace(s) == "":
		fe.Add(field, "required")
	case !utf8.ValidString(s):
		fe.Add(field, "not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		fe.Add(field, fmt.Sprintf("longer than %d characters", max))
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }):
		fe.Add(field, "contains control characters")
	default:
		return true
	}
	return false
}

// enum checks a required value of a closed set.
func enum[T ~string](fe *fieldErrors, field string, v T, allowed []T) bool {
	switch {
	case v == "":
		fe.Add(field, "required")
	case !slices.Contains(allowed, v):
		fe.Add(field, fundbridge.EnumError(v, allowed))
	default:
		return true
	}
	return false
}

// money checks a decoded amount by the rules money.Parse applies to what
// people enter. The exponent is checked before any comparison, which
// would first expand "1e9999" to ten thousand digits.
func (fe *fieldErrors) money(field string, a money.Amount) bool {
	d := a.Decimal()
	switch {
	case d.IsNegative():
		fe.Add(field, "must not be negative")
	case d.Exponent() < -2:
		fe.Add(field, "has more than 2 decimal places")
	case d.Exponent() > 14 || d.GreaterThan(money.MaxAmount):
		fe.Add(field, "is larger than ¥"+money.MaxAmount.String())
	default:
		return true
	}
	return false
}

// positive checks an amount that must be above zero.
func (fe *fieldErrors) positive(field string, a money.Amount) bool {
	if !fe.money(field, a) {
		return false
	}
	if a.IsZero() {
		fe.Add(field, "required, and must be greater than 0")
		return false
	}
	return true
}

// fraction checks a share or rate: above 0, at most limit, with at most
// places decimal places.
func (fe *fieldErrors) fraction(field string, d decimal.Decimal, places int32, limit decimal.Decimal) bool {
	switch {
	case d.Exponent() < -places:
		fe.Add(field, fmt.Sprintf("has more than %d decimal places", places))
	case !d.IsPositive():
		fe.Add(field, "required, and must be greater than 0")
	case d.Exponent() > 2 || d.GreaterThan(limit): // the exponent first: no expanding 1e9999
		fe.Add(field, "must be at most "+limit.String())
	default:
		return true
	}
	return false
}

// share parses a fraction in (0, 1] given as a string like "0.50": a
// plain decimal of at most four places, without sign, exponent or spaces.
func (fe *fieldErrors) share(field, s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	switch {
	case s == "":
		fe.Add(field, "required: a fraction like \"0.50\"")
	case err != nil || strings.ContainsAny(s, "eE+- "):
		fe.Add(field, "must be a decimal fraction like \"0.50\"")
	default:
		if fe.fraction(field, d, maxSharePlaces, decimal.NewFromInt(1)) {
			return d
		}
	}
	return decimal.Decimal{}
}

// date checks a YYYY-MM-DD day; empty passes unless required.
func (fe *fieldErrors) date(field, s string, required bool) (time.Time, bool) {
	if s == "" {
		if required {
			fe.Add(field, "required")
			return time.Time{}, false
		}
		return time.Time{}, true
	}
	d, err := ParseDate(s)
	if err != nil {
		fe.Add(field, "must be a date YYYY-MM-DD")
		return time.Time{}, false
	}
	if d.Year() < 1985 || d.Year() > 2200 { // China's patent law dates from 1985
		fe.Add(field, "must be a date between 1985 and 2200")
		return time.Time{}, false
	}
	return d, true
}

// ids checks a list of IDs: at least one when required, at most max, no repeats.
func (fe *fieldErrors) ids(field string, ids []string, max int, required bool) {
	switch {
	case required && len(ids) == 0:
		fe.Add(field, "at least one is required")
		return
	case len(ids) > max:
		fe.Add(field, fmt.Sprintf("%d listed, at most %d", len(ids), max))
		return
	}
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		at := fmt.Sprintf("%s[%d]", field, i)
		if fe.id(at, id) {
			if seen[id] {
				fe.Add(at, fmt.Sprintf("%q is listed twice", id))
			}
			seen[id] = true
		}
	}
}
