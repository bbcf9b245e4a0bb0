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

func dealCommand[Req any](op, path, summary, what string, roles []fundbridge.Role) svc.Endpoint[Req, Deal] {
	return svc.NewCommand[Req, Deal](Name, op, roles, &svc.Route{Method: http.MethodPost, Path: v1 + path, Tag: "deals", Summary: summary}).Doing(what)
}

// The service's endpoints.
var (
	MatchesForFundEndpoint = svc.NewQuery[MatchesForFund, FundMatches](Name, OpMatchesForFund,
		[]fundbridge.Role{fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem},
		&svc.Route{Method: http.MethodGet, Path: v1 + "/funds/{fund_id}/matches", Tag: "matching",
			Summary: "Applications matched to a fund, ranked, with reasons"}).Doing("see a fund's matches")
	MatchesForApplicationEndpoint = svc.NewQuery[MatchesForApplication, ApplicationMatches](Name, OpMatchesForApplication,
		[]fundbridge.Role{fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem},
		&svc.Route{Method: http.MethodGet, Path: v1 + "/applications/{application_id}/matches", Tag: "matching",
			Summary: "The funds an application matched"}).Doing("see an application's matches")
	MatchesForProgrammeEndpoint = svc.NewQuery[MatchesForProgramme, ProgrammeMatches](Name, OpMatchesForProgramme,
		[]fundbridge.Role{fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem},
		&svc.Route{Method: http.MethodGet, Path: v1 + "/banks/{bank_id}/programmes/{programme_id}/matches", Tag: "matching",
			Summary: "Applications matched to a bank's lending programme, ranked, with reasons"}).Doing("see a programme's matches")
	PairsEndpoint = svc.NewQuery[PairsForApplication, Pairs](Name, OpPairs,
		[]fundbridge.Role{fundbridge.RoleStartup, fundbridge.RoleFundManager, fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem},
		&svc.Route{Method: http.MethodGet, Path: v1 + "/applications/{application_id}/pairs", Tag: "matching",
			Summary: "Fund and bank pairs for a loan-plus-equity application, ranked together"}).Doing("see pairs")
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
)

// Endpoints lists every endpoint of the service.
func Endpoints() []svc.Described {
	return []svc.Described{
		MatchesForFundEndpoint, MatchesForApplicationEndpoint, MatchesForProgrammeEndpoint, PairsEndpoint, SourceDealEndpoint, ListDealsEndpoint, GetDealEndpoint,
		AdvanceDealEndpoint, PassDealEndpoint, IssueTermSheetEndpoint, AcceptTermSheetEndpoint, DeclineTermSheetEndpoint, CloseDealEndpoint,
		HoldClosingEndpoint, CompleteClosingEndpoint, AbandonClosingEndpoint,
	}
}
