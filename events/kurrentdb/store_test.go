package kurrentdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/storetest"
)

// server is a store on the KurrentDB at FUNDBRIDGE_KURRENTDB_URL. The suite
// uses fresh stream IDs, so a shared server will do.
type server struct {
	url   string
	store *Store
}

func (b *server) open(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, b.url, storetest.Registry())
	if err != nil {
		t.Fatal(err)
	}
	b.store = s
}

func (b *server) Store() events.Store { return b.store }

func (b *server) Reopen(t *testing.T) events.Store {
	if err := b.store.Close(); err != nil {
		t.Fatal(err)
	}
	b.open(t)
	return b.store
}

func TestConformance(t *testing.T) {
	url := os.Getenv("FUNDBRIDGE_KURRENTDB_URL")
	if url == "" {
		t.Skip("FUNDBRIDGE_KURRENTDB_URL not set: no KurrentDB server on this machine")
	}
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		b := &server{url: url}
		b.open(t)
		t.Cleanup(func() { b.store.Close() })
		return b
	})
}

// The tests below need no server.

func TestStreamState(t *testing.T) {
	cases := []struct {
		in   events.ExpectedVersion
		want kurrentdb.StreamState
	}{
		{events.Any, kurrentdb.Any{}},
		{events.NoStream, kurrentdb.NoStream{}},
		{events.Exactly(0), kurrentdb.NoStream{}},
		{events.Exactly(1), kurrentdb.StreamRevision{Value: 0}},
		{events.Exactly(5), kurrentdb.StreamRevision{Value: 4}},
		{events.Exactly(10_000), kurrentdb.StreamRevision{Value: 9_999}},
	}
	for _, tc := range cases {
		if got := streamState(tc.in); got != tc.want {
			t.Errorf("streamState(%d) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestEventUUIDs(t *testing.T) {
	a := keyedUUID("deal-1", "key-1", 0)
	if a != keyedUUID("deal-1", "key-1", 0) {
		t.Error("keyed UUID differs for the same stream, key and index")
	}
	if a.Version() != 5 {
		t.Errorf("keyed UUID has version %d, want 5 (name-based, SHA-1)", a.Version())
	}
	for name, other := range map[string]uuid.UUID{
		"index":  keyedUUID("deal-1", "key-1", 1),
		"key":    keyedUUID("deal-1", "key-2", 0),
		"stream": keyedUUID("deal-2", "key-1", 0),
		// The parts are delimited, so shifting text between them changes the name.
		"split": keyedUUID("deal-1", "1\x00key-1", 0),
		"named": namedUUID("key-1"),
	} {
		if other == a {
			t.Errorf("another %s gives the same UUID %s", name, a)
		}
	}

	n := namedUUID("ev-a-deal-1")
	if n != namedUUID("ev-a-deal-1") || n == namedUUID("ev-b-deal-1") {
		t.Error("named UUIDs are not a function of the event ID")
	}
	given := uuid.New()
	if got := namedUUID(given.String()); got != given {
		t.Errorf("an event ID that is a UUID maps to %s, want itself %s", got, given)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	in := envelope{
		ID:             "01JTESTEVENT0000000000000A",
		RecordedAt:     time.Date(2025, 3, 4, 5, 6, 7, 123456789, paris),
		Actor:          fundbridge.Actor{UserID: "user-1", Role: fundbridge.RoleStartup, OrgID: "org-1"},
		CorrelationID:  "corr-1",
		CausationID:    "cmd-1",
		IdempotencyKey: "key \"quoted\" 名字",
		CommitID:       "01JTESTCOMMIT000000000000A",
		CommitIndex:    1,
		CommitSize:     3,
	}
	b, err := encodeEnvelope(in)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"id", "recorded_at", "actor", "correlation_id", "causation_id", "idempotency_key", "commit_id"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("metadata %s lacks %q", b, key)
		}
	}
	if got := raw["recorded_at"]; got != "2025-03-04T04:06:07.123456789Z" {
		t.Errorf("recorded_at = %v, want UTC RFC 3339 with nanoseconds", got)
	}
	if actor, _ := raw["actor"].(map[string]any); actor["user"] != "user-1" || actor["role"] != "startup" || actor["org"] != "org-1" {
		t.Errorf("actor = %v, want user, role and org", raw["actor"])
	}

	out, err := decodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	if !out.RecordedAt.Equal(in.RecordedAt) || out.RecordedAt.Location() != time.UTC {
		t.Errorf("recorded at %v, want %v in UTC", out.RecordedAt, in.RecordedAt)
	}
	out.RecordedAt, in.RecordedAt = time.Time{}, time.Time{}
	if out != in {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
}

func TestDecodeEnvelopeRefusesForeignMetadata(t *testing.T) {
	for _, b := range []string{``, `{}`, `not json`, `{"id":"x"}`, `{"$correlationId":"abc"}`,
		`{"id":"x","commit_id":"c","commit_index":2,"commit_size":2}`,
		`{"id":"x","commit_id":"c","commit_index":0,"commit_size":0}`} {
		if _, err := decodeEnvelope([]byte(b)); err == nil {
			t.Errorf("decodeEnvelope(%q) accepted it", b)
		}
	}
}

func TestParseCurrentRevision(t *testing.T) {
	cases := []struct {
		msg  string
		want uint64
		ok   bool
	}{
		{"wrong expected version: expecting '2' but got '4'", 5, true},
		{"wrong expected version: expecting 'no_stream' but got '0'", 1, true},
		{"wrong expected version: expecting '2' but got 'no_stream'", 0, true},
		{"wrong expected version: expecting 'any' but got '41'", 42, true},
		{"something else", 0, false},
		{"but got 'x'", 0, false},
		{"but got '3", 0, false},
	}
	for _, tc := range cases {
		if got, ok := parseCurrentRevision(tc.msg); got != tc.want || ok != tc.ok {
			t.Errorf("parseCurrentRevision(%q) = %d, %v; want %d, %v", tc.msg, got, ok, tc.want, tc.ok)
		}
	}
}

func TestReportedVersionNeedsAClientError(t *testing.T) {
	if _, ok := reportedVersion(errors.New("wrong expected version: expecting '2' but got '4'")); ok {
		t.Error("a plain error was read as the server's report")
	}
}

func TestUnavailable(t *testing.T) {
	if err := unavailable(context.DeadlineExceeded); !errors.Is(err, events.ErrUnavailable) {
		t.Errorf("deadline: %v is not unavailable", err)
	}
	if err := unavailable(fmt.Errorf("read: %w", context.DeadlineExceeded)); fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
		t.Errorf("wrapped deadline: code %q", fundbridge.ErrorCode(err))
	}
	plain := errors.New("boom")
	if err := unavailable(plain); err != plain {
		t.Errorf("unavailable(%v) = %v, want it unchanged", plain, err)
	}
}

// rec is an event read at log position pos: the i-th of an append of n.
func rec(stream, commit string, i, n int, version, pos uint64) record {
	return record{
		event: events.Event{StreamID: stream, Version: version, Position: pos},
		env:   envelope{ID: fmt.Sprintf("%s-%d", commit, i), CommitID: commit, CommitIndex: i, CommitSize: n},
	}
}

func positions(rs []record) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.event.Position)
	}
	return out
}

func TestAssemblerGivesAnAppendItsLastEventsPosition(t *testing.T) {
	var a assembler
	if got := a.add(rec("deal-1", "c1", 0, 3, 1, 100)); len(got) != 0 {
		t.Fatalf("first of three completed %v", positions(got))
	}
	if got := a.add(rec("deal-1", "c1", 1, 3, 2, 200)); len(got) != 0 {
		t.Fatalf("second of three completed %v", positions(got))
	}
	got := a.add(rec("deal-1", "c1", 2, 3, 3, 300))
	if fmt.Sprint(positions(got)) != "[300 300 300]" {
		t.Fatalf("complete append at %v, want all at 300", positions(got))
	}
	if got := a.add(rec("fund-1", "c2", 0, 1, 1, 400)); fmt.Sprint(positions(got)) != "[400]" {
		t.Errorf("single-event append at %v, want [400]", positions(got))
	}
	if rest := a.flush(); len(rest) != 0 {
		t.Errorf("nothing pending, flush returned %v", positions(rest))
	}
}

func TestAssemblerReadStartingInsideAnAppend(t *testing.T) {
	var a assembler
	a.add(rec("deal-1", "c1", 1, 3, 2, 200))
	if got := a.add(rec("deal-1", "c1", 2, 3, 3, 300)); fmt.Sprint(positions(got)) != "[300 300]" {
		t.Errorf("tail of an append at %v, want [300 300]", positions(got))
	}
}

func TestAssemblerBrokenAppend(t *testing.T) {
	var a assembler
	a.add(rec("deal-1", "c1", 0, 3, 1, 100))
	a.add(rec("deal-1", "c1", 1, 3, 2, 200))
	// c1's last event never comes: it is handed out before c2, whole as far as it goes.
	got := a.add(rec("deal-1", "c2", 0, 1, 3, 300))
	if fmt.Sprint(positions(got)) != "[200 200 300]" || got[0].env.CommitID != "c1" || got[2].env.CommitID != "c2" {
		t.Errorf("broken then whole append = %v", positions(got))
	}
	a.add(rec("deal-1", "c3", 0, 2, 4, 400))
	if rest := a.flush(); fmt.Sprint(positions(rest)) != "[400]" {
		t.Errorf("flush of an unfinished append = %v, want [400]", positions(rest))
	}
}

func TestSameCommitAndResult(t *testing.T) {
	batch := []record{rec("deal-1", "c1", 0, 2, 4, 500), rec("deal-1", "c1", 1, 2, 5, 500), rec("deal-1", "c2", 0, 1, 6, 600)}
	g := sameCommit(batch)
	if len(g) != 2 {
		t.Fatalf("sameCommit kept %d records, want 2", len(g))
	}
	if res := resultOf(g); res != (events.AppendResult{FirstVersion: 4, LastVersion: 5, Position: 500}) {
		t.Errorf("resultOf = %+v", res)
	}
}

func TestAllPosition(t *testing.T) {
	if got := allPosition(0); got != (kurrentdb.Start{}) {
		t.Errorf("allPosition(0) = %#v, want Start", got)
	}
	if got := allPosition(42); got != (kurrentdb.Position{Commit: 42, Prepare: 42}) {
		t.Errorf("allPosition(42) = %#v", got)
	}
}

func TestIsSystem(t *testing.T) {
	cases := []struct {
		stream, typ string
		want        bool
	}{
		{"deal-1", "test.happened.v1", false},
		{"deal-1", "$metadata", true},
		{"$$deal-1", "$metadata", true},
		{"$ce-deal", "$>", true},
		{"$stats-127.0.0.1:2113", "statsCollected", true},
	}
	for _, tc := range cases {
		if got := isSystem(&kurrentdb.RecordedEvent{StreamID: tc.stream, EventType: tc.typ}); got != tc.want {
			t.Errorf("isSystem(%s, %s) = %v, want %v", tc.stream, tc.typ, got, tc.want)
		}
	}
}

func TestConnectionStrings(t *testing.T) {
	for _, url := range []string{
		"esdb://localhost:2113?tls=false",
		"esdb+discover://localhost:2113?tls=false",
		"kurrentdb://admin:changeit@localhost:2113?tls=false",
		"kurrentdb+discover://node1:2113,node2:2113?tls=false",
	} {
		if _, err := kurrentdb.ParseConnectionString(url); err != nil {
			t.Errorf("%s: %v", url, err)
		}
	}
	if _, err := Open(context.Background(), "http://localhost:2113", storetest.Registry()); err == nil {
		t.Error("Open accepted an http URL")
	}
}

func TestDecodeRecord(t *testing.T) {
	env := envelope{
		ID: "ev-1", RecordedAt: time.Now(), Actor: fundbridge.Actor{UserID: "u", Role: fundbridge.RoleBank},
		CorrelationID: "corr", CausationID: "cmd", IdempotencyKey: "k", CommitID: "c", CommitIndex: 0, CommitSize: 1,
	}
	meta, err := encodeEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	commit := uint64(777)
	re := &kurrentdb.ResolvedEvent{
		Event: &kurrentdb.RecordedEvent{
			EventID: uuid.New(), EventType: "test.noted.v1", StreamID: "deal-1", EventNumber: 4,
			Position: kurrentdb.Position{Commit: 777, Prepare: 777}, Data: []byte(`{"text":"x"}`), UserMetadata: meta,
		},
		Commit: &commit,
	}
	r, ok := ownRecord(re)
	if !ok {
		t.Fatal("ownRecord refused the store's own event")
	}
	e := r.event
	if e.ID != "ev-1" || e.Version != 5 || e.Position != 777 || e.Type != "test.noted.v1" || e.StreamID != "deal-1" ||
		e.Actor != env.Actor || e.CorrelationID != "corr" || e.CausationID != "cmd" || e.IdempotencyKey != "k" ||
		!e.RecordedAt.Equal(env.RecordedAt) || !bytes.Equal(e.Payload, []byte(`{"text":"x"}`)) {
		t.Errorf("decoded %+v", e)
	}
	re.Event.UserMetadata = []byte(`{"someone":"else"}`)
	if _, ok := ownRecord(re); ok {
		t.Error("ownRecord took another application's event")
	}
}
