package svc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
)

// Result is what a handler returns on success.
type Result struct {
	Value    any    // marshalled as the reply's result; nil for none
	Position uint64 // global position of the last event appended, if any
	Version  uint64 // aggregate version after the command, if any
}

// Handler serves one operation.
type Handler func(ctx context.Context, req *Request) (Result, error)

// Service is a named set of operations. Instances of one service form a
// NATS queue group, so each request reaches exactly one of them.
type Service struct {
	Name       string
	Operations map[string]Handler
	// MaxInFlight bounds concurrent requests per instance. Default 256.
	MaxInFlight int
	Logger      *slog.Logger
}

// Serve subscribes the service's operations and serves them until ctx
// ends; then it drains: no new requests are taken, those in flight finish.
func Serve(ctx context.Context, nc *nats.Conn, s Service) error {
	if s.MaxInFlight == 0 {
		s.MaxInFlight = 256
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("service", s.Name)
	slots := make(chan struct{}, s.MaxInFlight)
	var inflight sync.WaitGroup
	var subs []*nats.Subscription
	for op, h := range s.Operations {
		subject := Subject(s.Name, op)
		sub, err := nc.QueueSubscribe(subject, "fb."+s.Name, func(m *nats.Msg) {
			slots <- struct{}{}
			inflight.Add(1)
			go func() {
				defer func() { <-slots; inflight.Done() }()
				serveOne(ctx, log, op, h, m)
			}()
		})
		if err != nil {
			for _, s := range subs {
				_ = s.Unsubscribe()
			}
			return fmt.Errorf("serve %s: subscribe %s: %w", s.Name, subject, err)
		}
		subs = append(subs, sub)
	}
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("serve %s: %w", s.Name, err)
	}
	log.Debug("serving", "operations", len(s.Operations))
	<-ctx.Done()
	for _, s := range subs {
		_ = s.Drain()
	}
	// Drain flushes to the server; a lost connection cannot, so wait for
	// it only briefly. Requests already taken finish either way.
	deadline := time.Now().Add(5 * time.Second)
	for _, s := range subs {
		for s.IsValid() && nc.IsConnected() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	inflight.Wait()
	return nil
}

func serveOne(ctx context.Context, log *slog.Logger, op string, h Handler, m *nats.Msg) {
	// Requests already taken finish even while the service shuts down.
	ctx = context.WithoutCancel(ctx)
	var req Request
	reply := func(r Reply) {
		data, err := json.Marshal(r)
		if err != nil {
			log.Error("marshal reply", "op", op, "err", err)
			data = []byte(`{"ok":false,"error":{"code":"internal","message":"internal error"}}`)
		}
		if m.Reply != "" {
			_ = m.Respond(data)
		}
	}
	if err := json.Unmarshal(m.Data, &req); err != nil {
		reply(Reply{Error: fundbridge.Invalid("malformed request: " + err.Error())})
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
	if !req.Actor.Valid() {
		reply(Reply{Error: fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "request without a valid actor")})
		return
	}
	res, err := safeCall(ctx, h, &req)
	if err != nil {
		code := fundbridge.ErrorCode(err)
		if code == fundbridge.EINTERNAL {
			log.Error("request failed", "op", op, "request", req.ID, "correlation", req.CorrelationID, "err", err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			code = fundbridge.EUNAVAILABLE
		}
		reply(Reply{Error: &fundbridge.Error{Code: code, Message: fundbridge.ErrorMessage(err), Fields: fundbridge.ErrorFields(err)}})
		return
	}
	r := Reply{OK: true, Position: res.Position, Version: res.Version}
	if res.Value != nil {
		data, err := json.Marshal(res.Value)
		if err != nil {
			log.Error("marshal result", "op", op, "err", err)
			reply(Reply{Error: fundbridge.Errorf(fundbridge.EINTERNAL, "internal error")})
			return
		}
		r.Result = data
	}
	reply(r)
}

// safeCall turns a handler's panic into an internal error: one bad request
// must not take the service down.
func safeCall(ctx context.Context, h Handler, req *Request) (res Result, err error) {
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
