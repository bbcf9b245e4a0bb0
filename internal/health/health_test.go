package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fundbridge/fundbridge/internal/health"
)

func get(t *testing.T, url string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestReadyzWaitsForPositionsAndStartUpWork(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := health.New()
	var pos atomic.Uint64
	r.CaughtUp("funds", 100, pos.Load)
	done := r.Pending("the operator account")
	var connected atomic.Bool
	connected.Store(true)
	r.Live("NATS", func() error {
		if !connected.Load() {
			return errors.New("not connected to NATS")
		}
		return nil
	})
	addr, err := health.Serve(ctx, "127.0.0.1:0", health.Handler(r, "test"), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	if code, body := get(t, base+"/healthz"); code != 200 || body["status"] != "ok" {
		t.Fatalf("healthz = %d %v", code, body)
	}
	steps := []struct {
		do   func()
		want int
		says string
	}{
		{func() {}, 503, "the operator account"},
		{done, 503, "at position 0 of 100"},
		{func() { pos.Store(99) }, 503, "at position 99 of 100"},
		{func() { pos.Store(100) }, 200, ""},
		{func() { connected.Store(false) }, 503, "not connected"},
		{func() { connected.Store(true) }, 200, ""},
	}
	for i, s := range steps {
		s.do()
		code, body := get(t, base+"/readyz")
		if code != s.want || !strings.Contains(body["reason"], s.says) {
			t.Errorf("step %d: readyz = %d %v, want %d saying %q", i, code, body, s.want, s.says)
		}
	}
}
