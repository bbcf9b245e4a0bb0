// Package spans is what the traces of a write share between the gateway,
// the services, the event store and the readers of the log: the names of
// the spans' attributes, and how a write's trace context travels with its
// events so that the projection that shows the write, and the process
// that acts on it, join its trace.
//
// The context travels as a W3C traceparent header on the append's
// JetStream message: headers are stored with the message, outside the
// commit, so the events themselves stay as they were written and a
// reader that does not trace ignores it.
//
// Attributes never carry personal data or secrets: no names, emails,
// amounts or payloads, and of a stream only its aggregate type (identity's
// email claims are named by a hash of the email); the position finds the
// commit in the log.
package spans

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

// Header is the message header holding an append's trace context.
const Header = "traceparent"

// The attributes set on Fundbridge's spans.
const (
	Service   = attribute.Key("fundbridge.service")   // the service serving or called
	Operation = attribute.Key("fundbridge.operation") // the operation, such as fund.register
	ActorRole = attribute.Key("fundbridge.actor.role")
	// Aggregate is the type of the stream written or read (fund,
	// application, …); the stream's ID is not recorded.
	Aggregate = attribute.Key("fundbridge.stream.type")
	Position  = attribute.Key("fundbridge.position") // the log position of the append
	EventType = attribute.Key("fundbridge.event.type")
	Events    = attribute.Key("fundbridge.events") // how many events an append holds
	View      = attribute.Key("fundbridge.view")   // the read model applying an event
	Process   = attribute.Key("fundbridge.process")
	Deadline  = attribute.Key("fundbridge.deadline") // the name of a process's deadline
	// Outcome is "ok" or the error's code (invalid, conflict, …).
	Outcome = attribute.Key("fundbridge.outcome")
)

// OK is the outcome of a span that ended without an error.
const OK = "ok"

// AggregateOf is the aggregate type of a stream ID, "" if it has none.
func AggregateOf(streamID string) string {
	typ, _, ok := strings.Cut(streamID, "-")
	if !ok {
		return ""
	}
	return typ
}

// TraceParent is the W3C traceparent of the span in ctx, "" if none.
func TraceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c[Header]
}

// Provider is the tracer provider a store carries (the process's), nil
// if it carries none or traces nothing.
func Provider(store any) trace.TracerProvider {
	if s, ok := store.(interface{ TracerProvider() trace.TracerProvider }); ok {
		return s.TracerProvider()
	}
	return nil
}

// MaxAge is how old an event may be for its reader to join the write's
// trace. A view folding the log again from 0 would otherwise add a span
// to every traced write in the log's history.
const MaxAge = time.Minute

// none is a span that records nothing.
var none = trace.SpanFromContext(context.Background())

// FromEvent starts the span of a reader handling e (a projection
// applying it, a process observing it), the child of the append that
// wrote e, with e's type, aggregate and position. With no provider, no
// trace context on e, or e older than MaxAge, it returns ctx and a span
// that records nothing.
func FromEvent(ctx context.Context, tp trace.TracerProvider, tracer, name string, e events.Event, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if tp == nil || e.Trace == "" || time.Since(e.RecordedAt) > MaxAge {
		return ctx, none
	}
	parent := propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{Header: e.Trace})
	if !trace.SpanContextFromContext(parent).IsValid() {
		return ctx, none
	}
	attrs = append(attrs, EventType.String(e.Type), Aggregate.String(AggregateOf(e.StreamID)), Position.Int64(int64(e.Position)))
	return tp.Tracer(tracer).Start(parent, name, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
}

// Description is what a span's error status says: the code of a
// refusal, whose message is written for the person who sent the command
// and may repeat what they typed; the message of a failure (a timeout, an
// unreachable store), which is what an operator needs.
func Description(err error) string {
	switch code := fundbridge.ErrorCode(err); code {
	case fundbridge.EINTERNAL, fundbridge.EUNAVAILABLE:
		return err.Error()
	default:
		return code
	}
}

// End records err's outcome on span (its code; "ok" when nil) and ends it.
func End(span trace.Span, err error) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if err != nil {
		code := fundbridge.ErrorCode(err)
		span.SetAttributes(Outcome.String(code))
		span.SetStatus(codes.Error, Description(err))
	} else {
		span.SetAttributes(Outcome.String(OK))
	}
	span.End()
}
