package matchingapi

import (
	"fmt"
	"slices"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc/check"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
)

const (
	DefaultLimit    = 50
	MaxLimit        = 200
	maxIDLength     = 128
	maxReasonLength = 2000
	// maxDealIDLength keeps "deal-<id>" within a stream ID.
	maxDealIDLength = events.MaxStreamIDLength - len(DealAggregate) - 1
)

// MatchesForFund is match.for_fund: a fund's ranked board.
type MatchesForFund struct {
	FundID string `json:"fund_id"`
	Limit  int    `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
	After  uint64 `json:"after,omitempty"`
}

func (q MatchesForFund) Validate() error {
	var fe fieldErrors
	fe.ID("fund_id", q.FundID, maxIDLength, true)
	fe.Limit(q.Limit, MaxLimit, DefaultLimit)
	fe.cursor(q.Cursor)
	return fe.Err("invalid query")
}

// MatchesForApplication is match.for_application: the funds an
// application matches.
type MatchesForApplication struct {
	ApplicationID string `json:"application_id"`
	After         uint64 `json:"after,omitempty"`
}

func (q MatchesForApplication) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", q.ApplicationID, maxIDLength, true)
	return fe.Err("invalid query")
}

// SourceDeal is deal.source: a fund manager opens a deal from a match.
type SourceDeal struct {
	FundID        string `json:"fund_id"`
	ApplicationID string `json:"application_id"`
}

func (c SourceDeal) Validate() error {
	var fe fieldErrors
	fe.ID("fund_id", c.FundID, maxIDLength, true)
	fe.ID("application_id", c.ApplicationID, maxIDLength, true)
	if n := len(DealID(c.FundID, c.ApplicationID)); n > maxDealIDLength {
		fe.Add("application_id", fmt.Sprintf("with the fund ID, makes a deal ID of %d characters; at most %d", n, maxDealIDLength))
	}
	return fe.Err("invalid deal")
}

// AdvanceDeal is deal.advance: one step forward, naming the step.
type AdvanceDeal struct {
	DealID string `json:"deal_id"`
	// The step to move the deal to: the next step of the pipeline.
	To Step `json:"to"`
}

func (c AdvanceDeal) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxDealIDLength, true)
	fe.step("to", c.To, true)
	return fe.Err("invalid move")
}

// PassDeal is deal.pass: the fund says no, with a reason.
type PassDeal struct {
	DealID string `json:"deal_id"`
	Reason string `json:"reason"`
}

func (c PassDeal) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxDealIDLength, true)
	fe.Text("reason", c.Reason, maxReasonLength, true)
	return fe.Err("invalid pass")
}

// IssueTermSheet is deal.issue_term_sheet at ic_review.
type IssueTermSheet struct {
	DealID   string       `json:"deal_id"`
	Amount   money.Amount `json:"amount"`
	PreMoney money.Amount `json:"pre_money"`
}

func (c IssueTermSheet) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxDealIDLength, true)
	fe.Amount("amount", c.Amount, money.FromDecimal(money.MaxAmount))
	fe.Amount("pre_money", c.PreMoney, money.FromDecimal(money.MaxAmount))
	return fe.Err("invalid term sheet")
}

// AcceptTermSheet is deal.accept_term_sheet, by the startup.
type AcceptTermSheet struct {
	DealID string `json:"deal_id"`
}

func (c AcceptTermSheet) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxDealIDLength, true)
	return fe.Err("invalid acceptance")
}

// DeclineTermSheet is deal.decline_term_sheet, by the startup.
type DeclineTermSheet struct {
	DealID string `json:"deal_id"`
	Reason string `json:"reason"`
}

func (c DeclineTermSheet) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxDealIDLength, true)
	fe.Text("reason", c.Reason, maxReasonLength, true)
	return fe.Err("invalid decline")
}

// CloseDeal is deal.close: the fund commits the term sheet's amount.
type CloseDeal struct {
	DealID string `json:"deal_id"`
}

func (c CloseDeal) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxDealIDLength, true)
	return fe.Err("invalid closing")
}

// ClosingStep is what the closing process sends the deal: deal.hold_closing
// (is the deal still closing under this process?), deal.complete_closing
// (close it) and deal.abandon_closing (back to the accepted term sheet).
type ClosingStep struct {
	DealID  string `json:"deal_id"`
	Process string `json:"process"`
}

func (c ClosingStep) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxDealIDLength, true)
	fe.ID("process", c.Process, maxDealIDLength, true)
	return fe.Err("invalid closing step")
}

// GetDeal is deal.get.
type GetDeal struct {
	DealID string `json:"deal_id"`
	After  uint64 `json:"after,omitempty"`
}

func (q GetDeal) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", q.DealID, maxDealIDLength, true)
	return fe.Err("invalid query")
}

// Deal list sorts.
const (
	SortSourcedDesc = "-sourced_at" // newest first, the default
	SortSourced     = "sourced_at"
	SortScoreDesc   = "-score"
)

// ListDeals is deal.list: the deals the actor may see, with the pipeline
// counts per step.
type ListDeals struct {
	FundID        string `json:"fund_id,omitempty"`
	ApplicationID string `json:"application_id,omitempty"`
	Step          Step   `json:"step,omitempty"`
	Sort          string `json:"sort,omitempty"`
	Cursor        string `json:"cursor,omitempty"`
	Limit         int    `json:"limit,omitempty"`
	After         uint64 `json:"after,omitempty"`
}

func (q ListDeals) Validate() error {
	var fe fieldErrors
	if q.FundID != "" {
		fe.ID("fund_id", q.FundID, maxIDLength, true)
	}
	if q.ApplicationID != "" {
		fe.ID("application_id", q.ApplicationID, maxIDLength, true)
	}
	fe.step("step", q.Step, false)
	if q.Sort != "" && !slices.Contains([]string{SortSourcedDesc, SortSourced, SortScoreDesc}, q.Sort) {
		fe.Add("sort", fundbridge.EnumError(q.Sort, []string{SortSourcedDesc, SortSourced, SortScoreDesc}))
	}
	fe.Limit(q.Limit, MaxLimit, DefaultLimit)
	fe.cursor(q.Cursor)
	return fe.Err("invalid query")
}

// FundMatch is one application on a fund's board.
type FundMatch struct {
	Application
	Score   int      `json:"score" jsonschema_description:"0-100, a perfect fit is 100; only applications that pass every hard filter are listed."`
	For     []string `json:"reasons_for" jsonschema_description:"What fits, in plain words, about the company as it is now."`
	Against []string `json:"reasons_against" jsonschema_description:"What fits less well (never a failed hard filter: those are not listed)."`
	// ForCodes and AgainstCodes are the reasons as codes, index by index.
	ForCodes     []Reason `json:"reason_codes_for,omitempty" jsonschema_description:"reasons_for as codes and values, index by index, to write them in another language."`
	AgainstCodes []Reason `json:"reason_codes_against,omitempty" jsonschema_description:"reasons_against as codes and values, index by index."`
	DealID       string   `json:"deal_id,omitempty"`   // when the fund has sourced it
	DealStep     Step     `json:"deal_step,omitempty"` // the step of the fund's deal for it, if the fund has sourced one
}

// FundMatches answers match.for_fund.
type FundMatches struct {
	FundID     string      `json:"fund_id"`
	Items      []FundMatch `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// ApplicationMatch is one fund an application matches.
type ApplicationMatch struct {
	FundID   string            `json:"fund_id"`
	FundName string            `json:"fund_name"` // the matched fund's name
	FundType fundsapi.FundType `json:"fund_type"` // the matched fund's type
	Score    int               `json:"score" jsonschema_description:"0-100, a perfect fit is 100."`
	For      []string          `json:"reasons_for"`
	Against  []string          `json:"reasons_against"`
	// ForCodes and AgainstCodes are the reasons as codes, index by index.
	ForCodes     []Reason `json:"reason_codes_for,omitempty" jsonschema_description:"reasons_for as codes and values, index by index, to write them in another language."`
	AgainstCodes []Reason `json:"reason_codes_against,omitempty" jsonschema_description:"reasons_against as codes and values, index by index."`
}

// ApplicationMatches answers match.for_application.
type ApplicationMatches struct {
	ApplicationID string             `json:"application_id"`
	Status        string             `json:"status"`
	Items         []ApplicationMatch `json:"items" jsonschema_description:"The funds whose mandates it fits, best first (wanted instruments equity or loan_plus_equity)."`
	// Programmes are the bank lending programmes it fits, best first.
	Programmes []ProgrammeMatchItem `json:"programmes" jsonschema_description:"The bank lending programmes it fits, best first (wanted instruments venture_loan or loan_plus_equity)."`
}

// ProgrammeMatchItem is one bank programme an application matches.
type ProgrammeMatchItem struct {
	BankID        string   `json:"bank_id"`
	BankName      string   `json:"bank_name"`      // the bank's name
	ProgrammeID   string   `json:"programme_id"`   // the programme's ID, unique within the bank
	ProgrammeName string   `json:"programme_name"` // the programme's name
	Score         int      `json:"score" jsonschema_description:"0–100; a perfect fit is 100. Only programmes that pass every hard filter are listed."`
	For           []string `json:"reasons_for"`
	Against       []string `json:"reasons_against"`
	// ForCodes and AgainstCodes are the reasons as codes, index by index.
	ForCodes     []Reason `json:"reason_codes_for,omitempty" jsonschema_description:"reasons_for as codes and values, index by index, to write them in another language."`
	AgainstCodes []Reason `json:"reason_codes_against,omitempty" jsonschema_description:"reasons_against as codes and values, index by index."`
}

// MatchesForProgramme is match.for_programme: the applications matching
// one of a bank's lending programmes, ranked.
type MatchesForProgramme struct {
	BankID      string `json:"bank_id"`
	ProgrammeID string `json:"programme_id"`
	Limit       int    `json:"limit,omitempty"`
	Cursor      string `json:"cursor,omitempty"`
	After       uint64 `json:"after,omitempty"`
}

func (q MatchesForProgramme) Validate() error {
	var fe fieldErrors
	fe.ID("bank_id", q.BankID, maxIDLength, true)
	fe.ID("programme_id", q.ProgrammeID, maxIDLength, true)
	fe.Limit(q.Limit, MaxLimit, DefaultLimit)
	fe.cursor(q.Cursor)
	return fe.Err("invalid query")
}

// ProgrammeMatch is one application on a programme's board.
type ProgrammeMatch struct {
	Application
	CreditDataConsent bool     `json:"credit_data_consent"`
	Score             int      `json:"score" jsonschema_description:"0–100; a perfect fit is 100."`
	For               []string `json:"reasons_for"`
	Against           []string `json:"reasons_against"`
	// ForCodes and AgainstCodes are the reasons as codes, index by index.
	ForCodes     []Reason `json:"reason_codes_for,omitempty" jsonschema_description:"reasons_for as codes and values, index by index, to write them in another language."`
	AgainstCodes []Reason `json:"reason_codes_against,omitempty" jsonschema_description:"reasons_against as codes and values, index by index."`
}

// ProgrammeMatches answers match.for_programme.
type ProgrammeMatches struct {
	BankID      string           `json:"bank_id"`
	ProgrammeID string           `json:"programme_id"` // the programme the applications match
	Items       []ProgrammeMatch `json:"items"`
	NextCursor  string           `json:"next_cursor,omitempty"`
}

// PairsForApplication is match.pairs: the fund and bank pairs proposed
// for a loan-plus-equity application.
type PairsForApplication struct {
	ApplicationID string `json:"application_id"`
	Limit         int    `json:"limit,omitempty"`
	After         uint64 `json:"after,omitempty"`
}

func (q PairsForApplication) Validate() error {
	var fe fieldErrors
	fe.ID("application_id", q.ApplicationID, maxIDLength, true)
	fe.Limit(q.Limit, MaxLimit, DefaultLimit)
	return fe.Err("invalid query")
}

// Pair is a fund whose mandate fits and a bank programme that fits one
// loan-plus-equity application, ranked together.
type Pair struct {
	FundID         string `json:"fund_id"`
	FundName       string `json:"fund_name"`  // the fund's name
	FundScore      int    `json:"fund_score"` // how well the application fits the fund's mandate, 0 to 100
	BankID         string `json:"bank_id"`
	BankName       string `json:"bank_name"`       // the bank's name
	ProgrammeID    string `json:"programme_id"`    // the bank's programme the loan would be under
	ProgrammeName  string `json:"programme_name"`  // the programme's name
	ProgrammeScore int    `json:"programme_score"` // how well the application fits the programme, 0 to 100
	Score          int    `json:"score" jsonschema_description:"The mean of fund_score and programme_score, rounded down; pairs are ranked by it, then by fund_score."`
	// Propose is the start of the deal this pair would open: POST it,
	// completed with the loan and equity terms, to /api/v1/loan-deals.
	Propose PairProposal `json:"propose" jsonschema_description:"The parties of the deal this pair opens: send them to POST /api/v1/loan-deals with the loan, equity amount, valuation, sequence, risk sharing and deadline."`
}

// PairProposal names the parties of a loan plus equity deal, as the deals
// service's deal.propose takes them.
type PairProposal struct {
	BorrowerID    string `json:"borrower_id"`
	ApplicationID string `json:"application_id"`
	LeadBankID    string `json:"lead_bank_id"`
	// Equity is the fund that would commit the equity tranche.
	Equity struct {
		FundID string `json:"fund_id"`
	} `json:"equity"`
}

// Pairs answers match.pairs.
type Pairs struct {
	ApplicationID string `json:"application_id"`
	Items         []Pair `json:"items"`
}

// DealList answers deal.list. Counts are per step over the deals the
// filters select, before the step filter: the pipeline at a glance.
type DealList struct {
	Items      []Deal `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	// How many of the fund's deals (matching the filters but for step) stand at
	// each step.
	Counts map[Step]int `json:"counts"`
}

// fieldErrors collects every bad field of one input; the checks this
// service shares among its commands are its methods.
type fieldErrors struct{ check.Fields }

func (fe *fieldErrors) step(field string, s Step, required bool) {
	switch {
	case s == "" && required:
		fe.Add(field, "required")
	case s != "" && !s.Valid():
		fe.Add(field, fundbridge.EnumError(s, Steps()))
	}
}

func (fe *fieldErrors) cursor(c string) {
	if c == "" {
		return
	}
	if cursor.WellFormed(c) != nil {
		fe.Add("cursor", "not a cursor this list gave out")
	}
}

// Application is what the engine keeps of an open application.
type Application struct {
	ID          string                  `json:"application_id"`
	CompanyName string                  `json:"company_name"`
	Amount      money.Amount            `json:"amount_requested"`
	Instruments []fundbridge.Instrument `json:"instruments"`
	Valuation   *money.Amount           `json:"valuation_ask,omitempty"`
	applicationsapi.Slice
}

// What the matchmaking process reconciles: the applications concerned by
// one kind of event.
const (
	SubjectApplication = "application" // its own matches and reviews
	SubjectFund        = "fund"        // every open application, for this fund
	SubjectCompany     = "company"     // the company's open applications
	SubjectDeal        = "deal"        // the review the deal's screening asks for
)

// PlanMatches is matches.plan, the matchmaking process's question to
// matching's own views: what must the applications service record so that
// the subject's applications hold the matches on their boards, as of at
// least position After.
type PlanMatches struct {
	Subject string `json:"subject"`
	ID      string `json:"id"`
	After   uint64 `json:"after,omitempty"`
}

func (q PlanMatches) Validate() error {
	var fe fieldErrors
	if q.Subject != SubjectApplication && q.Subject != SubjectFund && q.Subject != SubjectCompany && q.Subject != SubjectDeal {
		fe.Add("subject", "must be application, fund, company or deal")
	}
	fe.ID("id", q.ID, maxDealIDLength, true)
	return fe.Err("invalid plan")
}

// Changes the applications service is asked to record.
const (
	ChangeMatch   = "match"   // application.mark_matched with FundIDs
	ChangeUnmatch = "unmatch" // application.mark_unmatched with FundIDs
	ChangeReview  = "review"  // application.mark_under_review by FundIDs[0]
)

// MatchChange is one command of a plan.
type MatchChange struct {
	Change        string   `json:"change"`
	ApplicationID string   `json:"application_id"`
	FundIDs       []string `json:"fund_ids"`
}

// MatchPlan is matches.plan's answer: the changes, in the order to send.
type MatchPlan struct {
	Changes []MatchChange `json:"changes"`
}
