package process

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/fundbridge/fundbridge/events"
	ejs "github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/spans"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc"
)

// A traced write that a process acts on carries its trace through the
// process: the manager's step observing the write, each command it sends,
// and the receiving service's handler are spans of the write's trace.
func TestAProcessStepIsPartOfTheTraceOfTheWriteItActsOn(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	w := &world{t: t, reg: testRegistry()}
	w.env = testenv.Start(t, w.reg)

	ledger := ledgerService(w.env.Store, w.reg)
	ledger.Tracing = tp
	lnc := w.env.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, lnc, ledger) }()
	t.Cleanup(func() { cancel(); <-served; lnc.Close() })

	nc := w.env.Connect(t)
	store, err := ejs.Open(context.Background(), nc, w.reg, ejs.Options{GroupCommit: true, Tracing: tp})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(context.Background(), closingDefinition(), Options{
		Store: store, Registry: w.reg, Conn: nc, Sender: svc.NewClient(nc, 5*time.Second),
		Instance: "a", LeaseTTL: time.Second, CheckpointEvery: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; nc.Close() })

	w.openFund("f1", 10_000_000)
	wctx, root := tp.Tracer("test").Start(context.Background(), "request closing")
	if _, err := w.env.Store.Append(wctx, events.AppendRequest{StreamID: "closing-d1", Expected: events.Any, Meta: events.Meta{Actor: platform},
		Events: []events.NewEvent{{Type: ClosingRequested{}.EventType(), Payload: raw(ClosingRequested{ClosingID: "d1", ApplicationID: "a1", FundID: "f1", Amount: money.Yuan(4_000_000)})}}}); err != nil {
		t.Fatal(err)
	}
	root.End()
	trace := root.SpanContext().TraceID()
	if in := w.final(m, "d1"); in.Status != Completed {
		t.Fatalf("ended %+v", in)
	}

	want := []string{"process closing observe", "process closing send ledger.application.reserve", "ledger.application.reserve",
		"process closing send ledger.fund.commit", "ledger.fund.commit"}
	var missing []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen := map[string]tracetest.SpanStub{}
		for _, s := range exp.GetSpans() {
			if s.SpanContext.TraceID() == trace {
				seen[s.Name] = s
			}
		}
		missing = missing[:0]
		for _, name := range want {
			if _, ok := seen[name]; !ok {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			observe := seen["process closing observe"]
			if !observe.Parent.IsRemote() {
				t.Errorf("the observing step's parent is not the write's context carried with its event")
			}
			attrs := map[string]string{}
			for _, kv := range seen["process closing send ledger.fund.commit"].Attributes {
				attrs[string(kv.Key)] = kv.Value.String()
			}
			if attrs[string(spans.Process)] != "closing" || attrs[string(spans.Service)] != "ledger" || attrs[string(spans.Operation)] != "fund.commit" || attrs[string(spans.Outcome)] != "ok" {
				t.Errorf("send span attributes %v", attrs)
			}
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling for spans, not timing anything
	}
	var names []string
	for _, s := range exp.GetSpans() {
		names = append(names, s.Name)
	}
	t.Fatalf("spans missing from the write's trace: %s; recorded: %s", strings.Join(missing, ", "), strings.Join(names, ", "))
}
