package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/internal/spans"
	"github.com/fundbridge/fundbridge/services/svc"
)

// LocalServices are the services running in the gateway's own process
// (fundbridge dev), whose requests the gateway answers by calling the
// service's handler itself instead of a NATS round trip: the same
// handler, the same checks (roles, decoding, validation, visibility,
// idempotency keys, all in svc.Handle and the service), the same reply
// bytes, without two hops through the NATS server and the request and
// reply envelopes encoded and decoded on the way. Queries and commands
// alike: a command's effect is the service's append, acknowledged by the
// store before the handler returns, whichever way the handler was
// reached. A service is offered here only while it serves on NATS, so
// neither path answers before its views have caught up; a service in
// another process is reached over NATS.
type LocalServices struct {
	mu  sync.RWMutex
	ops map[string]localOp // "<service>.<op>"
}

type localOp struct {
	h       svc.Handler
	observe func(op, outcome string, took time.Duration)
	service string
	tracer  trace.Tracer  // nil: the service traces nothing
	slots   chan struct{} // the service's MaxInFlight, as on NATS
	log     *slog.Logger  // the service's, as svc.Serve makes it
}

// NewLocalServices returns an empty set.
func NewLocalServices() *LocalServices { return &LocalServices{ops: map[string]localOp{}} }

// Add offers s's operations until the returned function is called.
func (l *LocalServices) Add(s svc.Service) (remove func()) {
	var tracer trace.Tracer
	if s.Tracing != nil {
		tracer = s.Tracing.Tracer(svc.TracerName)
	}
	inFlight := s.MaxInFlight
	if inFlight == 0 {
		inFlight = svc.DefaultMaxInFlight
	}
	slots := make(chan struct{}, inFlight)
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	log = slog.New(svc.WithRequestIDs(log.Handler())).With("service", s.Name)
	l.mu.Lock()
	defer l.mu.Unlock()
	for op, h := range s.Operations {
		l.ops[s.Name+"."+op] = localOp{h: h, observe: s.Observe, service: s.Name, tracer: tracer, slots: slots, log: log}
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for op := range s.Operations {
			delete(l.ops, s.Name+"."+op)
		}
	}
}

func (l *LocalServices) lookup(service, op string) (localOp, bool) {
	if l == nil {
		return localOp{}, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	o, ok := l.ops[service+"."+op]
	return o, ok
}

// WithLocalServices answers the requests for the services in l in this
// process (see LocalServices).
func WithLocalServices(l *LocalServices) Option { return func(c *config) { c.local = l } }

// callLocal answers a request with the service's handler in this
// process, as svc.Serve would over NATS: at most the service's
// MaxInFlight at once, a deadline, a command finished even if its caller
// goes, a server span, a panic turned into an internal error, an error
// reduced to its code, message and fields, the outcome reported to the
// service's metrics.
func (g *Gateway) callLocal(ctx context.Context, w http.ResponseWriter, r *http.Request, rt Route, req *svc.Request, o localOp) {
	if req.ID == "" {
		req.ID = g.ids.New()
	}
	if req.CorrelationID == "" {
		req.CorrelationID = req.ID
	}
	if rt.isCommand() {
		// As on NATS, a command taken is finished: its caller hanging up
		// must not stop it between the append and the answer.
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req.Deadline, _ = ctx.Deadline()
	select {
	case o.slots <- struct{}{}:
		defer func() { <-o.slots }()
	case <-ctx.Done():
		WriteProblem(w, r, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "%s is busy: try again", o.service))
		return
	}
	ctx, span := svc.StartServerSpan(ctx, o.tracer, o.service, rt.Endpoint.Op)
	span.SetAttributes(spans.ActorRole.String(string(req.Actor.Role))) // the role only: never who
	start := time.Now()
	reply := svc.Answer(ctx, o.log, rt.Endpoint.Op, o.h, req)
	outcome := "ok"
	if reply.Error != nil {
		outcome = string(reply.Error.Code)
	}
	took := time.Since(start)
	svc.EndServerSpan(span, outcome)
	if o.observe != nil {
		o.observe(rt.Endpoint.Op, outcome, took)
	}
	if o.log.Enabled(ctx, slog.LevelDebug) { // the service's own line, as over NATS
		o.log.DebugContext(ctx, "request", "op", rt.Endpoint.Op, "outcome", outcome, "took", took)
	}
	if reply.Error != nil {
		WriteProblem(w, r, reply.Error)
		return
	}
	g.respond(w, r, rt, reply)
}
