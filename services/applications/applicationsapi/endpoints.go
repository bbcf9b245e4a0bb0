package applicationsapi

import (
	"net/http"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = "applications"

var (
	startup, operator, system = fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem
	anyone                    = []fundbridge.Role{startup, fundbridge.RoleFundManager, fundbridge.RoleBank, fundbridge.RoleInsurer, operator, system}
)

func roles(r ...fundbridge.Role) []fundbridge.Role { return r }

func command[Req, Resp any](op string, r []fundbridge.Role, route *svc.Route) svc.Endpoint[Req, Resp] {
	return svc.NewCommand[Req, Resp](Name, op, r, route)
}

func query[Req, Resp any](op string, r []fundbridge.Role, route *svc.Route) svc.Endpoint[Req, Resp] {
	return svc.NewQuery[Req, Resp](Name, op, r, route)
}

const v1 = svc.APIPrefix

// Company endpoints.
var (
	RegisterCompanyEndpoint = command[RegisterCompany, CompanyView]("company.register", roles(startup, operator, system),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/companies", Tag: "companies", Created: true,
			Summary: "Register a company (operators; startups register at sign-up)"})
	UpdateCompanyEndpoint = command[UpdateCompanyProfile, CompanyView]("company.update", roles(startup, operator),
		&svc.Route{Method: http.MethodPatch, Path: v1 + "/companies/{company_id}", Tag: "companies",
			Summary: "Update a company's profile"})
	ChangeCompanyStageEndpoint = command[ChangeCompanyStage, CompanyView]("company.change_stage", roles(startup, operator),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/companies/{company_id}/stage", Tag: "companies",
			Summary: "Move a company to another lifecycle stage"})
	AddPatentEndpoint = command[AddPatent, CompanyView]("company.add_patent", roles(startup, operator),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/companies/{company_id}/patents", Tag: "companies", Created: true,
			Summary: "Add a patent the company owns or licenses"})
	GetCompanyEndpoint = query[GetCompany, CompanyView]("company.get", anyone,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/companies/{company_id}", Tag: "companies",
			Summary: "A company with its patents"})
	ListCompaniesEndpoint = query[ListCompanies, ListResult[CompanyView]]("company.list", anyone,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/companies", Tag: "companies",
			Summary: "List companies the caller may see"})
)

// Application endpoints.
var (
	DraftApplicationEndpoint = command[DraftApplication, ApplicationView]("application.draft", roles(startup, operator),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/applications", Tag: "applications", Created: true,
			Summary: "Draft a funding application"})
	ListApplicationsEndpoint = query[ListApplications, ListResult[ApplicationView]]("application.list", anyone,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/applications", Tag: "applications",
			Summary: "List applications the caller may see"})
	GetApplicationEndpoint = query[GetApplication, ApplicationView]("application.get", anyone,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/applications/{application_id}", Tag: "applications",
			Summary: "An application with its status history"})
	UpdateApplicationEndpoint = command[UpdateApplication, ApplicationView]("application.update", roles(startup, operator),
		&svc.Route{Method: http.MethodPatch, Path: v1 + "/applications/{application_id}", Tag: "applications",
			Summary: "Change a draft application"})
	SubmitApplicationEndpoint = command[SubmitApplication, ApplicationView]("application.submit", roles(startup, operator),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/applications/{application_id}/submit", Tag: "applications",
			Summary: "Submit a draft for matching"})
	WithdrawApplicationEndpoint = command[WithdrawApplication, ApplicationView]("application.withdraw", roles(startup),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/applications/{application_id}/withdraw", Tag: "applications",
			Summary: "Withdraw an application"})
	RejectApplicationEndpoint = command[RejectApplication, ApplicationView]("application.reject", roles(operator),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/applications/{application_id}/reject", Tag: "applications",
			Summary: "Reject an application (operators)"})
	ExpireApplicationEndpoint = command[ExpireApplication, ApplicationView]("application.expire", roles(system, operator),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/applications/{application_id}/expire", Tag: "applications",
			Summary: "Expire a stale application (operators)"})

	// The matching service moves applications along as deals progress.
	MarkMatchedEndpoint     = command[MarkMatched, ApplicationView]("application.mark_matched", roles(system, operator), nil)
	MarkUnmatchedEndpoint   = command[MarkUnmatched, ApplicationView]("application.mark_unmatched", roles(system, operator), nil)
	MarkUnderReviewEndpoint = command[MarkUnderReview, ApplicationView]("application.mark_under_review", roles(system, operator), nil)
	MarkFundedEndpoint      = command[MarkFunded, ApplicationView]("application.mark_funded", roles(system, operator), nil)

	// A deal's closing holds the application while it commits capital.
	ReserveApplicationEndpoint = command[ReserveApplication, ApplicationView]("application.reserve", roles(system), nil)
	ReleaseReservationEndpoint = command[ReleaseReservation, ApplicationView]("application.release_reservation", roles(system), nil)
)

// Endpoints lists every endpoint of the service.
func Endpoints() []svc.Described {
	return []svc.Described{
		RegisterCompanyEndpoint, ListCompaniesEndpoint, GetCompanyEndpoint, UpdateCompanyEndpoint, ChangeCompanyStageEndpoint, AddPatentEndpoint,
		DraftApplicationEndpoint, ListApplicationsEndpoint, GetApplicationEndpoint, UpdateApplicationEndpoint,
		SubmitApplicationEndpoint, WithdrawApplicationEndpoint, RejectApplicationEndpoint, ExpireApplicationEndpoint,
		MarkMatchedEndpoint, MarkUnmatchedEndpoint, MarkUnderReviewEndpoint, MarkFundedEndpoint, ReserveApplicationEndpoint, ReleaseReservationEndpoint,
	}
}
