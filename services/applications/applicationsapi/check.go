package applicationsapi

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc/check"
)

// Validation helpers.

// fieldErrors collects every bad field of one input; the checks this
// service shares among its commands are its methods.
type fieldErrors struct{ check.Fields }

// date checks a YYYY-MM-DD date that is real, not in the future (as of
// today in China) and not before 1900.
func (fe *fieldErrors) date(field, s string, today time.Time, required bool) (time.Time, bool) {
	if s == "" {
		if required {
			fe.Add(field, "required")
		}
		return time.Time{}, false
	}
	d, err := time.Parse(DateLayout, s)
	switch {
	case err != nil:
		fe.Add(field, fmt.Sprintf("%q is not a date written year-month-day, like 2024-03-15", s))
	case d.After(today):
		fe.Add(field, fmt.Sprintf("%s is in the future", s))
	case d.Year() < 1900:
		fe.Add(field, fmt.Sprintf("%s is before 1900", s))
	default:
		return d, true
	}
	return time.Time{}, false
}

// ChinaToday is today's date in China (UTC+8, no daylight saving) as
// midnight UTC, comparable with parsed dates.
func ChinaToday(now time.Time) time.Time {
	y, m, d := now.In(time.FixedZone("CST", 8*3600)).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (fe *fieldErrors) uscc(field, code string) {
	switch {
	case code == "":
		fe.Add(field, "required")
	case len(code) != 18:
		fe.Add(field, fmt.Sprintf("must be 18 characters, not %d", utf8.RuneCountInString(code)))
	default:
		for i := 0; i < 18; i++ {
			if !strings.ContainsRune("0123456789ABCDEFGHJKLMNPQRTUWXY", rune(code[i])) {
				fe.Add(field, fmt.Sprintf("character %d (%q) is not one of 0-9 and the upper-case letters A-Y without I, O, S, V and Z", i+1, code[i]))
				return
			}
		}
		if !fundbridge.ValidUSCC(code) {
			check, _ := fundbridge.USCCCheck(code[:17])
			fe.Add(field, fmt.Sprintf("wrong check character %q: GB 32100-2015 gives %q for the first 17", code[17], check))
		}
	}
}

func (fe *fieldErrors) profile(p CompanyProfile, today time.Time) {
	fe.Line("name", p.Name, maxNameLength, true)
	check.Enum(&fe.Fields, "city", p.City, fundbridge.Cities, true)
	check.Enum(&fe.Fields, "layer", p.Layer, fundbridge.Layers, true)
	check.Enum(&fe.Fields, "sector", p.Sector, fundbridge.AllSectors(), true)
	fe.sectorInLayer(p)
	fe.date("founded_on", p.FoundedOn, today, true)
	fe.headcount(p.Headcount)
}

// SectorInLayer refuses a profile whose sector is not of its layer.
func SectorInLayer(p CompanyProfile) error {
	var fe fieldErrors
	fe.sectorInLayer(p)
	return fe.Err("invalid company profile")
}

// sectorInLayer checks that the profile's sector belongs to its layer.
func (fe *fieldErrors) sectorInLayer(p CompanyProfile) {
	if p.Layer.Valid() && p.Sector.Valid() && p.Sector.Layer() != p.Layer {
		fe.Add("sector", fmt.Sprintf("%q belongs to layer %s, not %s; the %s layer has %v",
			string(p.Sector), p.Sector.Layer(), p.Layer, p.Layer, fundbridge.SectorsOf(p.Layer)))
	}
}

// instruments checks a list of instruments: known and distinct.
func (fe *fieldErrors) instruments(list []fundbridge.Instrument, required bool) {
	if required && len(list) == 0 {
		fe.Add("instruments", "at least one instrument is required")
	}
	check.EnumList(&fe.Fields, "instruments", list, fundbridge.Instruments)
}

func (fe *fieldErrors) useOfFunds(s string, required bool) {
	fe.Text("use_of_funds", s, maxUseOfFunds, required)
}

// valuation checks an optional pre-money valuation ask.
func (fe *fieldErrors) valuation(v *money.Amount) {
	if v == nil {
		return
	}
	if reason := check.AmountProblem(*v, money.FromDecimal(money.MaxAmount)); reason != "" {
		fe.Add("valuation_ask", reason)
	}
}

func (fe *fieldErrors) headcount(n int) {
	switch {
	case n < 1:
		fe.Add("headcount", "must be at least 1")
	case n > maxHeadcount:
		fe.Add("headcount", fmt.Sprintf("must be at most %d", maxHeadcount))
	}
}

// amount checks a required amount: positive, at most 2 places, at most max.
func (fe *fieldErrors) amount(field string, a *money.Amount, max money.Amount) {
	if a == nil {
		fe.Add(field, "required")
		return
	}
	if reason := check.AmountProblem(*a, max); reason != "" {
		fe.Add(field, reason)
	}
}

// bound checks a filter amount: zero is allowed.
func (fe *fieldErrors) bound(field string, a money.Amount) bool {
	if a.IsZero() {
		return true
	}
	if reason := check.AmountProblem(a, money.FromDecimal(money.MaxAmount)); reason != "" {
		fe.Add(field, reason)
		return false
	}
	return true
}

// TermsProblems lists what is wrong with terms; complete also requires
// what a submission needs (instruments and the use of funds).
func TermsProblems(t ApplicationTerms, complete bool) []fundbridge.FieldError {
	var fe fieldErrors
	amount := t.AmountRequested
	fe.amount("amount_requested", &amount, MaxRequest())
	fe.instruments(t.Instruments, complete)
	fe.useOfFunds(t.UseOfFunds, complete)
	fe.valuation(t.ValuationAsk)
	return fe.FieldErrors
}
