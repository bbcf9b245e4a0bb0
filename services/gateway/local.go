package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
)

// LocalQueries are the queries of the services running in the gateway's
// own process (fundbridge dev), which the gateway answers by calling the
// service's handler itself instead of a NATS round trip: the same
// handler, the same checks (roles, decoding, validation, visibility, all
// in svc.Handle and the service), the same reply bytes, without two hops
// through the NATS server and the request and reply envelopes encoded
// and decoded on the way. Commands always go over NATS, to the service's
// queue group. A service is offered here only while it serves on NATS,
// so neither path answers before its views have caught up.
type LocalQueries struct {
	mu  sync.RWMutex
	ops map[string]localOp // "<service>.<op>"
}

type localOp struct {
	h       svc.Handler
	observe func(op, outcome string, took time.Duration)
	service string
}

// NewLocalQueries returns an empty set.
func NewLocalQueries() *LocalQueries { return &LocalQueries{ops: map[string]localOp{}} }

// Add offers s's operations until the returned function is called.
func (l *LocalQueries) Add(s svc.Service) (remove func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for op, h := range s.Operations {
		l.ops[s.Name+"."+op] = localOp{h: h, observe: s.Observe, service: s.Name}
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for op := range s.Operations {
			delete(l.ops, s.Name+"."+op)
		}
	}
}

func (l *LocalQueries) lookup(service, op string) (localOp, bool) {
	if l == nil {
		return localOp{}, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	o, ok := l.ops[service+"."+op]
	return o, ok
}

// WithLocalQueries answers the queries of the services in l in this
// process (see LocalQueries).
func WithLocalQueries(l *LocalQueries) Option { return func(c *config) { c.local = l } }

// callLocal answers a query with the service's handler in this process,
// as svc.Serve would over NATS: a deadline, a panic turned into an
// internal error, an error reduced to its code, message and fields, the
// outcome reported to the service's metrics.
func (g *Gateway) callLocal(ctx context.Context, w http.ResponseWriter, r *http.Request, rt Route, req *svc.Request, o localOp) {
	if req.ID == "" {
		req.ID = g.ids.New()
	}
	if req.CorrelationID == "" {
		req.CorrelationID = req.ID
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req.Deadline, _ = ctx.Deadline()
	start := time.Now()
	res, err := safeLocalCall(ctx, o.h, req)
	outcome := "ok"
	defer func() {
		if o.observe != nil {
			o.observe(rt.Endpoint.Op, outcome, time.Since(start))
		}
	}()
	var body []byte
	if err == nil && res.Value != nil {
		if body, err = json.Marshal(res.Value); err != nil {
			err = fmt.Errorf("marshal result: %w", err)
		}
	}
	if err != nil {
		code := fundbridge.ErrorCode(err)
		if code == fundbridge.EINTERNAL {
			g.log.ErrorContext(ctx, "request failed", "service", o.service, "op", rt.Endpoint.Op, "request", req.ID, "err", err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			code = fundbridge.EUNAVAILABLE
		}
		outcome = code
		WriteProblem(w, r, &fundbridge.Error{Code: code, Message: fundbridge.ErrorMessage(err), Fields: fundbridge.ErrorFields(err)})
		return
	}
	g.respond(w, r, rt, svc.Reply{OK: true, Result: body, Position: res.Position, Version: res.Version})
}

func safeLocalCall(ctx context.Context, h svc.Handler, req *svc.Request) (res svc.Result[any], err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, req)
}
