package dealsapi

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc/check"
)

// Limits on input, so that one command stays a small event.
const (
	maxNameLength   = 200
	maxReasonLength = 500
	maxRefLength    = 200
	maxIDLength     = 100
	maxSharePlaces  = 4
)

func maxAmount() money.Amount { return money.FromDecimal(money.MaxAmount) }

// fieldErrors collects every bad field of one input: the shared checks,
// and those only the deals commands need.
type fieldErrors struct{ check.Fields }

// merge adds the errors of fields not named yet, so a field already found
// bad is named once, for what is wrong with it.
func (fe *fieldErrors) merge(more fundbridge.FieldErrors) {
	for _, e := range more {
		if !slices.ContainsFunc(fe.FieldErrors, func(f fundbridge.FieldError) bool { return f.Field == e.Field }) {
			fe.Add(e.Field, e.Reason)
		}
	}
}

// limits checks a bank's two limits: a single borrower cannot be allowed
// more than the whole programme.
func (fe *fieldErrors) limits(credit, single money.Amount) {
	creditOK := fe.Amount("credit_limit", credit, maxAmount())
	singleOK := fe.Amount("single_borrower_limit", single, maxAmount())
	if creditOK && singleOK && single.GreaterThan(credit) {
		fe.Add("single_borrower_limit", "must not be above credit_limit "+credit.String())
	}
}

// fraction parses a share given as a string like "0.25": a plain decimal
// in [0, 1] (or (0, 1] without zero) of at most 4 places.
func (fe *fieldErrors) fraction(field, s string, zero bool) (decimal.Decimal, bool) {
	notDigit := func(r rune) bool { return r < '0' || r > '9' }
	whole, places, point := strings.Cut(s, ".")
	switch {
	case s == "":
		fe.Add(field, `required: a fraction like "0.25"`)
	case whole == "" || len(whole) > 1 || strings.ContainsFunc(whole, notDigit) || point && (places == "" || strings.ContainsFunc(places, notDigit)):
		fe.Add(field, fmt.Sprintf(`%q is not a fraction like "0.25"`, s))
	case len(places) > maxSharePlaces:
		fe.Add(field, fmt.Sprintf("has more than %d decimal places", maxSharePlaces))
	default:
		d := decimal.RequireFromString(s)
		switch {
		case d.GreaterThan(decimal.NewFromInt(1)):
			fe.Add(field, "must be at most 1")
		case !zero && d.IsZero():
			fe.Add(field, "must be greater than 0")
		default:
			return d, true
		}
	}
	return decimal.Decimal{}, false
}

// date parses a calendar date like "2027-06-30" as midnight UTC.
func (fe *fieldErrors) date(field, s string) (time.Time, bool) {
	if s == "" {
		fe.Add(field, `required: a date like "2027-06-30"`)
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		fe.Add(field, fmt.Sprintf(`%q is not a date like "2027-06-30"`, s))
		return time.Time{}, false
	}
	return t, true
}
