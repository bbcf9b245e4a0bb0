package app_test

import (
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge/internal/app"
)

// One HTTP write is one trace: the gateway's HTTP span, the service
// handler's span (its child across NATS) and the store's append span
// share a trace ID.
func TestAWriteIsOneTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	p := startWith(t, func(o *app.Options) { o.Tracing = tp })
	exp.Reset() // spans of the start (bootstrap) are not this request's
	r := p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "Traced Capital", "role": "fund_manager",
		"user": map[string]string{"email": "t@traced.test", "password": "quiet harbour fund_manager", "name": "T"}})
	if r.status != 201 {
		t.Fatalf("create org: %d %s", r.status, r.raw)
	}
	var httpSpan, handler, appendSpan *tracetest.SpanStub
	spans := exp.GetSpans()
	for i := range spans {
		s := &spans[i]
		switch {
		case s.Name == "POST /api/v1/orgs" && s.SpanKind == trace.SpanKindServer:
			httpSpan = s
		case strings.HasPrefix(s.Name, "identity.") && s.SpanKind == trace.SpanKindServer:
			handler = s
		case strings.HasPrefix(s.Name, "append ") && appendSpan == nil:
			appendSpan = s
		}
	}
	if httpSpan == nil || handler == nil || appendSpan == nil {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("want the HTTP, handler and append spans; got %q", names)
	}
	id := httpSpan.SpanContext.TraceID()
	for _, s := range []*tracetest.SpanStub{handler, appendSpan} {
		if s.SpanContext.TraceID() != id {
			t.Errorf("span %q in trace %s, want the HTTP span's %s", s.Name, s.SpanContext.TraceID(), id)
		}
	}
	if !handler.Parent.IsRemote() {
		t.Errorf("handler span's parent is not remote: the context did not cross NATS")
	}
	if appendSpan.Parent.SpanID() == httpSpan.SpanContext.SpanID() {
		t.Errorf("append span is the HTTP span's child, want the handler's descendant")
	}
}
