package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/fundbridge/fundbridge/internal/app"
)

// lockedBuffer is a log sink many goroutines write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the JSON log lines written so far.
func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		out = append(out, m)
	}
	return out
}

// One request's ID is in the gateway's log line about it, in the
// service's, and in the correlation metadata of the events it recorded.
func TestARequestIDFollowsTheRequest(t *testing.T) {
	logs := &lockedBuffer{}
	p := startWith(t, func(o *app.Options) {
		// The recorder still reads every line for secrets.
		o.Logger = slog.New(slog.NewMultiHandler(o.Logger.Handler(), slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	})
	const id = "req-7f3a:checkout.42"
	r := p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "Traced Capital", "role": "fund_manager",
		"user": map[string]string{"email": "t@traced.test", "password": "quiet harbour fund_manager", "name": "T"}}, "X-Request-ID", id)
	if r.status != 201 {
		t.Fatalf("create org: %d %s", r.status, r.raw)
	}
	if got := r.header.Get("X-Request-ID"); got != id {
		t.Errorf("X-Request-ID answered %q, want the caller's %q", got, id)
	}

	var gatewayLine, serviceLine bool
	for _, l := range logs.lines(t) {
		if l["request_id"] != id {
			continue
		}
		switch {
		case l["msg"] == "http request" && l["route"] == "/api/v1/orgs":
			gatewayLine = true
		case l["msg"] == "request" && l["service"] == "identity" && l["outcome"] == "ok":
			serviceLine = true
		}
	}
	if !gatewayLine || !serviceLine {
		t.Errorf("request %s: a gateway log line %v, a service log line %v; want both", id, gatewayLine, serviceLine)
	}

	evs, err := p.app.Store.ReadAll(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.CorrelationID == id {
			n++
			// Which command: its ID and, in words, its operation.
			if e.CausationID == "" || e.Command != "identity.create_org" {
				t.Errorf("event %s of request %s: caused by %q, command %q; want identity.create_org", e.Type, id, e.CausationID, e.Command)
			}
		}
	}
	if n == 0 {
		t.Errorf("no event of request %s carries it as its correlation ID", id)
	}
	// The audit trail shows it.
	org := r.body["org"].(map[string]any)["org_id"].(string)
	trail := p.do("GET", "/api/v1/streams/org-"+org+"/events", p.opToken, nil)
	if !bytes.Contains(trail.raw, []byte(`"command":"identity.create_org"`)) {
		t.Errorf("the org's audit trail does not name its command: %s", trail.raw)
	}

	// A header that could forge a log line is replaced, not passed on.
	r = p.do("GET", "/api/v1/me", p.opToken, nil, "X-Request-ID", "bad id level=ERROR msg=forged")
	if got := r.header.Get("X-Request-ID"); got == "" || got == "bad id level=ERROR msg=forged" {
		t.Errorf("an unsafe X-Request-ID came back as %q, want a new one", got)
	}
}
