package svc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/internal/spans"
)

// Result is what a handler returns on success: its reply, typed by the
// endpoint it serves (so a handler that replies with another type does
// not compile), and where the reply stands in the log.
type Result[T any] struct {
	Value    T      // marshalled as the reply's result
	Position uint64 // global position of the last event appended, if any
	Version  uint64 // aggregate version after the command, if any
}

// Handler serves one operation on the wire, its reply not yet typed:
// Handle builds one from a typed handler. A nil Value sends no result.
type Handler func(ctx context.Context, req *Request) (Result[any], error)

// Service is a named set of operations, served as a NATS micro service:
// `nats micro ls`, `info` and `stats` show it with its endpoints.
// Instances of one service form a NATS queue group, so each request
// reaches exactly one of them.
type Service struct {
	Name        string
	Version     string // semantic version shown by nats micro; default 1.0.0
	Description string
	Operations  map[string]Handler
	// MaxInFlight bounds concurrent requests per instance. Default 256.
	MaxInFlight int
	Logger      *slog.Logger
	// Observe, if set, is told of every request answered: its op, its
	// outcome ("ok" or the error code) and how long it took (metrics).
	Observe func(op, outcome string, took time.Duration)
	// Tracing, if set, traces every request: a server span per request,
	// the child of the caller's span when the message carries a W3C trace
	// context. Nil traces nothing.
	Tracing trace.TracerProvider
	// Serving, if set, is called once every endpoint is subscribed and the
	// NATS server has the subscriptions: from then on a request reaches an
	// instance (readiness waits for it).
	Serving func()
	// Gateway, if set, is the system actor the gateway acts as for someone
	// not signed in (sign-up, sign-in, readiness). A system actor on the
	// gateway's subjects (fb.svc) must then be that one, and may call only
	// endpoints open to every role: the gateway's NATS key, stolen, cannot
	// act as a service (release a fund's capital, mark an application
	// funded). Empty, as for a service served alone in its tests: any
	// system actor is taken there.
	Gateway string
}

// TracerName names the spans svc makes (and a caller that runs a
// service's handler in its own process, as the gateway in dev does).
const TracerName = "github.com/fundbridge/fundbridge/services/svc"

// DefaultMaxInFlight is a Service's MaxInFlight when it sets none.
const DefaultMaxInFlight = 256

// headerCarrier reads and writes W3C trace context in NATS headers, whose
// keys are case-sensitive: the keys are kept as given ("traceparent").
type headerCarrier nats.Header

func (h headerCarrier) Get(key string) string { return nats.Header(h).Get(key) }
func (h headerCarrier) Set(key, value string) { nats.Header(h).Set(key, value) }
func (h headerCarrier) Keys() []string        { return slices.Collect(maps.Keys(h)) }

// QueueGroup is the queue group a service's instances share.
func QueueGroup(service string) string { return "fb." + service }

// endpointName is an op as a micro endpoint name, which may not hold dots.
func endpointName(op string) string { return strings.ReplaceAll(op, ".", "_") }

// Serve serves the service's operations until ctx ends; then it drains:
// no new requests are taken, those in flight finish.
//
// micro counts a request when its handler returns, and runs one handler
// at a time per endpoint; the handler here only hands the request to a
// goroutine (bounded by MaxInFlight), so requests run concurrently. The
// processing times and errors micro would measure are therefore kept
// here and reported in each endpoint's stats data.
func Serve(ctx context.Context, nc *nats.Conn, s Service) error {
	if s.MaxInFlight == 0 {
		s.MaxInFlight = DefaultMaxInFlight
	}
	if s.Version == "" {
		s.Version = "1.0.0"
	}
	sv := &serving{ctx: ctx, nc: nc, s: s, log: serviceLogger(s), slots: make(chan struct{}, s.MaxInFlight)}
	if s.Tracing != nil {
		sv.tracer = s.Tracing.Tracer(TracerName)
	}
	stats := map[string]*opStats{}
	for op := range s.Operations {
		for _, e := range serveEndpoints(s.Name, op) {
			stats[e.name] = &opStats{}
		}
	}
	before := nc.NumSubscriptions()
	ms, err := micro.AddService(nc, micro.Config{
		Name: s.Name, Version: s.Version, Description: s.Description, QueueGroup: QueueGroup(s.Name),
		StatsHandler: func(e *micro.Endpoint) any { return stats[e.Name].snapshot() },
	})
	if err != nil {
		return fmt.Errorf("serve %s: %w", s.Name, err)
	}
	ops := slices.Sorted(maps.Keys(s.Operations))
	for _, op := range ops {
		for _, e := range serveEndpoints(s.Name, op) {
			handler := sv.handler(op, s.Operations[op], stats[e.name])
			if err := ms.AddEndpoint(e.name, handler, micro.WithEndpointSubject(e.subject),
				micro.WithEndpointMetadata(map[string]string{"op": op})); err != nil {
				_ = ms.Stop()
				return fmt.Errorf("serve %s: endpoint %s: %w", s.Name, op, err)
			}
		}
	}
	owned := nc.NumSubscriptions() - before
	if err := nc.Flush(); err != nil {
		_ = ms.Stop()
		return fmt.Errorf("serve %s: %w", s.Name, err)
	}
	sv.log.Debug("serving", "operations", len(s.Operations))
	if s.Serving != nil {
		s.Serving()
	}
	<-ctx.Done()
	sv.drain(ms, owned)
	return nil
}

// serviceLogger is s's logger (the default one if none), naming the
// service and each request's ID.
func serviceLogger(s Service) *slog.Logger {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	return slog.New(WithRequestIDs(log.Handler())).With("service", s.Name)
}

// serving is one Serve: what its handlers share, and the requests in
// flight (at most MaxInFlight, a slot each).
type serving struct {
	ctx      context.Context
	nc       *nats.Conn
	s        Service
	log      *slog.Logger
	tracer   trace.Tracer
	slots    chan struct{}
	inflight sync.WaitGroup
}

// handler hands each request of op to h on a goroutine of its own, once
// a slot is free, and records how it went in st.
func (sv *serving) handler(op string, h Handler, st *opStats) micro.HandlerFunc {
	return func(r micro.Request) {
		m := &nats.Msg{Subject: r.Subject(), Reply: r.Reply(), Data: r.Data(), Header: nats.Header(r.Headers())}
		sv.slots <- struct{}{}
		sv.inflight.Add(1)
		go func() {
			defer func() { <-sv.slots; sv.inflight.Done() }()
			start := time.Now()
			outcome := serveOne(sv.ctx, sv.nc, sv.log, sv.tracer, sv.s, op, h, m)
			took := time.Since(start)
			st.record(took, outcome != outcomeOK)
			if sv.s.Observe != nil {
				sv.s.Observe(op, outcome, took)
			}
		}()
	}
}

// drain stops ms and waits for the requests taken to finish.
//
// Stop drains every subscription: the server sends no more, and what
// it sent is still handed to the handlers. A drained subscription
// leaves the connection, so the count of subscriptions (owned of them
// ms's) says when all are done. A lost connection cannot drain: wait for
// it only briefly. Requests already taken finish either way.
func (sv *serving) drain(ms micro.Service, owned int) {
	target := sv.nc.NumSubscriptions() - owned
	if err := ms.Stop(); err != nil {
		sv.log.Warn("stop", "err", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for sv.nc.NumSubscriptions() > target && sv.nc.IsConnected() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	sv.inflight.Wait()
}

// opStats is what micro would measure of an endpoint had it run the
// requests itself.
type opStats struct {
	mu         sync.Mutex
	requests   int
	errors     int
	processing time.Duration
}

func (s *opStats) record(d time.Duration, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.processing += d
	if failed {
		s.errors++
	}
}

func (s *opStats) snapshot() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	avg := time.Duration(0)
	if s.requests > 0 {
		avg = s.processing / time.Duration(s.requests)
	}
	return map[string]any{"requests": s.requests, "errors": s.errors, "processing_time": s.processing, "average_processing_time": avg}
}

// outcomeOK is the outcome of a request answered without an error.
const outcomeOK = "ok"

// serveOne decodes, runs and answers one request, and reports its
// outcome: outcomeOK or the error code. An error reply carries micro's
// error headers as well as the coded error in its body.
func serveOne(ctx context.Context, nc *nats.Conn, log *slog.Logger, tracer trace.Tracer, s Service, op string, h Handler, m *nats.Msg) (outcome string) {
	service := s.Name
	outcome = outcomeOK
	// Requests already taken finish even while the service shuts down.
	ctx = context.WithoutCancel(ctx)
	if tracer != nil {
		ctx = propagation.TraceContext{}.Extract(ctx, headerCarrier(m.Header))
	}
	ctx, span := StartServerSpan(ctx, tracer, service, op)
	defer func() { EndServerSpan(span, outcome) }()
	var req Request
	start := time.Now()
	defer func() {
		if log.Enabled(ctx, slog.LevelDebug) {
			log.DebugContext(ctx, "request", "op", op, "outcome", outcome, "took", time.Since(start))
		}
	}()
	reply := func(r Reply) {
		data, err := encodeReply(r)
		if err != nil {
			log.Error("marshal reply", "op", op, "err", err)
			data = []byte(`{"ok":false,"error":{"code":"internal","message":"internal error"}}`)
		}
		if r.Error != nil {
			outcome = r.Error.Code
		}
		if m.Reply == "" {
			return
		}
		out := &nats.Msg{Subject: m.Reply, Data: data}
		if r.Error != nil {
			out.Header = nats.Header{micro.ErrorHeader: []string{r.Error.Message}, micro.ErrorCodeHeader: []string{string(r.Error.Code)}}
		}
		if err := nc.PublishMsg(out); err != nil {
			log.Warn("reply", "op", op, "err", err)
		}
	}
	if err := decodeRequest(m.Data, &req); err != nil {
		reply(Reply{Error: fundbridge.Invalid("malformed request: the message is not a request envelope", fundbridge.FieldError{Field: "body", Reason: "must be a JSON request with an actor and a payload"})})
		return
	}
	if d := m.Header.Get(headerDeadline); d != "" {
		if t, err := time.Parse(time.RFC3339Nano, d); err == nil {
			req.Deadline = t
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, t)
			defer cancel()
		}
	}
	if tp := m.Header.Get(headerTraceParent); tp != "" {
		ctx = WithTraceParent(ctx, tp)
	}
	if req.CorrelationID == "" {
		req.CorrelationID = m.Header.Get(HeaderRequestID)
	}
	if req.CorrelationID != "" {
		ctx = WithCorrelation(ctx, req.CorrelationID)
	}
	if !req.Actor.Valid() {
		reply(Reply{Error: fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "request without a valid actor")})
		return
	}
	span.SetAttributes(spans.ActorRole.String(string(req.Actor.Role))) // the role only: never who
	caller, err := checkCaller(m.Subject, req.Actor)
	if err == nil && caller == "" {
		req.AsGateway, err = checkGateway(s.Gateway, req.Actor)
	}
	if err != nil {
		reply(Reply{Error: err})
		return
	}
	req.Caller = caller
	reply(Answer(ctx, log, op, h, &req))
	return
}

// Answer runs h for req as an instance of its service answers it, and
// returns the reply: the result encoded, or the error reduced to what the
// caller may be told (its code, message and fields; an internal error's
// detail is logged here, a deadline passed is "unavailable"), a panic
// being an internal error. Serve answers each request from NATS with it;
// a caller in the service's own process (the gateway in dev) calls the
// handler through it without NATS. log is the service's.
func Answer(ctx context.Context, log *slog.Logger, op string, h Handler, req *Request) Reply {
	req.Op = op
	res, err := safeCall(ctx, h, req)
	if err != nil {
		code := fundbridge.ErrorCode(err)
		if code == fundbridge.EINTERNAL {
			log.ErrorContext(ctx, "request failed", "op", op, "request", req.ID, "err", err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			code = fundbridge.EUNAVAILABLE
		}
		return Reply{Error: &fundbridge.Error{Code: code, Message: fundbridge.ErrorMessage(err), Fields: fundbridge.ErrorFields(err)}}
	}
	r := Reply{OK: true, Position: res.Position, Version: res.Version}
	if res.Value != nil {
		data, err := json.Marshal(res.Value)
		if err != nil {
			log.ErrorContext(ctx, "marshal result", "op", op, "err", err)
			return Reply{Error: fundbridge.Errorf(fundbridge.EINTERNAL, "internal error")}
		}
		r.Result = data
	}
	return r
}

// StartServerSpan starts the span of one request answered by service's
// op, the child of ctx's span; with a nil tracer it starts none (the span
// records nothing). EndServerSpan ends it.
func StartServerSpan(ctx context.Context, tracer trace.Tracer, service, op string) (context.Context, trace.Span) {
	if tracer == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return tracer.Start(ctx, service+"."+op, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(spans.Service.String(service), spans.Operation.String(op)))
}

// EndServerSpan ends a request's span with its outcome: "ok" or the
// error code.
func EndServerSpan(span trace.Span, outcome string) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(spans.Outcome.String(outcome))
	if outcome != outcomeOK {
		span.SetStatus(codes.Error, outcome)
	}
	span.End()
}

// safeCall turns a handler's panic into an internal error: one bad request
// must not take the service down.
func safeCall(ctx context.Context, h Handler, req *Request) (res Result[any], err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, req)
}

type traceParentKey struct{}

// WithTraceParent carries a W3C trace context to the requests made with ctx.
func WithTraceParent(ctx context.Context, tp string) context.Context {
	return context.WithValue(ctx, traceParentKey{}, tp)
}

// TraceParent returns the W3C trace context carried by the request, if any.
func TraceParent(ctx context.Context) string {
	tp, _ := ctx.Value(traceParentKey{}).(string)
	return tp
}
