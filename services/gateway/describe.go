package gateway

import (
	_ "embed"
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
)

//go:generate go run ./internal/gencomments

// commentsJSON holds the Go doc comments the document uses, generated
// from the contracts' source (go generate ./services/gateway), so that
// the binary describes its API without the source tree;
// TestDocCommentsAreCurrent fails when it is stale.
//
//go:embed comments.json
var commentsJSON []byte

// CommentsFile is commentsJSON's name beside this package's source.
const CommentsFile = "comments.json"

var docComments = sync.OnceValue(func() map[string]string {
	var m map[string]string
	if err := json.Unmarshal(commentsJSON, &m); err != nil {
		panic("gateway: " + CommentsFile + ": " + err.Error()) // a build that embeds a broken file
	}
	return m
})

// UsedComments returns the comments of all (every comment of the module,
// as gocomments.Extract reads them) that the document takes: what
// CommentsFile must hold.
func UsedComments(all map[string]string) map[string]string {
	s := newSchemas(all)
	New(nil).document(s)
	out := make(map[string]string, len(s.used))
	for k := range maps.Keys(s.used) {
		out[k] = all[k]
	}
	return out
}

// describe gives the description of type t (name "") or of its field
// name: the field's Go doc comment, or else the glossary's words for
// its JSON name, followed by what its type implies (units); "" when
// neither says anything.
func (s *schemas) describe(t reflect.Type, name string) string {
	typeName, _, _ := strings.Cut(t.Name(), "[") // a generic type's comment is on its declaration
	key := t.PkgPath() + "." + typeName
	if name != "" {
		key += "." + name
	}
	text, ok := s.comments[key]
	if ok && text != "" {
		s.used[key] = true
	}
	text = forReaders(text, typeName, name)
	if name == "" {
		return text
	}
	f, ok := t.FieldByName(name)
	if !ok {
		return text
	}
	if text == "" {
		jsonName, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		text = glossary[jsonName]
	}
	if text == "" {
		return ""
	}
	if u := units(f.Type); u != "" {
		text = strings.TrimSuffix(text, ".") + ". " + u
	}
	return text
}

// forReaders turns a Go doc comment into a description: its first
// paragraph on one line, without the Go name it starts with ("Position
// is the ..." becomes "The ...").
func forReaders(comment, typeName, field string) string {
	comment, _, _ = strings.Cut(strings.TrimSpace(comment), "\n\n")
	text := strings.Join(strings.Fields(comment), " ")
	ident := typeName
	if field != "" {
		ident = field
	}
	if rest, ok := strings.CutPrefix(text, ident+" "); ok && ident != "" {
		text = rest
		for _, verb := range []string{"is ", "are "} {
			text = strings.TrimPrefix(text, verb)
		}
	}
	if r, size := utf8.DecodeRuneInString(text); size > 0 {
		text = string(unicode.ToUpper(r)) + text[size:]
	}
	return text
}

// units says how a value of type t is written on the wire.
func units(t reflect.Type) string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[money.Amount]():
		return "CNY, a decimal string with at most two places."
	case reflect.TypeFor[decimal.Decimal]():
		return "A decimal string."
	case reflect.TypeFor[time.Time]():
		return "RFC 3339, UTC."
	}
	return ""
}

// glossary describes the fields that mean the same wherever they appear,
// by JSON name, for the types whose fields have no doc comment of their
// own. A field's doc comment takes precedence.
var glossary = map[string]string{
	"version":                  "The resource's version: how many events it has; its ETag",
	"created_at":               "When it was created",
	"updated_at":               "When it last changed",
	"position":                 "Global log position this answer reflects (pass it as ?after= to later reads)",
	"items":                    "This page's items, in the order asked for",
	"next_cursor":              "Give it back as ?cursor= for the next page; absent on the last page",
	"company_id":               "The company's ID",
	"application_id":           "The funding application's ID",
	"fund_id":                  "The fund's ID",
	"deal_id":                  "The deal's ID",
	"bank_id":                  "The bank's ID (its org ID)",
	"loan_id":                  "The loan's ID (the ID of the deal that opened it)",
	"user_id":                  "The user's ID",
	"org_id":                   "The org's ID",
	"borrower_id":              "The borrowing company's ID",
	"lead_bank_id":             "The ID of the bank that leads the syndicate",
	"equity_fund_id":           "The ID of the fund that commits the equity tranche",
	"company_name":             "The company's registered name",
	"name":                     "Its name",
	"status":                   "Where it stands in its lifecycle",
	"stage":                    "The company's stage",
	"sector":                   "The company's AI sector",
	"layer":                    "The layer of the AI stack the company works in",
	"city":                     "The city the company is registered in",
	"uscc":                     "The company's Unified Social Credit Code (18 characters, with its check character)",
	"instruments":              "The financing instruments asked for or offered",
	"amount":                   "The amount",
	"reason":                   "Why, in the words of whoever did it",
	"stages":                   "Company stages",
	"sectors":                  "AI sectors",
	"layers":                   "Layers of the AI stack",
	"cities":                   "Cities",
	"role":                     "The role: startup, fund_manager, bank, insurer, operator or system",
	"email":                    "Email address",
	"at":                       "When it happened",
	"after":                    "A log position (from a command's Fundbridge-Position): the answer reflects at least everything up to it",
	"cursor":                   "Where the previous page ended: its next_cursor, given back unchanged with the same sort and filters",
	"limit":                    "Items per page, 1 to 200; 0 or absent for 50",
	"sort":                     "A field to sort by; a leading '-' sorts descending. Ties are broken by ID",
	"password":                 "The password: at least 12 characters, not easy to guess, not containing the email's name",
	"user":                     "The user",
	"org":                      "The org",
	"erased":                   "Whether the person's personal data was erased: name and email are then gone",
	"number":                   "The patent number as CNIPA writes it: CN, 12 digits, a dot and the check digit, such as CN202310123456.6",
	"kind":                     "The kind of patent: invention, utility_model or design",
	"title":                    "The patent's title",
	"holding":                  "Whether the company owns the patent or holds a licence to it",
	"filed_on":                 "The filing date, YYYY-MM-DD (China time)",
	"granted_on":               "The grant date, YYYY-MM-DD (China time); absent while the patent is pending",
	"expires_on":               "The date the patent expires, YYYY-MM-DD (China time), derived from its kind and filing date",
	"added_at":                 "When the patent was added to the company",
	"founded_on":               "The date the company was founded, YYYY-MM-DD (China time); not in the future",
	"headcount":                "How many people the company employs",
	"patents":                  "The company's patents",
	"registered_at":            "When it was registered on the platform",
	"stage_history":            "Every stage the company has been at, oldest first",
	"status_history":           "Every status the application has had, oldest first",
	"submitted_at":             "When the application was submitted; absent while it is a draft",
	"use_of_funds":             "What the company will spend the money on, in its own words",
	"amount_requested":         "What the company asks for",
	"valuation_ask":            "The pre-money valuation the company asks for, if it names one",
	"credit_data_consent":      "Whether the company consents to sharing its credit data with the funds and banks it is matched to",
	"instrument":               "A financing instrument: equity, venture_loan, loan_plus_equity or patent_insurance",
	"committed_capital":        "The fund's committed capital: what its investors have promised",
	"dry_powder":               "Committed capital not yet invested",
	"invested":                 "What the fund has invested in closed deals",
	"manager_org":              "The ID of the org that manages the fund",
	"ticket_min":               "The smallest amount the fund invests in one deal (inclusive)",
	"ticket_max":               "The largest amount the fund invests in one deal (inclusive)",
	"max_ownership":            "The largest share of a company the fund takes, a decimal fraction between 0 and 1 (\"0.20\" for 20%)",
	"excluded_sectors":         "Sectors the fund never invests in",
	"excluded_companies":       "IDs of companies the fund never invests in",
	"deals":                    "The deals that funded it",
	"company":                  "The company",
	"reasons_for":              "Why the fund and the application fit, in sentences",
	"reasons_against":          "What counts against the fit, in sentences",
	"score":                    "How well the application fits the fund's mandate, 0 to 100 (higher is better)",
	"pre_money":                "The company's valuation before the investment",
	"post_money":               "The company's valuation after the investment: pre_money plus the amount",
	"ownership":                "The share of the company the fund takes: amount / post_money, a decimal fraction between 0 and 1",
	"ownership_percent":        "ownership as a percentage with two places, such as \"16.67\"",
	"step":                     "The deal's step in the pipeline",
	"policy_id":                "The insurance policy's ID",
	"claim_id":                 "The claim's ID",
	"request_id":               "The insurance request's ID",
	"quote_id":                 "The quote's ID",
	"programme_id":             "The premium subsidy programme's ID",
	"subsidy_programme_id":     "The ID of the subsidy programme that pays part of the premium; absent when none does",
	"insurer_id":               "The insurer's ID (its org ID)",
	"loan_deal_id":             "The loan-plus-equity deal whose bank loan the pledge_guarantee cover guarantees; pledge_guarantee only",
	"default_id":               "The ID of the loan default a guarantee claim is for",
	"coverage":                 "The coverage type: enforcement, infringement_loss or pledge_guarantee",
	"coverages":                "The coverage types it applies to",
	"sum_insured":              "The sum insured: the most the cover pays in claims over its whole period",
	"starts_on":                "The first day of cover, YYYY-MM-DD (China time); today when a request leaves it out",
	"ends_on":                  "The last day of cover (inclusive), YYYY-MM-DD (China time)",
	"months":                   "The length of the policy period in months, 1 to 36; 12 when a request leaves it out",
	"premium":                  "The premium for the whole policy period, before any subsidy",
	"aggregate_limit":          "The most the policy pays in claims over its period, all claims together: the sum insured",
	"remaining_limit":          "What claims may still be paid: aggregate_limit minus claims_paid",
	"subsidy":                  "What a subsidy programme pays of the premium; 0 when none does",
	"premium_due":              "What the company itself pays: premium minus subsidy",
	"premium_paid":             "Whether premium_due has been paid; cover is in force only then",
	"policy_number":            "The policy number: PE, PL or PG for the coverage, the first day's year and 12 hex digits, such as PE-2025-3F2A9C01B7DE",
	"claims_paid":              "Claim settlements paid so far, partial ones included",
	"bound_at":                 "When the policy was bound: when the company accepted the quote",
	"note":                     "A free-text note from whoever wrote it",
	"sponsor":                  "Who funds the programme, such as a city's IP office",
	"requested_at":             "When the company made the request",
	"quotes":                   "The quotes given on the request; an insurer sees only its own",
	"insurers":                 "The IDs of the insurers asked to quote",
	"declines":                 "The insurers' refusals to quote; an insurer sees only its own",
	"budget":                   "The programme's whole budget",
	"accepted_quote":           "The ID of the quote the company accepted; absent until it accepts one",
	"cap_per_company_per_year": "The most the programme pays one company for the policies starting in one calendar year (China time)",
	"drawn":                    "Subsidies drawn by bound policies, less those given back on cancellations",
	"left":                     "What is left of the budget: budget minus drawn",
	"closed":                   "Whether the programme is closed: it then subsidises no more policies",
	"incident_on":              "The day of the incident claimed for, YYYY-MM-DD (China time)",
	"description":              "What happened, in the claimant's words",
	"quote_band_percent":       "How far, in percent, a quote's premium may be below or above what the insurer's table gives (inclusive)",
	"quote_valid_days":         "For how many days after it is given a quote can be accepted",
	"published_at":             "When the insurer published this table",
	"onboarded_at":             "When an operator admitted the insurer to the marketplace",
	"publishes_rating_table":   "Whether the insurer has published a rating table",
	"licensee_id":              "The company the patent's owner consented to insure it; absent when there is no consent",
	"owner_consent":            "Whether the patent's owner consented that licensee_id insure it",
	"in_dispute":               "Whether invalidation or ownership proceedings on the patent are pending",
	"table":                    "The insurer's rating table",
	"share":                    "The fraction of a premium the programme pays, before its caps, a decimal fraction between 0 and 1 (\"0.50\" for half)",
	"exposure":                 "The bank's exposure: reserved for live commitments plus principal outstanding, what counts against its limits",
}
