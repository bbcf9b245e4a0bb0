package svc

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/fundbridge/fundbridge"
)

// Kind says whether an endpoint changes state.
type Kind int

const (
	IsQuery   Kind = iota // reads; never appends
	IsCommand             // decides and may append events
)

// Route is how an endpoint is reached over HTTP. The gateway's router and
// the OpenAPI document are both built from it.
type Route struct {
	Method  string // GET, POST, PUT, PATCH, DELETE
	Path    string // chi pattern; {params} join the payload under their names
	Summary string
	// Description, when set, is the operation's longer text in the
	// OpenAPI document: the rules a user needs to read the answer.
	Description string
	Tag         string
	Public      bool // no token needed
	Created     bool // a successful call creates a resource: 201
	// Location is the path of what a Created call made, for the Location
	// header: each {name} from the answer's field of that name ({a.b}
	// inside an object), else the request's path parameter. Empty: the GET
	// route at Path/{id}, if any.
	Location string
}

// Locating sets the route's Location.
func (r *Route) Locating(path string) *Route {
	r.Location = path
	return r
}

// Endpoint is one operation of a service, typed by its request and reply:
// the contract a caller depends on. The service serves it with Handle, the
// gateway routes to it, the OpenAPI document describes it, and Call
// reaches it, all from this one value.
type Endpoint[Req, Resp any] struct {
	Service string
	Op      string // <noun>.<verb>; the subject is fb.svc.<service>.<op>
	Kind    Kind
	// Roles may call the endpoint; any other role is refused with
	// EFORBIDDEN before the payload is read.
	Roles []fundbridge.Role
	HTTP  *Route // nil: on the bus only
	// What the caller does, for refusals: "a startup may not source deals".
	// Default: "call <op>".
	What string
	// Callers, when not nil, are the only services that may call the
	// endpoint as themselves (fb.sys.<caller>); empty, none may, and only
	// the gateway reaches it, for a person it signed in. Nil: any service.
	// A service's NATS key, stolen, then cannot do what only people may
	// (make an operator, read a person's email, try passwords).
	Callers []string
}

// Doing names what calling the endpoint does, for refusals.
func (e Endpoint[Req, Resp]) Doing(what string) Endpoint[Req, Resp] {
	e.What = what
	return e
}

// FromGatewayOnly lets no service call the endpoint as itself: only the
// gateway, for the person it signed in.
func (e Endpoint[Req, Resp]) FromGatewayOnly() Endpoint[Req, Resp] {
	e.Callers = []string{}
	return e
}

// CalledBy lets only the services named call the endpoint as themselves.
func (e Endpoint[Req, Resp]) CalledBy(services ...string) Endpoint[Req, Resp] {
	e.Callers = services
	return e
}

// Subject is where the endpoint listens.
func (e Endpoint[Req, Resp]) Subject() string { return Subject(e.Service, e.Op) }

// Info describes the endpoint without its type parameters.
func (e Endpoint[Req, Resp]) Info() EndpointInfo {
	return EndpointInfo{
		Service: e.Service, Op: e.Op, Kind: e.Kind, Roles: e.Roles, HTTP: e.HTTP,
		Request: reflect.TypeFor[Req](), Reply: reflect.TypeFor[Resp](),
	}
}

// EndpointInfo is an endpoint as the gateway and the OpenAPI document
// see it: its types as reflect.Types.
type EndpointInfo struct {
	Service string
	Op      string
	Kind    Kind
	Roles   []fundbridge.Role
	HTTP    *Route
	Request reflect.Type
	Reply   reflect.Type
}

// Described is any endpoint value.
type Described interface{ Info() EndpointInfo }

// Infos lists the endpoints' descriptions.
func Infos(endpoints ...Described) []EndpointInfo {
	out := make([]EndpointInfo, len(endpoints))
	for i, e := range endpoints {
		out[i] = e.Info()
	}
	return out
}

// Empty is the request or reply of an endpoint that takes or gives none.
type Empty struct{}

// Validator is a request that checks itself, naming every bad field.
type Validator interface{ Validate() error }

// ClockValidator is a request whose checks depend on today's date.
type ClockValidator interface{ ValidateAt(now time.Time) error }

// ActorCompleter is a request that first takes what the caller's identity
// implies, such as a startup's own company when it names none, or refuses
// a caller who may not send it as given.
type ActorCompleter[Req any] interface {
	ForActor(fundbridge.Actor) (Req, error)
}

// HandleOption tunes Handle.
type HandleOption func(*handleConfig)

type handleConfig struct{ now func() time.Time }

// WithClock validates requests that depend on the date against now
// instead of the wall clock (tests).
func WithClock(now func() time.Time) HandleOption {
	return func(c *handleConfig) { c.now = now }
}

// Op is an endpoint's name with the handler that serves it.
type Op struct {
	Name    string
	Handler Handler
}

// Operations gathers ops into a Service's table.
func Operations(ops ...Op) map[string]Handler {
	m := make(map[string]Handler, len(ops))
	for _, o := range ops {
		m[o.Name] = o.Handler
	}
	return m
}

// Handle serves an endpoint the one way every endpoint is served: the
// caller's role is checked against the endpoint's roles, the payload is
// decoded strictly into Req, completed for the caller (ActorCompleter) and
// validated (every bad field named), then h executes it and replies with
// a Resp: the compiler holds the handler to its endpoint's reply type.
func Handle[Req, Resp any](e Endpoint[Req, Resp], h func(ctx context.Context, req *Request, q Req) (Result[Resp], error), opts ...HandleOption) Op {
	cfg := handleConfig{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	what := e.What
	if what == "" {
		what = "call " + e.Op
	}
	return Op{Name: e.Op, Handler: func(ctx context.Context, req *Request) (Result[any], error) {
		if req.Caller != "" && e.Callers != nil && !slices.Contains(e.Callers, req.Caller) {
			return Result[any]{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "service %s may not %s: only the gateway asks this, for a person", req.Caller, what)
		}
		if req.AsGateway && len(e.Roles) > 0 {
			return Result[any]{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "the gateway may not %s as itself: only for a person signed in", what)
		}
		if len(e.Roles) > 0 && !slices.Contains(e.Roles, req.Actor.Role) {
			return Result[any]{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "%s may not %s", fundbridge.Article(req.Actor.Role), what)
		}
		var q Req
		if err := Decode(req.Payload, &q); err != nil {
			// Name the rest too, so that one correction is enough: the
			// members that did decode are validated without the bad ones.
			var rest Req
			if decodeExcept(req.Payload, &rest, fundbridge.ErrorFields(err)) {
				if _, more := prepare(rest, req.Actor, cfg.now()); more != nil {
					err = withFields(err, more)
				}
			}
			return Result[any]{}, err
		}
		q, err := prepare(q, req.Actor, cfg.now())
		if err != nil {
			return Result[any]{}, err
		}
		res, err := h(ctx, req, q)
		if err != nil {
			return Result[any]{}, err
		}
		return Result[any]{Value: res.Value, Position: res.Position, Version: res.Version}, nil
	}}
}

// prepare completes q for the caller (ActorCompleter) and runs its own
// checks, if it has any.
func prepare[Req any](q Req, actor fundbridge.Actor, now time.Time) (Req, error) {
	if c, ok := any(q).(ActorCompleter[Req]); ok {
		var err error
		if q, err = c.ForActor(actor); err != nil {
			return q, err
		}
	}
	switch v := any(q).(type) {
	case ClockValidator:
		return q, v.ValidateAt(now)
	case Validator:
		return q, v.Validate()
	}
	return q, nil
}

// Call sends q to the endpoint and decodes its result; the wire reply
// gives the position and version. req carries who asks and why (its
// Payload is replaced by q).
func Call[Req, Resp any](ctx context.Context, c *Client, e Endpoint[Req, Resp], req *Request, q Req) (Resp, Reply, error) {
	var out Resp
	if req == nil {
		req = &Request{}
	}
	payload, err := json.Marshal(q)
	if err != nil {
		return out, Reply{}, fmt.Errorf("call %s.%s: %w", e.Service, e.Op, err)
	}
	req.Payload = payload
	reply, err := c.Call(ctx, e.Service, e.Op, req, &out)
	return out, reply, err
}

// NewCommand is an endpoint that changes state.
func NewCommand[Req, Resp any](service, op string, roles []fundbridge.Role, route *Route) Endpoint[Req, Resp] {
	return Endpoint[Req, Resp]{Service: service, Op: op, Kind: IsCommand, Roles: roles, HTTP: route}
}

// NewQuery is an endpoint that reads.
func NewQuery[Req, Resp any](service, op string, roles []fundbridge.Role, route *Route) Endpoint[Req, Resp] {
	return Endpoint[Req, Resp]{Service: service, Op: op, Kind: IsQuery, Roles: roles, HTTP: route}
}

// APIPrefix is where the public HTTP API lives.
const APIPrefix = "/api/v1"
