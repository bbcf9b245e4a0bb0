package app_test

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/spans"
)

// One HTTP write is one trace: the gateway's HTTP span, the service
// handler's span (its child: in dev the gateway calls the handler in its
// own process; across NATS, svc's TestATracedCallIsOneTraceAcrossNATS)
// and the store's append span share a trace ID.
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
	all := exp.GetSpans()
	for i := range all {
		s := &all[i]
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
		for _, s := range all {
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
	if handler.Parent.SpanID() != httpSpan.SpanContext.SpanID() {
		t.Errorf("handler span's parent %v is not the HTTP span %v", handler.Parent, httpSpan.SpanContext)
	}
	if appendSpan.Parent.SpanID() == httpSpan.SpanContext.SpanID() {
		t.Errorf("append span is the HTTP span's child, want the handler's descendant")
	}

	// The identity service's directory, the view that shows the new org,
	// applies the append's events in spans of the same trace, children of
	// the append (its context travelled with the events). They end after
	// the reply: wait for them.
	var project *tracetest.SpanStub
	deadline := time.Now().Add(30 * time.Second)
	for project == nil && time.Now().Before(deadline) {
		for _, s := range exp.GetSpans() {
			if s.Name == "project identity" && s.SpanContext.TraceID() == id {
				project = &s
				break
			}
		}
		if project == nil {
			time.Sleep(20 * time.Millisecond) // polling for the span, not timing anything
		}
	}
	if project == nil {
		t.Fatal("no span of the identity view applying the write in its trace")
	}
	if !project.Parent.IsRemote() || project.Parent.TraceID() != id {
		t.Errorf("projection span's parent %v is not the append's context carried with the events", project.Parent)
	}
	appends := map[trace.SpanID]bool{}
	for _, s := range exp.GetSpans() {
		if strings.HasPrefix(s.Name, "append ") && s.SpanContext.TraceID() == id {
			appends[s.SpanContext.SpanID()] = true
		}
	}
	if !appends[project.Parent.SpanID()] {
		t.Errorf("projection span's parent is not an append span of the trace")
	}

	// Attributes say what happened, never who: no email, name or password
	// in any span.
	want := map[string]map[attribute.Key]string{
		handler.Name:    {spans.Service: "identity", spans.ActorRole: "operator", spans.Outcome: "ok"},
		httpSpan.Name:   {spans.Service: "identity", spans.ActorRole: "operator", spans.Outcome: "ok"},
		appendSpan.Name: {spans.Outcome: "ok"},
		project.Name:    {spans.View: "identity", spans.Outcome: "ok"},
	}
	for _, s := range []*tracetest.SpanStub{httpSpan, handler, appendSpan, project} {
		got := map[attribute.Key]string{}
		for _, kv := range s.Attributes {
			got[kv.Key] = kv.Value.String()
		}
		for k, v := range want[s.Name] {
			if got[k] != v {
				t.Errorf("span %q: %s = %q, want %q (attributes %v)", s.Name, k, got[k], v, got)
			}
		}
		if s == appendSpan || s == project {
			if got[spans.Position] == "" || got[spans.Aggregate] == "" {
				t.Errorf("span %q lacks the position or the stream type: %v", s.Name, got)
			}
		}
	}
	for _, s := range exp.GetSpans() {
		for _, kv := range s.Attributes {
			for _, personal := range []string{"t@traced.test", "Traced Capital", "quiet harbour"} {
				if strings.Contains(kv.Value.String(), personal) || strings.Contains(s.Name, personal) || strings.Contains(s.Status.Description, personal) {
					t.Errorf("span %q holds %q", s.Name, personal)
				}
			}
		}
	}
}
