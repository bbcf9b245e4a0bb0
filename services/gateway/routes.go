package gateway

import (
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/audit/auditapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

// Endpoints lists every service's endpoints, from their contracts.
func Endpoints() []svc.EndpointInfo {
	var all []svc.Described
	for _, list := range [][]svc.Described{
		identityapi.Endpoints(), applicationsapi.Endpoints(), matchingapi.Endpoints(), fundsapi.Endpoints(),
		viewsapi.Endpoints(), auditapi.Endpoints(),
		dealsapi.Endpoints(), insuranceapi.Endpoints(),
	} {
		all = append(all, list...)
	}
	return svc.Infos(all...)
}

// apiRoutes is the public API under /api/v1: every endpoint with an HTTP
// route. Sign-in (POST /auth/token) is served by the gateway itself.
func apiRoutes() []Route {
	var routes []Route
	for _, e := range Endpoints() {
		if e.HTTP != nil {
			routes = append(routes, Route{Route: *e.HTTP, Endpoint: e})
		}
	}
	return routes
}
