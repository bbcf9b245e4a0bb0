package svc

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
)

// Who may ask is told by the subject a request arrives on, and NATS
// permissions decide who may publish there (see internal/natsauth):
//
//   - fb.svc.<service>.<op>: only the gateway's NATS user publishes here,
//     after verifying the user's signed token, so the actor is the one the
//     token names (or the gateway's own, for sign-up and sign-in).
//   - fb.sys.<caller>.<service>.<op>: only the NATS user of service
//     <caller> publishes here, and the request is accepted only when its
//     actor is the system actor named <caller>. A service calling another
//     thus cannot pass off a user's actor, nor another service's.
//
// A made-up actor from any other connection cannot be published at all.
// This needs no secret shared between services, unlike checking tokens in
// every service.

// systemPrefix roots the subjects of service-to-service requests.
const systemPrefix = "fb.sys."

// SystemSubject is where service caller sends service.op.
func SystemSubject(caller, service, op string) string {
	return systemPrefix + caller + "." + service + "." + op
}

// NewSystemClient returns a client for a service calling others as
// itself: its requests go to fb.sys.<caller>.<service>.<op> and must carry
// the system actor named caller.
func NewSystemClient(nc *nats.Conn, caller string, timeout time.Duration) *Client {
	c := NewClient(nc, timeout)
	c.caller = caller
	return c
}

// SystemActor is the actor of service name acting as the platform.
func SystemActor(name string) fundbridge.Actor {
	return fundbridge.Actor{UserID: name, Role: fundbridge.RoleSystem}
}

// subject is where the client sends service.op.
func (c *Client) subject(service, op string) string {
	if c.caller != "" {
		return SystemSubject(c.caller, service, op)
	}
	return Subject(service, op)
}

// serveEndpoint is one micro endpoint of an operation.
type serveEndpoint struct{ name, subject string }

// serveEndpoints are where an operation listens: from the gateway, and
// from any service calling as itself (a second endpoint, "<op>_sys").
func serveEndpoints(service, op string) []serveEndpoint {
	return []serveEndpoint{
		{endpointName(op), Subject(service, op)},
		{endpointName(op) + "_sys", SystemSubject("*", service, op)},
	}
}

// checkCaller refuses a request on a service-to-service subject unless its
// actor is the system actor of the calling service the subject names, and
// returns that service ("" for the gateway's subject).
func checkCaller(subject string, actor fundbridge.Actor) (string, *fundbridge.Error) {
	rest, ok := strings.CutPrefix(subject, systemPrefix)
	if !ok {
		return "", nil
	}
	caller, _, _ := strings.Cut(rest, ".")
	if actor.Role != fundbridge.RoleSystem || actor.UserID != caller {
		return "", fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "a request from service %s must carry its system actor", caller)
	}
	return caller, nil
}

// checkGateway checks a request on the gateway's subjects: a system
// actor there must be the gateway's own (gateway; any, when it is not
// set), and reports whether the gateway acts as itself.
func checkGateway(gateway string, actor fundbridge.Actor) (bool, *fundbridge.Error) {
	if gateway == "" || actor.Role != fundbridge.RoleSystem {
		return false, nil
	}
	if actor.UserID != gateway {
		return false, fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "a request from the gateway carries a person's actor or its own, not %s's", actor.UserID)
	}
	return true, nil
}
