package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// feedEnv is one server, a store that runs a shared feed of a few commits,
// and stores on their own connections that subscribe through it.
type feedEnv struct {
	srv    *natsserver.Server
	srcNC  *nats.Conn
	src    *jetstream.Store
	feed   *jetstream.Feed
	stores []*jetstream.Store
	js     njs.JetStream
}

func newFeedEnv(t *testing.T, size, stores int) *feedEnv {
	t.Helper()
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	env := &feedEnv{srv: srv}
	connect := func() *nats.Conn {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	nc := connect()
	env.srcNC = nc
	if env.js, err = njs.New(nc); err != nil {
		t.Fatal(err)
	}
	if env.src, err = jetstream.Open(context.Background(), nc, storetest.Registry(), jetstream.Options{}); err != nil {
		t.Fatal(err)
	}
	env.feed = jetstream.NewFeed(env.src, size)
	for range stores {
		s, err := jetstream.Open(context.Background(), connect(), storetest.Registry(), jetstream.Options{Feed: env.feed})
		if err != nil {
			t.Fatal(err)
		}
		env.stores = append(env.stores, s)
	}
	t.Cleanup(func() {
		for _, s := range env.stores {
			s.Close()
		}
		env.feed.Close()
		env.src.Close()
	})
	return env
}

// appendN appends n one-event commits to stream, from version from.
func appendN(ctx context.Context, t *testing.T, s events.Store, stream string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		e := events.NewEvent{Type: "test.happened.v1", Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		if _, err := s.Append(ctx, events.AppendRequest{StreamID: stream, Expected: events.Exactly(uint64(i)), Events: []events.NewEvent{e},
			Meta: events.Meta{Actor: fundbridge.Actor{UserID: "user-1", Role: fundbridge.RoleStartup, OrgID: "org-1"}}}); err != nil {
			t.Error(err)
			return
		}
	}
}

// subscriber records the positions it is given and tells when it has
// seen a position.
type subscriber struct {
	after uint64
	mu    sync.Mutex
	got   []uint64
	seen  chan struct{} // closed and replaced on every event
	done  chan error
	stop  context.CancelFunc
}

func subscribe(ctx context.Context, s events.Store, after uint64, slow func(events.Event)) *subscriber {
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscriber{after: after, seen: make(chan struct{}), done: make(chan error, 1), stop: cancel}
	go func() {
		sub.done <- s.Subscribe(ctx, after, func(e events.Event) error {
			if slow != nil {
				slow(e)
			}
			sub.mu.Lock()
			sub.got = append(sub.got, e.Position)
			close(sub.seen)
			sub.seen = make(chan struct{})
			sub.mu.Unlock()
			return nil
		})
	}()
	return sub
}

// waitFor returns once the subscriber has seen position p, failing the
// test if it ends first or does not get there within a minute.
func (sub *subscriber) waitFor(t *testing.T, p uint64) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		sub.mu.Lock()
		n := len(sub.got)
		reached, seen := n > 0 && sub.got[n-1] >= p, sub.seen
		sub.mu.Unlock()
		if reached {
			return
		}
		select {
		case <-seen:
		case err := <-sub.done:
			t.Fatalf("subscriber from %d ended before position %d: %v", sub.after, p, err)
		case <-timeout:
			t.Fatalf("subscriber from %d did not reach position %d", sub.after, p)
		}
	}
}

// check compares what the subscriber got with every position after its
// start up to head, as the log has them.
func (sub *subscriber) check(t *testing.T, all []events.Event, head uint64) {
	t.Helper()
	var want []uint64
	for _, e := range all {
		if e.Position > sub.after && e.Position <= head {
			want = append(want, e.Position)
		}
	}
	sub.mu.Lock()
	got := append([]uint64(nil), sub.got...)
	sub.mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("subscriber from %d got %d events, want %d", sub.after, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("subscriber from %d: event %d at position %d, want %d (gap, duplicate or disorder)", sub.after, i, got[i], want[i])
		}
	}
}

func (env *feedEnv) readAll(ctx context.Context, t *testing.T) []events.Event {
	t.Helper()
	all, err := env.src.ReadAll(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestFeedSubscribersAtEveryPositionSeeEveryEventOnceInOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := newFeedEnv(t, 16, 3)
	w := env.stores[0]
	appendN(ctx, t, w, "application-a", 0, 100)
	head, _ := w.Head(ctx)

	// The first subscriber starts the feed at the head; ten more commits
	// later the ring holds them, and one starts inside it.
	atHead := subscribe(ctx, env.stores[0], head, nil)
	appendN(ctx, t, w, "application-a", 100, 10)
	atHead.waitFor(t, head+10)
	subs := []*subscriber{
		atHead,
		subscribe(ctx, env.stores[1], head+3, nil), // inside the ring
		subscribe(ctx, env.stores[2], 0, nil),      // far behind it
		subscribe(ctx, env.stores[1], 40, nil),     // behind it
		subscribe(ctx, env.stores[2], head+10, nil),
		subscribe(ctx, env.src, 7, nil), // the feed's own store has its own
	}
	var writers sync.WaitGroup
	for i := range 4 {
		writers.Go(func() { appendN(ctx, t, env.stores[i%3], fmt.Sprintf("application-w%d", i), 0, 60) })
	}
	writers.Wait()
	last, _ := w.Head(ctx)
	all := env.readAll(ctx, t)
	for _, sub := range subs {
		sub.waitFor(t, last)
		sub.check(t, all, last)
		sub.stop()
		if err := <-sub.done; err != nil {
			t.Errorf("subscriber from %d after cancel: %v, want nil", sub.after, err)
		}
	}
}

func TestFeedASlowSubscriberFallsOutOfTheRingAndCatchesUpWithoutAGap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := newFeedEnv(t, 8, 2)
	w := env.stores[0]
	appendN(ctx, t, w, "application-a", 0, 5)
	head, _ := w.Head(ctx)

	fast := subscribe(ctx, env.stores[0], head, nil)
	held := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	slow := subscribe(ctx, env.stores[1], head, func(events.Event) {
		once.Do(func() {
			close(held)
			<-release
		})
	})
	appendN(ctx, t, w, "application-a", 5, 1)
	<-held // the slow one holds its first event while the ring moves on
	appendN(ctx, t, w, "application-a", 6, 60)
	last, _ := w.Head(ctx)
	fast.waitFor(t, last) // the feed has read all: the ring is 52 commits past the slow one
	close(release)
	var writers sync.WaitGroup
	writers.Go(func() { appendN(ctx, t, w, "application-b", 0, 40) }) // while it catches up
	writers.Wait()
	last, _ = w.Head(ctx)
	all := env.readAll(ctx, t)
	for _, sub := range []*subscriber{fast, slow} {
		sub.waitFor(t, last)
		sub.check(t, all, last)
	}
}

func TestFeedOneConsumerForManyCaughtUpSubscribers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := newFeedEnv(t, 64, 3)
	w := env.stores[0]
	appendN(ctx, t, w, "application-a", 0, 20)
	head, _ := w.Head(ctx)
	var subs []*subscriber
	for i := range 9 {
		subs = append(subs, subscribe(ctx, env.stores[i%3], head-uint64(i), nil))
	}
	appendN(ctx, t, w, "application-a", 20, 5)
	last, _ := w.Head(ctx)
	for _, sub := range subs {
		sub.waitFor(t, last)
	}
	// Every subscriber is on the ring: once any consumer a subscriber used
	// while joining is gone, the stream has the feed's alone.
	consumers := func() int {
		stream, err := env.js.Stream(ctx, "FUNDBRIDGE_EVENTS")
		if err != nil {
			t.Fatal(err)
		}
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Consumers
	}
	for deadline := time.Now().Add(time.Minute); consumers() != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers have %d consumers on the stream, want 1", len(subs), consumers())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, sub := range subs {
		sub.stop()
		if err := <-sub.done; err != nil {
			t.Fatal(err)
		}
	}
	// The last one gone, the feed's consumer goes too.
	for deadline := time.Now().Add(time.Minute); consumers() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no subscriber left, %d consumers on the stream, want 0", consumers())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The feed's consumer failing (here its connection closed) is reported
// to every subscriber reading it, as each one's own consumer failing was.
func TestFeedAFailedConsumerIsReportedToEverySubscriber(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := newFeedEnv(t, 8, 2)
	w := env.stores[0]
	appendN(ctx, t, w, "application-a", 0, 30)
	head, _ := w.Head(ctx)
	subs := []*subscriber{
		subscribe(ctx, env.stores[0], head, nil),
		subscribe(ctx, env.stores[1], head-2, nil),
		subscribe(ctx, env.stores[1], head-1, nil),
	}
	appendN(ctx, t, w, "application-a", 30, 1)
	for _, sub := range subs {
		sub.waitFor(t, head+1)
	}
	env.srcNC.Close()
	for _, sub := range subs {
		select {
		case err := <-sub.done:
			if err == nil {
				t.Errorf("subscriber from %d ended without an error when the feed failed", sub.after)
			}
		case <-ctx.Done():
			t.Fatalf("subscriber from %d was not told the feed failed", sub.after)
		}
	}
}

// A subscriber of a stream that is gone gets the error, feed or not.
func TestFeedADeletedStreamIsReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := newFeedEnv(t, 8, 1)
	appendN(ctx, t, env.stores[0], "application-a", 0, 3)
	if err := env.js.DeleteStream(ctx, "FUNDBRIDGE_EVENTS"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*jetstream.Store{env.stores[0], env.src} {
		for _, after := range []uint64{0, 2, 3} {
			if err := s.Subscribe(ctx, after, func(events.Event) error { return nil }); err == nil || ctx.Err() != nil {
				t.Errorf("subscribe from %d to a deleted stream: %v, want its error", after, err)
			}
		}
	}
}

func TestFeedRefusesAStoreOfAnotherStream(t *testing.T) {
	env := newFeedEnv(t, 8, 0)
	nc, err := nats.Connect(env.srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, err = jetstream.Open(context.Background(), nc, storetest.Registry(), jetstream.Options{Stream: "OTHER_EVENTS", SubjectPrefix: "other.ev", Feed: env.feed})
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a store on another stream sharing the feed: %v, want a refusal", err)
	}
}
