package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/natsserver"
)

// directStore is a store on a one-server JetStream in a temporary
// directory, and its connection.
func directStore(t *testing.T) (*Store, *nats.Conn) {
	t.Helper()
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	s := openNotes(t, nc)
	if !s.direct {
		t.Fatal("the event stream does not allow direct gets")
	}
	return s, nc
}

// openNotes opens a store of notes on nc, closed with the test.
func openNotes(t *testing.T, nc *nats.Conn) *Store {
	t.Helper()
	reg := events.NewRegistry()
	events.Register[struct {
		Text string `json:"text"`
	}](reg, "test.noted.v1")
	s, err := Open(context.Background(), nc, reg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// appendNotes appends count single-event commits to stream, each note
// padded to size bytes, and returns the last append's result.
func appendNotes(t *testing.T, s *Store, stream string, from uint64, count, size int) events.AppendResult {
	t.Helper()
	var res events.AppendResult
	for i := range count {
		v := from + uint64(i)
		text := fmt.Sprintf("note %d ", v+1)
		text += strings.Repeat("x", max(size-len(text), 0))
		payload, _ := json.Marshal(map[string]string{"text": text})
		var err error
		res, err = s.Append(context.Background(), events.AppendRequest{StreamID: stream, Expected: events.Exactly(v),
			Events: []events.NewEvent{{Type: "test.noted.v1", Payload: payload}},
			Meta:   events.Meta{Actor: fundbridge.Actor{UserID: "u", Role: fundbridge.RoleOperator}}})
		if err != nil {
			t.Fatalf("append version %d to %s: %v", v+1, stream, err)
		}
	}
	return res
}

// versions checks that evs are the versions first..last in order, each
// with its own position, and says what differs.
func versions(evs []events.Event, first, last uint64) error {
	if uint64(len(evs)) != last-first+1 {
		return fmt.Errorf("%d events, want versions %d..%d", len(evs), first, last)
	}
	for i, e := range evs {
		if e.Version != first+uint64(i) {
			return fmt.Errorf("event %d is version %d, want %d", i, e.Version, first+uint64(i))
		}
		if i > 0 && e.Position <= evs[i-1].Position {
			return fmt.Errorf("version %d at position %d, after %d", e.Version, e.Position, evs[i-1].Position)
		}
		if !strings.Contains(string(e.Payload), fmt.Sprintf(`"note %d `, e.Version)) {
			return fmt.Errorf("version %d carries %.40s", e.Version, e.Payload)
		}
	}
	return nil
}

// A tail after a snapshot, whatever its length (none, some, or all the
// events since a snapshot older than the head), is read whole and in
// order, and a snapshot at or past the head reads nothing.
func TestReadsAfterASnapshot(t *testing.T) {
	s, _ := directStore(t)
	ctx := context.Background()
	appendNotes(t, s, "note-other", 0, 5, 40) // another subject's commits between
	snap := appendNotes(t, s, "note-1", 0, 50, 40)
	appendNotes(t, s, "note-other", 5, 5, 40)
	head := appendNotes(t, s, "note-1", 50, 70, 40)

	evs, err := s.ReadStreamAfter(ctx, "note-1", snap.LastVersion+1, snap.Position)
	if err != nil {
		t.Fatal(err)
	}
	if err := versions(evs, 51, 120); err != nil {
		t.Errorf("tail of 70 after the snapshot at 50: %v", err)
	}
	if evs[len(evs)-1].Position != head.Position {
		t.Errorf("last event at %d, want the head's %d", evs[len(evs)-1].Position, head.Position)
	}
	// A snapshot at the head: a tail of none.
	evs, err = s.ReadStreamAfter(ctx, "note-1", head.LastVersion+1, head.Position)
	if err != nil || len(evs) != 0 {
		t.Errorf("tail after a snapshot at the head: %d events, %v", len(evs), err)
	}
	// A snapshot ahead of the stream (taken from a fold this store never
	// wrote, say): nothing, and no error.
	evs, err = s.ReadStreamAfter(ctx, "note-1", head.LastVersion+50, head.Position+50)
	if err != nil || len(evs) != 0 {
		t.Errorf("tail after a snapshot past the head: %d events, %v", len(evs), err)
	}
	// The same position, but a version before the head: the rest of it.
	evs, err = s.ReadStreamAfter(ctx, "note-1", 100, snap.Position)
	if err != nil {
		t.Fatal(err)
	}
	if err := versions(evs, 100, 120); err != nil {
		t.Errorf("from version 100: %v", err)
	}
}

// Reads past directMost events go to the ordered consumer and still read
// every event once, in order: a full read, and one from the middle.
func TestLongReadsReadEveryEvent(t *testing.T) {
	s, _ := directStore(t)
	ctx := context.Background()
	n := uint64(3*directMost + 7)
	appendNotes(t, s, "note-long", 0, int(n), 40)
	evs, err := s.ReadStream(ctx, "note-long", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := versions(evs, 1, n); err != nil {
		t.Errorf("full read: %v", err)
	}
	evs, err = s.ReadStreamAfter(ctx, "note-long", 10, evs[8].Position)
	if err != nil {
		t.Fatal(err)
	}
	if err := versions(evs, 10, n); err != nil {
		t.Errorf("read from version 10: %v", err)
	}
}

// A long read on one server is bounded by what its consumer counted when
// it was made, not by a get of the head first (consumeToHead): it still
// reads what another store appended after this one last saw the head, and
// a read while appends go on ends, with every version up to some head.
func TestALongReadReachesTheHeadAnotherStoreMoved(t *testing.T) {
	s, nc := directStore(t)
	ctx := context.Background()
	n := uint64(2*directMost + 3)
	appendNotes(t, s, "note-moved", 0, int(n), 40)
	if !s.looksLong("note-moved", 1, 1) {
		t.Fatal("the store does not know the stream is long: the test reads by the other path")
	}
	other := openNotes(t, nc)
	appendNotes(t, other, "note-moved", n, 9, 40)
	evs, err := s.ReadStream(ctx, "note-moved", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := versions(evs, 1, n+9); err != nil {
		t.Errorf("read after another store appended: %v", err)
	}
	if h, _ := s.heads.get("note-moved"); h.version != n+9 {
		t.Errorf("head seen %d, want %d", h.version, n+9)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		appendNotes(t, other, "note-moved", n+9, 200, 40)
	}()
	for range 5 {
		evs, err := s.ReadStream(ctx, "note-moved", 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := versions(evs, 1, uint64(len(evs))); err != nil || uint64(len(evs)) < n+9 {
			t.Errorf("read during appends: %d events, %v", len(evs), err)
		}
	}
	<-done
}

// A batch ends at directMaxBytes; the read asks again from where it
// ended until it reaches the head.
func TestDirectReadsGoOnAcrossBatches(t *testing.T) {
	s, _ := directStore(t)
	ctx := context.Background()
	const n, size = 60, 200 << 10 // 60 commits of 200 KiB: 12 MiB, past one batch's 8 MiB
	head := appendNotes(t, s, "note-big", 0, n, size)
	subject := s.validSubject("note-big")

	var first []uint64
	last, err := s.directBatchGet(ctx, subject, 1, func(seq uint64, _ []byte) bool { first = append(first, seq); return true })
	if err != nil {
		t.Fatal(err)
	}
	if len(first) == 0 || len(first) >= n || last != first[len(first)-1] {
		t.Fatalf("one batch brought %d of %d commits, ending at %d", len(first), n, last)
	}

	lastCommit, err := decodeCommit(mustLast(t, s, subject).Data)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	next, done, err := s.scanDirect(ctx, subject, 1, head.Position, lastCommit, nil, func(seq uint64, c *commit) bool {
		got = append(got, seq)
		return true
	})
	if err != nil || !done || next != head.Position+1 {
		t.Fatalf("scanDirect = next %d, done %v, %v", next, done, err)
	}
	if len(got) != n || got[n-1] != head.Position {
		t.Errorf("scanDirect read %d commits, ending at %v", len(got), got[len(got)-1])
	}
	evs, err := s.ReadStream(ctx, "note-big", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := versions(evs, 1, n); err != nil {
		t.Errorf("ReadStream of 12 MiB: %v", err)
	}
}

func mustLast(t *testing.T, s *Store, subject string) *njs.RawStreamMsg {
	t.Helper()
	m, err := s.lastOn(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A server whose copy ends before the leader's head (a replica that is
// behind) answers short; the read is told it is not done and from where
// the leader must go on, having passed on every commit it did get.
func TestADirectReadShortOfTheHeadIsNotDone(t *testing.T) {
	s, _ := directStore(t)
	ctx := context.Background()
	head := appendNotes(t, s, "note-1", 0, 10, 40)
	subject := s.validSubject("note-1")
	// The leader's head, as if it were 5 commits further than this server.
	ahead := head.Position + 5
	var got []uint64
	next, done, err := s.scanDirect(ctx, subject, 1, ahead, &commit{}, nil, func(seq uint64, c *commit) bool {
		got = append(got, seq)
		return true
	})
	if err != nil || done || next != head.Position+1 {
		t.Errorf("scanDirect short of the head = next %d, done %v, %v; want next %d, not done", next, done, err, head.Position+1)
	}
	if len(got) != 10 {
		t.Errorf("passed on %d commits, want the 10 there are", len(got))
	}
}

// A message on the stream's subject that is no commit, between commits,
// is quarantined and skipped by a direct read, which goes on past it.
func TestADirectReadSkipsAQuarantinedMessage(t *testing.T) {
	s, nc := directStore(t)
	ctx := context.Background()
	snap := appendNotes(t, s, "note-1", 0, 5, 40)
	appendNotes(t, s, "note-1", 5, 3, 40)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := js.Publish(ctx, "fb.ev.note.1", []byte("not a commit"))
	if err != nil {
		t.Fatal(err)
	}
	// The next append expects the garbage as the subject's last message.
	res, err := s.Append(ctx, events.AppendRequest{StreamID: "note-1", Expected: events.Exactly(8),
		Events: []events.NewEvent{{Type: "test.noted.v1", Payload: json.RawMessage(`{"text":"note 9 after"}`)}},
		Meta:   events.Meta{Actor: fundbridge.Actor{UserID: "u", Role: fundbridge.RoleOperator}}})
	if err != nil {
		t.Fatalf("append after the garbage: %v", err)
	}
	appendNotes(t, s, "note-1", res.LastVersion, 3, 40)

	evs, err := s.ReadStreamAfter(ctx, "note-1", snap.LastVersion+1, snap.Position)
	if err != nil {
		t.Fatal(err)
	}
	if err := versions(evs, 6, 12); err != nil {
		t.Errorf("tail over a quarantined message: %v", err)
	}
	n, list := s.Quarantined()
	if n != 1 || len(list) != 1 || list[0].Position != bad.Sequence {
		t.Errorf("Quarantined = %d %+v, want the message at %d", n, list, bad.Sequence)
	}
}

// A store whose NATS user may not send batched direct gets (permissions
// made before this version) reads everything by consumer, and waits for
// an unanswered batch once, not on every read.
func TestReadsWithoutDirectGetPermissionGoByConsumer(t *testing.T) {
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Users: []*server.NkeyUser{{Nkey: pub,
		Permissions: &server.Permissions{Publish: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{"$JS.API.DIRECT.GET.*"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	opt, err := nats.NkeyOptionFromSeed(writeSeed(t, seed))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	s := openNotes(t, nc)
	head := appendNotes(t, s, "note-1", 0, 5, 10)
	for read := 1; read <= 2; read++ {
		evs, err := s.ReadStreamAfter(context.Background(), "note-1", 1, 0)
		if err != nil {
			t.Fatalf("read %d: %v", read, err)
		}
		if err := versions(evs, 1, head.LastVersion); err != nil {
			t.Fatalf("read %d: %v", read, err)
		}
		if !s.directSilent.Load() {
			t.Fatalf("read %d: the store still sends batched direct gets no server answers", read)
		}
	}
}

// writeSeed writes an nkey seed to a file for nats.NkeyOptionFromSeed.
func writeSeed(t *testing.T, seed []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(path, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
