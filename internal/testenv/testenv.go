// Package testenv starts the real infrastructure tests run against: an
// embedded NATS server with JetStream on a temporary directory, and the
// event store on it.
package testenv

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/natsserver"
)

// Env is a running NATS server with an event store.
type Env struct {
	Server    *natsserver.Server
	Conn      *nats.Conn
	Store     *jetstream.Store
	Snapshots *jetstream.Snapshots
}

// Start starts a fsync-always server with a group-committing store. All of
// it stops when the test ends.
func Start(t testing.TB, registry *events.Registry) *Env {
	t.Helper()
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	store, err := jetstream.Open(context.Background(), nc, registry, jetstream.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	snaps, err := jetstream.OpenSnapshots(context.Background(), nc, 1)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Server: srv, Conn: nc, Store: store, Snapshots: snaps}
}

// Connect opens another connection to the env's server.
func (e *Env) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(e.Server.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}
