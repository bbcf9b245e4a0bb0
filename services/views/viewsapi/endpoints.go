package viewsapi

import (
	"net/http"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = "views"

var operators = []fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleSystem}

const v1 = svc.APIPrefix

func view[Req, Resp any](op string, roles []fundbridge.Role, route svc.Route) svc.Endpoint[Req, Resp] {
	route.Method, route.Path, route.Tag = http.MethodGet, v1+route.Path, "views"
	return svc.NewQuery[Req, Resp](Name, op, roles, &route).Doing("see this view")
}

// The service's endpoints. Operators live in spreadsheets: each view is
// also CSV (Accept: text/csv or ?format=csv).
var (
	LifecycleStagesEndpoint = view[LifecycleQuery, LifecycleResult]("lifecycle_stages", operators, svc.Route{Path: "/views/lifecycle-stages",
		Summary: "Financing by lifecycle stage: submitted, matched, in review, funded, amounts by instrument, conversion, median days to funding (operators)"})
	MarketOverviewEndpoint = view[MarketQuery, MarketResult]("market_overview", operators, svc.Route{Path: "/views/market",
		Summary: "The market: totals by city, layer, sector, instrument and month (operators)"})
	CompanyTimelineEndpoint = view[TimelineQuery, TimelineResult]("company_timeline", []fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleStartup},
		svc.Route{Path: "/views/companies/{company_id}/timeline",
			Summary: "A company's financing timeline, with the stage it was at (the company and operators)"})
	DealBoardEndpoint = view[DealBoardQuery, DealBoardResult]("deal_board", []fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleFundManager},
		svc.Route{Path: "/views/funds/{fund_id}/board",
			Summary: "A fund's deal board: pipeline counts per step, recent activity, dry powder (its manager and operators)"})
	BankBookEndpoint = view[BankBookQuery, BankBookResult]("bank_book", []fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleBank},
		svc.Route{Path: "/views/banks/{bank_id}/book",
			Summary: "A bank's book: commitments, exposure against both limits, disbursed and outstanding principal, dues in the next 30 days, arrears by days past due, losses and guarantee recovery (the bank and operators)"})
	InsurerBookEndpoint = view[InsurerBookQuery, InsurerBookResult]("insurer_book", []fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleInsurer},
		svc.Route{Path: "/views/insurers/{insurer_id}/book",
			Summary: "An insurer's book by coverage type: requests, quotes open, policies in force, premium written, claims open and paid, loss ratio (the insurer and operators)"})
	SubsidyProgrammesEndpoint = view[SubsidyProgrammesQuery, SubsidyProgrammesResult]("subsidy_programmes", operators, svc.Route{Path: "/views/subsidy-programmes",
		Summary: "Every premium subsidy programme's budget: drawn, returned, used and left (operators)"})
	StatusEndpoint = view[StatusQuery, StatusResult]("status", operators, svc.Route{Path: "/views/status",
		Summary: "Each projection's checkpoint and state, and the messages quarantined as not commits (operators)"})
	// RebuildEndpoint is on the bus only: fundbridge projections rebuild.
	RebuildEndpoint = svc.NewCommand[RebuildQuery, RebuildResult](Name, "rebuild", operators, nil)
)

// Endpoints lists every endpoint of the service.
func Endpoints() []svc.Described {
	return []svc.Described{LifecycleStagesEndpoint, MarketOverviewEndpoint, CompanyTimelineEndpoint, DealBoardEndpoint, BankBookEndpoint, InsurerBookEndpoint, SubsidyProgrammesEndpoint, StatusEndpoint, RebuildEndpoint}
}
