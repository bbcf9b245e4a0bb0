package gateway

import "net/http"

// Common query parameters of lists.
var listParams = []string{"cursor", "limit", "sort", "after"}

func list(extra ...string) []string { return append(extra, listParams...) }

// apiRoutes is the public API under /api/v1.
func apiRoutes() []Route {
	const (
		get, post, put, patch = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch
		v1                    = "/api/v1"
	)
	return []Route{
		// Sign-up and orgs. Sign-in (POST /auth/token) is served by the gateway itself.
		{Method: post, Path: v1 + "/auth/signup", Service: "identity", Op: "identity.signup", Tag: "auth", Public: true, Created: true,
			Summary: "Sign a startup up: its company and first user"},
		{Method: get, Path: v1 + "/me", Service: "identity", Op: "identity.me", Tag: "auth", Query: []string{"after"},
			Summary: "Who the token belongs to"},
		{Method: post, Path: v1 + "/orgs", Service: "identity", Op: "identity.create_org", Tag: "auth", Created: true,
			Summary: "Onboard a fund manager, bank, insurer or operator org with its first user (operators)"},

		// Companies and patents.
		{Method: post, Path: v1 + "/companies", Service: "applications", Op: "company.register", Tag: "companies", Created: true,
			Summary: "Register a company (operators; startups register at sign-up)"},
		{Method: get, Path: v1 + "/companies", Service: "applications", Op: "company.list", Tag: "companies", Query: list("stage", "layer", "sector", "city"),
			Summary: "List companies the caller may see"},
		{Method: get, Path: v1 + "/companies/{company_id}", Service: "applications", Op: "company.get", Tag: "companies", Query: []string{"after"},
			Summary: "A company with its patents"},
		{Method: patch, Path: v1 + "/companies/{company_id}", Service: "applications", Op: "company.update", Tag: "companies",
			Summary: "Update a company's profile"},
		{Method: post, Path: v1 + "/companies/{company_id}/stage", Service: "applications", Op: "company.change_stage", Tag: "companies",
			Summary: "Move a company to another lifecycle stage"},
		{Method: post, Path: v1 + "/companies/{company_id}/patents", Service: "applications", Op: "company.add_patent", Tag: "companies", Created: true,
			Summary: "Add a patent the company owns or licenses"},

		// Funding applications.
		{Method: post, Path: v1 + "/applications", Service: "applications", Op: "application.draft", Tag: "applications", Created: true,
			Summary: "Draft a funding application"},
		{Method: get, Path: v1 + "/applications", Service: "applications", Op: "application.list", Tag: "applications",
			Query:   list("status", "stage", "layer", "sector", "city", "instrument", "amount_min", "amount_max", "company_id"),
			Summary: "List applications the caller may see"},
		{Method: get, Path: v1 + "/applications/{application_id}", Service: "applications", Op: "application.get", Tag: "applications", Query: []string{"after"},
			Summary: "An application with its status history"},
		{Method: patch, Path: v1 + "/applications/{application_id}", Service: "applications", Op: "application.update", Tag: "applications",
			Summary: "Change a draft application"},
		{Method: post, Path: v1 + "/applications/{application_id}/submit", Service: "applications", Op: "application.submit", Tag: "applications",
			Summary: "Submit a draft for matching"},
		{Method: post, Path: v1 + "/applications/{application_id}/withdraw", Service: "applications", Op: "application.withdraw", Tag: "applications",
			Summary: "Withdraw an application"},
		{Method: post, Path: v1 + "/applications/{application_id}/reject", Service: "applications", Op: "application.reject", Tag: "applications",
			Summary: "Reject an application (operators)"},
		{Method: post, Path: v1 + "/applications/{application_id}/expire", Service: "applications", Op: "application.expire", Tag: "applications",
			Summary: "Expire a stale application (operators)"},
		{Method: get, Path: v1 + "/applications/{application_id}/matches", Service: "matching", Op: "match.for_application", Tag: "matching", Query: []string{"after"},
			Summary: "The funds an application matched"},

		// Funds and mandates.
		{Method: post, Path: v1 + "/funds", Service: "funds", Op: "fund.register", Tag: "funds", Created: true,
			Summary: "Register a fund"},
		{Method: get, Path: v1 + "/funds", Service: "funds", Op: "fund.list", Tag: "funds", Query: list("type", "status", "manager_org", "stage", "sector", "city", "min_dry_powder"),
			Summary: "List the caller's funds (operators: all)"},
		{Method: get, Path: v1 + "/funds/{fund_id}", Service: "funds", Op: "fund.get", Tag: "funds", Query: []string{"after"},
			Summary: "A fund with its mandate, commitments and dry powder"},
		{Method: put, Path: v1 + "/funds/{fund_id}/mandate", Service: "funds", Op: "fund.set_mandate", Tag: "funds",
			Summary: "Set a fund's mandate"},
		{Method: post, Path: v1 + "/funds/{fund_id}/close", Service: "funds", Op: "fund.close", Tag: "funds",
			Summary: "Close a fund to new deals"},
		{Method: get, Path: v1 + "/funds/{fund_id}/matches", Service: "matching", Op: "match.for_fund", Tag: "matching", Query: list(),
			Summary: "Applications matched to a fund, ranked, with reasons"},

		// The screening pipeline and term sheets.
		{Method: post, Path: v1 + "/deals", Service: "matching", Op: "deal.source", Tag: "deals", Created: true,
			Summary: "Source a deal from a match"},
		{Method: get, Path: v1 + "/deals", Service: "matching", Op: "deal.list", Tag: "deals", Query: list("fund_id", "application_id", "step"),
			Summary: "List deals with pipeline counts per step"},
		{Method: get, Path: v1 + "/deals/{deal_id}", Service: "matching", Op: "deal.get", Tag: "deals", Query: []string{"after"},
			Summary: "A deal and its history"},
		{Method: post, Path: v1 + "/deals/{deal_id}/advance", Service: "matching", Op: "deal.advance", Tag: "deals",
			Summary: "Move a deal one step forward"},
		{Method: post, Path: v1 + "/deals/{deal_id}/pass", Service: "matching", Op: "deal.pass", Tag: "deals",
			Summary: "Pass on a deal, with a reason"},
		{Method: post, Path: v1 + "/deals/{deal_id}/term-sheet", Service: "matching", Op: "deal.issue_term_sheet", Tag: "deals",
			Summary: "Issue a term sheet: amount and pre-money valuation"},
		{Method: post, Path: v1 + "/deals/{deal_id}/term-sheet/accept", Service: "matching", Op: "deal.accept_term_sheet", Tag: "deals",
			Summary: "Accept the term sheet (the startup)"},
		{Method: post, Path: v1 + "/deals/{deal_id}/term-sheet/decline", Service: "matching", Op: "deal.decline_term_sheet", Tag: "deals",
			Summary: "Decline the term sheet (the startup)"},
		{Method: post, Path: v1 + "/deals/{deal_id}/close", Service: "matching", Op: "deal.close", Tag: "deals",
			Summary: "Close the deal: commit the fund's capital and fund the application"},

		// Read views (operators live in spreadsheets: Accept: text/csv or ?format=csv).
		{Method: get, Path: v1 + "/views/lifecycle-stages", Service: "views", Op: "lifecycle_stages", Tag: "views",
			Query:   []string{"layer", "sector", "city", "period", "from", "to", "as_of", "after"},
			Summary: "Financing by lifecycle stage: submitted, matched, in review, funded, amounts by instrument, conversion, median days to funding (operators)"},
		{Method: get, Path: v1 + "/views/market", Service: "views", Op: "market_overview", Tag: "views", Query: []string{"after"},
			Summary: "The market: totals by city, layer, sector, instrument and month (operators)"},
		{Method: get, Path: v1 + "/views/companies/{company_id}/timeline", Service: "views", Op: "company_timeline", Tag: "views", Query: []string{"after"},
			Summary: "A company's financing timeline, with the stage it was at (the company and operators)"},
		{Method: get, Path: v1 + "/views/funds/{fund_id}/board", Service: "views", Op: "deal_board", Tag: "views", Query: []string{"after"},
			Summary: "A fund's deal board: pipeline counts per step, recent activity, dry powder (its manager and operators)"},
		{Method: get, Path: v1 + "/views/status", Service: "views", Op: "status", Tag: "views",
			Summary: "Each projection's checkpoint and state (operators)"},

		// Audit.
		{Method: get, Path: v1 + "/streams/{stream_id}/events", Service: "audit", Op: "stream", Tag: "audit", Query: []string{"from"},
			Summary: "A stream's events with who, when and which command (operators; owners for their own streams)"},
	}
}
