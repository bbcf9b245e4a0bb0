// Package insuranceapi is the contract of the insurance service: the
// event payloads others read, the commands it takes, the published rating
// tables and how a premium follows from them. It does no I/O, so a
// startup's client can predict a premium with the same code the service
// quotes with.
package insuranceapi

import (
	"fmt"
	"slices"
	"time"

	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// Coverage is what a policy pays for.
type Coverage string

const (
	// CoverageEnforcement pays the insured's costs of enforcing a patent
	// (专利执行保险): lawyers, evidence, court fees.
	CoverageEnforcement Coverage = "enforcement"
	// CoverageInfringementLoss pays the insured's direct loss from an
	// infringement of its patent (专利被侵权损失保险).
	CoverageInfringementLoss Coverage = "infringement_loss"
	// CoveragePledgeGuarantee pays a bank the insurer's agreed share of a
	// defaulted loan secured by the patents (知识产权质押融资保证保险).
	CoveragePledgeGuarantee Coverage = "pledge_guarantee"
)

// Coverages lists every coverage type.
var Coverages = []Coverage{CoverageEnforcement, CoverageInfringementLoss, CoveragePledgeGuarantee}

// Valid reports whether c is a known coverage type.
func (c Coverage) Valid() bool { return slices.Contains(Coverages, c) }

// PatentKind and PatentHolding are the applications service's: a policy
// insures patents as that service registers them.
type (
	PatentKind    = applicationsapi.PatentKind
	PatentHolding = applicationsapi.PatentHolding
)

const (
	PatentInvention    = applicationsapi.PatentInvention    // 发明, 20 years from filing
	PatentUtilityModel = applicationsapi.PatentUtilityModel // 实用新型, 10 years
	PatentDesign       = applicationsapi.PatentDesign       // 外观设计, 15 years (10 if filed before 2021-06-01)
	HoldingOwner       = applicationsapi.HoldingOwner
	HoldingLicensee    = applicationsapi.HoldingLicensee
)

// PatentKinds lists every patent kind.
var PatentKinds = []PatentKind{PatentInvention, PatentUtilityModel, PatentDesign}

// ClaimsBand groups a company's patent-insurance claims paid in the three
// years before a request; the rating table prices each band.
type ClaimsBand string

const (
	ClaimsNone    ClaimsBand = "none"    // no claim paid
	ClaimsOne     ClaimsBand = "one"     // one claim paid
	ClaimsSeveral ClaimsBand = "several" // two or more
)

// ClaimsBands lists every claims-history band, best first.
var ClaimsBands = []ClaimsBand{ClaimsNone, ClaimsOne, ClaimsSeveral}

// Valid reports whether b is a known claims-history band.
func (b ClaimsBand) Valid() bool { return slices.Contains(ClaimsBands, b) }

// ClaimsBandOf is the band of a number of claims paid.
func ClaimsBandOf(paid int) ClaimsBand {
	switch {
	case paid <= 0:
		return ClaimsNone
	case paid == 1:
		return ClaimsOne
	}
	return ClaimsSeveral
}

// DateLayout is how dates travel: a calendar day, YYYY-MM-DD, in China
// time. Policy periods, incidents and expiries are days, not instants.
const DateLayout = "2006-01-02"

// Rules every policy follows; the docs (docs/insurance.md) state them.
const (
	// MinYearsToExpiry: an insured patent must have at least this many
	// years of term left on the first day of the policy.
	MinYearsToExpiry = 3
	// QuoteValidDays: a quote can be accepted for this many days.
	QuoteValidDays = 30
	// DefaultMonths is the policy period when the request names none.
	DefaultMonths = 12
	// MaxMonths is the longest policy period.
	MaxMonths = 36
)

// Today is the calendar day in China (UTC+8, no daylight saving) at t, as
// midnight UTC so days compare and subtract exactly.
func Today(t time.Time) time.Time {
	c := t.In(time.FixedZone("CST", 8*60*60))
	return time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, time.UTC)
}

// ParseDate reads a YYYY-MM-DD day as midnight UTC.
func ParseDate(s string) (time.Time, error) {
	d, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return d, nil
}

// Days is the number of days from a to b (b − a), both midnight UTC.
func Days(a, b time.Time) int { return int(b.Sub(a).Hours() / 24) }

// PeriodEnd is the last day of a policy of months starting on start: the
// day before the same day months later, so a one-year policy from
// 2026-03-01 ends on 2027-02-28. When that month is too short for the
// start's day, its last day stands in for it.
func PeriodEnd(start time.Time, months int) time.Time {
	end := time.Date(start.Year(), start.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	if last := end.AddDate(0, 1, -1).Day(); start.Day() <= last {
		end = end.AddDate(0, 0, start.Day()-1)
	} else {
		end = end.AddDate(0, 0, last-1)
	}
	return end.AddDate(0, 0, -1)
}
