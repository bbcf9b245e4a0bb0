package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/svc"
)

// idemFixture is the records bucket on a real embedded NATS server.
func idemFixture(t *testing.T) *Idempotency {
	t.Helper()
	ix, _ := idemFixtureConn(t)
	return ix
}

// idemFixtureConn is idemFixture with its connection.
func idemFixtureConn(t *testing.T) (*Idempotency, *nats.Conn) {
	t.Helper()
	env := testenv.Start(t, events.NewRegistry())
	ix, err := OpenIdempotency(context.Background(), env.Conn, 1)
	if err != nil {
		t.Fatal(err)
	}
	ix.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return ix, env.Conn
}

// recordsStream is the stream under the idempotency records' bucket.
func recordsStream(t *testing.T, nc *nats.Conn) jetstream.Stream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(context.Background(), "KV_"+IdempotencyBucket)
	if err != nil {
		t.Fatal(err)
	}
	return stream
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
	if _, err := ix.kv.Create(context.Background(), q.recordKey, claim); err != nil {
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
	if _, err := ix.kv.Put(context.Background(), q.recordKey, old); err != nil {
		t.Fatal(err)
	}
	if w := send(t, ix, `{}`, answer(http.StatusCreated, `{"id":"t1"}`, &runs)); w.Code != 201 || runs != 1 {
		t.Errorf("an abandoned claim = %d after %d runs, want it taken over", w.Code, runs)
	}
}

// The records bucket persists asynchronously on one server: a write is
// acknowledged before its fsync (the log, not the bucket, makes a retry
// safe after a crash). Opened again, it binds as it is.
func TestIdempotencyRecordsPersistAsynchronouslyOnOneServer(t *testing.T) {
	ix, nc := idemFixtureConn(t)
	if _, err := OpenIdempotency(context.Background(), nc, 1); err != nil {
		t.Fatalf("opened again: %v", err)
	}
	stream := recordsStream(t, nc)
	cfg := stream.CachedInfo().Config
	if cfg.PersistMode != jetstream.AsyncPersistMode || cfg.Storage != jetstream.FileStorage || cfg.MaxAge != IdempotencyTTL {
		t.Errorf("records stream = %s on %s for %s, want async on file for %s", cfg.PersistMode, cfg.Storage, cfg.MaxAge, IdempotencyTTL)
	}
	// Still a key-value bucket as nats.go makes them: a claim is atomic.
	if _, err := ix.kv.Create(context.Background(), "k", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.kv.Create(context.Background(), "k", []byte("b")); !errors.Is(err, jetstream.ErrKeyExists) {
		t.Errorf("a second create = %v, want ErrKeyExists", err)
	}
}

// A claim whose gateway is gone (not among the owners: it shut down, or
// the NATS server restarted with it, as a killed fundbridge dev does) is
// taken over at once; a claim of a gateway still running is waited for.
func TestIdempotencyTakesOverClaimsOfGatewaysGone(t *testing.T) {
	ix, nc := idemFixtureConn(t)
	other, err := OpenIdempotency(context.Background(), nc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.register(context.Background()); err != nil {
		t.Fatal(err)
	}
	q, _ := newIdemRequest(thingRoute, "user:u1", "K", []byte(`{}`))
	plant := func(owner string) {
		claim, _ := json.Marshal(idemRecord{Op: q.op, Route: q.route, Fingerprint: q.fingerprint, Owner: owner, ClaimedAt: time.Now().UTC()})
		if _, err := ix.kv.Put(context.Background(), q.recordKey, claim); err != nil {
			t.Fatal(err)
		}
	}
	ix.Wait = 50 * time.Millisecond
	runs := 0
	plant(other.owner)
	if w := send(t, ix, `{}`, answer(http.StatusCreated, `{}`, &runs)); w.Code != 409 || runs != 0 {
		t.Errorf("a running gateway's claim = %d after %d runs, want 409 and no run", w.Code, runs)
	}
	if err := other.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	ix.Wait = time.Minute // a claim waited for would fail the test's own deadline
	if w := send(t, ix, `{}`, answer(http.StatusCreated, `{"id":"t1"}`, &runs)); w.Code != 201 || runs != 1 || w.Body.String() != `{"id":"t1"}` {
		t.Errorf("a gone gateway's claim = %d %s after %d runs, want it taken over at once", w.Code, w.Body, runs)
	}
}

// A retry that arrives while the first request runs waits, and gets the
// first response once it is written over the claim (after the answer).
func TestIdempotencyRetryWhileTheResponseIsWritten(t *testing.T) {
	ix, nc := idemFixtureConn(t)
	stream := recordsStream(t, nc)
	runs := 0
	retry := make(chan *httptest.ResponseRecorder, 1)
	first := send(t, ix, `{"a":1}`, func(w http.ResponseWriter) {
		go func() {
			retry <- send(t, ix, `{"a":1}`, answer(http.StatusCreated, `{"id":"t2"}`, &runs))
		}()
		// The retry waits on a watch of the key: a consumer on the bucket.
		for {
			info, err := stream.Info(context.Background())
			if err != nil {
				t.Error(err)
				break
			}
			if info.State.Consumers > 0 || len(retry) > 0 {
				break
			}
			time.Sleep(5 * time.Millisecond) // polling for the condition, not timing it
		}
		answer(http.StatusCreated, `{"id":"t1"}`, &runs)(w)
	})
	again := <-retry
	if first.Code != 201 || runs != 1 || again.Code != 201 || again.Body.String() != `{"id":"t1"}` || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("first %d, retry meanwhile = %d %s %v after %d runs, want the first response replayed", first.Code, again.Code, again.Body, again.Header(), runs)
	}
}
