package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/events/storetest"
	"github.com/fundbridge/fundbridge/internal/natsserver"
)

func rawServer(t *testing.T) (*nats.Conn, njs.JetStream) {
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
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func fill(t *testing.T, js njs.JetStream, prefix string, n int) {
	t.Helper()
	for i := range n {
		if _, err := js.Publish(context.Background(), fmt.Sprintf("%s.thing.%d", prefix, i), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
}

// An existing event stream with limits that would drop events is refused,
// not "corrected", and nothing in it changes.
func TestOpenRefusesAStreamThatWouldLoseEvents(t *testing.T) {
	nc, js := rawServer(t)
	ctx := context.Background()
	for i, tc := range []struct {
		name string
		edit func(*njs.StreamConfig)
		why  string
	}{
		{"max messages", func(c *njs.StreamConfig) { c.MaxMsgs = 100 }, "max messages 100"},
		{"work queue", func(c *njs.StreamConfig) { c.Retention = njs.WorkQueuePolicy }, "retention"},
		{"other subjects", func(c *njs.StreamConfig) {}, "subjects"},
		{"rollups", func(c *njs.StreamConfig) { c.AllowRollup = true }, "rollup"},
	} {
		// A stream of its own for each case: a deleted stream's messages
		// may linger a moment.
		name, prefix := fmt.Sprintf("EVENTS_%d", i), fmt.Sprintf("ev%d", i)
		cfg := njs.StreamConfig{Name: name, Subjects: []string{prefix + ".>"}, Storage: njs.FileStorage}
		tc.edit(&cfg)
		if tc.name == "other subjects" {
			cfg.Subjects = []string{prefix + ".thing.*"}
		}
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		fill(t, js, prefix, 5)
		_, err := jetstream.Open(ctx, nc, storetest.Registry(), jetstream.Options{Stream: name, SubjectPrefix: prefix})
		var unsafe *jetstream.UnsafeStreamError
		if !errors.As(err, &unsafe) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: Open = %v, want a refusal naming %q", tc.name, err, tc.why)
		}
		info, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if n := info.CachedInfo().State.Msgs; n != 5 {
			t.Errorf("%s: %d messages after the refusal, want 5", tc.name, n)
		}
	}
}

// An existing stream without the guards gets them, keeps every message,
// and from then on refuses a purge and a delete.
func TestOpenGuardsAnExistingStreamAndKeepsItsEvents(t *testing.T) {
	nc, js := rawServer(t)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, njs.StreamConfig{Name: "FUNDBRIDGE_EVENTS", Subjects: []string{"fb.ev.>"}, Storage: njs.FileStorage}); err != nil {
		t.Fatal(err)
	}
	fill(t, js, "fb.ev", 7)
	for range 2 { // opening again changes nothing
		store, err := jetstream.Open(ctx, nc, storetest.Registry(), jetstream.Options{})
		if err != nil {
			t.Fatal(err)
		}
		store.Close()
	}
	stream, err := js.Stream(ctx, "FUNDBRIDGE_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.CachedInfo().Config
	if !cfg.DenyDelete || !cfg.DenyPurge || !cfg.AllowAtomicPublish {
		t.Errorf("config after Open: deny delete %v, deny purge %v, atomic %v", cfg.DenyDelete, cfg.DenyPurge, cfg.AllowAtomicPublish)
	}
	if err := stream.Purge(ctx); err == nil {
		t.Error("a purge of the event stream was allowed")
	}
	if err := stream.DeleteMsg(ctx, 3); err == nil {
		t.Error("a delete of an event was allowed")
	}
	cfg.DenyPurge = false
	if _, err := js.UpdateStream(ctx, cfg); err == nil {
		t.Error("the guard against purges could be lifted")
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 7 || info.State.FirstSeq != 1 {
		t.Errorf("stream holds %d messages from %d, want 7 from 1", info.State.Msgs, info.State.FirstSeq)
	}
}
