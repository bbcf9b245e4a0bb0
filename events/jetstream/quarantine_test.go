package jetstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/events/storetest"
)

func noted(text string) events.NewEvent {
	return events.NewEvent{Type: "test.noted.v1", Payload: json.RawMessage(fmt.Sprintf(`{"text":%q}`, text))}
}

func appendNoted(t *testing.T, s *jetstream.Store, stream string, expected events.ExpectedVersion, text string) events.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), events.AppendRequest{StreamID: stream, Expected: expected, Events: []events.NewEvent{noted(text)},
		Meta: events.Meta{Actor: fundbridge.Actor{UserID: "u", Role: fundbridge.RoleOperator}}})
	if err != nil {
		t.Fatalf("append %s to %s: %v", text, stream, err)
	}
	return res
}

// A message on an event subject that is not a valid commit is quarantined:
// every read skips it, Subscribe tells of it and goes on, appends to its
// stream go on, and nothing after it is held up.
func TestABadMessageCannotStallTheLog(t *testing.T) {
	b := newEmbedded(t, true, jetstream.Options{GroupCommit: true})
	s, ctx := b.store, context.Background()
	appendNoted(t, s, "note-1", events.NoStream, "first")
	// Garbage, then a well-formed commit filed under another stream's subject.
	if err := b.nc.Publish("fb.ev.note.1", []byte("not json at all")); err != nil {
		t.Fatal(err)
	}
	foreign := `{"id":"x","stream":"note-2","first":1,"recorded_at":"2026-01-01T00:00:00Z","actor":{"user":"u","role":"operator"},"events":[{"id":"e","type":"test.noted.v1","payload":{"text":"stolen"}}]}`
	if err := b.nc.Publish("fb.ev.note.1", []byte(foreign)); err != nil {
		t.Fatal(err)
	}
	b.nc.Flush()
	time.Sleep(100 * time.Millisecond) // plain publishes: let the server store them
	// The stream's last message is garbage; an append at version 1 still works.
	last := appendNoted(t, s, "note-1", events.Exactly(1), "second")
	if last.Position != 4 || last.LastVersion != 2 {
		t.Errorf("append after the garbage: %+v, want position 4, version 2", last)
	}
	if err := b.nc.Publish("fb.ev.note.1", []byte(`{"id":`)); err != nil { // and garbage last again
		t.Fatal(err)
	}
	b.nc.Flush()
	time.Sleep(100 * time.Millisecond)

	evs, err := s.ReadStream(ctx, "note-1", 1)
	if err != nil || len(evs) != 2 || evs[1].Version != 2 {
		t.Fatalf("ReadStream = %d events, %v", len(evs), err)
	}
	all, err := s.ReadAll(ctx, 0, 100)
	if err != nil || len(all) != 2 || all[1].Position != 4 {
		t.Fatalf("ReadAll = %+v, %v", all, err)
	}
	next := appendNoted(t, s, "note-1", events.Exactly(2), "third")

	// Subscribe delivers events and placeholders in log order, and goes on live.
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan events.Event, 16)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(subCtx, 0, func(e events.Event) error { got <- e; return nil })
	}()
	var positions []string
	for len(positions) < 6 {
		select {
		case e := <-got:
			if q, ok := events.QuarantineOf(e); ok {
				positions = append(positions, fmt.Sprintf("q%d", q.Position))
				if q.Reason == "" || q.Subject != "fb.ev.note.1" {
					t.Errorf("quarantine record %+v", q)
				}
				continue
			}
			positions = append(positions, fmt.Sprint(e.Position))
		case err := <-done:
			t.Fatalf("subscription ended: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatalf("the subscription stalled after %v", positions)
		}
	}
	if fmt.Sprint(positions) != fmt.Sprintf("[1 q2 q3 4 q5 %d]", next.Position) {
		t.Errorf("Subscribe saw %v", positions)
	}
	live := appendNoted(t, s, "note-9", events.NoStream, "live")
	select {
	case e := <-got:
		if e.Position != live.Position {
			t.Errorf("live event at %d, want %d", e.Position, live.Position)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no live event after the quarantined ones")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Subscribe = %v", err)
	}
	n, list := s.Quarantined()
	if n != 3 || len(list) != 3 || list[0].Position != 2 || list[1].Position != 3 || list[2].Position != 5 {
		t.Errorf("Quarantined = %d %+v", n, list)
	}
}

// An event whose type has a home elsewhere (events.Registry.Home) is not
// appended there, and a commit filed there by whoever may publish on the
// stream's subject is quarantined: no reader folds it.
func TestAnEventOutsideItsHomeIsQuarantined(t *testing.T) {
	b := newEmbedded(t, true, jetstream.Options{GroupCommit: true})
	ctx := context.Background()
	registry := storetest.Registry()
	registry.Home([]string{"note"}, []string{"test.noted.v1"})
	s, err := jetstream.Open(ctx, b.nc, registry, jetstream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, err = s.Append(ctx, events.AppendRequest{StreamID: "other-1", Expected: events.NoStream, Events: []events.NewEvent{noted("misfiled")},
		Meta: events.Meta{Actor: fundbridge.Actor{UserID: "u", Role: fundbridge.RoleOperator}}})
	if fundbridge.ErrorCode(err) != fundbridge.EINVALID {
		t.Errorf("appending test.noted.v1 to other-1 = %v, want invalid", err)
	}
	forged := `{"id":"x","stream":"other-1","first":1,"recorded_at":"2026-01-01T00:00:00Z","actor":{"user":"u","role":"operator"},"events":[{"id":"e","type":"test.noted.v1","payload":{"text":"forged"}}]}`
	if err := b.nc.Publish("fb.ev.other.1", []byte(forged)); err != nil {
		t.Fatal(err)
	}
	b.nc.Flush()
	time.Sleep(100 * time.Millisecond)
	home := appendNoted(t, s, "note-1", events.NoStream, "at home")
	if evs, err := s.ReadStream(ctx, "other-1", 1); err != nil || len(evs) != 0 {
		t.Errorf("ReadStream(other-1) = %+v, %v; want nothing", evs, err)
	}
	all, err := s.ReadAll(ctx, 0, 100)
	if err != nil || len(all) != 1 || all[0].Position != home.Position {
		t.Errorf("ReadAll = %+v, %v; want only the event at home", all, err)
	}
	if n, list := s.Quarantined(); n != 1 || len(list) != 1 || list[0].Subject != "fb.ev.other.1" {
		t.Errorf("Quarantined = %d %+v", n, list)
	}
}
