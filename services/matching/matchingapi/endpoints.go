package matchingapi

import (
	"net/http"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = "matching"

// Operations.
const (
	OpMatchesForFund        = "match.for_fund"
	OpMatchesForApplication = "match.for_application"
	OpMatchesForProgramme   = "match.for_programme"
	OpPairs                 = "match.pairs"
	OpSource                = "deal.source"
	OpAdvance               = "deal.advance"
	OpPass                  = "deal.pass"
	OpIssueTermSheet        = "deal.issue_term_sheet"
	OpAcceptTermSheet       = "deal.accept_term_sheet"
	OpDeclineTermSheet      = "deal.decline_term_sheet"
	OpClose                 = "deal.close"
	OpHoldClosing           = "deal.hold_closing"
	OpCompleteClosing       = "deal.complete_closing"
	OpAbandonClosing        = "deal.abandon_closing"
	OpPlanMatches           = "matches.plan"
	OpGet                   = "deal.get"
	OpList                  = "deal.list"
)

var (
	managers = []fundbridge.Role{fundbridge.RoleFundManager, fundbridge.RoleSystem}
	startups = []fundbridge.Role{fundbridge.RoleStartup, fundbridge.RoleSystem}
	system   = []fundbridge.Role{fundbridge.RoleSystem}
	viewers  = []fundbridge.Role{fundbridge.RoleFundManager, fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem}
)

const v1 = svc.APIPrefix

// The matching rules, as the OpenAPI document states them (the README says
// the same at more length).
const (
	fundRules = "Matching is redone whenever the company (stage, layer, sector, city), the fund's mandate, its dry powder or the application changes: " +
		"the list always holds exactly the current matches, with reasons about the company as it is now. " +
		"Funds look for applications asking for equity or loan_plus_equity. Hard filters, every bound inclusive: the company's stage is in the mandate; " +
		"its sector is listed, or its layer is (a layer admits all its sectors), or the mandate lists neither (any sector), and the sector is not excluded; " +
		"ticket_min <= amount requested <= ticket_max; dry powder covers the ticket and ticket_min; the city is a mandate city when the mandate lists cities; " +
		"the company is not excluded. Score 0-100: stage 10; sector named 25, layer 15, any 10; ticket centrality 20 to 4; dry powder headroom 15/12/8/4; " +
		"city named 10, any 7; ownership at the valuation ask within max_ownership 20, no maximum 15, no ask 10, above it 0. " +
		"max_ownership only lowers the score: the term sheet enforces it."
	programmeRules = "Banks' lending programmes look for applications asking for venture_loan or loan_plus_equity. Hard filters, every bound inclusive: " +
		"the stage is in the programme (none listed: any); the sector is listed, or its layer is (a layer admits all its sectors), or neither is listed; " +
		"loan_min <= amount requested <= loan_max; the city is a programme city when it lists cities; consent to share credit data when the programme needs it; " +
		"loan_plus_equity when the programme requires an equity partner. Score 0-100: stage 15; sector 25/15/10; loan centrality 20 to 4; city 10, any 7; " +
		"consent 10 (not needed and not given 5); equity partner required and present 20, otherwise 15. " +
		"Matches follow the company, the programme and the application as they change."
)

func dealCommand[Req any](op, path, summary, what string, roles []fundbridge.Role) svc.Endpoint[Req, Deal] {
	return svc.NewCommand[Req, Deal](Name, op, roles, &svc.Route{Method: http.MethodPost, Path: v1 + path, Tag: "deals", Summary: summary}).Doing(what)
}

// The service's endpoints.
var (
	MatchesForFundEndpoint = svc.NewQuery[MatchesForFund, FundMatches](Name, OpMatchesForFund,
		[]fundbridge.Role{fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem},
		&svc.Route{Method: http.MethodGet, Path: v1 + "/funds/{fund_id}/matches", Tag: "matching",
			Summary: "Applications matched to a fund, ranked, with reasons", Description: fundRules}).Doing("see a fund's matches")
	MatchesForApplicationEndpoint = svc.NewQuery[MatchesForApplication, ApplicationMatches](Name, OpMatchesForApplication,
		[]fundbridge.Role{fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem},
		&svc.Route{Method: http.MethodGet, Path: v1 + "/applications/{application_id}/matches", Tag: "matching",
			Summary:     "The funds and bank programmes an application matches, ranked, with reasons",
			Description: "items are funds, programmes are banks' lending programmes. " + fundRules + " " + programmeRules}).Doing("see an application's matches")
	MatchesForProgrammeEndpoint = svc.NewQuery[MatchesForProgramme, ProgrammeMatches](Name, OpMatchesForProgramme,
		[]fundbridge.Role{fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem},
		&svc.Route{Method: http.MethodGet, Path: v1 + "/banks/{bank_id}/programmes/{programme_id}/matches", Tag: "matching",
			Summary: "Applications matched to a bank's lending programme, ranked, with reasons", Description: programmeRules}).Doing("see a programme's matches")
	PairsEndpoint = svc.NewQuery[PairsForApplication, Pairs](Name, OpPairs,
		[]fundbridge.Role{fundbridge.RoleStartup, fundbridge.RoleFundManager, fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem},
		&svc.Route{Method: http.MethodGet, Path: v1 + "/applications/{application_id}/pairs", Tag: "matching",
			Summary: "Fund and bank pairs for a loan-plus-equity application, ranked together",
			Description: "Every fund and programme that both match an application asking for loan_plus_equity, ranked by the mean of their scores (rounded down), then by the fund's score. " +
				"The startup and operators see every pair, a fund manager the pairs with its funds, a bank those with its programmes; someone with no pair is answered 404. " +
				"Each pair's propose holds the deal's parties: add the loan, equity amount and valuation, sequence, risk sharing and deadline and POST it to /api/v1/loan-deals " +
				"to open the deal in one request."}).Doing("see pairs")
	SourceDealEndpoint = svc.NewCommand[SourceDeal, Deal](Name, OpSource, managers,
		&svc.Route{Method: http.MethodPost, Path: v1 + "/deals", Tag: "deals", Created: true, Summary: "Source a deal from a match"}).Doing("source deals")
	ListDealsEndpoint = svc.NewQuery[ListDeals, DealList](Name, OpList, viewers,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/deals", Tag: "deals",
			Summary: "List deals with pipeline counts per step"}).Doing("list deals")
	GetDealEndpoint = svc.NewQuery[GetDeal, Deal](Name, OpGet, viewers,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/deals/{deal_id}", Tag: "deals",
			Summary: "A deal and its history"}).Doing("see deals")
	AdvanceDealEndpoint = dealCommand[AdvanceDeal](OpAdvance, "/deals/{deal_id}/advance",
		"Move a deal one step forward", "move deals", managers)
	PassDealEndpoint = dealCommand[PassDeal](OpPass, "/deals/{deal_id}/pass",
		"Pass on a deal, with a reason", "pass on deals", managers)
	IssueTermSheetEndpoint = dealCommand[IssueTermSheet](OpIssueTermSheet, "/deals/{deal_id}/term-sheet",
		"Issue a term sheet: amount and pre-money valuation", "issue term sheets", managers)
	AcceptTermSheetEndpoint = dealCommand[AcceptTermSheet](OpAcceptTermSheet, "/deals/{deal_id}/term-sheet/accept",
		"Accept the term sheet (the startup)", "accept term sheets", startups)
	DeclineTermSheetEndpoint = dealCommand[DeclineTermSheet](OpDeclineTermSheet, "/deals/{deal_id}/term-sheet/decline",
		"Decline the term sheet (the startup)", "decline term sheets", startups)
	CloseDealEndpoint = dealCommand[CloseDeal](OpClose, "/deals/{deal_id}/close",
		"Close the deal: reserve the application, commit the fund's capital and fund the application; "+
			"answers once the closing has finished, with a position after which every view shows it", "close deals", managers)

	// The closing process's steps on the deal: the platform's only.
	HoldClosingEndpoint     = svc.NewCommand[ClosingStep, Deal](Name, OpHoldClosing, system, nil)
	CompleteClosingEndpoint = svc.NewCommand[ClosingStep, Deal](Name, OpCompleteClosing, system, nil)
	AbandonClosingEndpoint  = svc.NewCommand[ClosingStep, Deal](Name, OpAbandonClosing, system, nil)

	// The matchmaking process's question to matching's views: the
	// platform's only.
	PlanMatchesEndpoint = svc.NewQuery[PlanMatches, MatchPlan](Name, OpPlanMatches, system, nil)
)

// Endpoints lists every endpoint of the service.
func Endpoints() []svc.Described {
	return []svc.Described{
		MatchesForFundEndpoint, MatchesForApplicationEndpoint, MatchesForProgrammeEndpoint, PairsEndpoint, SourceDealEndpoint, ListDealsEndpoint, GetDealEndpoint,
		AdvanceDealEndpoint, PassDealEndpoint, IssueTermSheetEndpoint, AcceptTermSheetEndpoint, DeclineTermSheetEndpoint, CloseDealEndpoint,
		HoldClosingEndpoint, CompleteClosingEndpoint, AbandonClosingEndpoint, PlanMatchesEndpoint,
	}
}
