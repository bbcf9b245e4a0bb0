// Package telemetry holds what a Fundbridge process tells its operators
// about itself: Prometheus metrics on a registry of its own (no global
// registry, nothing registered at init), served on /metrics.
package telemetry

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric of the product.
const Namespace = "fundbridge"

// Metrics are one process's metrics. A nil *Metrics records nothing, so
// code can be handed one or not without checking.
type Metrics struct {
	reg          *prometheus.Registry
	commands     *prometheus.CounterVec
	handling     *prometheus.HistogramVec
	http         *prometheus.HistogramVec
	appendTook   prometheus.Histogram
	appendEvents prometheus.Histogram
	refusals     *prometheus.CounterVec
}

// latencyBuckets cover a cached read (under a millisecond) to a command
// waiting for a process to end (seconds).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New returns a process's metrics on a fresh registry, with the Go
// runtime's and the process's own collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{reg: reg}
	m.commands = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "requests_total",
		Help: "Requests a service answered, by service, operation and outcome (ok or the error code)."}, []string{"service", "op", "outcome"})
	m.handling = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "request_duration_seconds",
		Help: "Time a service took to answer a request, by service and operation.", Buckets: latencyBuckets}, []string{"service", "op"})
	m.http = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "http_request_duration_seconds",
		Help: "Time the gateway took to answer an HTTP request, by route, method and status code.", Buckets: latencyBuckets}, []string{"route", "method", "code"})
	m.appendTook = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "store_append_duration_seconds",
		Help: "Time an append to the event store took, acknowledged (durable) or refused.", Buckets: latencyBuckets})
	m.appendEvents = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "store_append_events",
		Help: "Events per append (one command's batch).", Buckets: []float64{1, 2, 3, 5, 10, 25, 100}})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "rate_limit_refusals_total",
		Help: "Requests the gateway refused with 429, by the limit that refused them."}, []string{"limit"})
	for _, c := range []prometheus.Collector{m.commands, m.handling, m.http, m.appendTook, m.appendEvents, m.refusals} {
		f(c)
	}
	return m
}

// Registry is where the process's metrics are registered.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Served records a request a service answered: outcome is "ok" or the
// error code of its refusal.
func (m *Metrics) Served(service, op, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.commands.WithLabelValues(service, op, outcome).Inc()
	m.handling.WithLabelValues(service, op).Observe(took.Seconds())
}

// HTTP records a request the gateway answered; route is the pattern
// (e.g. /api/v1/applications/{id}), never the path, to keep the series
// few.
func (m *Metrics) HTTP(route, method string, code int, took time.Duration) {
	if m == nil {
		return
	}
	m.http.WithLabelValues(route, method, strconv.Itoa(code)).Observe(took.Seconds())
}

// Appended records one append to the event store.
func (m *Metrics) Appended(events int, took time.Duration) {
	if m == nil {
		return
	}
	m.appendTook.Observe(took.Seconds())
	m.appendEvents.Observe(float64(events))
}

// Refused records a 429 by the named limit.
func (m *Metrics) Refused(limit string) {
	if m == nil {
		return
	}
	m.refusals.WithLabelValues(limit).Inc()
}

// WatchNATS counts the reconnects of a connection, read from its own
// statistics when scraped (nothing is done per message).
func (m *Metrics) WatchNATS(nc *nats.Conn, conn string) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: "nats_reconnects_total",
		Help: "Times a NATS connection of the process reconnected.", ConstLabels: prometheus.Labels{"conn": conn}},
		func() float64 { return float64(nc.Stats().Reconnects) }))
}

// Lag reports how many events a reader (a projection or a process
// manager) is behind the log's head, asked for when scraped: position and
// head are read then, so nothing is done per event. kind is "projection"
// or "process".
func (m *Metrics) Lag(kind, name string, head func(context.Context) (uint64, error), position func(context.Context) (uint64, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "lag_events",
		Help: "Events a projection or process manager is behind the head of the log.", ConstLabels: prometheus.Labels{"kind": kind, "name": name}},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			h, err := head(ctx)
			if err != nil {
				return -1
			}
			p, err := position(ctx)
			if err != nil {
				return -1
			}
			if p >= h {
				return 0
			}
			return float64(h - p)
		}))
}

// Pending reports a process's deadlines armed and not yet fired, asked for
// when scraped.
func (m *Metrics) Pending(process string, count func(context.Context) (uint64, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "process_deadlines_pending",
		Help: "Deadlines a process manager has armed that have not fired yet.", ConstLabels: prometheus.Labels{"process": process}},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := count(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
}

// ServiceObserver is svc.Service's Observe for the named service; nil
// when m is (nothing is recorded).
func (m *Metrics) ServiceObserver(service string) func(op, outcome string, took time.Duration) {
	if m == nil {
		return nil
	}
	return func(op, outcome string, took time.Duration) { m.Served(service, op, outcome, took) }
}

// StoreObserver is jetstream.Options' Observe; nil when m is.
func (m *Metrics) StoreObserver() func(events int, took time.Duration) {
	if m == nil {
		return nil
	}
	return m.Appended
}
