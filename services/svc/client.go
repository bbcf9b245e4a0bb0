package svc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/spans"
)

// Client sends requests to services.
type Client struct {
	nc      *nats.Conn
	ids     *events.IDs
	timeout time.Duration
	caller  string // the calling service, for a system client (trust.go)
}

// NewClient returns a client on nc. Requests without a deadline in their
// context wait at most timeout (default 10s).
func NewClient(nc *nats.Conn, timeout time.Duration) *Client {
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	return &Client{nc: nc, ids: events.NewIDs(), timeout: timeout}
}

// Call sends req to service.op and decodes the result into out (if not
// nil). A service's coded error comes back as a *fundbridge.Error of the
// same code; a lost connection or a timeout as EUNAVAILABLE, which never
// means success: the command may or may not have been applied, and a retry
// with the same idempotency key is safe.
func (c *Client) Call(ctx context.Context, service, op string, req *Request, out any) (_ Reply, err error) {
	if req.ID == "" {
		req.ID = c.ids.New()
	}
	if req.CorrelationID == "" {
		req.CorrelationID = Correlation(ctx)
	}
	if req.CorrelationID == "" {
		req.CorrelationID = req.ID
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	data, err := encodeRequest(req)
	if err != nil {
		return Reply{}, fmt.Errorf("call %s.%s: %w", service, op, err)
	}
	msg := nats.NewMsg(c.subject(service, op))
	msg.Data = data
	deadline, _ := ctx.Deadline()
	msg.Header.Set(headerDeadline, deadline.UTC().Format(time.RFC3339Nano))
	msg.Header.Set(HeaderRequestID, req.CorrelationID)
	if tp := TraceParent(ctx); tp != "" {
		msg.Header.Set(headerTraceParent, tp)
	}
	// A traced request (a span in ctx, from the gateway or a serving
	// handler) gets a client span, whose context the server continues; an
	// untraced one does no tracing work. The span's own provider is used, so
	// nothing global is read.
	if parent := trace.SpanFromContext(ctx); parent.SpanContext().IsValid() {
		var span trace.Span
		ctx, span = parent.TracerProvider().Tracer(TracerName).Start(ctx, "call "+service+"."+op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(spans.Service.String(service), spans.Operation.String(op), spans.ActorRole.String(string(req.Actor.Role))))
		propagation.TraceContext{}.Inject(ctx, headerCarrier(msg.Header))
		defer func() { spans.End(span, err) }()
	}
	resp, err := c.nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return Reply{}, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "service %s is not running", service)
		}
		return Reply{}, &fundbridge.Error{Code: fundbridge.EUNAVAILABLE, Message: fmt.Sprintf("%s.%s: %v", service, op, err)}
	}
	var reply Reply
	if err := decodeReply(resp.Data, &reply); err != nil {
		return Reply{}, fmt.Errorf("call %s.%s: malformed reply: %w", service, op, err)
	}
	if !reply.OK {
		if reply.Error == nil {
			return reply, fmt.Errorf("call %s.%s: failed without an error", service, op)
		}
		return reply, reply.Error
	}
	if out != nil && len(reply.Result) > 0 {
		if err := json.Unmarshal(reply.Result, out); err != nil {
			return reply, fmt.Errorf("call %s.%s: decode result: %w", service, op, err)
		}
	}
	return reply, nil
}
