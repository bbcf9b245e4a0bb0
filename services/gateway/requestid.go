package gateway

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/svc"
)

// HeaderRequestID names a request from end to end: the gateway takes the
// caller's (a proxy's) if it is a plain token, else assigns one, answers
// with it, and passes it on as the correlation ID of the service request,
// of the events it records and of every log line about it.
const HeaderRequestID = "X-Request-ID"

// validRequestID accepts what a proxy would send (a UUID, a ULID, a
// trace-like token) and nothing that could forge a log line: 1 to 128
// letters, digits and ._:- only.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// requestID gives each request its ID (see HeaderRequestID) and, when
// debug logging is on, logs it answered.
func (g *Gateway) requestID(ids *events.IDs) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(HeaderRequestID)
			if !validRequestID(id) {
				id = ids.New()
			}
			w.Header().Set(HeaderRequestID, id)
			ctx := svc.WithCorrelation(r.Context(), id)
			r = r.WithContext(ctx)
			if !g.log.Enabled(ctx, slog.LevelDebug) {
				next.ServeHTTP(w, r)
				return
			}
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := ""
			if rc := chi.RouteContext(r.Context()); rc != nil {
				route = rc.RoutePattern()
			}
			g.log.DebugContext(ctx, "http request", "method", r.Method, "route", route, "status", ww.Status(), "took", time.Since(start))
		})
	}
}
