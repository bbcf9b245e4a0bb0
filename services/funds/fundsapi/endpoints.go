package fundsapi

import (
	"net/http"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = "funds"

// Operations of the service.
const (
	OpRegister   = "fund.register"
	OpSetMandate = "fund.set_mandate"
	OpCommit     = "fund.commit"
	OpRelease    = "fund.release"
	OpClose      = "fund.close"
	OpGet        = "fund.get"
	OpList       = "fund.list"
)

// Managers are the roles that register and run funds: fund managers for
// their own org's funds, operators and the platform for any.
func Managers() []fundbridge.Role {
	return []fundbridge.Role{fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem}
}

// Committers are the roles that commit capital: the matching service's
// sagas (system) and operators. A fund manager commits through the
// screening pipeline, never directly.
func Committers() []fundbridge.Role {
	return []fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleSystem}
}

const v1 = svc.APIPrefix

// The service's endpoints.
var (
	RegisterFundEndpoint = svc.NewCommand[RegisterFund, FundView](Name, OpRegister, Managers(),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/funds", Tag: "funds", Created: true, Summary: "Register a fund"})
	ListFundsEndpoint = svc.NewQuery[ListFunds, FundList](Name, OpList, Managers(),
		&svc.Route{Method: http.MethodGet, Path: v1 + "/funds", Tag: "funds",
			Summary: "List the caller's funds (operators: all)"})
	GetFundEndpoint = svc.NewQuery[GetFund, FundView](Name, OpGet, nil,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/funds/{fund_id}", Tag: "funds",
			Summary: "A fund with its mandate, commitments and dry powder"})
	SetMandateEndpoint = svc.NewCommand[SetMandate, FundView](Name, OpSetMandate, Managers(),
		&svc.Route{Method: http.MethodPut, Path: v1 + "/funds/{fund_id}/mandate", Tag: "funds", Summary: "Set a fund's mandate"})
	CloseFundEndpoint = svc.NewCommand[CloseFund, FundView](Name, OpClose, Managers(),
		&svc.Route{Method: http.MethodPost, Path: v1 + "/funds/{fund_id}/close", Tag: "funds", Summary: "Close a fund to new deals"})
	// CommitCapitalEndpoint is how a closed deal draws on the fund.
	CommitCapitalEndpoint = svc.NewCommand[CommitCapital, FundView](Name, OpCommit, Committers(), nil)
	// ReleaseCapitalEndpoint undoes a commitment whose deal did not close;
	// only the platform's closing process sends it.
	ReleaseCapitalEndpoint = svc.NewCommand[ReleaseCapital, FundView](Name, OpRelease, []fundbridge.Role{fundbridge.RoleSystem}, nil)
)

// Endpoints lists every endpoint of the service.
func Endpoints() []svc.Described {
	return []svc.Described{RegisterFundEndpoint, ListFundsEndpoint, GetFundEndpoint, SetMandateEndpoint, CloseFundEndpoint, CommitCapitalEndpoint, ReleaseCapitalEndpoint}
}
