package insuranceapi

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc/check"
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

// fieldErrors collects every bad field of one input: the shared checks
// (svc/check) under this contract's limits, and the ones only insurance
// needs. Each returns whether the field is good.
type fieldErrors struct{ check.Fields }

// id checks a required ID that names a stream or a NATS subject token.
func (fe *fieldErrors) id(field, id string) bool { return fe.ID(field, id, maxIDLength, true) }

// enum checks a required value of a closed set.
func enum[T ~string](fe *fieldErrors, field string, v T, allowed []T) bool {
	return check.Enum(&fe.Fields, field, v, allowed, true)
}

// money checks an amount that may be zero; positive one that may not.
func (fe *fieldErrors) money(field string, a money.Amount) bool {
	if a.Decimal().IsZero() {
		return true
	}
	return fe.positive(field, a)
}

func (fe *fieldErrors) positive(field string, a money.Amount) bool {
	return fe.Amount(field, a, money.FromDecimal(money.MaxAmount))
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
