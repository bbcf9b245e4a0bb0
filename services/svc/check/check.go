// Package check is the one set of field checks the contracts validate
// their requests with, so that the same mistake gets the same words from
// every service. Each check adds what is wrong, naming the field, and
// reports whether the value passed.
package check

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/shopspring/decimal"
)

// Fields collects every bad field of one request.
type Fields struct{ fundbridge.FieldErrors }

// Text checks free text: valid UTF-8, at most max characters, not blank
// when required, and no control characters but line breaks and tabs (a
// NUL or a terminal escape is no one's text). See Line for one line.
func (f *Fields) Text(field, s string, max int, required bool) bool {
	switch n := utf8.RuneCountInString(s); {
	case strings.TrimSpace(s) == "":
		if required {
			f.Add(field, "required")
			return false
		}
	case !utf8.ValidString(s):
		f.Add(field, "not valid UTF-8")
		return false
	case n > max:
		f.Add(field, fmt.Sprintf("%d characters, at most %d", n, max))
		return false
	case strings.ContainsFunc(s, textControl):
		f.Add(field, "contains control characters (only line breaks and tabs may be in text)")
		return false
	}
	return true
}

// textControl reports a control character free text may not hold: any
// but a line break or a tab.
func textControl(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
}

// Line checks one line of text, such as a name: Text without control
// characters.
func (f *Fields) Line(field, s string, max int, required bool) bool {
	if !f.Text(field, s, max, required) {
		return false
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		f.Add(field, "contains control characters")
		return false
	}
	return true
}

// ID checks an identifier that becomes part of a stream ID or a NATS
// subject: 1 to max letters, digits, '_' and '-'.
func (f *Fields) ID(field, id string, max int, required bool) bool {
	switch {
	case id == "":
		if required {
			f.Add(field, "required")
		}
		return false
	case len(id) > max:
		f.Add(field, fmt.Sprintf("longer than %d characters", max))
		return false
	case strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}):
		f.Add(field, fmt.Sprintf("%q may hold only letters, digits, '_' and '-'", id))
		return false
	}
	return true
}

// Ref checks a reference to something another service owns: an opaque,
// non-blank ID of at most max bytes without spaces or control characters.
func (f *Fields) Ref(field, id string, max int) bool {
	switch {
	case id == "":
		f.Add(field, "required")
	case !utf8.ValidString(id):
		f.Add(field, "not valid UTF-8")
	case len(id) > max:
		f.Add(field, fmt.Sprintf("longer than %d bytes", max))
	case strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		f.Add(field, "must not contain spaces or control characters")
	default:
		return true
	}
	return false
}

// Amount checks a decoded amount by the rules money.Parse applies to what
// people enter, and that it is above zero and at most max. The exponent
// is checked before any comparison, which would first expand "1e9999" to
// ten thousand digits.
func (f *Fields) Amount(field string, a money.Amount, max money.Amount) bool {
	if reason := AmountProblem(a, max); reason != "" {
		f.Add(field, reason)
		return false
	}
	return true
}

// AmountProblem says what is wrong with a positive amount, "" if nothing.
func AmountProblem(a money.Amount, max money.Amount) string {
	d := a.Decimal()
	switch {
	case d.IsNegative():
		return "must not be negative"
	case d.Exponent() < -2:
		return "has more than 2 decimal places"
	case d.Exponent() > 14 || a.GreaterThan(max):
		return "must be at most " + yuan(max)
	case d.IsZero():
		return "must be given and greater than zero"
	}
	return ""
}

// Limit checks a page size: 0 for the default, else 1 to max.
func (f *Fields) Limit(n, max, def int) bool {
	if n < 0 || n > max {
		f.Add("limit", fmt.Sprintf("must be between 1 and %d (0 for the default %d)", max, def))
		return false
	}
	return true
}

// Enum checks a value is one of allowed; "" passes unless required.
func Enum[T ~string](f *Fields, field string, v T, allowed []T, required bool) bool {
	switch {
	case v == "":
		if required {
			f.Add(field, "required")
		}
		return !required
	case !slices.Contains(allowed, v):
		f.Add(field, fundbridge.EnumError(v, allowed))
		return false
	}
	return true
}

// EnumList checks each value of a list is known and listed once.
func EnumList[T ~string](f *Fields, field string, values, allowed []T) bool {
	ok := true
	for i, v := range values {
		name := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !slices.Contains(allowed, v):
			f.Add(name, fundbridge.EnumError(v, allowed))
			ok = false
		case slices.Contains(values[:i], v):
			f.Add(name, fmt.Sprintf("%q is listed twice", v))
			ok = false
		}
	}
	return ok
}

// yuan writes a limit for people: ¥10bn (10000000000.00).
func yuan(a money.Amount) string {
	d := a.Decimal()
	for _, u := range []struct {
		unit  string
		value int64
	}{{"bn", 1_000_000_000}, {"m", 1_000_000}} {
		if q := d.Div(decimal.NewFromInt(u.value)); q.IsInteger() && !q.IsZero() {
			return "¥" + q.String() + u.unit + " (" + a.String() + ")"
		}
	}
	return "¥" + a.String()
}
