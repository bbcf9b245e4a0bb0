package jetstream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

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
	b.store, err = jetstream.Open(context.Background(), b.nc, storetest.Registry(), b.opts)
	if err != nil {
		t.Fatal(err)
	}
}

func (b *embedded) stop() {
	b.store.Close()
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
