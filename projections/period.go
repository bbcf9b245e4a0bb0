package projections

import (
	"fmt"
	"strconv"
	"time"

	"github.com/fundbridge/fundbridge"
)

// The market runs on China's clock (UTC+8, no daylight saving): a view's
// days, months, quarters and years are China's, whatever the server's zone.
const chinaOffset = 8 * time.Hour

// Month numbers a calendar month in China as year*12 + month-1, so that
// quarters and years are plain division.
type Month int32

// MonthOf is the China month of an instant.
func MonthOf(t time.Time) Month {
	c := t.UTC().Add(chinaOffset)
	return Month(c.Year()*12 + int(c.Month()) - 1)
}

// MonthOfNanos is MonthOf for Unix nanoseconds.
func MonthOfNanos(ns int64) Month { return MonthOf(time.Unix(0, ns)) }

// Granularity is how a view groups time: by month, quarter or year, or
// not at all ("").
type Granularity string

const (
	ByMonth   Granularity = "month"
	ByQuarter Granularity = "quarter"
	ByYear    Granularity = "year"
)

// ParseGranularity reads a granularity; field names the input in errors.
func ParseGranularity(field, s string) (Granularity, error) {
	switch g := Granularity(s); g {
	case "", ByMonth, ByQuarter, ByYear:
		return g, nil
	}
	return "", fundbridge.Invalid("invalid period", fundbridge.FieldError{Field: field, Reason: fmt.Sprintf("%q is not one of month, quarter, year", s)})
}

// Period is the index of m's period: the month itself, its quarter or its
// year; 0 when there is no granularity.
func (g Granularity) Period(m Month) int32 {
	switch g {
	case ByMonth:
		return int32(m)
	case ByQuarter:
		return int32(m) / 3
	case ByYear:
		return int32(m) / 12
	}
	return 0
}

// Label names a period index: "2026-11", "2026-Q4", "2026", or "".
func (g Granularity) Label(p int32) string {
	switch g {
	case ByMonth:
		return fmt.Sprintf("%04d-%02d", p/12, p%12+1)
	case ByQuarter:
		return fmt.Sprintf("%04d-Q%d", p/4, p%4+1)
	case ByYear:
		return strconv.Itoa(int(p))
	}
	return ""
}

// Label is the month as "2026-11".
func (m Month) Label() string { return ByMonth.Label(int32(m)) }

// ParseDate reads a China calendar date, YYYY-MM-DD, as the instant it
// begins; field names the input in errors.
func ParseDate(field, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fundbridge.Invalid("invalid date", fundbridge.FieldError{Field: field, Reason: fmt.Sprintf("%q is not a date like 2026-11-30", s)})
	}
	return d.Add(-chinaOffset), nil
}

// ParseAsOf reads an "as of" bound and returns the instant it ends: a
// date (YYYY-MM-DD) covers that whole China day; an RFC 3339 time covers
// up to and including that instant. Empty means now: no bound (zero).
func ParseAsOf(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) == len(time.DateOnly) {
		day, err := ParseDate(field, s)
		if err != nil {
			return time.Time{}, err
		}
		return day.Add(24*time.Hour - time.Nanosecond), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fundbridge.Invalid("invalid as_of", fundbridge.FieldError{Field: field, Reason: fmt.Sprintf("%q is neither a date like 2026-11-30 nor an RFC 3339 time", s)})
	}
	return t, nil
}
