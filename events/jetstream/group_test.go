package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/natsserver"
)

type groupTestEvent struct {
	N int `json:"n"`
}

// TestGroupCommitUnderLoad drives enough concurrent appends through the
// group committer to make atomic batches, some of them refused because an
// append in them is stale, and checks every stream ends as it must.
func TestGroupCommitUnderLoad(t *testing.T) {
	srv, err := natsserver.Start(natsserver.Options{DataDir: t.TempDir(), SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	reg := events.NewRegistry()
	events.Register[groupTestEvent](reg, "test.grouped.v1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, nc, reg, Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	actor := fundbridge.Actor{UserID: "u", Role: fundbridge.RoleSystem}
	req := func(stream string, expected events.ExpectedVersion, n int) events.AppendRequest {
		return events.AppendRequest{StreamID: stream, Expected: expected, Meta: events.Meta{Actor: actor},
			Events: []events.NewEvent{{Type: "test.grouped.v1", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}}}
	}
	const own, each, racers, shared = 3 * minGroup, 20, 4, 2
	var wg sync.WaitGroup
	errs := make(chan error, own+racers)
	for g := range own {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("grouped-own%d", g)
			for i := range each {
				res, err := s.Append(ctx, req(stream, events.Exactly(uint64(i)), i))
				if err != nil {
					errs <- fmt.Errorf("%s at %d: %w", stream, i, err)
					return
				}
				if res.LastVersion != uint64(i+1) {
					errs <- fmt.Errorf("%s: appended version %d, want %d", stream, res.LastVersion, i+1)
					return
				}
			}
		}()
	}
	// Racers append to a few shared streams with Any: their cached heads go
	// stale, so some batches holding them are refused and retried alone.
	var mu sync.Mutex
	appended := map[string]int{}
	for g := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				stream := fmt.Sprintf("grouped-shared%d", (g+i)%shared)
				if _, err := s.Append(ctx, req(stream, events.Any, i)); err != nil {
					errs <- fmt.Errorf("%s: %w", stream, err)
					return
				}
				mu.Lock()
				appended[stream]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if s.group.batches.Load() == 0 {
		t.Error("no atomic batch was committed: the test did not exercise group commit")
	}
	check := func(stream string, want int) {
		evs, err := s.ReadStream(ctx, stream, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != want {
			t.Fatalf("%s has %d events, want %d", stream, len(evs), want)
		}
		for i, e := range evs {
			if e.Version != uint64(i+1) {
				t.Fatalf("%s: event %d has version %d", stream, i, e.Version)
			}
		}
	}
	for g := range own {
		check(fmt.Sprintf("grouped-own%d", g), each)
	}
	for stream, n := range appended {
		check(stream, n)
	}
	t.Logf("%d atomic batches", s.group.batches.Load())
}
