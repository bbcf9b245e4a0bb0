package dealsapi

import (
	"fmt"
	"slices"
	"strconv"
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
	maxNameLength   = 200
	maxReasonLength = 500
	maxRefLength    = 200
	maxIDLength     = 100
	maxSharePlaces  = 4
)

// fieldErrors collects every bad field of one input; the checks the
// commands share are its methods.
type fieldErrors struct{ fundbridge.FieldErrors }

// merge adds the errors of fields not named yet, so a field already found
// bad is named once, for what is wrong with it.
func (fe *fieldErrors) merge(more fundbridge.FieldErrors) {
	for _, e := range more {
		if !slices.ContainsFunc(fe.FieldErrors, func(f fundbridge.FieldError) bool { return f.Field == e.Field }) {
			fe.Add(e.Field, e.Reason)
		}
	}
}

// id checks an ID that becomes part of a stream ID and a NATS subject.
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

// ref checks a reference to something another service owns: opaque, not
// blank, without spaces or control characters.
func (fe *fieldErrors) ref(field, id string) bool {
	switch {
	case id == "":
		fe.Add(field, "required")
	case !utf8.ValidString(id) || len(id) > maxRefLength:
		fe.Add(field, fmt.Sprintf("must be valid UTF-8 of at most %d bytes", maxRefLength))
	case strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		fe.Add(field, "must not contain spaces or control characters")
	default:
		return true
	}
	return false
}

// text checks free text: valid UTF-8 without control characters, at most
// max characters, and not blank when required.
func (fe *fieldErrors) text(field, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		fe.Add(field, "required")
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		fe.Add(field, "must be valid UTF-8 without control characters")
	case utf8.RuneCountInString(s) > max:
		fe.Add(field, fmt.Sprintf("longer than %d characters", max))
	}
}

// limits checks a bank's two limits: a single borrower cannot be allowed
// more than the whole programme.
func (fe *fieldErrors) limits(credit, single money.Amount) {
	creditOK := money.Check(&fe.FieldErrors, "credit_limit", credit)
	singleOK := money.Check(&fe.FieldErrors, "single_borrower_limit", single)
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

// enumList checks each value of a list is known and listed once.
func enumList[T ~string](fe *fieldErrors, field string, values, allowed []T, valid func(T) bool) {
	for i, v := range values {
		name := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !valid(v):
			fe.Add(name, fundbridge.EnumError(v, allowed))
		case slices.Contains(values[:i], v):
			fe.Add(name, fmt.Sprintf("%q is listed twice", v))
		}
	}
}

func quoted[T ~string](values []T) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = strconv.Quote(string(v))
	}
	return strings.Join(parts, ", ")
}
