package svc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

// Decider is an aggregate: its initial state and how each event changes it.
// Evolve must be pure: it receives the recorded event and its decoded
// payload (a value of the registered Go type) and returns the new state.
type Decider[S any] struct {
	// Type is the aggregate type; its streams are "<Type>-<id>".
	Type    string
	Initial func() S
	Evolve  func(state S, e events.Event, payload any) S
	// SnapshotSchema names the shape of S for snapshots; change it when S
	// changes shape. Empty disables snapshots for this aggregate.
	SnapshotSchema string
}

// SnapshotStore keeps the latest snapshot of each stream.
type SnapshotStore interface {
	LoadSnapshot(ctx context.Context, streamID string) (events.Snapshot, bool, error)
	SaveSnapshot(ctx context.Context, snap events.Snapshot) error
}

// Aggregate is a loaded aggregate: its state and where its stream stands.
type Aggregate[S any] struct {
	ID       string
	State    S
	Version  uint64 // 0: the aggregate does not exist yet
	Position uint64 // of its last commit
	// commands maps the idempotency keys of commands already applied to
	// their results, so a retry returns the first result and appends nothing.
	commands map[string]events.AppendResult
}

// Command carries what the repository needs besides the decision itself.
type Command struct {
	Meta events.Meta
	// Expected, when set, must equal the aggregate's version (HTTP
	// If-Match); a mismatch is returned as a conflict, not retried.
	Expected *uint64
}

// RepositoryOptions tune a repository.
type RepositoryOptions struct {
	Snapshots     SnapshotStore // optional
	SnapshotEvery uint64        // events between snapshots; default 100
	CacheSize     int           // aggregates kept in memory; default 10,000
	Retries       int           // attempts on a version conflict; default 10
	Logger        *slog.Logger
}

// Repository loads aggregates by folding their streams (from a snapshot
// when there is one), decides commands and appends the result with the
// expected version, retrying from fresh state on a conflict.
type Repository[S any] struct {
	store    events.Store
	registry *events.Registry
	decider  Decider[S]
	opts     RepositoryOptions
	locks    keyLocks

	mu    sync.Mutex
	cache map[string]*Aggregate[S]
}

// NewRepository returns a repository of one aggregate type.
func NewRepository[S any](store events.Store, registry *events.Registry, d Decider[S], opts RepositoryOptions) *Repository[S] {
	if opts.SnapshotEvery == 0 {
		opts.SnapshotEvery = 100
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = 10_000
	}
	if opts.Retries == 0 {
		opts.Retries = 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Repository[S]{store: store, registry: registry, decider: d, opts: opts, cache: map[string]*Aggregate[S]{}}
}

// StreamID is the event stream of the aggregate with this id.
func (r *Repository[S]) StreamID(id string) string { return r.decider.Type + "-" + id }

// lock serialises commands on one aggregate within this process, so they
// do not conflict with each other and the cached state is never shared
// between two deciders.
func (r *Repository[S]) lock(id string) func() { return r.locks.lock(id) }

// Load returns the aggregate's current state, folded from the store.
func (r *Repository[S]) Load(ctx context.Context, id string) (Aggregate[S], error) {
	a, err := r.load(ctx, id, true)
	if err != nil {
		return Aggregate[S]{}, err
	}
	return *a, nil
}

// load folds the aggregate; cached allows an in-memory copy.
func (r *Repository[S]) load(ctx context.Context, id string, cached bool) (*Aggregate[S], error) {
	a, _, err := r.loadTracked(ctx, id, cached)
	return a, err
}

// loadTracked is load that also says whether the aggregate came from the cache.
func (r *Repository[S]) loadTracked(ctx context.Context, id string, cached bool) (*Aggregate[S], bool, error) {
	streamID := r.StreamID(id)
	if cached {
		r.mu.Lock()
		a, ok := r.cache[streamID]
		r.mu.Unlock()
		if ok {
			return a, true, nil
		}
	}
	a := &Aggregate[S]{ID: id, State: r.decider.Initial(), commands: map[string]events.AppendResult{}}
	from := uint64(1)
	var after uint64
	if r.opts.Snapshots != nil && r.decider.SnapshotSchema != "" {
		if snap, ok, err := r.opts.Snapshots.LoadSnapshot(ctx, streamID); err != nil {
			r.opts.Logger.Warn("snapshot unreadable; folding from the start", "stream", streamID, "err", err)
		} else if ok && snap.Schema == r.decider.SnapshotSchema {
			var body snapshotBody[S]
			if err := json.Unmarshal(snap.State, &body); err != nil {
				r.opts.Logger.Warn("snapshot undecodable; folding from the start", "stream", streamID, "err", err)
			} else {
				a.State, a.Version, a.Position = body.State, snap.Version, snap.Position
				if body.Commands != nil {
					a.commands = body.Commands
				}
				from, after = snap.Version+1, snap.Position
			}
		}
	}
	tail, err := r.readTail(ctx, streamID, from, after)
	if err != nil {
		return nil, false, fmt.Errorf("load %s: %w", streamID, err)
	}
	for _, e := range tail {
		if err := r.apply(a, e); err != nil {
			return nil, false, err
		}
	}
	// An aggregate that does not exist yet is not cached: another instance
	// may create it any moment, and "no such thing" must not outlive that.
	if a.Version > 0 {
		r.remember(streamID, a)
	}
	return a, false, nil
}

// refresh folds what was appended after a cached aggregate: usually
// nothing, one round trip. The cached copy is never changed.
func (r *Repository[S]) refresh(ctx context.Context, a *Aggregate[S]) (*Aggregate[S], error) {
	streamID := r.StreamID(a.ID)
	tail, err := r.readTail(ctx, streamID, a.Version+1, a.Position)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", streamID, err)
	}
	if len(tail) == 0 {
		return a, nil
	}
	fresh := &Aggregate[S]{ID: a.ID, State: a.State, Version: a.Version, Position: a.Position, commands: maps.Clone(a.commands)}
	for _, e := range tail {
		if err := r.apply(fresh, e); err != nil {
			return nil, err
		}
	}
	r.remember(streamID, fresh)
	return fresh, nil
}

// readTail reads the stream from version from, starting after position
// after when the store can (a snapshot's or a cached aggregate's).
func (r *Repository[S]) readTail(ctx context.Context, streamID string, from, after uint64) ([]events.Event, error) {
	if pr, ok := r.store.(events.PositionedReader); ok {
		return pr.ReadStreamAfter(ctx, streamID, from, after)
	}
	return r.store.ReadStream(ctx, streamID, from)
}

func (r *Repository[S]) apply(a *Aggregate[S], e events.Event) error {
	e, payload, err := r.registry.Decode(e)
	if err != nil {
		return fmt.Errorf("fold %s: %w", e.StreamID, err)
	}
	a.State = r.decider.Evolve(a.State, e, payload)
	a.Version, a.Position = e.Version, e.Position
	if e.IdempotencyKey != "" {
		res, seen := a.commands[e.IdempotencyKey]
		if !seen {
			res.FirstVersion = e.Version
		}
		res.LastVersion, res.Position = e.Version, e.Position
		a.commands[e.IdempotencyKey] = res
	}
	return nil
}

func (r *Repository[S]) remember(streamID string, a *Aggregate[S]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cache) >= r.opts.CacheSize {
		n := 0
		for k := range r.cache { // random order: evict an arbitrary eighth
			delete(r.cache, k)
			if n++; n >= r.opts.CacheSize/8 {
				break
			}
		}
	}
	r.cache[streamID] = a
}

func (r *Repository[S]) forget(streamID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.cache, streamID)
}

type snapshotBody[S any] struct {
	State    S                              `json:"state"`
	Commands map[string]events.AppendResult `json:"commands,omitempty"`
}

// Authorize says whether the command's actor may act on the aggregate as
// it stands; a refusal is returned as it is (ENOTFOUND for someone else's
// aggregate, so that its existence is not revealed).
type Authorize[S any] func(state S) error

// CheckedBefore is the Authorize of a command whose actor was fully
// checked before Execute, from the request alone (a role that may create,
// the platform acting for itself): the aggregate's state adds nothing.
// Passing it says so where a reader of the handler looks.
func CheckedBefore[S any](S) error { return nil }

// Execute runs one command against the aggregate: load, authorize, decide,
// append at the loaded version. The authorization runs first, on the
// loaded state, so that neither an idempotent replay, nor an If-Match
// mismatch, nor a conflict message tells a caller about an aggregate it
// may not see; there is no way to skip it (nil is refused). A conflict
// with another writer is retried from fresh state; a command whose
// idempotency key was already applied returns the first result and
// appends nothing. Decide returns event values of the registered types
// (not pointers); none means the command changes nothing.
func (r *Repository[S]) Execute(ctx context.Context, id string, cmd Command, authorize Authorize[S], decide func(S) ([]events.Payload, error)) (events.AppendResult, S, error) {
	var zero S
	if authorize == nil {
		return events.AppendResult{}, zero, fmt.Errorf("command on %s without an authorization check: refused", r.StreamID(id))
	}
	defer r.lock(id)()
	streamID := r.StreamID(id)
	for attempt := 0; attempt < r.opts.Retries; attempt++ {
		a, v, guessed := r.guess(id, attempt, cmd, authorize, decide)
		cached := false
		if !guessed {
			var err error
			if a, cached, err = r.loadTracked(ctx, id, attempt == 0); err != nil {
				return events.AppendResult{}, zero, err
			}
			v = r.judge(a, cmd, authorize, decide)
		}
		if cached && v.final() {
			// Judged on cached state, which another instance may have moved
			// on: a refusal or a no-op appends nothing, so no conflict would
			// reveal it. Judge again on fresh state if there is any.
			fresh, err := r.refresh(ctx, a)
			if err != nil {
				return events.AppendResult{}, zero, err
			}
			if fresh.Version != a.Version {
				a, v = fresh, r.judge(fresh, cmd, authorize, decide)
			}
		}
		if v.final() {
			return v.result, v.state, v.err
		}
		req, err := appendRequest(streamID, a.Version, cmd, v.payloads)
		if err != nil {
			return events.AppendResult{}, zero, err
		}
		res, err := r.store.Append(ctx, req)
		if errors.Is(err, events.ErrConcurrency) {
			r.forget(streamID)
			if guessed {
				continue // the aggregate exists: load it and judge again
			}
			if err := afterConflict(ctx, streamID, attempt, cmd, err); err != nil {
				return events.AppendResult{}, zero, err
			}
			continue
		}
		if err != nil {
			r.forget(streamID) // an unavailable store may have written it
			return events.AppendResult{}, zero, err
		}
		if res.Duplicate {
			r.forget(streamID)
			fresh, err := r.load(ctx, id, false)
			if err != nil {
				return events.AppendResult{}, zero, err
			}
			return res, fresh.State, nil
		}
		next := r.advance(a, req, res, v.payloads)
		r.remember(streamID, next)
		r.maybeSnapshot(a.Version, next)
		return res, next.State, nil
	}
	return events.AppendResult{}, zero, &fundbridge.Error{Code: fundbridge.ECONFLICT, Message: fmt.Sprintf("%s changed under %d attempts in a row; try again", streamID, r.opts.Retries)}
}

// appendRequest is the append of payloads, encoded, to streamID at
// version, with the command's meta.
func appendRequest(streamID string, version uint64, cmd Command, payloads []events.Payload) (events.AppendRequest, error) {
	req := events.AppendRequest{StreamID: streamID, Expected: events.Exactly(version), Meta: cmd.Meta, Events: make([]events.NewEvent, len(payloads))}
	for i, p := range payloads {
		data, err := json.Marshal(p)
		if err != nil {
			return events.AppendRequest{}, fmt.Errorf("execute on %s: encode %s: %w", streamID, p.EventType(), err)
		}
		req.Events[i] = events.NewEvent{Type: p.EventType(), Payload: data}
	}
	return req, nil
}

// afterConflict decides what follows the attempt-th append of cmd losing
// to another writer (err, an events.ErrConcurrency): nil to try again,
// after a pause; else the error to return. A command that named the
// version it read is stale instead.
func afterConflict(ctx context.Context, streamID string, attempt int, cmd Command, err error) error {
	if cmd.Expected != nil {
		var ce *events.ConcurrencyError
		if errors.As(err, &ce) {
			err = stale(*cmd.Expected, ce.Actual)
		}
		return err
	}
	// Another instance is writing the same aggregate: step aside a
	// little, longer each time, so the retries do not collide again.
	backoff := time.Duration(attempt+1)*time.Millisecond + time.Duration(rand.Int64N(int64(2*time.Millisecond)))
	select {
	case <-time.After(backoff):
	case <-ctx.Done():
		return &fundbridge.Error{Code: fundbridge.EUNAVAILABLE, Message: fmt.Sprintf("%s is busy: %v", streamID, ctx.Err())}
	}
	return nil
}

// guess judges the command's first attempt on an aggregate that is not in
// memory as if it did not exist yet, as for a create, without reading
// the store: two round trips to the server (a snapshot and the stream's
// last commit) fewer on every create. It is safe because the append that
// follows expects no stream: if the aggregate exists after all, the store
// refuses it, and the next attempt loads and judges it as it is. A guess
// that comes to a final answer (a refusal, a no-op) is not taken: only
// the aggregate as it is may refuse. A command that names the version it
// expects (If-Match) is never guessed, since its conflict is its caller's.
func (r *Repository[S]) guess(id string, attempt int, cmd Command, authorize Authorize[S], decide func(S) ([]events.Payload, error)) (*Aggregate[S], verdict[S], bool) {
	if attempt > 0 || cmd.Expected != nil {
		return nil, verdict[S]{}, false
	}
	r.mu.Lock()
	_, known := r.cache[r.StreamID(id)]
	r.mu.Unlock()
	if known {
		return nil, verdict[S]{}, false
	}
	a := &Aggregate[S]{ID: id, State: r.decider.Initial(), commands: map[string]events.AppendResult{}}
	v := r.judge(a, cmd, authorize, decide)
	if v.final() {
		return nil, verdict[S]{}, false
	}
	return a, v, true
}

// verdict is what a command comes to on one state: events to append, or
// a final answer (a refusal, a replay, a no-op).
type verdict[S any] struct {
	payloads []events.Payload
	result   events.AppendResult
	state    S
	err      error
	done     bool
}

func (v verdict[S]) final() bool { return v.done }

func (r *Repository[S]) judge(a *Aggregate[S], cmd Command, authorize Authorize[S], decide func(S) ([]events.Payload, error)) verdict[S] {
	var zero S
	if err := authorize(a.State); err != nil {
		return verdict[S]{err: err, done: true}
	}
	if key := cmd.Meta.IdempotencyKey; key != "" {
		if res, ok := a.commands[key]; ok {
			res.Duplicate = true
			return verdict[S]{result: res, state: a.State, done: true}
		}
	}
	if cmd.Expected != nil && *cmd.Expected != a.Version {
		return verdict[S]{err: stale(*cmd.Expected, a.Version), state: zero, done: true}
	}
	payloads, err := decide(a.State)
	if err != nil {
		return verdict[S]{err: err, done: true}
	}
	if len(payloads) == 0 {
		return verdict[S]{result: events.AppendResult{FirstVersion: a.Version + 1, LastVersion: a.Version, Position: a.Position}, state: a.State, done: true}
	}
	return verdict[S]{payloads: payloads}
}

// advance folds the events just appended into a copy of the aggregate,
// without reading them back.
func (r *Repository[S]) advance(a *Aggregate[S], req events.AppendRequest, res events.AppendResult, payloads []events.Payload) *Aggregate[S] {
	// The cached aggregate may be read concurrently by Load: copy, never mutate.
	next := &Aggregate[S]{ID: a.ID, State: a.State, Version: a.Version, Position: a.Position, commands: maps.Clone(a.commands)}
	now := res.RecordedAt // the time the events carry, so the reply shows it
	if now.IsZero() {
		now = time.Now().UTC()
	}
	for i, p := range payloads {
		e := events.Event{
			Type: req.Events[i].Type, StreamID: req.StreamID, Version: res.FirstVersion + uint64(i), Position: res.Position,
			RecordedAt: now, Actor: req.Meta.Actor, CorrelationID: req.Meta.CorrelationID, CausationID: req.Meta.CausationID, Command: req.Meta.Command,
			IdempotencyKey: req.Meta.IdempotencyKey, Payload: req.Events[i].Payload,
		}
		next.State = r.decider.Evolve(next.State, e, p)
	}
	next.Version, next.Position = res.LastVersion, res.Position
	if key := req.Meta.IdempotencyKey; key != "" {
		next.commands[key] = events.AppendResult{FirstVersion: res.FirstVersion, LastVersion: res.LastVersion, Position: res.Position}
	}
	return next
}

// maybeSnapshot saves a snapshot in the background each time the stream
// passes a multiple of SnapshotEvery. A failure only costs a longer load.
func (r *Repository[S]) maybeSnapshot(before uint64, a *Aggregate[S]) {
	if r.opts.Snapshots == nil || r.decider.SnapshotSchema == "" || before/r.opts.SnapshotEvery == a.Version/r.opts.SnapshotEvery {
		return
	}
	state, err := json.Marshal(snapshotBody[S]{State: a.State, Commands: a.commands})
	if err != nil {
		r.opts.Logger.Warn("snapshot not encodable", "stream", r.StreamID(a.ID), "err", err)
		return
	}
	snap := events.Snapshot{StreamID: r.StreamID(a.ID), Version: a.Version, Position: a.Position, Schema: r.decider.SnapshotSchema, State: state}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.opts.Snapshots.SaveSnapshot(ctx, snap); err != nil {
			r.opts.Logger.Warn("snapshot not saved", "stream", snap.StreamID, "err", err)
		}
	}()
}

// StaleError refuses a command made against a version the caller read
// (HTTP If-Match) that is no longer the aggregate's: in words for the
// person, not the store's. It is still an events.ErrConcurrency.
type StaleError struct{ Read, Now uint64 }

func (e *StaleError) Error() string {
	return fmt.Sprintf("it changed since you read it: you sent version %d (If-Match), it is at version %d now; read it again and decide again", e.Read, e.Now)
}

func (e *StaleError) Is(target error) bool { return target == events.ErrConcurrency }
func (e *StaleError) ErrorCode() string    { return fundbridge.ECONFLICT }

func stale(read, now uint64) error { return &StaleError{Read: read, Now: now} }
