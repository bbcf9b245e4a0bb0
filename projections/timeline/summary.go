package timeline

import (
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
)

// Param is one value an entry's sentence names, with its kind, so that a
// client can write the sentence in its reader's language, as it writes a
// match reason from its params.
type Param struct {
	// Kind is how to read the values: stage, sector, layer, city,
	// instrument, step, sequence, coverage and patent_kind are the enums'
	// values; amount is yuan as a decimal string; percent a fraction
	// ("0.2" is 20%); count a whole number; date a day (2026-12-01); text
	// as it is, in whatever language it was written (names, IDs, reasons).
	Kind string `json:"kind" jsonschema_description:"stage, sector, layer, city, instrument, step (of a screening deal), sequence (of a loan-plus-equity deal's tranches), coverage, patent_kind, amount (yuan as a decimal string), percent (a fraction: 0.2 is 20%), count (a whole number), date (YYYY-MM-DD) or text (names, IDs and people's reasons, as written)."`
	// Values holds one value, or a list (instruments, fund names).
	Values []string `json:"values" jsonschema_description:"One value, or a list of values of the kind (instruments, fund names)."`
}

// sentences are the English of every summary code, a format with one %s
// per param. A code keeps its meaning: a sentence of another shape is a
// new code, so a page that writes a code in another language never
// writes a sentence it does not know. "_with_reason" codes are the same
// sentence followed by a reason someone gave.
var sentences = map[string]string{
	"company.registered":      "Registered %s (%s/%s, %s) at the %s stage",
	"company.profile_updated": "Updated the company profile of %s",
	"company.stage_changed":   "Moved from the %s stage to %s",
	"company.patent_added":    "Added %s patent %s: %s",

	"application.drafted":               "Drafted an application for %s: %s",
	"application.updated":               "Updated the draft to %s: %s",
	"application.submitted":             "Applied for %s: %s",
	"application.matched":               "Matched to %s fund(s): %s",
	"application.under_review":          "Under review by %s",
	"application.funded":                "Funded %s by %s (%s)",
	"application.withdrawn":             "Withdrew the application",
	"application.withdrawn_with_reason": "Withdrew the application: %s",
	"application.rejected":              "Application rejected",
	"application.rejected_with_reason":  "Application rejected: %s",
	"application.expired":               "Application expired without review",

	"deal.sourced":                         "%s opened a deal (match score %s)",
	"deal.advanced":                        "%s moved the deal to %s",
	"deal.passed":                          "%s passed at %s: %s",
	"deal.term_sheet_issued":               "%s issued a term sheet: %s at %s pre-money for %s",
	"deal.term_sheet_accepted":             "Accepted the term sheet of %s",
	"deal.term_sheet_declined":             "Declined the term sheet of %s",
	"deal.term_sheet_declined_with_reason": "Declined the term sheet of %s: %s",
	"deal.closed":                          "%s closed the deal: %s for %s",

	"loan_deal.proposed":                   "Loan-plus-equity deal proposed: a %s loan over %s months at %s, %s, with %s of equity",
	"loan_deal.book_closed":                "The loan's book closed with %s committed",
	"loan_deal.book_closed_oversubscribed": "The loan's book closed with %s committed (oversubscribed: scaled back pro rata to the loan)",
	"loan_deal.equity_committed":           "%s committed %s of equity",
	"loan_deal.closed":                     "The loan-plus-equity deal closed: both tranches are in and the loan is open",
	"loan_deal.expired":                    "The loan-plus-equity deal expired before it closed; every commitment was released",

	"loan.drawn_down":              "%s of the loan disbursed (%s drawn in all)",
	"loan.schedule_fixed":          "Repayment schedule fixed: %s over %s monthly periods",
	"loan.repaid":                  "Repaid %s (%s principal outstanding)",
	"loan.fee_charged":             "Charged a fee of %s",
	"loan.fee_charged_with_reason": "Charged a fee of %s: %s",
	"loan.period_overdue":          "Period %s overdue, %s days past due: %s unpaid",
	"loan.repaid_early":            "Repaid %s early (%s principal outstanding; the schedule was recomputed)",
	"loan.repaid_in_full":          "The loan is repaid in full",
	"loan.defaulted":               "The loan was declared in default with a loss of %s",
	"loan.defaulted_with_reason":   "The loan was declared in default with a loss of %s: %s",
	"loan.warrant_exercised":       "The warrant was exercised: %s of equity for %s",
	"loan.arrears_cleared":         "Arrears cleared: every overdue period through %s is paid",
	"loan.loss_allocated":          "The loss of %s was allocated: banks %s, fund %s, risk-compensation fund %s, insurer %s",

	"insurance.requested":             "Asked for %s cover for %s patent(s) from %s insurer(s), %s to %s: %s insured",
	"insurance.quoted":                "Quoted a premium of %s by %s (valid until %s)",
	"insurance.declined":              "%s declined to quote",
	"insurance.declined_with_reason":  "%s declined to quote: %s",
	"insurance.quote_expired":         "The quote of %s expired",
	"insurance.quote_accepted":        "Accepted the quote of %s",
	"insurance.withdrawn":             "Withdrew the insurance request",
	"insurance.withdrawn_with_reason": "Withdrew the insurance request: %s",

	"policy.bound":                 "Policy %s, %s cover from %s to %s by %s bound, premium %s",
	"policy.subsidy_applied":       "A premium subsidy of %s from %s",
	"policy.premium_paid":          "Paid the premium: %s; the policy is in force",
	"policy.expired":               "The policy expired",
	"policy.cancelled":             "The policy was cancelled, %s refunded",
	"policy.cancelled_with_reason": "The policy was cancelled, %s refunded: %s",
	"claim.filed":                  "Claim %s filed for %s",
	"claim.assessed":               "Claim %s assessed at %s",
	"claim.settled":                "Claim %s settled: %s paid",
	"claim.denied":                 "Claim %s denied",
	"claim.denied_with_reason":     "Claim %s denied: %s",
}

// sentenceCase are the codes whose English starts with a capital even
// when the name it starts with does not ("insurer i1 declined" reads
// "Insurer i1 declined"), as their summaries always did.
var sentenceCase = map[string]bool{"insurance.declined": true, "insurance.declined_with_reason": true}

// Codes are the summary codes an entry may carry, sorted.
func Codes() []string { return slices.Sorted(maps.Keys(sentences)) }

// EnglishFormat is the English of a code, a format with one %s per
// param; "" for an unknown code. A page's catalog holds the same.
func EnglishFormat(code string) string { return sentences[code] }

// English writes a summary from its code and params, as the API's
// summary says it; an unknown code writes "".
func English(code string, params []Param) string {
	format, ok := sentences[code]
	if !ok {
		return ""
	}
	// By hand, not fmt: a read writes every entry of the company, and
	// boxing each value cost a third more allocations per entry.
	var b strings.Builder
	b.Grow(len(format) + 16*len(params))
	next := 0
	for {
		i := strings.Index(format, "%s")
		if i < 0 {
			b.WriteString(format)
			break
		}
		b.WriteString(format[:i])
		if next < len(params) {
			b.WriteString(englishValue(params[next]))
		} else {
			b.WriteString("%!s(MISSING)") // as fmt says it, for a code said with too few params
		}
		format, next = format[i+2:], next+1
	}
	s := b.String()
	if sentenceCase[code] {
		s = projections.Sentence(s)
	}
	return s
}

// englishValue writes a param as the English summaries always have:
// amounts short ("¥2.5m"), percents with two places, enums by their
// values, lists with commas.
func englishValue(prm Param) string {
	if len(prm.Values) == 1 { // most are: spare the list a read of every entry
		return englishOne(prm.Kind, prm.Values[0])
	}
	parts := make([]string, len(prm.Values))
	for i, v := range prm.Values {
		parts[i] = englishOne(prm.Kind, v)
	}
	return strings.Join(parts, ", ")
}

func englishOne(kind, v string) string {
	switch kind {
	case "amount":
		if a, err := money.Parse("amount", v); err == nil {
			return projections.Human(a)
		}
	case "percent":
		if d, err := decimal.NewFromString(v); err == nil {
			return percent(d)
		}
	}
	return v
}

// The params an entry's sentence names.

func textParam(s string) Param                 { return Param{Kind: "text", Values: []string{s}} }
func enumParam(kind string, v string) Param    { return Param{Kind: kind, Values: []string{v}} }
func countParam(n string) Param                { return Param{Kind: "count", Values: []string{n}} }
func dateParam(day string) Param               { return Param{Kind: "date", Values: []string{day}} }
func percentParam(fraction string) Param       { return Param{Kind: "percent", Values: []string{fraction}} }
func amountParam(a money.Amount) Param         { return Param{Kind: "amount", Values: []string{a.String()}} }
func listParam(kind string, vs []string) Param { return Param{Kind: kind, Values: vs} }

// say sets the entry's summary code and params; view writes the English
// from them, so the two cannot disagree.
func (l *line) say(code string, params ...Param) {
	l.v.SummaryCode, l.v.SummaryParams = code, params
}

// sayWithReason says code, or code_with_reason with the reason someone
// gave as its last param.
func (l *line) sayWithReason(code, reason string, params ...Param) {
	if reason != "" {
		code, params = code+"_with_reason", append(params, textParam(reason))
	}
	l.say(code, params...)
}

// sep joins the pieces an entry's one Text string holds (a registered
// company's layer, sector, city and name; a loan's months, rate and
// sequence): a control character no enum or number holds. Free text, a
// name or a reason, goes last and is read with a limit, so a separator
// typed into it cannot shift the pieces.
const sep = "\x1f"

func join(pieces ...string) string { return strings.Join(pieces, sep) }

// pieces splits an entry's Text into n pieces, "" for any missing.
func pieces(s string, n int) []string {
	out := strings.SplitN(s, sep, n)
	for len(out) < n {
		out = append(out, "")
	}
	return out
}
