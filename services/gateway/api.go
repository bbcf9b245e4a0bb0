package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/internal/spans"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Route maps one HTTP endpoint onto one service endpoint. The route
// table is built from the services' contracts (their svc.Endpoint values),
// and the router and the OpenAPI document are both built from it, so none
// of them can drift apart.
type Route struct {
	svc.Route
	Endpoint svc.EndpointInfo
	// noBodyVersion: the reply type has no top-level "version" to look
	// for when the service gives none beside it (set by forward).
	noBodyVersion bool
	// noBodyPosition: the reply type has no top-level "position" for the
	// gateway's to replace (set by forward).
	noBodyPosition bool
	// locationAfter: the read at Location takes ?after= (set by apiRoutes).
	locationAfter bool
}

func (rt Route) isCommand() bool { return rt.Endpoint.Kind == svc.IsCommand }

// forward turns the HTTP request into a service request and the reply
// into HTTP: the body (or query) is the payload, path parameters join it,
// Idempotency-Key and If-Match carry over, and the result comes back with
// its position (commands) or version as ETag (reads).
func (g *Gateway) forward(rt Route) http.HandlerFunc {
	rt.noBodyVersion = !mayCarryVersion(rt.Endpoint.Reply)
	rt.noBodyPosition = !mayCarryPosition(rt.Endpoint.Reply)
	erases := rt.Endpoint.Service+"."+rt.Endpoint.Op == eraseOp // once per route, not per request
	return func(w http.ResponseWriter, r *http.Request) {
		actor, ok := ActorFrom(r.Context())
		if rt.Public {
			actor, ok = gatewayActor(), true
		}
		if !ok {
			WriteProblem(w, r, fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "not signed in"))
			return
		}
		payload, err := g.payload(rt, r)
		if err != nil {
			WriteProblem(w, r, err)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		if len(key) > 200 {
			WriteProblem(w, r, fundbridge.Invalid("invalid header", fundbridge.FieldError{Field: "Idempotency-Key", Reason: "at most 200 characters"}))
			return
		}
		var expected *uint64
		if im := r.Header.Get("If-Match"); im != "" && rt.isCommand() {
			v, err := strconv.ParseUint(strings.Trim(strings.TrimPrefix(im, "W/"), `"`), 10, 64)
			if err != nil {
				WriteProblem(w, r, fundbridge.Invalid("invalid header", fundbridge.FieldError{Field: "If-Match", Reason: `must be an ETag from a read, like "3"`}))
				return
			}
			expected = &v
		}
		req := &svc.Request{
			Actor:           actor,
			CorrelationID:   svc.Correlation(r.Context()),
			ExpectedVersion: expected,
			Payload:         payload,
		}
		run := func(w http.ResponseWriter) { g.call(w, r, rt, req) }
		if erases {
			call := run
			run = func(w http.ResponseWriter) { g.erased(w, r, payload, call) }
		}
		if key == "" || !rt.isCommand() {
			run(w)
			return
		}
		q, err := newIdemRequest(rt, idempotencyScope(rt, actor.UserID, payload), key, payload)
		if err != nil {
			WriteProblem(w, r, err)
			return
		}
		// The service sees a key scoped to this caller and operation, so its
		// stream-level dedupe can never match another caller's or another
		// operation's command.
		req.IdempotencyKey = q.derivedKey
		if g.idem == nil {
			run(w)
			return
		}
		g.idem.serve(w, r, q, run)
	}
}

// call sends the request to the endpoint's service and writes its reply.
func (g *Gateway) call(w http.ResponseWriter, r *http.Request, rt Route, req *svc.Request) {
	var err error // the call's, for the span
	ctx := r.Context()
	if tp := r.Header.Get("traceparent"); tp != "" {
		ctx = svc.WithTraceParent(ctx, tp)
	}
	if g.tracer != nil {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(r.Header))
		var span trace.Span
		ctx, span = g.tracer.Start(ctx, r.Method+" "+rt.Path, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.HTTPRoute(rt.Path),
				spans.Service.String(rt.Endpoint.Service), spans.Operation.String(rt.Endpoint.Op), spans.ActorRole.String(string(req.Actor.Role))))
		defer func() { spans.End(span, err) }()
	}
	if o, ok := g.local.lookup(rt.Endpoint.Service, rt.Endpoint.Op); ok {
		g.callLocal(ctx, w, r, rt, req, o)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var reply svc.Reply
	reply, err = g.client.Call(ctx, rt.Endpoint.Service, rt.Endpoint.Op, req, nil)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	g.respond(w, r, rt, reply)
}

func (g *Gateway) respond(w http.ResponseWriter, r *http.Request, rt Route, reply svc.Reply) {
	body := reply.Result
	if len(body) == 0 {
		body = json.RawMessage(`{}`)
	}
	version := reply.Version
	if version == 0 && !rt.noBodyVersion {
		var v struct {
			Version uint64 `json:"version"`
		}
		_ = json.Unmarshal(body, &v)
		version = v.Version
	}
	if version > 0 {
		w.Header().Set("ETag", `"`+strconv.FormatUint(version, 10)+`"`)
	}
	status := http.StatusOK
	if rt.isCommand() {
		w.Header().Set("Fundbridge-Position", strconv.FormatUint(reply.Position, 10))
		var fields map[string]json.RawMessage // the reply's members, where decoded already
		if rt.noBodyPosition {
			body = withPosition(body, reply.Position)
		} else {
			body, fields = replacePosition(body, reply.Position)
		}
		if rt.Created {
			status = http.StatusCreated
			if loc := location(rt, r, fields, body, reply.Position); loc != "" {
				w.Header().Set("Location", loc)
			}
		}
	}
	if wantsCSV(r) {
		writeCSV(w, r, body, rt.Endpoint.Reply)
		return
	}
	// With its length: a body over net/http's 4 KiB buffer is then not
	// sent chunked. (The body is not appended to: it may be the reply's.)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

// replacePosition sets "position" in an object result whose type may
// hold one of its own (see withPosition), and returns the object's
// members as decoded (nil if it is not an object).
func replacePosition(body json.RawMessage, pos uint64) (json.RawMessage, map[string]json.RawMessage) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return body, nil
	}
	obj["position"] = json.RawMessage(strconv.FormatUint(pos, 10))
	out, err := json.Marshal(obj)
	if err != nil {
		return body, obj
	}
	return out, obj
}

// payload builds the service payload: the JSON body for commands, the
// query string for reads, with path parameters added.
func (g *Gateway) payload(rt Route, r *http.Request) (json.RawMessage, error) {
	var params []member
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		for i, key := range rctx.URLParams.Keys {
			val, _ := json.Marshal(rctx.URLParams.Values[i]) // as a query's string value is
			params = append(params, member{name: key, value: val})
		}
	}
	if !rt.isCommand() {
		return queryPayload(rt, r, params)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, &fundbridge.Error{Code: fundbridge.EINVALID, Message: "request body must be application/json", Fields: []fundbridge.FieldError{{Field: "Content-Type", Reason: "must be application/json, not " + ct}}}
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &fundbridge.Error{Code: "too_large", Message: "request body is over the limit of 1 MiB"}
		}
		return nil, fundbridge.Invalid("unreadable body", fundbridge.FieldError{Field: "body", Reason: "could not be read to its end; send it again"})
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return encodeMembers(params), nil
	}
	out, conflict, ok := spliceBody(data, params)
	if !ok {
		if _, err := svc.DecodeObject(data); err != nil {
			return nil, err
		}
		return nil, fundbridge.Invalid("malformed request body", fundbridge.FieldError{Field: "body", Reason: "must be a JSON object"})
	}
	if conflict != "" {
		return nil, conflictingID(conflict)
	}
	return out, nil
}

// queryPayload is a read's payload: its query parameters, typed as the
// request's fields are, and the path's.
func queryPayload(rt Route, r *http.Request, params []member) (json.RawMessage, error) {
	if r.URL.RawQuery == "" {
		return encodeMembers(params), nil
	}
	members := params
	for key, vals := range r.URL.Query() {
		if len(vals) > 1 {
			// Each parameter takes one value: a second would be dropped.
			return nil, fundbridge.Invalid("invalid query", fundbridge.FieldError{Field: key, Reason: fmt.Sprintf("given %d times; give it once", len(vals))})
		}
		if key == "format" {
			if f := vals[0]; f != "" && f != "json" && f != "csv" {
				return nil, fundbridge.Invalid("invalid query", fundbridge.FieldError{Field: "format", Reason: fmt.Sprintf(`must be "json" or "csv", not %q`, f)})
			}
			continue
		}
		if len(vals) == 0 {
			continue
		}
		if _, ok := queryField(rt.Endpoint.Request, key); !ok {
			return nil, unknownParameter(key, queryNames(rt.Endpoint.Request, params))
		}
		v, err := queryValue(rt.Endpoint.Request, key, vals[0])
		if err != nil {
			return nil, err
		}
		if i := slices.IndexFunc(params, func(p member) bool { return p.name == key }); i >= 0 {
			if !bytes.Equal(params[i].value, v) {
				return nil, conflictingID(key)
			}
			continue
		}
		members = append(members, member{name: key, value: v})
	}
	return encodeMembers(members), nil
}

func conflictingID(field string) error {
	return fundbridge.Invalid("conflicting identifiers", fundbridge.FieldError{Field: field, Reason: "differs from the one in the path"})
}

// signIn checks an email and password under the sign-in limits, for the
// pages' sign-in form.
func (g *Gateway) signIn(r *http.Request, email, password string) (fundbridge.Actor, error) {
	payload, err := json.Marshal(identityapi.AuthenticateQuery{Email: email, Password: password})
	if err != nil {
		return fundbridge.Actor{}, err
	}
	attempt, err := g.beginSignIn(r, payload)
	if err != nil {
		return fundbridge.Actor{}, err
	}
	auth := identityapi.AuthenticateEndpoint
	var user identityapi.User
	req := &svc.Request{Actor: gatewayActor(), CorrelationID: svc.Correlation(r.Context()), Payload: payload}
	_, err = g.client.Call(r.Context(), auth.Service, auth.Op, req, &user)
	attempt.finish(err)
	if err != nil {
		return fundbridge.Actor{}, err
	}
	return fundbridge.Actor{UserID: user.UserID, Role: user.Role, OrgID: user.OrgID}, nil
}

// token signs a user in: email and password in, bearer token out.
func (g *Gateway) token(w http.ResponseWriter, r *http.Request) {
	payload, err := g.payload(Route{Endpoint: svc.EndpointInfo{Kind: svc.IsCommand}}, r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	var user identityapi.User
	attempt, err := g.beginSignIn(r, payload)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	auth := identityapi.AuthenticateEndpoint
	req := &svc.Request{Actor: gatewayActor(), CorrelationID: svc.Correlation(r.Context()), Payload: payload}
	_, err = g.client.Call(r.Context(), auth.Service, auth.Op, req, &user)
	attempt.finish(err)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	token, exp, err := g.tokens.Issue(fundbridge.Actor{UserID: user.UserID, Role: user.Role, OrgID: user.OrgID})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int(time.Until(exp).Seconds()),
		"user":         user,
	})
}
