package jetstream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/events/storetest"
	"github.com/fundbridge/fundbridge/internal/natsserver"
)

// embedded is a one-server backend on a temporary directory.
type embedded struct {
	dir   string
	addr  string
	opts  jetstream.Options
	sync  bool
	srv   *natsserver.Server
	nc    *nats.Conn
	store *jetstream.Store

	// feedSize > 0 subscribes through a feed of that many commits that
	// another store, on another connection, runs and shares.
	feedSize  int
	feedNC    *nats.Conn
	feedStore *jetstream.Store
	feed      *jetstream.Feed
}

func (b *embedded) start(t *testing.T) {
	t.Helper()
	srv, err := natsserver.Start(natsserver.Options{Addr: b.addr, DataDir: b.dir, SyncAlways: b.sync})
	if err != nil {
		t.Fatal(err)
	}
	b.srv = srv
	b.addr = srv.ClientURL()[len("nats://"):] // keep the port across restarts
	b.nc, err = nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	opts := b.opts
	if b.feedSize > 0 {
		if b.feedNC, err = nats.Connect(srv.ClientURL()); err != nil {
			t.Fatal(err)
		}
		if b.feedStore, err = jetstream.Open(context.Background(), b.feedNC, storetest.Registry(), b.opts); err != nil {
			t.Fatal(err)
		}
		b.feed = jetstream.NewFeed(b.feedStore, b.feedSize)
		opts.Feed = b.feed
	}
	b.store, err = jetstream.Open(context.Background(), b.nc, storetest.Registry(), opts)
	if err != nil {
		t.Fatal(err)
	}
}

func (b *embedded) stop() {
	b.store.Close()
	if b.feed != nil {
		b.feed.Close()
		b.feedStore.Close()
		b.feedNC.Close()
	}
	b.nc.Close()
	b.srv.Shutdown()
}

func (b *embedded) Store() events.Store { return b.store }

func (b *embedded) Reopen(t *testing.T) events.Store {
	b.stop()
	b.start(t)
	return b.store
}

func newEmbedded(t *testing.T, sync bool, opts jetstream.Options) *embedded {
	b := &embedded{dir: t.TempDir(), addr: "127.0.0.1:0", sync: sync, opts: opts}
	b.start(t)
	t.Cleanup(b.stop)
	return b
}

func TestConformanceFsyncGroupCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		return newEmbedded(t, true, jetstream.Options{GroupCommit: true})
	})
}

func TestConformanceLazyPlainPublish(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		return newEmbedded(t, false, jetstream.Options{})
	})
}

// The same suite, every Subscribe reading a feed another store shares, so
// small that subscribers fall out of it and catch up by themselves.
func TestConformanceSharedSmallFeed(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		b := &embedded{dir: t.TempDir(), addr: "127.0.0.1:0", feedSize: 8}
		b.start(t)
		t.Cleanup(b.stop)
		return b
	})
}

// cluster is a three-server cluster with an R3 event stream.
type cluster struct {
	dirs    []string
	clients []string
	routes  []string
	srvs    []*natsserver.Server
	nc      *nats.Conn
	store   *jetstream.Store
}

func (c *cluster) start(t *testing.T) {
	t.Helper()
	c.srvs = make([]*natsserver.Server, 3)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			srv, err := natsserver.Start(natsserver.Options{
				Name: fmt.Sprintf("n%d", i), Addr: c.clients[i], DataDir: c.dirs[i], SyncAlways: true,
				ClusterName: "fundbridge-test", ClusterAddr: c.routes[i][len("nats://"):], Routes: c.routes,
			})
			c.srvs[i] = srv
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var err error
	urls := ""
	for i, s := range c.srvs {
		if i > 0 {
			urls += ","
		}
		urls += s.ClientURL()
	}
	c.nc, err = nats.Connect(urls)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.store, err = jetstream.Open(ctx, c.nc, storetest.Registry(), jetstream.Options{Replicas: 3, GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) stop() {
	c.store.Close()
	c.nc.Close()
	for _, s := range c.srvs {
		s.Shutdown()
	}
}

func (c *cluster) Store() events.Store { return c.store }

func (c *cluster) Reopen(t *testing.T) events.Store {
	c.stop()
	c.start(t)
	return c.store
}

func TestConformanceThreeNodeClusterR3(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster suite skipped in -short mode")
	}
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		ports := freePorts(t, 6)
		c := &cluster{}
		for i := range 3 {
			c.dirs = append(c.dirs, t.TempDir())
			c.clients = append(c.clients, fmt.Sprintf("127.0.0.1:%d", ports[i]))
			c.routes = append(c.routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i]))
		}
		c.start(t)
		t.Cleanup(c.stop)
		return c
	})
}

// While the cluster elects a new leader for the event stream (its node
// died), the reads an append and a stream read send then go unanswered;
// sent again, they are answered by the new leader: both succeed within
// their deadline instead of waiting it out and failing (the fault test's
// stall of 15 s after a NATS node's SIGKILL).
func TestReadsSentDuringALeaderElectionAreSentAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ports := freePorts(t, 6)
	c := &cluster{}
	for i := range 3 {
		c.dirs = append(c.dirs, t.TempDir())
		c.clients = append(c.clients, fmt.Sprintf("127.0.0.1:%d", ports[i]))
		c.routes = append(c.routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i]))
	}
	c.start(t)
	t.Cleanup(c.stop)
	ctx := context.Background()
	happened := func() []events.NewEvent {
		return []events.NewEvent{{Type: "test.happened.v1", Payload: []byte(`{"n":1}`)}}
	}
	meta := events.Meta{Actor: fundbridge.Actor{UserID: "u-1", Role: fundbridge.RoleSystem}}
	existing := events.AppendRequest{StreamID: "thing-before", Expected: events.NoStream, Meta: meta, Events: happened()}
	if _, err := c.store.Append(ctx, existing); err != nil {
		t.Fatal(err)
	}
	js, err := njs.New(c.nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "FUNDBRIDGE_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A store on a node that stays: its connection is not what is lost.
	var leader *natsserver.Server
	var survivor string
	for i, s := range c.srvs {
		if fmt.Sprintf("n%d", i) == info.Cluster.Leader {
			leader = s
		} else {
			survivor = s.ClientURL()
		}
	}
	if leader == nil {
		t.Fatalf("no server is the stream's leader %q", info.Cluster.Leader)
	}
	nc, err := nats.Connect(survivor)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	store, err := jetstream.Open(ctx, nc, storetest.Registry(), jetstream.Options{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	leader.Shutdown()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	read := make(chan error, 1)
	go func() {
		evs, err := store.ReadStream(wctx, "thing-before", 1)
		if err == nil && len(evs) != 1 {
			err = fmt.Errorf("read %d events, want 1", len(evs))
		}
		read <- err
	}()
	if _, err := store.Append(wctx, events.AppendRequest{StreamID: "thing-after", Expected: events.NoStream, Meta: meta, Events: happened()}); err != nil {
		t.Errorf("append while the leader was elected: %v", err)
	}
	if err := <-read; err != nil {
		t.Errorf("stream read while the leader was elected: %v", err)
	}
}
