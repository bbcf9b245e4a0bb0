// Package kurrentdb is the event store on KurrentDB (formerly EventStoreDB):
// one KurrentDB stream per event stream, one AppendToStream per append.
//
// Concurrency control and idempotence are KurrentDB's own. Our versions are
// 1-based counts and KurrentDB revisions 0-based, so version v is revision
// v-1. Events named by the caller (an event ID or an idempotency key) get
// deterministic UUIDs, so the server recognises a retry at its old place.
//
// KurrentDB gives every event of an append its own log position, while an
// append here has one position. Each event's metadata therefore carries the
// envelope plus its append's commit_id and its place in it (commit_index of
// commit_size). An append's position is the commit position of its last
// event: the position the server acknowledges the append at, and the point
// after which the whole append has been read. Reads gather an append's
// events and hand them out together with that position.
package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/fundbridge/fundbridge/events"
)

const (
	// defaultTimeout bounds a call whose ctx has no deadline.
	defaultTimeout = 30 * time.Second
	// readCount asks for "everything": reads are streamed and closed early.
	readCount = math.MaxInt64
	// eventIDNamespace roots the name-based (v5) UUIDs of named events.
	eventIDNamespace = "8f4c3c2e-5d0b-4a4e-9a53-2f6a1f0c7d19"

	minResubscribeWait = 100 * time.Millisecond
	maxResubscribeWait = 5 * time.Second
)

// Store is the KurrentDB event store. Safe for concurrent use.
type Store struct {
	cfg      *kurrentdb.Configuration
	registry *events.Registry
	ids      *events.IDs

	mu     sync.Mutex
	client *kurrentdb.Client
	closed bool
}

var _ events.Store = (*Store)(nil)

// Open connects to the KurrentDB named by url: esdb://, esdb+discover://,
// kurrentdb:// or kurrentdb+discover:// (the client parses all of them), and
// checks that $all can be read.
func Open(ctx context.Context, url string, registry *events.Registry) (*Store, error) {
	cfg, err := kurrentdb.ParseConnectionString(url)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: connection string: %w", err)
	}
	client, err := kurrentdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: %w", err)
	}
	s := &Store{cfg: cfg, registry: registry, ids: events.NewIDs(), client: client}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rs, err := client.ReadAll(ctx, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1)
	if err == nil {
		err = each(rs, func(*kurrentdb.ResolvedEvent) (bool, error) { return false, nil })
	}
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("kurrentdb: connect: %w", unavailable(err))
	}
	return s, nil
}

// Close closes the client. Calls after it fail as unavailable.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.client.Close()
}

func (s *Store) current() (*kurrentdb.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, &events.UnavailableError{Err: errors.New("store closed")}
	}
	return s.client, nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// transport marks failures a retry may cure as unavailable. It also
// replaces a client that gave up: the client closes itself for good when it
// cannot discover a node, and the server may be back by the next call.
func (s *Store) transport(c *kurrentdb.Client, err error) error {
	if hasCode(err, kurrentdb.ErrorCodeConnectionClosed) {
		s.mu.Lock()
		if !s.closed && s.client == c {
			if fresh, nerr := kurrentdb.NewClient(s.cfg); nerr == nil {
				s.client = fresh
				_ = c.Close()
			}
		}
		s.mu.Unlock()
	}
	return unavailable(err)
}

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultTimeout)
}

// proposal is an append ready for the server.
type proposal struct {
	commitID  string // new on every attempt: tells a write from a recognised retry
	retryable bool   // the caller named the append, so a retry can be recognised
	events    []kurrentdb.EventData
}

func (s *Store) propose(req events.AppendRequest) (proposal, error) {
	p := proposal{
		commitID:  s.ids.New(),
		retryable: req.Meta.IdempotencyKey != "",
		events:    make([]kurrentdb.EventData, len(req.Events)),
	}
	env := envelope{
		RecordedAt:     time.Now().UTC(),
		Actor:          req.Meta.Actor,
		CorrelationID:  req.Meta.CorrelationID,
		CausationID:    req.Meta.CausationID,
		Command:        req.Meta.Command,
		IdempotencyKey: req.Meta.IdempotencyKey,
		CommitID:       p.commitID,
		CommitSize:     len(req.Events),
	}
	for i, e := range req.Events {
		var id uuid.UUID
		switch {
		case req.Meta.IdempotencyKey != "":
			id = keyedUUID(req.StreamID, req.Meta.IdempotencyKey, i)
		case e.ID != "":
			id = namedUUID(e.ID)
		default:
			id = uuid.New()
		}
		env.ID = e.ID
		if env.ID == "" {
			env.ID = s.ids.New()
		} else {
			p.retryable = true
		}
		env.CommitIndex = i
		meta, err := encodeEnvelope(env)
		if err != nil {
			return proposal{}, err
		}
		p.events[i] = kurrentdb.EventData{EventID: id, EventType: e.Type, ContentType: kurrentdb.ContentTypeJson, Data: e.Payload, Metadata: meta}
	}
	return p, nil
}

// Append writes the events of one command in one AppendToStream call.
func (s *Store) Append(ctx context.Context, req events.AppendRequest) (events.AppendResult, error) {
	if err := s.registry.Validate(req); err != nil {
		return events.AppendResult{}, err
	}
	c, err := s.current()
	if err != nil {
		return events.AppendResult{}, fmt.Errorf("append %s: %w", req.StreamID, err)
	}
	p, err := s.propose(req)
	if err != nil {
		return events.AppendResult{}, fmt.Errorf("append %s: %w", req.StreamID, err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()

	wr, err := c.AppendToStream(ctx, req.StreamID, kurrentdb.AppendToStreamOptions{StreamState: streamState(req.Expected)}, p.events...)
	if err != nil {
		if !isWrongExpectedVersion(err) {
			return events.AppendResult{}, fmt.Errorf("append %s: %w", req.StreamID, s.transport(c, err))
		}
		return s.conflict(ctx, c, req, p, err)
	}
	n := uint64(len(p.events))
	if wr.NextExpectedVersion+1 < n {
		return events.AppendResult{}, fmt.Errorf("append %s: server reports revision %d after %d events", req.StreamID, wr.NextExpectedVersion, n)
	}
	res := events.AppendResult{FirstVersion: wr.NextExpectedVersion + 2 - n, LastVersion: wr.NextExpectedVersion + 1, Position: wr.CommitPosition}
	if !p.retryable {
		return res, nil
	}
	// KurrentDB answers a retry of a stored append with success and stores
	// nothing. The commit ID at the reported place says which it was.
	stored, err := s.appendAt(ctx, c, req.StreamID, res.FirstVersion)
	if err != nil {
		return events.AppendResult{}, fmt.Errorf("append %s: read back: %w", req.StreamID, err)
	}
	if stored[0].env.CommitID != p.commitID {
		res = resultOf(stored)
		res.Duplicate = true
	}
	return res, nil
}

// conflict answers a wrong expected version: the first result if this is a
// retry of a stored append, else the stream's actual version.
func (s *Store) conflict(ctx context.Context, c *kurrentdb.Client, req events.AppendRequest, p proposal, werr error) (events.AppendResult, error) {
	if p.retryable {
		res, found, err := s.findCommit(ctx, c, req.StreamID, p.events[0].EventID)
		if err != nil {
			return events.AppendResult{}, fmt.Errorf("append %s: look for first result: %w", req.StreamID, err)
		}
		if found {
			return res, nil
		}
	}
	actual, ok := reportedVersion(werr)
	if !ok {
		var err error
		if actual, err = s.streamVersion(ctx, c, req.StreamID); err != nil {
			return events.AppendResult{}, fmt.Errorf("append %s: read actual version: %w", req.StreamID, err)
		}
	}
	return events.AppendResult{}, &events.ConcurrencyError{StreamID: req.StreamID, Expected: req.Expected, Actual: actual}
}

// findCommit looks for the append whose first event has this UUID: a retry
// of an append that was stored, perhaps long ago.
func (s *Store) findCommit(ctx context.Context, c *kurrentdb.Client, streamID string, first uuid.UUID) (events.AppendResult, bool, error) {
	var found *events.AppendResult
	err := s.scanStream(ctx, c, streamID, 1, func(batch []record) bool {
		for i, r := range batch {
			if r.uuid == first && r.env.CommitIndex == 0 {
				res := resultOf(sameCommit(batch[i:]))
				res.Duplicate = true
				found = &res
				return false
			}
		}
		return true
	})
	if err != nil || found == nil {
		return events.AppendResult{}, false, err
	}
	return *found, true, nil
}

// appendAt reads the append whose first event is at version first.
func (s *Store) appendAt(ctx context.Context, c *kurrentdb.Client, streamID string, first uint64) ([]record, error) {
	var got []record
	err := s.scanStream(ctx, c, streamID, first, func(batch []record) bool {
		got = sameCommit(batch)
		return false
	})
	if err != nil {
		return nil, err
	}
	if len(got) == 0 || got[0].event.Version != first {
		return nil, fmt.Errorf("no append starts at version %d", first)
	}
	return got, nil
}

// streamVersion is the stream's current version, 0 if it does not exist.
func (s *Store) streamVersion(ctx context.Context, c *kurrentdb.Client, streamID string) (uint64, error) {
	rs, err := c.ReadStream(ctx, streamID, kurrentdb.ReadStreamOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1)
	if err != nil {
		return 0, s.transport(c, err)
	}
	var version uint64
	err = each(rs, func(re *kurrentdb.ResolvedEvent) (bool, error) {
		if re.Event != nil {
			version = re.Event.EventNumber + 1
		}
		return false, nil
	})
	if err != nil && !hasCode(err, kurrentdb.ErrorCodeResourceNotFound) {
		return 0, s.transport(c, err)
	}
	return version, nil
}

// ReadStream returns the stream's events from version from.
func (s *Store) ReadStream(ctx context.Context, streamID string, from uint64) ([]events.Event, error) {
	if err := events.ValidateStreamID(streamID); err != nil {
		return nil, err
	}
	if from == 0 {
		from = 1
	}
	c, err := s.current()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", streamID, err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var out []events.Event
	err = s.scanStream(ctx, c, streamID, from, func(batch []record) bool {
		for _, r := range batch {
			out = append(out, r.event)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", streamID, err)
	}
	return out, nil
}

// scanStream calls fn with the stream's events from version from, whole
// appends at a time, until fn returns false. A missing stream has none.
func (s *Store) scanStream(ctx context.Context, c *kurrentdb.Client, streamID string, from uint64, fn func([]record) bool) error {
	rs, err := c.ReadStream(ctx, streamID, kurrentdb.ReadStreamOptions{From: kurrentdb.Revision(from - 1)}, readCount)
	if err != nil {
		return s.transport(c, err)
	}
	var asm assembler
	stopped := false
	err = each(rs, func(re *kurrentdb.ResolvedEvent) (bool, error) {
		r, err := decodeRecord(re)
		if err != nil {
			return false, err
		}
		if batch := asm.add(r); len(batch) > 0 && !fn(batch) {
			stopped = true
			return false, nil
		}
		return true, nil
	})
	if hasCode(err, kurrentdb.ErrorCodeResourceNotFound) {
		return nil
	}
	if err != nil {
		return s.transport(c, err)
	}
	if rest := asm.flush(); !stopped && len(rest) > 0 {
		fn(rest)
	}
	return nil
}

// ReadAll returns up to limit events after the given position, whole
// appends only, skipping system events and other applications' events.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]events.Event, error) {
	if limit <= 0 {
		limit = 1000
	}
	c, err := s.current()
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rs, err := c.ReadAll(ctx, kurrentdb.ReadAllOptions{From: allPosition(after)}, readCount)
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, s.transport(c, err))
	}
	var out []events.Event
	var asm assembler
	err = each(rs, func(re *kurrentdb.ResolvedEvent) (bool, error) {
		r, ok := ownRecord(re)
		if !ok {
			return true, nil
		}
		for _, d := range asm.add(r) {
			if d.event.Position > after {
				out = append(out, d.event)
			}
		}
		return len(out) < limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, s.transport(c, err))
	}
	// An append still incomplete at the end is left for the next read.
	return out, nil
}

// Head is the position of the last append: the commit position of the last
// event this store wrote, 0 for an empty log.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	c, err := s.current()
	if err != nil {
		return 0, fmt.Errorf("head: %w", err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rs, err := c.ReadAll(ctx, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, readCount)
	if err != nil {
		return 0, fmt.Errorf("head: %w", s.transport(c, err))
	}
	var head uint64
	err = each(rs, func(re *kurrentdb.ResolvedEvent) (bool, error) {
		r, ok := ownRecord(re)
		if !ok {
			return true, nil
		}
		head = r.event.Position // the last event of an append is read first
		return false, nil
	})
	if err != nil {
		return 0, fmt.Errorf("head: %w", s.transport(c, err))
	}
	return head, nil
}

// each calls fn with every event of a read until fn says stop, fn fails or
// the read ends, then closes the read.
func each(rs *kurrentdb.ReadStream, fn func(*kurrentdb.ResolvedEvent) (bool, error)) error {
	defer rs.Close()
	for {
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		more, err := fn(re)
		if err != nil || !more {
			return err
		}
	}
}

func allPosition(after uint64) kurrentdb.AllPosition {
	if after == 0 {
		return kurrentdb.Start{}
	}
	return kurrentdb.Position{Commit: after, Prepare: after}
}

// streamState maps an expected version (a 1-based count) to KurrentDB's
// expected state (a 0-based revision).
func streamState(v events.ExpectedVersion) kurrentdb.StreamState {
	switch {
	case v == events.Any:
		return kurrentdb.Any{}
	case v == events.NoStream:
		return kurrentdb.NoStream{}
	default:
		return kurrentdb.StreamRevision{Value: uint64(v) - 1}
	}
}
