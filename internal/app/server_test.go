package app_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/services/gateway"
)

// closedByServer reports whether the server closes conn before the
// (generous) deadline: a read returns EOF or a reset, not a timeout.
func closedByServer(t *testing.T, conn net.Conn, rd *bufio.Reader) bool {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, err := rd.ReadByte(); err != nil {
			return !errors.Is(err, os.ErrDeadlineExceeded)
		}
	}
}

func TestIdleAndSlowConnectionsAreClosed(t *testing.T) {
	p := startWith(t, func(o *app.Options) {
		o.HTTPTimeouts = gateway.ServerTimeouts{Read: 500 * time.Millisecond, Idle: 300 * time.Millisecond}
	})
	addr := p.app.HTTPAddr.String()

	t.Run("idle keep-alive", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(conn)
		resp, err := http.ReadResponse(rd, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("healthz = %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
		}
		if !closedByServer(t, conn, rd) {
			t.Error("an idle keep-alive connection was still open after 10 s, with IdleTimeout 300 ms")
		}
	})

	t.Run("slow body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// Headers promise 100 bytes; one arrives, then nothing.
		if _, err := io.WriteString(conn, "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
		if !closedByServer(t, conn, bufio.NewReader(conn)) {
			t.Error("a slow body's connection was still open after 10 s, with ReadTimeout 500 ms")
		}
	})
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	p := start(t)
	for _, r := range []response{
		p.do("GET", "/healthz", "", nil),
		p.do("GET", "/api/v1/me", p.opToken, nil),
		p.do("GET", "/api/v1/me", "", nil),
		p.do("GET", "/api/v1/nowhere", p.opToken, nil),
		p.do("POST", "/api/v1/orgs", p.opToken, `{`),
		p.do("GET", "/api/v1/companies", p.opToken, nil, "Accept", "text/csv"),
	} {
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
			"Cache-Control":           "no-store",
		} {
			if got := r.header.Get(h); got != want {
				t.Errorf("%d %s: %s = %q, want %q", r.status, r.header.Get("Content-Type"), h, got, want)
			}
		}
	}
}

func TestReadinessDetailsAreForOperatorsOnly(t *testing.T) {
	p := start(t)
	founder, _ := p.signUp(9, "seed")
	for _, tc := range []struct {
		token   string
		details bool
	}{{"", false}, {"not.a.token", false}, {founder, false}, {p.opToken, true}} {
		r := p.do("GET", "/readyz", tc.token, nil)
		if r.status != 200 || r.body["status"] != "ready" {
			t.Fatalf("readyz = %d %s", r.status, r.raw)
		}
		if _, shown := r.body["nats"]; shown != tc.details || strings.Contains(string(r.raw), "nats://") != tc.details {
			t.Errorf("readyz with token %.10q shows NATS details %v, want %v: %s", tc.token, shown, tc.details, r.raw)
		}
	}
}
