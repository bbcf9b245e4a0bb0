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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/fundbridge/fundbridge"
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

// handlerError carries the subscriber's own error out of follow.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// Subscribe delivers every event after the given position, then live ones.
// A dropped subscription is renewed from the last append delivered.
func (s *Store) Subscribe(ctx context.Context, after uint64, fn func(events.Event) error) error {
	last := after
	wait := minResubscribeWait
	for {
		progressed, err := s.follow(ctx, &last, fn)
		var herr *handlerError
		if errors.As(err, &herr) {
			return herr.err
		}
		if ctx.Err() != nil {
			return nil
		}
		if s.isClosed() || !resubscribable(err) {
			return fmt.Errorf("subscribe after %d: %w", last, err)
		}
		if progressed {
			wait = minResubscribeWait
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, maxResubscribeWait)
	}
}

// follow runs one subscription to $all from *last until it drops, ctx ends
// or fn fails, advancing *last past each append delivered.
func (s *Store) follow(ctx context.Context, last *uint64, fn func(events.Event) error) (progressed bool, err error) {
	c, err := s.current()
	if err != nil {
		return false, err
	}
	sub, err := c.SubscribeToAll(ctx, kurrentdb.SubscribeToAllOptions{From: allPosition(*last), Filter: kurrentdb.ExcludeSystemEventsFilter()})
	if err != nil {
		return false, s.transport(c, err)
	}
	defer sub.Close()
	var asm assembler
	for {
		msg := sub.Recv()
		switch {
		case msg.SubscriptionDropped != nil:
			err := msg.SubscriptionDropped.Error
			if err == nil {
				err = errors.New("subscription dropped")
			}
			return progressed, s.transport(c, err)
		case msg.EventAppeared != nil:
			progressed = true
			r, ok := ownRecord(msg.EventAppeared)
			if !ok {
				continue
			}
			// Appends at or before *last were delivered before a resubscribe.
			done := *last
			for _, d := range asm.add(r) {
				if d.event.Position <= done {
					continue
				}
				if err := fn(d.event); err != nil {
					return progressed, &handlerError{err}
				}
				*last = d.event.Position
			}
		}
	}
}

// resubscribable says whether a dropped subscription may work again.
func resubscribable(err error) bool {
	var kerr *kurrentdb.Error
	if !errors.As(err, &kerr) {
		return true // end of stream or a transport failure the client did not classify
	}
	switch kerr.Code() {
	case kurrentdb.ErrorCodeUnauthenticated, kurrentdb.ErrorCodeAccessDenied, kurrentdb.ErrorCodeUnsupportedFeature,
		kurrentdb.ErrorCodeParsing, kurrentdb.ErrorCodeInternalClient:
		return false
	}
	return true
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

func hasCode(err error, code kurrentdb.ErrorCode) bool {
	var kerr *kurrentdb.Error
	return errors.As(err, &kerr) && kerr.Code() == code
}

func isWrongExpectedVersion(err error) bool {
	return hasCode(err, kurrentdb.ErrorCodeWrongExpectedVersion) || hasCode(err, kurrentdb.ErrorCodeStreamRevisionConflict)
}

// reportedVersion is the actual version the server reported with a wrong
// expected version. It saves a read, and unlike a read it cannot miss an
// append the server has checked against but not yet indexed.
func reportedVersion(err error) (uint64, bool) {
	var kerr *kurrentdb.Error
	if !errors.As(err, &kerr) || kerr.Err() == nil {
		return 0, false
	}
	var conflict *kurrentdb.StreamRevisionConflictError
	if errors.As(kerr.Err(), &conflict) {
		switch actual := conflict.ActualRevision.(type) {
		case kurrentdb.NoStream:
			return 0, true
		case kurrentdb.StreamRevision:
			return actual.Value + 1, true
		}
		return 0, false
	}
	return parseCurrentRevision(kerr.Err().Error())
}

// parseCurrentRevision reads the version out of the client's message
// "wrong expected version: expecting '…' but got '<revision>|no_stream'",
// the only place the client puts it.
func parseCurrentRevision(msg string) (uint64, bool) {
	const marker = "but got '"
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(marker):]
	j := strings.IndexByte(rest, '\'')
	if j < 0 {
		return 0, false
	}
	if rest[:j] == "no_stream" {
		return 0, true
	}
	rev, err := strconv.ParseUint(rest[:j], 10, 64)
	if err != nil || rev == math.MaxUint64 {
		return 0, false
	}
	return rev + 1, true
}

// unavailable marks failures a retry may cure. An append that failed this
// way may have been stored: the caller retries with the same IDs or key.
func unavailable(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &events.UnavailableError{Err: err}
	}
	var kerr *kurrentdb.Error
	if errors.As(err, &kerr) {
		switch kerr.Code() {
		case kurrentdb.ErrorUnavailable, kurrentdb.ErrorCodeDeadlineExceeded, kurrentdb.ErrorCodeConnectionClosed,
			kurrentdb.ErrorAborted, kurrentdb.ErrorCodeNotLeader:
			return &events.UnavailableError{Err: err}
		}
	}
	return err
}

// eventUUID is a name-based (v5) UUID: the same name always gives the same
// event ID, which is what lets KurrentDB recognise a retry.
func eventUUID(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.MustParse(eventIDNamespace), []byte(name))
}

// keyedUUID is the ID of the i-th event of the append with this idempotency
// key on this stream; a retry carries fresh event IDs but the same key.
func keyedUUID(streamID, key string, i int) uuid.UUID {
	return eventUUID("key\x00" + streamID + "\x00" + strconv.Itoa(i) + "\x00" + key)
}

// namedUUID is the ID of an event the caller named: its ID if that is a
// UUID already, else one derived from it.
func namedUUID(id string) uuid.UUID {
	if u, err := uuid.Parse(id); err == nil {
		return u
	}
	return eventUUID("id\x00" + id)
}

// envelope is the metadata of every event: what events.Event carries beyond
// type and payload, and where the event sits in its append.
type envelope struct {
	ID             string           `json:"id"`
	RecordedAt     time.Time        `json:"recorded_at"` // RFC 3339 with nanoseconds, UTC
	Actor          fundbridge.Actor `json:"actor"`
	CorrelationID  string           `json:"correlation_id,omitempty"`
	CausationID    string           `json:"causation_id,omitempty"`
	Command        string           `json:"command,omitempty"`
	IdempotencyKey string           `json:"idempotency_key,omitempty"`
	CommitID       string           `json:"commit_id"`
	CommitIndex    int              `json:"commit_index"`
	CommitSize     int              `json:"commit_size"`
}

func encodeEnvelope(e envelope) ([]byte, error) {
	e.RecordedAt = e.RecordedAt.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	return b, nil
}

// decodeEnvelope refuses metadata this store did not write.
func decodeEnvelope(b []byte) (envelope, error) {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return envelope{}, fmt.Errorf("decode metadata: %w", err)
	}
	if e.ID == "" || e.CommitID == "" || e.CommitSize < 1 || e.CommitIndex < 0 || e.CommitIndex >= e.CommitSize {
		return envelope{}, errors.New("decode metadata: not a fundbridge event envelope")
	}
	e.RecordedAt = e.RecordedAt.UTC()
	return e, nil
}

// record is an event as read, with what reassembling its append needs.
type record struct {
	event events.Event // Position is the event's own until its append is complete
	uuid  uuid.UUID
	env   envelope
}

func decodeRecord(re *kurrentdb.ResolvedEvent) (record, error) {
	ev := re.Event
	if ev == nil {
		return record{}, errors.New("read returned a link to a missing event")
	}
	env, err := decodeEnvelope(ev.UserMetadata)
	if err != nil {
		return record{}, fmt.Errorf("event %s@%d: %w", ev.StreamID, ev.EventNumber+1, err)
	}
	pos := ev.Position.Commit
	if re.Commit != nil {
		pos = *re.Commit
	}
	return record{
		uuid: ev.EventID,
		env:  env,
		event: events.Event{
			ID:             env.ID,
			Type:           ev.EventType,
			StreamID:       ev.StreamID,
			Version:        ev.EventNumber + 1,
			Position:       pos,
			RecordedAt:     env.RecordedAt,
			Actor:          env.Actor,
			CorrelationID:  env.CorrelationID,
			CausationID:    env.CausationID,
			Command:        env.Command,
			IdempotencyKey: env.IdempotencyKey,
			Payload:        json.RawMessage(ev.Data),
		},
	}, nil
}

// ownRecord decodes an event of $all if this store wrote it. System events
// and other applications' events on a shared server are not part of the log.
func ownRecord(re *kurrentdb.ResolvedEvent) (record, bool) {
	if re.Event == nil || isSystem(re.Event) {
		return record{}, false
	}
	r, err := decodeRecord(re)
	return r, err == nil
}

func isSystem(ev *kurrentdb.RecordedEvent) bool {
	return strings.HasPrefix(ev.EventType, "$") || strings.HasPrefix(ev.StreamID, "$")
}

// assembler gathers the events of one append as a read returns them, so that
// each gets the append's position: the commit position of its last event.
// KurrentDB writes an append's events next to each other, atomically.
type assembler struct {
	pending []record
}

// add takes the next event read and returns what it completes: nothing yet,
// or the append it ends. A read that starts inside an append yields the
// rest of it. An append whose events stop coming (not written by this
// store) is returned as it stands when the next one starts.
func (a *assembler) add(r record) []record {
	var done []record
	if n := len(a.pending); n > 0 {
		prev := a.pending[n-1]
		if prev.env.CommitID != r.env.CommitID || prev.event.StreamID != r.event.StreamID || prev.env.CommitIndex+1 != r.env.CommitIndex {
			done = a.flush()
		}
	}
	a.pending = append(a.pending, r)
	if r.env.CommitIndex == r.env.CommitSize-1 {
		done = append(done, a.flush()...)
	}
	return done
}

// flush returns the pending events at the position of the last of them.
func (a *assembler) flush() []record {
	out := a.pending
	a.pending = nil
	if len(out) > 0 {
		pos := out[len(out)-1].event.Position
		for i := range out {
			out[i].event.Position = pos
		}
		out[len(out)-1].event.LastInCommit = true
	}
	return out
}

// sameCommit is the leading run of records from batch[0]'s append.
func sameCommit(batch []record) []record {
	for i := 1; i < len(batch); i++ {
		if batch[i].env.CommitID != batch[0].env.CommitID {
			return batch[:i]
		}
	}
	return batch
}

func resultOf(commit []record) events.AppendResult {
	last := commit[len(commit)-1].event
	return events.AppendResult{FirstVersion: commit[0].event.Version, LastVersion: last.Version, Position: last.Position}
}
