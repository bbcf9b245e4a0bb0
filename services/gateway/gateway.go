// Package gateway is the HTTP face of Fundbridge: it authenticates callers
// and turns HTTP requests into NATS requests to the services.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"go.opentelemetry.io/otel/trace"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/telemetry"
	"github.com/fundbridge/fundbridge/services/audit/auditapi"
	"github.com/fundbridge/fundbridge/services/gateway/web"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 1 << 20

type config struct {
	tokens      *Tokens
	log         *slog.Logger
	version     string
	timeout     time.Duration
	limits      Limits
	idempotency *Idempotency
	revocations *Revocations
	ready       func() error
	metrics     *telemetry.Metrics
	tracing     trace.TracerProvider
	local       *LocalServices
}

// Option tunes a Gateway.
type Option func(*config)

// WithTokens issues and verifies bearer tokens with t; without it no
// token is accepted and only public routes answer.
func WithTokens(t *Tokens) Option { return func(c *config) { c.tokens = t } }

// WithLogger logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithVersion is the version /healthz and the OpenAPI document show.
func WithVersion(v string) Option { return func(c *config) { c.version = v } }

// WithTimeout bounds each call to a service. Default 10s.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithLimits sets the abuse limits; zero fields take DefaultLimits'.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithIdempotency keeps the first response to each Idempotency-Key in i.
// Without it keys are only passed to the services, scoped to caller and
// operation.
func WithIdempotency(i *Idempotency) Option { return func(c *config) { c.idempotency = i } }

// WithRevocations refuses the tokens of the users r lists, and lists a
// user there once they are erased. Without it a token counts until it
// expires.
func WithRevocations(r *Revocations) Option { return func(c *config) { c.revocations = r } }

// WithReady is asked first by /readyz: the process's own start-up work
// and views (fundbridge dev runs every service).
func WithReady(ready func() error) Option { return func(c *config) { c.ready = ready } }

// WithMetrics records requests in m and serves it on /metrics.
func WithMetrics(m *telemetry.Metrics) Option { return func(c *config) { c.metrics = m } }

// WithTracing traces every API call: a server span per HTTP request,
// continuing the caller's W3C traceparent, whose context svc carries over
// NATS to the service. Without it the gateway traces nothing.
func WithTracing(tp trace.TracerProvider) Option { return func(c *config) { c.tracing = tp } }

// Gateway serves HTTP.
type Gateway struct {
	nc      *nats.Conn
	client  *svc.Client
	tokens  *Tokens
	log     *slog.Logger
	version string
	routes  []Route
	limits  *limiter
	idem    *Idempotency
	revoked *Revocations // nil: tokens count until they expire
	pages   *web.Server  // nil when the pages could not be built
	ready   func() error
	metrics *telemetry.Metrics
	tracer  trace.Tracer   // nil: no tracing
	local   *LocalServices // services answered in this process; nil: none
	ids     *events.IDs    // request IDs of local calls
}

// New returns a gateway that reaches the services over nc.
func New(nc *nats.Conn, opts ...Option) *Gateway {
	c := config{log: slog.Default()}
	for _, o := range opts {
		o(&c)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = slog.New(svc.WithRequestIDs(c.log.Handler()))
	if c.idempotency != nil {
		c.idempotency.log = c.log
	}
	g := &Gateway{nc: nc, client: svc.NewClient(nc, c.timeout), tokens: c.tokens, log: c.log, version: c.version, routes: apiRoutes(),
		limits: newLimiter(c.limits), idem: c.idempotency, revoked: c.revocations, ready: c.ready, metrics: c.metrics,
		local: c.local, ids: events.NewIDs()}
	if c.tokens != nil && c.revocations != nil {
		c.tokens.revoked = c.revocations
	}
	if c.tracing != nil {
		g.tracer = c.tracing.Tracer("github.com/fundbridge/fundbridge/services/gateway")
	}
	pages, err := web.New(web.Options{Client: g.client, Sessions: c.tokens, SignIn: g.signIn,
		AllowSignUp: g.allowSignUp, AllowWrite: g.allowWrite, StatusFor: StatusFor, Logger: c.log})
	if err != nil {
		g.log.Error("web pages are off", "err", err)
	}
	g.pages = pages
	return g
}

// Handler is the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler {
	r := chi.NewRouter()
	if g.metrics != nil {
		r.Use(g.measure)
	}
	r.Use(securityHeaders, forwardedFor(g.limits.trusted), g.requestID(events.NewIDs()), g.recoverer, middleware.Timeout(30*time.Second))
	if g.metrics != nil {
		// The public port shows its figures to operators only: they say
		// what runs and how much, which is no stranger's business.
		// Scrapers without a token use a private --metrics-addr.
		r.With(g.authenticate, operatorsOnly).Method(http.MethodGet, "/metrics", g.metrics.Handler())
	}
	r.Get("/healthz", withoutQuery(g.healthz))
	r.Get("/readyz", withoutQuery(g.readyz))
	r.Get("/api/v1/openapi.json", withoutQuery(g.openAPI))
	r.Post("/api/v1/auth/token", g.token)
	for _, rt := range g.routes {
		h := http.Handler(g.forward(rt))
		if rt.isCommand() && !rt.Public {
			h = g.limitWrites(h)
		}
		if rt.Endpoint.Op == identityapi.SignupEndpoint.Op {
			h = g.limitSignUp(h)
		}
		if !rt.Public {
			h = g.authenticate(h)
		}
		r.Method(rt.Method, rt.Path, h)
	}
	if g.pages != nil {
		g.pages.Register(r)
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, r, fundbridge.Errorf(fundbridge.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, r, &fundbridge.Error{Code: "method_not_allowed", Message: r.Method + " is not allowed on " + r.URL.Path})
	})
	return r
}

// healthz says the process is alive.
func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": g.version})
}

// readyz says the gateway can serve: NATS is connected and the services
// answer, with the event log behind them.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	if !g.nc.IsConnected() {
		WriteProblem(w, r, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "not connected to NATS (%s)", g.nc.Status()))
		return
	}
	if g.ready != nil {
		if err := g.ready(); err != nil {
			if !g.isOperator(r) { // how far the log goes is no stranger's business either
				err = errors.New("starting: the views are catching up with the event log, or start-up work is not done")
			}
			WriteProblem(w, r, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "%v", err))
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	head, _, err := svc.Call(ctx, g.client, auditapi.HeadEndpoint, &svc.Request{Actor: gatewayActor()}, auditapi.HeadQuery{})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if !g.isOperator(r) { // where NATS listens is no stranger's business
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "nats": g.nc.ConnectedUrlRedacted(), "log_position": head.Position})
}

// isOperator reports whether the request carries an operator's valid token.
func (g *Gateway) isOperator(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	a, err := g.tokens.Verify(token)
	return err == nil && a.Role == fundbridge.RoleOperator
}

// gatewayActor is who the gateway is when it acts for someone not yet
// signed in (sign-up, sign-in).
func gatewayActor() fundbridge.Actor {
	return fundbridge.Actor{UserID: "gateway", Role: fundbridge.RoleSystem}
}

func (g *Gateway) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				g.log.ErrorContext(r.Context(), "panic serving HTTP", "path", r.URL.Path, "panic", p)
				WriteProblem(w, r, fundbridge.Errorf(fundbridge.EINTERNAL, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// withoutQuery refuses query parameters on a route that takes none, as
// the services refuse fields they do not know.
func withoutQuery(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for name := range r.URL.Query() {
			WriteProblem(w, r, fundbridge.Invalid("unknown parameter", fundbridge.FieldError{Field: name, Reason: "is not a parameter of " + r.URL.Path}))
			return
		}
		h(w, r)
	}
}

// measure records each request's latency by its route's pattern, so that
// /api/v1/applications/{id} is one series whatever the id. A request no
// route matched counts under "unmatched".
func (g *Gateway) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		g.metrics.HTTP(route, r.Method, status, time.Since(start))
	})
}

// operatorsOnly refuses every signed-in role but the operator.
func operatorsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, _ := ActorFrom(r.Context()); a.Role != fundbridge.RoleOperator {
			WriteProblem(w, r, fundbridge.Errorf(fundbridge.EFORBIDDEN, "only operators may read the metrics"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
