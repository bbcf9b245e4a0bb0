package svc_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/svc"
)

// A traced call crosses NATS as one trace: the caller's client span, and
// the service's server span its remote child.
func TestATracedCallIsOneTraceAcrossNATS(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	env := testenv.Start(t, events.NewRegistry())
	stop := serve(t, env.Connect(t), svc.Service{Name: "hello", Tracing: tp,
		Operations: svc.Operations(svc.Handle(greet, func(_ context.Context, _ *svc.Request, g greeting) (svc.Result[greeted], error) {
			return svc.Result[greeted]{Value: greeted{Text: "hello " + g.Name}}, nil
		}))})
	defer stop()
	exp.Reset() // the start's probes are not this call
	ctx, root := tp.Tracer("test").Start(context.Background(), "caller")
	client := svc.NewClient(env.Conn, 5*time.Second)
	if _, _, err := svc.Call(ctx, client, greet, &svc.Request{Actor: fundbridge.Actor{UserID: "op", Role: fundbridge.RoleOperator}}, greeting{Name: "ada"}); err != nil {
		t.Fatal(err)
	}
	root.End()
	var call, server *tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		switch {
		case s.Name == "call hello.greeting.say" && s.SpanKind == trace.SpanKindClient:
			call = &s
		case s.Name == "hello.greeting.say" && s.SpanKind == trace.SpanKindServer:
			server = &s
		}
	}
	if call == nil || server == nil {
		t.Fatalf("want the client and server spans; got %v", exp.GetSpans())
	}
	if server.SpanContext.TraceID() != root.SpanContext().TraceID() || call.SpanContext.TraceID() != root.SpanContext().TraceID() {
		t.Errorf("the call is not one trace: caller %s, client %s, server %s", root.SpanContext().TraceID(), call.SpanContext.TraceID(), server.SpanContext.TraceID())
	}
	if !server.Parent.IsRemote() || server.Parent.SpanID() != call.SpanContext.SpanID() {
		t.Errorf("server span's parent %v is not the client span %v across NATS", server.Parent, call.SpanContext)
	}
}
