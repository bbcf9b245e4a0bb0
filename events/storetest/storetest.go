// Package storetest is the conformance suite every events.Store backend
// passes. Tests use fresh stream IDs and filter the global log to their own
// streams, so the suite runs against a shared server as well as a fresh one.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

// Backend is a store under test.
type Backend interface {
	// Store returns the store currently open.
	Store() events.Store
	// Reopen closes the store (and, for embedded servers, the server) and
	// opens it again on the same data.
	Reopen(t *testing.T) events.Store
}

// Happened and Noted are the payloads the suite appends.
type Happened struct {
	N    int    `json:"n"`
	Note string `json:"note,omitempty"`
}

type Noted struct {
	Text string `json:"text"`
}

// Registry returns the registry the suite's backends must be opened with.
func Registry() *events.Registry {
	r := events.NewRegistry()
	events.Register[Happened](r, "test.happened.v1")
	events.Register[Noted](r, "test.noted.v1")
	return r
}

var actor = fundbridge.Actor{UserID: "user-1", Role: fundbridge.RoleStartup, OrgID: "org-1"}

func newStreamID(prefix string) string {
	return fmt.Sprintf("%s-%d%08x", prefix, time.Now().UnixNano(), rand.Uint32())
}

func happened(n int) events.NewEvent {
	return events.NewEvent{Type: "test.happened.v1", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
}

func happenedN(from, count int) []events.NewEvent {
	out := make([]events.NewEvent, count)
	for i := range out {
		out[i] = happened(from + i)
	}
	return out
}

func appendReq(stream string, expected events.ExpectedVersion, evs ...events.NewEvent) events.AppendRequest {
	return events.AppendRequest{StreamID: stream, Expected: expected, Events: evs, Meta: events.Meta{Actor: actor, CorrelationID: "corr-1", CausationID: "cmd-1", Command: "thing.make"}}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Run runs the whole suite; newBackend returns a backend opened with Registry().
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"RoundTrip", testRoundTrip},
		{"WrongExpectedVersion", testWrongExpectedVersion},
		{"RaceAtOneVersion", testRace},
		{"IdempotentRetry", testIdempotentRetry},
		{"ReadAllInCommitOrder", testReadAllOrder},
		{"SubscribeCatchUpThenLive", testSubscribe},
		{"MultiEventAppendIsAtomic", testAtomic},
		{"LongStreamInOrder", testLongStream},
		{"Reopen", testReopen},
		{"BadInputAppendsNothing", testBadInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newBackend(t)) })
	}
}

func testRoundTrip(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()
	stream := newStreamID("company")
	before := time.Now().Add(-time.Second)
	req := appendReq(stream, events.NoStream,
		events.NewEvent{ID: "01JTESTEVENT0000000000000A" + stream[len(stream)-4:], Type: "test.happened.v1", Payload: json.RawMessage(`{"n":1,"note":"名字 \"quoted\""}`)},
		events.NewEvent{Type: "test.noted.v1", Payload: json.RawMessage(`{"text":"second"}`)},
	)
	req.Meta.IdempotencyKey = "key-" + stream
	res, err := s.Append(ctx, req)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if res.FirstVersion != 1 || res.LastVersion != 2 || res.Position == 0 || res.Duplicate {
		t.Fatalf("append result = %+v, want versions 1..2 at a position, not duplicate", res)
	}
	got, err := s.ReadStream(ctx, stream, 1)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("read %d events, want 2", len(got))
	}
	for i, e := range got {
		if e.StreamID != stream || e.Version != uint64(i+1) || e.Position != res.Position {
			t.Errorf("event %d: stream %q version %d position %d, want %q %d %d", i, e.StreamID, e.Version, e.Position, stream, i+1, res.Position)
		}
		if e.ID == "" || e.Actor != actor || e.CorrelationID != "corr-1" || e.CausationID != "cmd-1" || e.Command != "thing.make" {
			t.Errorf("event %d: envelope %+v lacks ID, actor, correlation or causation", i, e)
		}
		if e.RecordedAt.Before(before) || e.RecordedAt.After(time.Now().Add(time.Second)) || e.RecordedAt.Location() != time.UTC {
			t.Errorf("event %d: recorded at %v, want now in UTC", i, e.RecordedAt)
		}
	}
	if got[0].ID != req.Events[0].ID {
		t.Errorf("event ID %q, want the caller's %q", got[0].ID, req.Events[0].ID)
	}
	if got[0].Type != "test.happened.v1" || got[1].Type != "test.noted.v1" {
		t.Errorf("types %q, %q", got[0].Type, got[1].Type)
	}
	_, v, err := Registry().Decode(got[0])
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if h := v.(Happened); h.N != 1 || h.Note != `名字 "quoted"` {
		t.Errorf("payload = %+v", h)
	}
	if tail, err := s.ReadStream(ctx, stream, 2); err != nil || len(tail) != 1 || tail[0].Version != 2 {
		t.Errorf("read from version 2 = %v, %v; want the second event", tail, err)
	}
	if none, err := s.ReadStream(ctx, newStreamID("company"), 1); err != nil || len(none) != 0 {
		t.Errorf("read of a missing stream = %v, %v; want no events and no error", none, err)
	}
	head, err := s.Head(ctx)
	if err != nil || head < res.Position {
		t.Errorf("head = %d, %v; want at least %d", head, err, res.Position)
	}
}

func testWrongExpectedVersion(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()
	stream := newStreamID("fund")
	if _, err := s.Append(ctx, appendReq(stream, events.Exactly(3), happened(0))); !isConflict(err, 0) {
		t.Errorf("append at 3 to a missing stream: %v, want a conflict at 0", err)
	}
	if _, err := s.Append(ctx, appendReq(stream, events.NoStream, happened(1))); err != nil {
		t.Fatalf("first append: %v", err)
	}
	if _, err := s.Append(ctx, appendReq(stream, events.NoStream, happened(2))); !isConflict(err, 1) {
		t.Errorf("NoStream on an existing stream: %v, want a conflict at 1", err)
	}
	if _, err := s.Append(ctx, appendReq(stream, events.Exactly(5), happened(3))); !isConflict(err, 1) {
		t.Errorf("append at 5 to a stream at 1: %v, want a conflict at 1", err)
	}
	if _, err := s.Append(ctx, appendReq(stream, events.Exactly(1), happened(4))); err != nil {
		t.Errorf("append at the right version: %v", err)
	}
	if res, err := s.Append(ctx, appendReq(stream, events.Any, happened(5))); err != nil || res.LastVersion != 3 {
		t.Errorf("append at Any = %+v, %v; want version 3", res, err)
	}
	got, err := s.ReadStream(ctx, stream, 1)
	if err != nil || len(got) != 3 {
		t.Fatalf("read = %d events, %v; want 3", len(got), err)
	}
}

func isConflict(err error, actual uint64) bool {
	var ce *events.ConcurrencyError
	return errors.Is(err, events.ErrConcurrency) && errors.As(err, &ce) && ce.Actual == actual &&
		fundbridge.ErrorCode(err) == fundbridge.ECONFLICT
}

func testRace(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()
	stream := newStreamID("application")
	if _, err := s.Append(ctx, appendReq(stream, events.NoStream, happenedN(0, 2)...)); err != nil {
		t.Fatal(err)
	}
	const racers = 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	var other []error
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Append(ctx, appendReq(stream, events.Exactly(2), happenedN(100*i, 3)...))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case isConflict(err, 5):
				conflicts++
			default:
				other = append(other, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins != 1 || conflicts != racers-1 || len(other) > 0 {
		t.Fatalf("%d racers: %d won, %d conflicted at version 5, other errors %v; want exactly one winner", racers, wins, conflicts, other)
	}
	got, err := s.ReadStream(ctx, stream, 1)
	if err != nil || len(got) != 5 {
		t.Fatalf("read = %d events, %v; want 5", len(got), err)
	}
	for i, e := range got {
		if e.Version != uint64(i+1) {
			t.Errorf("event %d has version %d", i, e.Version)
		}
	}
	// The winner's three events are contiguous and all its own.
	var first Happened
	_ = json.Unmarshal(got[2].Payload, &first)
	for i := 3; i < 5; i++ {
		var h Happened
		_ = json.Unmarshal(got[i].Payload, &h)
		if h.N != first.N+i-2 {
			t.Errorf("events 3..5 mix appends: n=%d after %d", h.N, first.N)
		}
	}
}

func testIdempotentRetry(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()

	t.Run("same event IDs", func(t *testing.T) {
		stream := newStreamID("deal")
		evs := happenedN(0, 2)
		evs[0].ID, evs[1].ID = "ev-a-"+stream, "ev-b-"+stream
		first, err := s.Append(ctx, appendReq(stream, events.NoStream, evs...))
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Append(ctx, appendReq(stream, events.NoStream, evs...))
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if !again.Duplicate || again.Position != first.Position || again.LastVersion != first.LastVersion {
			t.Errorf("retry = %+v, want the first result %+v marked duplicate", again, first)
		}
		assertLen(ctx, t, s, stream, 2)
	})

	t.Run("same idempotency key", func(t *testing.T) {
		stream := newStreamID("deal")
		req := appendReq(stream, events.NoStream, happened(1))
		req.Meta.IdempotencyKey = "idem-" + stream
		first, err := s.Append(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		// A retry carries fresh event IDs (they are generated) but the same key.
		again, err := s.Append(ctx, req)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if !again.Duplicate || again.Position != first.Position {
			t.Errorf("retry = %+v, want the first result %+v marked duplicate", again, first)
		}
		assertLen(ctx, t, s, stream, 1)
	})

	t.Run("retry after later appends", func(t *testing.T) {
		stream := newStreamID("deal")
		req := appendReq(stream, events.NoStream, happened(1))
		req.Meta.IdempotencyKey = "idem-late-" + stream
		first, err := s.Append(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, appendReq(stream, events.Exactly(1), happened(2))); err != nil {
			t.Fatal(err)
		}
		again, err := s.Append(ctx, req)
		if err != nil {
			t.Fatalf("late retry: %v", err)
		}
		if !again.Duplicate || again.Position != first.Position || again.LastVersion != 1 {
			t.Errorf("late retry = %+v, want the first result %+v marked duplicate", again, first)
		}
		assertLen(ctx, t, s, stream, 2)
	})

	t.Run("same key on another stream is another command", func(t *testing.T) {
		a, b := newStreamID("deal"), newStreamID("deal")
		for _, stream := range []string{a, b} {
			req := appendReq(stream, events.NoStream, happened(1))
			req.Meta.IdempotencyKey = "shared-key"
			if res, err := s.Append(ctx, req); err != nil || res.Duplicate {
				t.Fatalf("append to %s = %+v, %v", stream, res, err)
			}
		}
	})
}

func assertLen(ctx context.Context, t *testing.T, s events.Store, stream string, want int) {
	t.Helper()
	got, err := s.ReadStream(ctx, stream, 1)
	if err != nil || len(got) != want {
		t.Fatalf("stream %s has %d events (%v), want %d", stream, len(got), err, want)
	}
}

// readOwn reads the whole log after a position, keeping only the given streams.
func readOwn(ctx context.Context, t *testing.T, s events.Store, after uint64, streams map[string]bool, want int) []events.Event {
	t.Helper()
	var out []events.Event
	for pos := after; ; {
		page, err := s.ReadAll(ctx, pos, 500)
		if err != nil {
			t.Fatalf("read all after %d: %v", pos, err)
		}
		if len(page) == 0 {
			return out
		}
		for _, e := range page {
			if e.Position < pos || (e.Position == pos && pos != after) {
				t.Fatalf("read all after %d returned position %d", pos, e.Position)
			}
			if streams[e.StreamID] {
				out = append(out, e)
			}
		}
		pos = page[len(page)-1].Position
		if len(out) >= want {
			return out
		}
	}
}

func testReadAllOrder(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()
	start, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	streams := map[string]bool{}
	var ids []string
	for range 8 {
		id := newStreamID("company")
		streams[id] = true
		ids = append(ids, id)
	}
	type appended struct {
		stream string
		res    events.AppendResult
	}
	var mu sync.Mutex
	var all []appended
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				res, err := s.Append(ctx, appendReq(id, events.Exactly(uint64(i*2)), happenedN(i*2, 2)...))
				if err != nil {
					t.Errorf("append %s: %v", id, err)
					return
				}
				mu.Lock()
				all = append(all, appended{id, res})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got := readOwn(ctx, t, s, start, streams, 8*50)
	if len(got) != 8*50 {
		t.Fatalf("read all returned %d of our events, want %d", len(got), 8*50)
	}
	// Commit order: positions never decrease, each commit's events are
	// together and in stream order, and every append is where it was acknowledged.
	byPos := map[uint64]appended{}
	for _, a := range all {
		byPos[a.res.Position] = a
	}
	next := map[string]uint64{}
	for i, e := range got {
		if i > 0 && e.Position < got[i-1].Position {
			t.Fatalf("position %d after %d", e.Position, got[i-1].Position)
		}
		a, ok := byPos[e.Position]
		if !ok || a.stream != e.StreamID || e.Version < a.res.FirstVersion || e.Version > a.res.LastVersion {
			t.Fatalf("event %s@%d at position %d does not match any acknowledged append", e.StreamID, e.Version, e.Position)
		}
		if e.Version != next[e.StreamID]+1 {
			t.Fatalf("stream %s: version %d after %d", e.StreamID, e.Version, next[e.StreamID])
		}
		next[e.StreamID] = e.Version
	}
}

func testSubscribe(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()
	start, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stream := newStreamID("application")
	const before, during = 60, 140
	for i := range before {
		if _, err := s.Append(ctx, appendReq(stream, events.Exactly(uint64(i)), happened(i))); err != nil {
			t.Fatal(err)
		}
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan events.Event, before+during+10)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(subCtx, start, func(e events.Event) error {
			if e.StreamID == stream {
				got <- e
			}
			return nil
		})
	}()
	// Append while the subscriber catches up, so it must switch to live
	// in the middle of the writes.
	for i := before; i < before+during; i++ {
		if _, err := s.Append(ctx, appendReq(stream, events.Exactly(uint64(i)), happened(i))); err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(30 * time.Second)
	for want := uint64(1); want <= before+during; want++ {
		select {
		case e := <-got:
			if e.Version != want {
				t.Fatalf("subscriber got version %d, want %d (gap or duplicate)", e.Version, want)
			}
		case err := <-done:
			t.Fatalf("subscribe ended early: %v", err)
		case <-timeout:
			t.Fatalf("subscriber stalled before version %d", want)
		}
	}
	select {
	case e := <-got:
		t.Fatalf("extra event %s@%d", e.StreamID, e.Version)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("subscribe after cancel = %v, want nil", err)
	}

	// A handler error stops the subscription and is returned.
	boom := errors.New("boom")
	err = s.Subscribe(ctx, start, func(events.Event) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("subscribe with failing handler = %v, want boom", err)
	}
}

func testAtomic(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()
	stream := newStreamID("deal")
	const size, commits = 5, 40
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var torn []int
	var mu sync.Mutex
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := s.ReadStream(ctx, stream, 1)
				if err != nil {
					t.Errorf("read: %v", err)
					return
				}
				if len(got)%size != 0 {
					mu.Lock()
					torn = append(torn, len(got))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range commits {
		if _, err := s.Append(ctx, appendReq(stream, events.Exactly(uint64(i*size)), happenedN(i*size, size)...)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(torn) > 0 {
		t.Fatalf("readers saw part of an append: lengths %v", torn)
	}
	assertLen(ctx, t, s, stream, size*commits)
	// The log holds the commits whole as well.
	start := uint64(0)
	got := readOwn(ctx, t, s, start, map[string]bool{stream: true}, size*commits)
	for i := 0; i < len(got); i += size {
		for j := 1; j < size; j++ {
			if got[i+j].Position != got[i].Position {
				t.Fatalf("events %d and %d of one append have positions %d and %d", i, i+j, got[i].Position, got[i+j].Position)
			}
		}
		for j := 0; j < size; j++ {
			if got[i+j].LastInCommit != (j == size-1) {
				t.Fatalf("event %d of an append of %d: LastInCommit = %v", j, size, got[i+j].LastInCommit)
			}
		}
	}
	// Subscribers see where each append ends, too.
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var seen []events.Event
	_ = s.Subscribe(subCtx, 0, func(e events.Event) error {
		if e.StreamID == stream {
			seen = append(seen, e)
			if len(seen) == size*commits {
				cancel()
			}
		}
		return nil
	})
	if len(seen) != size*commits {
		t.Fatalf("subscriber saw %d events, want %d", len(seen), size*commits)
	}
	for i, e := range seen {
		if e.LastInCommit != (i%size == size-1) {
			t.Fatalf("subscribed event %d: LastInCommit = %v", i, e.LastInCommit)
		}
	}
}

func testLongStream(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()
	stream := newStreamID("loan")
	const total, per = 10_000, 100
	for i := 0; i < total; i += per {
		if _, err := s.Append(ctx, appendReq(stream, events.Exactly(uint64(i)), happenedN(i, per)...)); err != nil {
			t.Fatal(err)
		}
	}
	// Single-event commits at the end: the tail is read commit by commit.
	for i := total; i < total+20; i++ {
		if _, err := s.Append(ctx, appendReq(stream, events.Exactly(uint64(i)), happened(i))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ReadStream(ctx, stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != total+20 {
		t.Fatalf("read %d events, want %d", len(got), total+20)
	}
	for i, e := range got {
		var h Happened
		if err := json.Unmarshal(e.Payload, &h); err != nil || e.Version != uint64(i+1) || h.N != i {
			t.Fatalf("event %d: version %d n %d (%v)", i, e.Version, h.N, err)
		}
	}
	tail, err := s.ReadStream(ctx, stream, 9_990)
	if err != nil || len(tail) != 31 || tail[0].Version != 9_990 {
		t.Fatalf("read from 9990 = %d events, %v", len(tail), err)
	}
}

func testReopen(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()
	stream := newStreamID("policy")
	res, err := s.Append(ctx, appendReq(stream, events.NoStream, happenedN(0, 3)...))
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.ReadStream(ctx, stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	s = b.Reopen(t)
	after, err := s.ReadStream(ctx, stream, 1)
	if err != nil {
		t.Fatalf("read after reopen: %v", err)
	}
	if len(after) != len(before) {
		t.Fatalf("after reopen %d events, before %d", len(after), len(before))
	}
	for i := range before {
		a, b := before[i], after[i]
		if a.ID != b.ID || a.Version != b.Version || a.Position != b.Position || !a.RecordedAt.Equal(b.RecordedAt) || !bytes.Equal(a.Payload, b.Payload) {
			t.Errorf("event %d changed across reopen: %+v vs %+v", i, a, b)
		}
	}
	head, err := s.Head(ctx)
	if err != nil || head < res.Position {
		t.Errorf("head after reopen = %d, %v; want at least %d", head, err, res.Position)
	}
	if _, err := s.Append(ctx, appendReq(stream, events.Exactly(3), happened(3))); err != nil {
		t.Errorf("append after reopen: %v", err)
	}
	if _, err := s.Append(ctx, appendReq(stream, events.Exactly(3), happened(4))); !isConflict(err, 4) {
		t.Errorf("stale append after reopen: %v, want a conflict at 4", err)
	}
}

func testBadInput(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s := b.Store()
	stream := newStreamID("company")
	big := json.RawMessage(`{"text":"` + strings.Repeat("x", events.MaxEventSize) + `"}`)
	cases := []struct {
		name  string
		req   events.AppendRequest
		field string
	}{
		{"empty stream ID", appendReq("", events.NoStream, happened(1)), "stream_id"},
		{"stream ID without type", appendReq("nodash", events.NoStream, happened(1)), "stream_id"},
		{"stream ID with a dot", appendReq("company-a.b", events.NoStream, happened(1)), "stream_id"},
		{"stream ID with a wildcard", appendReq("company-*", events.NoStream, happened(1)), "stream_id"},
		{"unknown event type", appendReq(stream, events.NoStream, events.NewEvent{Type: "test.unknown.v1", Payload: json.RawMessage(`{}`)}), "events[0].type"},
		{"oversized event", appendReq(stream, events.NoStream, events.NewEvent{Type: "test.noted.v1", Payload: big}), "events[0].payload"},
		{"payload not JSON", appendReq(stream, events.NoStream, events.NewEvent{Type: "test.noted.v1", Payload: json.RawMessage(`{"text":`)}), "events[0].payload"},
		{"second payload not JSON", appendReq(stream, events.NoStream, happened(1), events.NewEvent{Type: "test.noted.v1", Payload: json.RawMessage(`{"text":"a",}`)}), "events[1].payload"},
		{"invalid expected version", appendReq(stream, events.ExpectedVersion(-7), happened(1)), "expected_version"},
		{"no events", appendReq(stream, events.NoStream), "events"},
		{"no actor", events.AppendRequest{StreamID: stream, Expected: events.NoStream, Events: []events.NewEvent{happened(1)}}, "meta.actor"},
	}
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		_, err := s.Append(ctx, tc.req)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID {
			t.Errorf("%s: error %v, want %s", tc.name, err, fundbridge.EINVALID)
			continue
		}
		named := false
		for _, f := range fundbridge.ErrorFields(err) {
			named = named || f.Field == tc.field
		}
		if !named {
			t.Errorf("%s: error %v does not name field %q", tc.name, err, tc.field)
		}
	}
	if after, err := s.Head(ctx); err != nil || after != head {
		t.Errorf("head moved from %d to %d (%v): bad input was appended", head, after, err)
	}
	assertLen(ctx, t, s, stream, 0)
}
