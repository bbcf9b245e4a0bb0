package identityapi

import (
	"net/http"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/svc/check"
)

// Name is the service's name on the bus.
const Name = "identity"

// OrgOnboarded answers identity.create_org: the org and its first user.
type OrgOnboarded struct {
	Org  Org  `json:"org"`
	User User `json:"user"`
}

// MeQuery asks who the caller is, as of at least position After.
type MeQuery struct {
	After uint64 `json:"after,omitempty"`
}

// Me is the caller's user and org.
type Me struct {
	User User `json:"user"`
	Org  Org  `json:"org"`
}

// GetOrg asks for one org, as of at least position After.
type GetOrg struct {
	OrgID string `json:"org_id"`
	After uint64 `json:"after,omitempty"`
}

// Validate names every bad field.
func (q GetOrg) Validate() error {
	var f check.Fields
	f.ID("org_id", q.OrgID, 100, true)
	return f.Err("invalid query")
}

// BootstrapResult says whether the operator was created by this call.
type BootstrapResult struct {
	User    User `json:"user"`
	Created bool `json:"created"`
}

// EraseUserCommand asks for a user's personal data to be erased.
type EraseUserCommand struct {
	UserID string `json:"user_id"`
}

// Validate names a missing user.
func (c EraseUserCommand) Validate() error {
	if c.UserID == "" {
		return fundbridge.Invalid("invalid erasure", fundbridge.FieldError{Field: "user_id", Reason: "required"})
	}
	return nil
}

// ErasedUser answers an erasure.
type ErasedUser struct {
	UserID string `json:"user_id"`
	Erased bool   `json:"erased"`
}

// GetUserQuery asks for one user, as of at least position After.
type GetUserQuery struct {
	UserID string `json:"user_id"`
	After  uint64 `json:"after,omitempty"`
}

const v1 = svc.APIPrefix

// The service's endpoints. Sign-in (POST /auth/token) is the gateway's
// own route: it authenticates here, then issues the token.
var (
	SignupEndpoint = svc.NewCommand[SignupCommand, User](Name, "identity.signup", nil,
		&svc.Route{Method: http.MethodPost, Path: v1 + "/auth/signup", Tag: "auth", Public: true, Created: true,
			Summary: "Sign a startup up: its company and first user", Location: v1 + "/users/{user_id}"}).FromGatewayOnly()
	MeEndpoint = svc.NewQuery[MeQuery, Me](Name, "identity.me", nil,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/me", Tag: "auth", Summary: "Who the token belongs to"}).FromGatewayOnly()
	CreateOrgEndpoint = svc.NewCommand[CreateOrgCommand, OrgOnboarded](Name, "identity.create_org",
		[]fundbridge.Role{fundbridge.RoleOperator},
		&svc.Route{Method: http.MethodPost, Path: v1 + "/orgs", Tag: "auth", Created: true,
			Summary: "Onboard a fund manager, bank, insurer or operator org with its first user (operators)", Location: v1 + "/orgs/{org.org_id}"}).Doing("onboard organisations").FromGatewayOnly()
	// EraseUserEndpoint erases a person's personal data: by the person
	// themself or an operator.
	EraseUserEndpoint = svc.NewCommand[EraseUserCommand, ErasedUser](Name, "identity.erase_user", nil,
		&svc.Route{Method: http.MethodDelete, Path: v1 + "/users/{user_id}", Tag: "auth",
			Summary: "Erase a person's personal data (themself or operators); their events stay, unreadable"}).FromGatewayOnly()
	// GetUserEndpoint shows a user: to themself, their org or an operator.
	GetUserEndpoint = svc.NewQuery[GetUserQuery, User](Name, "identity.get_user", nil,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/users/{user_id}", Tag: "auth",
			Summary: "A user (themself, their org or operators); an erased one shows as erased"}).Doing("read people's details").FromGatewayOnly()
	GetOrgEndpoint = svc.NewQuery[GetOrg, Org](Name, "identity.get_org", nil,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/orgs/{org_id}", Tag: "auth", Summary: "An org: its name and role (operators; its own members)"}).FromGatewayOnly()
	AuthenticateEndpoint      = svc.NewQuery[AuthenticateQuery, User](Name, "identity.authenticate", nil, nil).Doing("check passwords").FromGatewayOnly()
	BootstrapOperatorEndpoint = svc.NewCommand[BootstrapOperatorCommand, BootstrapResult](Name, "identity.bootstrap_operator",
		[]fundbridge.Role{fundbridge.RoleSystem}, nil).Doing("bootstrap operators").CalledBy(Name, AdminCaller)
)

// AdminCaller is the NATS admin user (internal/natsauth.Admin), as which
// dev creates the first operator; identity itself does in a cluster.
const AdminCaller = "admin"

// Endpoints lists every endpoint of the service.
func Endpoints() []svc.Described {
	return []svc.Described{SignupEndpoint, MeEndpoint, CreateOrgEndpoint, GetOrgEndpoint, EraseUserEndpoint, GetUserEndpoint, AuthenticateEndpoint, BootstrapOperatorEndpoint}
}
