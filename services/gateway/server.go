package gateway

import (
	"net/http"
	"time"
)

// callTimeout bounds each service call the gateway makes for a request;
// a waiting read (?after=, at most projections.MaxWait) fits well within.
const callTimeout = 15 * time.Second

// ServerTimeouts bound how long one connection may hold the server, so
// that idle keep-alive and slow-body connections cannot pile up.
type ServerTimeouts struct {
	ReadHeader time.Duration // to read a request's headers
	Read       time.Duration // to read a whole request, body included
	Write      time.Duration // from the headers read to the response written
	Idle       time.Duration // a keep-alive connection waiting for its next request
}

// DefaultServerTimeouts fit the slowest answer the gateway gives: a
// service call bounded by callTimeout (a waiting read takes at most 5 s
// of it) after a body read within Read.
func DefaultServerTimeouts() ServerTimeouts {
	return ServerTimeouts{ReadHeader: 5 * time.Second, Read: 15 * time.Second, Write: callTimeout + 5*time.Second, Idle: 60 * time.Second}
}

func (t ServerTimeouts) withDefaults() ServerTimeouts {
	d := DefaultServerTimeouts()
	if t.ReadHeader == 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Read == 0 {
		t.Read = d.Read
	}
	if t.Write == 0 {
		t.Write = d.Write
	}
	if t.Idle == 0 {
		t.Idle = d.Idle
	}
	return t
}

// NewServer is the HTTP server every process of the product runs the
// gateway's handler in; zero timeouts take the defaults.
func NewServer(h http.Handler, t ServerTimeouts) *http.Server {
	t = t.withDefaults()
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle, MaxHeaderBytes: 64 << 10}
}

// securityHeaders are set on every response. The API serves JSON and CSV
// only, so its policy allows nothing at all; pages will need their own.
// Nothing is cached: the API's answers are per caller.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
