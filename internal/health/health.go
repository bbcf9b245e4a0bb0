// Package health says whether a process is alive (/healthz) and whether it
// can serve correctly (/readyz): its views have caught up with the event
// log's head as it was when the process started, and its start-up work is
// done. A load balancer or Kubernetes sends traffic only to ready
// processes, so a restarted instance does not answer with stale views or
// before the operator account exists.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Readiness gathers what a process waits for before it is ready. The zero
// value is not usable; call New.
type Readiness struct {
	mu      sync.Mutex
	pending map[string]int // start-up work not finished, by what it is
	checks  []check
	ready   bool // latched: every check passed once (positions only grow)
}

type check struct {
	name string
	fn   func() error
	live bool // checked on every probe, even after the process was ready
}

// New returns readiness with nothing to wait for.
func New() *Readiness { return &Readiness{pending: map[string]int{}} }

// Pending registers start-up work; the process is not ready until done is
// called. done may be called more than once.
func (r *Readiness) Pending(what string) (done func()) {
	r.mu.Lock()
	r.pending[what]++
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.pending[what]--; r.pending[what] <= 0 {
				delete(r.pending, what)
			}
		})
	}
}

// CaughtUp makes the process wait until position (of the views of name)
// reaches head, the log's head when the process started.
func (r *Readiness) CaughtUp(name string, head uint64, position func() uint64) {
	r.add(check{name: name, fn: func() error {
		if p := position(); p < head {
			return fmt.Errorf("%s is catching up: at position %d of %d (the log's head at start)", name, p, head)
		}
		return nil
	}})
}

// Live adds a check asked on every probe, also once the process has been
// ready (the NATS connection, for example).
func (r *Readiness) Live(name string, fn func() error) {
	r.add(check{name: name, fn: fn, live: true})
}

func (r *Readiness) add(c check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, c)
}

// ErrNotReady wraps every reason Ready gives.
var ErrNotReady = errors.New("not ready")

// Ready returns nil when the process can serve, or why not.
func (r *Readiness) Ready() error {
	r.mu.Lock()
	pending := make([]string, 0, len(r.pending))
	for what := range r.pending {
		pending = append(pending, what)
	}
	checks, latched := r.checks, r.ready
	r.mu.Unlock()
	if len(pending) > 0 {
		sort.Strings(pending)
		return fmt.Errorf("%w: start-up work not done: %v", ErrNotReady, pending)
	}
	for _, c := range checks {
		if latched && !c.live {
			continue
		}
		if err := c.fn(); err != nil {
			return fmt.Errorf("%w: %w", ErrNotReady, err)
		}
	}
	if !latched {
		r.mu.Lock()
		r.ready = true
		r.mu.Unlock()
	}
	return nil
}

// Handler serves /healthz (alive) and /readyz (200 when ready, 503 with
// the reason otherwise). It is a ServeMux so a process can add more
// (metrics) on the same listener.
func Handler(r *Readiness, version string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := r.Ready(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Serve listens on addr and serves h until ctx ends; the listener is open
// when Serve returns, so a bad address fails the process at start.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health listener on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health listener stopped", "addr", addr, "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}
