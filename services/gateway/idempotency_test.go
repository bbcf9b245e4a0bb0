package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/svc"
)

// idemFixture is the records bucket on a real embedded NATS server.
func idemFixture(t *testing.T) *Idempotency {
	t.Helper()
	env := testenv.Start(t, events.NewRegistry())
	nc := env.Conn
	ix, err := OpenIdempotency(context.Background(), nc, 1)
	if err != nil {
		t.Fatal(err)
	}
	ix.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return ix
}

var thingRoute = Route{Route: svc.Route{Method: http.MethodPost, Path: "/things"}, Endpoint: svc.EndpointInfo{Service: "things", Op: "thing.create"}}

// send serves one request with key through ix; run answers it.
func send(t *testing.T, ix *Idempotency, body string, run func(w http.ResponseWriter)) *httptest.ResponseRecorder {
	t.Helper()
	q, err := newIdemRequest(thingRoute, "user:u1", "K", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/things", nil)
	r.Header.Set("Idempotency-Key", "K")
	w := httptest.NewRecorder()
	ix.serve(w, r, q, run)
	return w
}

func answer(status int, body string, runs *int) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		*runs++
		w.Header().Set("ETag", `"1"`)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// A failure releases the claim; a success is kept and replayed; another
// body is refused.
func TestIdempotencyReleasesFailuresAndKeepsOutcomes(t *testing.T) {
	ix := idemFixture(t)
	runs := 0
	if w := send(t, ix, `{"a":1}`, answer(http.StatusServiceUnavailable, `{"down":true}`, &runs)); w.Code != 503 {
		t.Fatalf("first = %d", w.Code)
	}
	if w := send(t, ix, `{"a":1}`, answer(http.StatusBadRequest, `{"bad":true}`, &runs)); w.Code != 400 {
		t.Fatalf("second = %d", w.Code)
	}
	first := send(t, ix, `{"a":1}`, answer(http.StatusCreated, `{"id":"t1"}`, &runs))
	if first.Code != 201 || runs != 3 {
		t.Fatalf("after a 503 and a 400 the key was not free: %d, %d runs", first.Code, runs)
	}
	again := send(t, ix, `{ "a" : 1 }`, answer(http.StatusCreated, `{"id":"t2"}`, &runs))
	if runs != 3 || again.Code != 201 || again.Body.String() != `{"id":"t1"}` || again.Header().Get("ETag") != `"1"` || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry = %d %s %v after %d runs, want the first response replayed", again.Code, again.Body, again.Header(), runs)
	}
	other := send(t, ix, `{"a":2}`, answer(http.StatusCreated, `{"id":"t3"}`, &runs))
	var p Problem
	_ = json.Unmarshal(other.Body.Bytes(), &p)
	if other.Code != 422 || p.Type != ProblemKeyReused || runs != 3 {
		t.Errorf("another body = %d %s, want 422 %s", other.Code, other.Body, ProblemKeyReused)
	}
}

// A claim held past the wait is a 409; one held past its lease was left
// by a dead gateway and is taken over.
func TestIdempotencyClaimsInProgressAndAbandoned(t *testing.T) {
	ix := idemFixture(t)
	q, _ := newIdemRequest(thingRoute, "user:u1", "K", []byte(`{}`))
	claim, _ := json.Marshal(idemRecord{Op: q.op, Route: q.route, Fingerprint: q.fingerprint, ClaimedAt: time.Now().UTC()})
	if _, err := ix.claims.Create(context.Background(), q.recordKey, claim); err != nil {
		t.Fatal(err)
	}
	ix.Wait = 50 * time.Millisecond
	runs := 0
	w := send(t, ix, `{}`, answer(http.StatusCreated, `{}`, &runs))
	var p Problem
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	if w.Code != 409 || p.Type != ProblemKeyInUse || w.Header().Get("Retry-After") == "" || runs != 0 {
		t.Errorf("while the first runs = %d %s, want 409 %s", w.Code, w.Body, ProblemKeyInUse)
	}
	old, _ := json.Marshal(idemRecord{Op: q.op, Route: q.route, Fingerprint: q.fingerprint, ClaimedAt: time.Now().Add(-2 * ix.Lease).UTC()})
	if _, err := ix.claims.Put(context.Background(), q.recordKey, old); err != nil {
		t.Fatal(err)
	}
	if w := send(t, ix, `{}`, answer(http.StatusCreated, `{"id":"t1"}`, &runs)); w.Code != 201 || runs != 1 {
		t.Errorf("an abandoned claim = %d after %d runs, want it taken over", w.Code, runs)
	}
}

// A response outlives its claim: once the claim has left memory (its TTL,
// or a restart of the server), a retry is answered from the record kept
// on disk, and another body is still refused.
func TestIdempotencyKeepsResponsesOnDiskAfterClaimsLeave(t *testing.T) {
	ix := idemFixture(t)
	runs := 0
	first := send(t, ix, `{"a":1}`, answer(http.StatusCreated, `{"id":"t1"}`, &runs))
	if first.Code != 201 || runs != 1 {
		t.Fatalf("first = %d after %d runs", first.Code, runs)
	}
	if err := ix.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	q, _ := newIdemRequest(thingRoute, "user:u1", "K", []byte(`{"a":1}`))
	if err := ix.claims.Purge(context.Background(), q.recordKey); err != nil {
		t.Fatal(err)
	}
	again := send(t, ix, `{"a":1}`, answer(http.StatusCreated, `{"id":"t2"}`, &runs))
	if runs != 1 || again.Code != 201 || again.Body.String() != `{"id":"t1"}` || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry after the claim left = %d %s after %d runs, want the first response from disk", again.Code, again.Body, runs)
	}
	if err := ix.claims.Purge(context.Background(), q.recordKey); err != nil {
		t.Fatal(err)
	}
	other := send(t, ix, `{"a":2}`, answer(http.StatusCreated, `{"id":"t3"}`, &runs))
	var p Problem
	_ = json.Unmarshal(other.Body.Bytes(), &p)
	if other.Code != 422 || p.Type != ProblemKeyReused || runs != 1 {
		t.Errorf("another body after the claim left = %d %s, want 422 %s", other.Code, other.Body, ProblemKeyReused)
	}
}
