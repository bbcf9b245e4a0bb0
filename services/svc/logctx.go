package svc

import (
	"context"
	"log/slog"
)

// RequestIDKey is the attribute every log line about a request carries:
// the X-Request-ID the gateway assigned or accepted, which travels to the
// services (svc.Request's correlation ID and a NATS header) and into the
// events' correlation metadata.
const RequestIDKey = "request_id"

// WithRequestIDs returns a handler that adds the request ID of the
// record's context (WithCorrelation) to each record, so that a log
// call made with the request's context (log.InfoContext(ctx, ...)) names
// the request without being told. Records without one pass unchanged.
func WithRequestIDs(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDs); ok {
		return h
	}
	return requestIDs{h}
}

type requestIDs struct{ slog.Handler }

func (h requestIDs) Handle(ctx context.Context, r slog.Record) error {
	if id := Correlation(ctx); id != "" {
		r.AddAttrs(slog.String(RequestIDKey, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDs) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDs{h.Handler.WithAttrs(as)}
}

func (h requestIDs) WithGroup(name string) slog.Handler {
	return requestIDs{h.Handler.WithGroup(name)}
}

type correlationKey struct{}

// WithCorrelation carries a request's correlation ID (the gateway's
// X-Request-ID) in ctx, for the log lines and the requests made with it.
func WithCorrelation(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// Correlation is the correlation ID ctx carries, if any.
func Correlation(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}
