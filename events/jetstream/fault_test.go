package jetstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/events/storetest"
	"github.com/fundbridge/fundbridge/internal/natsserver"
)

// Losing NATS while running: appends fail with a retryable error, never a
// false success; once the server is back the client reconnects and the
// log holds exactly what was acknowledged.
func TestLostServerFailsAppendsThenRecovers(t *testing.T) {
	dir := t.TempDir()
	addr := "127.0.0.1:" + fmtInt(freePorts(t, 1)[0])
	srv, err := natsserver.Start(natsserver.Options{Addr: addr, DataDir: dir, SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	store, err := jetstream.Open(context.Background(), nc, storetest.Registry(), jetstream.Options{GroupCommit: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	actor := fundbridge.Actor{UserID: "u", Role: fundbridge.RoleOperator}
	appendAt := func(v uint64) (events.AppendResult, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// The key makes a retry safe: an append that failed as unavailable
		// may still have been stored.
		return store.Append(ctx, events.AppendRequest{StreamID: "loan-fault", Expected: events.Exactly(v), Meta: events.Meta{Actor: actor, IdempotencyKey: "k" + fmtInt(int(v))},
			Events: []events.NewEvent{{Type: "test.happened.v1", Payload: json.RawMessage(`{"n":1}`)}}})
	}
	if _, err := appendAt(0); err != nil {
		t.Fatal(err)
	}

	srv.Shutdown()
	_, err = appendAt(1)
	if err == nil {
		t.Fatal("append with the server down succeeded")
	}
	if !errors.Is(err, events.ErrUnavailable) || fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
		t.Fatalf("append with the server down = %v, want a retryable unavailable error", err)
	}

	srv, err = natsserver.Start(natsserver.Options{Addr: addr, DataDir: dir, SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	var res events.AppendResult
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err = appendAt(1); err == nil || !errors.Is(err, events.ErrUnavailable) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || res.LastVersion != 2 {
		t.Fatalf("append after the server came back = %+v %v", res, err)
	}
	got, err := store.ReadStream(context.Background(), "loan-fault", 1)
	if err != nil || len(got) != 2 {
		t.Fatalf("stream after recovery: %d events, %v; want the 2 acknowledged", len(got), err)
	}
}
