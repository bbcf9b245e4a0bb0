package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
)

// Idempotency keys work as Stripe's API and the IETF Idempotency-Key
// draft have clients expect: a key belongs to its caller, names one
// request (operation and body), and every retry gets the first response
// byte for byte.
//
// One JetStream key-value bucket holds them, shared by every gateway
// instance: a request claims its key by creating the key's entry (atomic:
// one request of many runs), and after the answer settles it by writing
// the response over the claim. That is two writes per HTTP write, none
// waited for by an fsync on one server: the bucket persists
// asynchronously, since what must survive a crash is in the log, written
// before the answer: the command's effect, once (the service appends
// under a key derived from caller, operation and key, and a retry of a
// stored command appends nothing). What a crash of the NATS server can
// lose is the last moment's claims and responses: a retry is then
// answered by the service from the log (the same resource, its state
// now) instead of with the first response's bytes. See
// docs/benchmarks.md, "Acknowledged means durable".
//
// A claim names the gateway instance that made it. A second, memory
// bucket lists the instances running, so that the claims of one that
// died (with the NATS server, as in fundbridge dev, or after its lease)
// are taken over by the next retry rather than waited for.
const (
	IdempotencyBucket = "FUNDBRIDGE_IDEMPOTENCY"
	// IdempotencyOwnersBucket lists the gateway instances whose claims
	// hold, in memory.
	IdempotencyOwnersBucket = "FUNDBRIDGE_IDEMPOTENCY_OWNERS"
	// IdempotencyTTL is how long a first response is kept for retries.
	IdempotencyTTL = 24 * time.Hour
	// ProblemKeyReused is the problem type of a key sent again with another
	// body or on another operation.
	ProblemKeyReused = "https://fundbridge.dev/problems/idempotency-key-reused"
	// ProblemKeyInUse is the problem type of a retry that arrives while the
	// first request with its key is still running, for longer than a retry waits.
	ProblemKeyInUse = "https://fundbridge.dev/problems/idempotency-key-in-use"
)

// Idempotency keeps each key's first response.
type Idempotency struct {
	kv     jetstream.KeyValue // claims and responses
	owners jetstream.KeyValue // the gateway instances running, in memory
	// Wait bounds how long a concurrent request with a claimed key waits
	// for the first one to finish before answering 409.
	Wait time.Duration
	// Lease is how long a claim holds without a response: a claim older
	// than this was left by a gateway that died or hangs, and the next
	// retry takes it over. Longer than any call may take.
	Lease time.Duration
	log   *slog.Logger
	// owner names this instance in its claims; listed in owners once
	// registered (on its first claim, until Drain).
	owner      string
	registerMu sync.Mutex
	registered atomic.Bool
	// writes are the responses being written after their answers.
	writes sync.WaitGroup
}

// OpenIdempotency creates the buckets of idempotency records where they
// are missing: claims and responses on file storage, persisted
// asynchronously on one server (R1) and replicated in a cluster, and the
// owners of claims in memory.
func OpenIdempotency(ctx context.Context, nc *nats.Conn, replicas int) (*Idempotency, error) {
	if replicas == 0 {
		replicas = 1
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("idempotency records: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// A retry waits as long as the first request's call may take, and
	// still answers within the server's write timeout.
	ix := &Idempotency{Wait: callTimeout, Lease: callTimeout + 5*time.Second, log: slog.Default(), owner: nuid.Next()}
	if ix.kv, err = openRecords(ctx, js, replicas); err != nil {
		return nil, err
	}
	if ix.owners, err = openBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      IdempotencyOwnersBucket,
		Description: "The gateway instances whose Idempotency-Key claims hold",
		Storage:     jetstream.MemoryStorage,
		Replicas:    replicas,
		History:     1,
	}); err != nil {
		return nil, err
	}
	return ix, nil
}

// openRecords binds to the records bucket, or creates it. On one server
// its stream persists asynchronously (nats-server's persist_mode: async,
// which KeyValueConfig cannot set, so the stream is made as nats.go makes
// a bucket's): a write is acknowledged before it reaches the disk, which
// the records can afford (see Idempotency) and the log cannot. A cluster
// replicates it instead (async persistence is for R1 streams only). A
// bucket made before keeps its mode: the server cannot change it.
func openRecords(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	cfg := jetstream.KeyValueConfig{
		Bucket:       IdempotencyBucket,
		Description:  "Idempotency-Keys being run, and the first response to each, per caller, for 24 hours",
		TTL:          IdempotencyTTL,
		Storage:      jetstream.FileStorage,
		Replicas:     replicas,
		History:      1,
		MaxValueSize: 2 * MaxBodyBytes,
	}
	if replicas > 1 {
		return openBucket(ctx, js, cfg)
	}
	if kv, err := js.KeyValue(ctx, cfg.Bucket); err == nil {
		return kv, nil
	}
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:              "KV_" + cfg.Bucket,
		Description:       cfg.Description,
		Subjects:          []string{"$KV." + cfg.Bucket + ".>"},
		MaxMsgsPerSubject: int64(cfg.History),
		MaxBytes:          -1,
		MaxAge:            cfg.TTL,
		MaxMsgSize:        cfg.MaxValueSize,
		Storage:           cfg.Storage,
		Replicas:          1,
		AllowRollup:       true,
		DenyDelete:        true,
		Duplicates:        2 * time.Minute,
		MaxMsgs:           -1,
		MaxConsumers:      -1,
		AllowDirect:       true,
		Discard:           jetstream.DiscardNew,
		PersistMode:       jetstream.AsyncPersistMode,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return nil, fmt.Errorf("idempotency records: create bucket %s: %w", cfg.Bucket, err)
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("idempotency records: open bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// openBucket binds to the bucket the admin created, or creates it where
// this connection may (a server without per-user permissions).
func openBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if kv, err := js.KeyValue(ctx, cfg.Bucket); err == nil {
		return kv, nil
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("idempotency records: open bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// register lists this instance among the owners of claims, once, before
// its first claim: a claim whose owner is not listed is taken over.
func (ix *Idempotency) register(ctx context.Context) error {
	if ix.registered.Load() {
		return nil
	}
	ix.registerMu.Lock()
	defer ix.registerMu.Unlock()
	if ix.registered.Load() {
		return nil
	}
	if _, err := ix.owners.Put(ctx, ix.owner, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return err
	}
	ix.registered.Store(true)
	return nil
}

// ownerGone reports whether the instance that made a claim is no longer
// running: not listed (it shut down, or the NATS server holding the list
// restarted, as when fundbridge dev is killed and started again). A claim
// made before owners were named (no owner) is left to its lease.
func (ix *Idempotency) ownerGone(ctx context.Context, owner string) bool {
	if owner == "" || owner == ix.owner {
		return false
	}
	_, err := ix.owners.Get(ctx, owner)
	return errors.Is(err, jetstream.ErrKeyNotFound)
}

// Drain waits until the responses already given are written, or ctx
// ends, then removes this instance from the owners of claims: call it
// after the HTTP server has shut down.
func (ix *Idempotency) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() { ix.writes.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("idempotency records still being written: %w", ctx.Err())
	}
	ix.registerMu.Lock()
	defer ix.registerMu.Unlock()
	if ix.registered.Load() {
		if err := ix.owners.Delete(ctx, ix.owner); err != nil {
			return fmt.Errorf("idempotency records: leaving the owners: %w", err)
		}
		ix.registered.Store(false)
	}
	return nil
}

// idemRecord is one key's record: claimed (Done false) while the first
// request runs, then its response.
type idemRecord struct {
	Op          string            `json:"op"`    // service.op
	Route       string            `json:"route"` // method and path pattern, for the refusal
	Fingerprint string            `json:"fingerprint"`
	Owner       string            `json:"owner,omitempty"` // the gateway instance running it, while claimed
	ClaimedAt   time.Time         `json:"claimed_at"`
	Done        bool              `json:"done"`
	Status      int               `json:"status,omitempty"`
	Header      map[string]string `json:"header,omitempty"`
	Body        []byte            `json:"body,omitempty"`
}

// replayedHeaders are the response headers a retry gets back.
var replayedHeaders = []string{"Content-Type", "ETag", "Location", "Fundbridge-Position"}

// idemRequest is what identifies one request for its key.
type idemRequest struct {
	recordKey   string // in the bucket: a hash, so any key text is safe
	derivedKey  string // passed to the service: scoped to caller and operation
	op, route   string
	fingerprint string
	personal    bool // its response names the person it made (erasure.go)
}

// newIdemRequest scopes key to the caller and describes the request:
// method, route pattern, and the payload (body with path parameters) in
// canonical form (RFC 8785), so a retry that only reorders members or
// spaces them differently is the same request.
func newIdemRequest(rt Route, scope, key string, payload []byte) (idemRequest, error) {
	canonical := jsontext.Value(bytes.Clone(payload))
	if err := canonical.Canonicalize(); err != nil {
		return idemRequest{}, fundbridge.Invalid("malformed request body", fundbridge.FieldError{Field: "body", Reason: "must be a JSON object"})
	}
	op := rt.Endpoint.Service + "." + rt.Endpoint.Op
	route := rt.Method + " " + rt.Path
	return idemRequest{
		recordKey:   hash("record", scope, key),
		derivedKey:  hash("key", scope, op, key)[:32],
		op:          op,
		route:       route,
		fingerprint: hash("request", route, string(canonical)),
		personal:    personalOps[op],
	}, nil
}

func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p) // length-prefixed: no two lists collide
	}
	return hex.EncodeToString(h.Sum(nil))
}

// idempotencyScope is who a key belongs to: the signed-in user, or for a
// public command (sign-up) the email it signs up, as the body gives it.
func idempotencyScope(rt Route, userID string, payload []byte) string {
	if !rt.Public {
		return "user:" + userID
	}
	var body struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(payload, &body)
	if email, ok := identityapi.NormaliseEmail(body.Email); ok {
		return "email:" + email
	}
	return "anonymous" // refused by validation, which stores nothing
}

// serve runs the request once per key: the first claims the key, runs
// and keeps its response; a retry gets that response; a concurrent one
// waits for it; a key reused for another request is refused.
func (ix *Idempotency) serve(w http.ResponseWriter, r *http.Request, q idemRequest, run func(http.ResponseWriter)) {
	ctx := r.Context()
	if err := ix.register(ctx); err != nil {
		ix.unavailable(w, r, err)
		return
	}
	deadline := time.Now().Add(ix.Wait)
	for {
		claim, _ := json.Marshal(idemRecord{Op: q.op, Route: q.route, Fingerprint: q.fingerprint, Owner: ix.owner, ClaimedAt: time.Now().UTC()})
		rev, err := ix.kv.Create(ctx, q.recordKey, claim)
		if err == nil {
			ix.runClaimed(w, r, q, rev, run)
			return
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			ix.unavailable(w, r, err)
			return
		}
		entry, err := ix.kv.Get(ctx, q.recordKey)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // released or expired since: claim it again
		}
		if err != nil {
			ix.unavailable(w, r, err)
			return
		}
		var rec idemRecord
		if err := json.Unmarshal(entry.Value(), &rec); err != nil {
			WriteProblem(w, r, fmt.Errorf("idempotency record %s: %w", q.recordKey, err))
			return
		}
		if refused := rec.refuses(q, r.Header.Get("Idempotency-Key")); refused != nil {
			writeTypedProblem(w, r, ProblemKeyReused, refused)
			return
		}
		if rec.Done {
			rec.replay(w)
			return
		}
		if time.Since(rec.ClaimedAt) > ix.Lease || ix.ownerGone(ctx, rec.Owner) {
			// The gateway that claimed the key died before it answered; its
			// command, if it ran, is deduplicated by the derived key.
			if rev, err := ix.kv.Update(ctx, q.recordKey, claim, entry.Revision()); err == nil {
				ix.runClaimed(w, r, q, rev, run)
				return
			}
			continue
		}
		if !time.Now().Before(deadline) {
			w.Header().Set("Retry-After", "1")
			writeTypedProblem(w, r, ProblemKeyInUse, &fundbridge.Error{Code: fundbridge.ECONFLICT,
				Message: "a request with this Idempotency-Key is still in progress; retry in a moment to get its response"})
			return
		}
		if err := ix.awaitChange(ctx, q.recordKey, entry.Revision(), deadline); err != nil {
			ix.unavailable(w, r, err)
			return
		}
	}
}

// runClaimed runs the request whose claim is at rev and keeps its
// response, or releases the claim when the response says nothing was
// decided (refused input, a failure), so a retry can proceed.
func (ix *Idempotency) runClaimed(w http.ResponseWriter, r *http.Request, q idemRequest, rev uint64, run func(http.ResponseWriter)) {
	rec := &capture{header: http.Header{}}
	run(rec)
	if !decided(rec.status) {
		// The client may have gone; the claim must still be released.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		ix.release(ctx, q, rev)
		cancel()
		rec.writeTo(w)
		return
	}
	done := idemRecord{Op: q.op, Route: q.route, Fingerprint: q.fingerprint, ClaimedAt: time.Now().UTC(), Done: true,
		Status: rec.status, Header: map[string]string{}, Body: rec.body.Bytes()}
	for _, h := range replayedHeaders {
		if v := rec.header.Get(h); v != "" {
			done.Header[h] = v
		}
	}
	data, _ := json.Marshal(done)
	// The answer goes out first: the command's effect is in the log, and
	// until the claim becomes the response, a retry waits for it.
	rec.writeTo(w)
	ix.keep(q, rev, data, done.Body)
}

// keep settles the claim at rev with the response, after the answer
// (Drain waits for it at shutdown).
func (ix *Idempotency) keep(q idemRequest, rev uint64, data, body []byte) {
	ix.writes.Add(1)
	go func() {
		defer ix.writes.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := ix.kv.Update(ctx, q.recordKey, data, rev); err != nil {
			// A retry finds the claim, takes it over after the lease and
			// gets the service's dedupe.
			ix.log.Warn("idempotency response not kept", "op", q.op, "err", err)
			return
		}
		ix.indexPerson(ctx, q, body)
	}()
}

// release frees a claim: nothing was decided.
func (ix *Idempotency) release(ctx context.Context, q idemRequest, rev uint64) {
	if err := ix.kv.Delete(ctx, q.recordKey, jetstream.LastRevision(rev)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		// The claim holds until its lease ends; then a retry takes it over.
		ix.log.Warn("idempotency claim not released", "op", q.op, "err", err)
	}
}

// decided reports whether a response is the outcome of the command, kept
// for retries: success, or the service's refusal on the resource's state
// (404, 409, 422). Refused input, authentication and failures (5xx) are
// not: nothing was decided, so the key stays free.
func decided(status int) bool {
	switch {
	case status >= 200 && status < 300:
		return true
	case status == http.StatusNotFound, status == http.StatusConflict, status == http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// refuses says why the record's key may not serve request q, if it may not.
func (rec idemRecord) refuses(q idemRequest, key string) error {
	field := []fundbridge.FieldError{{Field: "Idempotency-Key", Reason: "already used for another request"}}
	switch {
	case rec.Op != q.op:
		return &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Fields: field, Message: fmt.Sprintf(
			"Idempotency-Key %q was already used for %s; a key names one request: use a new key for %s", key, rec.Route, q.route)}
	case rec.Fingerprint != q.fingerprint:
		return &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Fields: field, Message: fmt.Sprintf(
			"Idempotency-Key %q was already used with a different request body; retry with the first body to get its response, or use a new key", key)}
	}
	return nil
}

// replay writes the stored response as it was first written.
func (rec idemRecord) replay(w http.ResponseWriter) {
	for k, v := range rec.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// awaitChange returns when the record moves past revision rev (completed
// or released) or at the deadline, whichever is first.
func (ix *Idempotency) awaitChange(ctx context.Context, key string, rev uint64, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	watch, err := ix.kv.Watch(ctx, key, jetstream.IncludeHistory())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer func() { _ = watch.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-watch.Updates():
			if !ok {
				return nil
			}
			if e != nil && e.Revision() > rev {
				return nil
			}
		}
	}
}

// unavailable answers 503: the key's record cannot be read or written,
// so the request is not run (it could not be answered once).
func (ix *Idempotency) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	ix.log.Warn("idempotency records unavailable", "err", err)
	WriteProblem(w, r, fundbridge.Errorf(fundbridge.EUNAVAILABLE, "idempotency records are unavailable for a moment; retry with the same key"))
}

// writeTypedProblem writes err as a problem of its own type.
func writeTypedProblem(w http.ResponseWriter, r *http.Request, typ string, err error) {
	rec := &capture{header: http.Header{}}
	WriteProblem(rec, r, err)
	var p map[string]json.RawMessage
	if json.Unmarshal(rec.body.Bytes(), &p) == nil {
		p["type"], _ = json.Marshal(typ)
		if body, err := json.Marshal(p); err == nil {
			rec.body.Reset()
			rec.body.Write(body)
			rec.body.WriteByte('\n')
		}
	}
	rec.writeTo(w)
}

// capture holds a response until it is settled.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.header }
func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}
func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

func (c *capture) writeTo(w http.ResponseWriter) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	if c.status == 0 {
		c.status = http.StatusOK
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body.Bytes())
}

// idempotencyKeyParam describes the header in the OpenAPI document.
func idempotencyKeyParam() map[string]any {
	return map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
		"schema": map[string]any{"type": "string", "minLength": 1, "maxLength": 200},
		"description": "Makes a command safe to retry (Stripe's semantics, IETF draft-ietf-httpapi-idempotency-key-header). " +
			"The key belongs to the caller (the signed-in user; for sign-up, the email) and names one request: operation, path and body. " +
			"Every retry within 24 hours gets the first response unchanged (status, body, ETag, Location, Fundbridge-Position) " +
			"with `Idempotent-Replayed: true`, and the command takes effect once. The same key with another body or on another operation " +
			"is a 422 of type " + ProblemKeyReused + ". A retry while the first request still runs waits for its response " +
			"(at most 15 s, else 409 of type " + ProblemKeyInUse + "). Responses to refused input (400), authentication (401, 403) " +
			"and failures (5xx) are not kept: the key stays free for a corrected retry."}
}
