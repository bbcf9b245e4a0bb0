package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge/internal/telemetry"
)

// startMetrics serves the process's Prometheus metrics on addr at
// /metrics, on a listener of its own (a service has no HTTP server
// otherwise), until the returned stop is called. Bind it where only the
// scraper reaches: the metrics name the process's internals.
func startMetrics(addr string, m *telemetry.Metrics, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("metrics listening", "url", "http://"+displayAddr(ln.Addr())+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// startTracing makes the process's tracer provider when an OTLP endpoint
// is configured (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT); nil
// otherwise, and then nothing is traced. stop flushes the spans batched.
func startTracing(ctx context.Context, log *slog.Logger) (trace.TracerProvider, func(), error) {
	tp, shutdown, err := telemetry.Tracing(ctx, "fundbridge")
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	if tp != nil {
		log.Info("exporting traces over OTLP")
	}
	return tp, func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			log.Warn("flush traces", "err", err)
		}
	}, nil
}
