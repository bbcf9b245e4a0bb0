package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/events"
)

// A Feed reads the event stream once for many subscribers. Without it,
// every Subscribe ran an ordered consumer of its own, so one process with
// a dozen views and process managers had each commit delivered, parsed and
// decoded a dozen times by the server and the client.
//
// The feed runs one ordered consumer and keeps the most recent commits,
// decoded, in a ring keyed by stream sequence. It never waits for a
// subscriber: each reads the ring from its own position on its own
// goroutine. A subscriber whose position is older than the ring's oldest
// commit (a start far behind, or one that fell behind) reads through a
// consumer of its own, as Subscribe always did, until it reaches the ring,
// and then switches to it at the next commit: no gap, no duplicate.
//
// The consumer starts with the first subscriber and stops with the last.
// If it fails (the stream was deleted, the server refused it), every
// subscriber on the ring gets that error once it has read what the ring
// holds, as each got its own consumer's error before.
type Feed struct {
	src  *Store // reads the stream; its connection may read all of it
	size int

	mu     sync.Mutex
	run    *feedRun // nil while no subscriber is attached, or after a failure
	users  int
	closed bool
}

// FeedSize is how many commits a feed keeps by default.
const FeedSize = 4096

// NewFeed returns a feed that reads the event stream through src's
// connection, keeping the last size commits (FeedSize if size <= 0). Stores
// opened with Options.Feed set to it share it; it must be closed.
func NewFeed(src *Store, size int) *Feed {
	if size <= 0 {
		size = FeedSize
	}
	return &Feed{src: src, size: size}
}

// Close stops the feed's consumer. Subscribers attached to it go on, each
// on a consumer of its own.
func (f *Feed) Close() error {
	f.mu.Lock()
	f.closed = true
	r := f.run
	f.run = nil
	f.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
	return nil
}

// feedRun is one life of the feed's consumer. Its fields but cancel and
// done are guarded by the feed's mutex.
type feedRun struct {
	cancel  context.CancelFunc
	done    chan struct{}
	ring    []feedEntry
	n       uint64        // commits pushed so far; the i-th is at ring[i%len(ring)]
	base    uint64        // every message at or after this sequence is in the ring or yet to come
	changed chan struct{} // closed and replaced when n or err changes
	err     error         // why the consumer stopped, once it has
}

// feedEntry is one message of the stream: a decoded commit, or why it is
// not one. Commits are shared by every subscriber and never change.
type feedEntry struct {
	seq     uint64
	subject string
	trace   string
	c       *commit
	bad     error
}

// errFeedStopped ends a run that nobody needs any more, or a closed feed:
// its subscribers go on by themselves.
var errFeedStopped = errors.New("event feed stopped")

// errFellBehind is a subscriber's whose next commit the ring has dropped.
var errFellBehind = errors.New("fell behind the event feed")

func (f *Feed) attach() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.users++
	return true
}

func (f *Feed) detach() {
	f.mu.Lock()
	f.users--
	var r *feedRun
	if f.users == 0 {
		r, f.run = f.run, nil
	}
	f.mu.Unlock()
	if r != nil {
		r.cancel() // nobody reads it: a later subscriber starts another
	}
}

// ensureRun starts the consumer if none runs: at pos+1 for a subscriber
// near the head, at the head for one far behind (which catches up by
// itself instead of having the feed decode history nobody reads from it).
func (f *Feed) ensureRun(ctx context.Context, pos uint64) {
	f.mu.Lock()
	running := f.run != nil || f.closed
	f.mu.Unlock()
	if running {
		return
	}
	start := pos + 1
	if head, err := f.src.Head(ctx); err == nil && head > pos+uint64(f.size)/2 {
		start = head + 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.run == nil && !f.closed && f.users > 0 {
		f.run = f.startRun(start)
	}
}

// startRun starts a consumer at stream sequence start. f.mu is held.
func (f *Feed) startRun(start uint64) *feedRun {
	ctx, cancel := context.WithCancel(context.Background())
	r := &feedRun{cancel: cancel, done: make(chan struct{}), ring: make([]feedEntry, f.size), base: start, changed: make(chan struct{})}
	go func() {
		defer close(r.done)
		err := f.src.consume(ctx, nil, start, func(m njs.Msg, seq uint64) (bool, error) {
			e := feedEntry{seq: seq, subject: m.Subject(), trace: traceOf(m)}
			// Decoding needs the subject prefix only, which every store
			// on the feed shares (Open checks): decoded once for all.
			e.c, e.bad = f.src.decodeOn(m.Data(), e.subject, new(commit))
			f.mu.Lock()
			r.push(e)
			f.mu.Unlock()
			return true, nil
		})
		if err == nil || ctx.Err() != nil {
			err = errFeedStopped
		}
		f.mu.Lock()
		r.err = err
		close(r.changed)
		if f.run == r {
			f.run = nil // failed: the next subscriber to look starts another
		}
		f.mu.Unlock()
	}()
	return r
}

// push adds e to the ring, dropping the oldest commit when it is full.
func (r *feedRun) push(e feedEntry) {
	size := uint64(len(r.ring))
	if r.n >= size {
		r.base = r.ring[r.n%size].seq + 1
	}
	r.ring[r.n%size] = e
	r.n++
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *feedRun) oldest() uint64 {
	return r.n - min(r.n, uint64(len(r.ring)))
}

// join returns the run and the ring index a subscriber that has seen
// everything up to pos reads next, or false if the ring does not reach
// back to pos+1. f.mu is held.
func (f *Feed) join(pos uint64) (*feedRun, uint64, bool) {
	r := f.run
	if r == nil || r.err != nil || pos+1 < r.base {
		return nil, 0, false
	}
	lo := r.oldest()
	size := uint64(len(r.ring))
	i := sort.Search(int(r.n-lo), func(i int) bool { return r.ring[(lo+uint64(i))%size].seq > pos })
	return r, lo + uint64(i), true
}

// joinable reports whether a subscriber at pos may switch to the ring now:
// the ring reaches back to pos+1, or no consumer runs (the caller then
// starts one).
func (f *Feed) joinable(pos uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	r := f.run
	return r == nil || r.err == nil && pos+1 >= r.base
}

// feedBatch is how many commits a subscriber copies out of the ring per
// lock: the feed's consumer waits on that lock.
const feedBatch = 64

// follow calls fn with the ring's commits from index idx on, skipping
// those at or before pos, until ctx ends (nil), fn fails (its error), the
// subscriber falls out of the ring (errFellBehind) or the run stops (its
// error, once every commit it read is delivered). It returns the position
// of the last commit delivered whole.
func (s *Store) follow(ctx context.Context, f *Feed, r *feedRun, idx, pos uint64, fn func(events.Event) error) (uint64, error) {
	batch := make([]feedEntry, 0, feedBatch)
	size := uint64(len(r.ring))
	for {
		f.mu.Lock()
		if idx < r.oldest() {
			f.mu.Unlock()
			return pos, errFellBehind
		}
		if idx == r.n {
			err, changed := r.err, r.changed
			f.mu.Unlock()
			if err != nil {
				return pos, err
			}
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return pos, nil
			}
		}
		for ; idx < r.n && len(batch) < feedBatch; idx++ {
			batch = append(batch, r.ring[idx%size])
		}
		f.mu.Unlock()
		for i := range batch {
			e := &batch[i]
			if e.seq <= pos {
				continue
			}
			done, err := s.deliver(ctx, e.seq, e.subject, e.trace, e.c, e.bad, fn)
			if err != nil || !done {
				return pos, err
			}
			pos = e.seq
		}
		clear(batch) // let the ring's dropped commits go
		batch = batch[:0]
	}
}

// deliver calls fn with each event of the commit c at seq, or with a
// quarantine placeholder when the message is no commit (bad says why).
// It reports false, nil if ctx ended before the commit was delivered whole.
func (s *Store) deliver(ctx context.Context, seq uint64, subject, trace string, c *commit, bad error, fn func(events.Event) error) (bool, error) {
	if c == nil {
		// Not a commit: the reader hears of it and goes on.
		q := s.quarantine(seq, subject, bad)
		return true, fn(events.QuarantinedEvent(q))
	}
	for i := range c.Events {
		if ctx.Err() != nil {
			return false, nil
		}
		e := c.event(i, seq)
		e.Trace = trace
		if err := fn(e); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Subscribe delivers every event after the given position, then live ones.
//
// It reads from the store's feed, shared with every other subscriber on
// it, and through a consumer of its own while it is further behind than
// the feed keeps. fn is never called after Subscribe returns.
func (s *Store) Subscribe(ctx context.Context, after uint64, fn func(events.Event) error) error {
	f := s.feed
	if !f.attach() {
		_, _, err := s.subscribeOwn(ctx, after, fn, nil)
		return err
	}
	defer f.detach()
	pos := after
	for {
		f.ensureRun(ctx, pos)
		f.mu.Lock()
		r, idx, ok := f.join(pos)
		f.mu.Unlock()
		if ok {
			var err error
			pos, err = s.follow(ctx, f, r, idx, pos, fn)
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, errFellBehind), errors.Is(err, errFeedStopped):
				// On by itself until it reaches the ring again.
			default:
				return err
			}
		}
		last, handed, err := s.subscribeOwn(ctx, pos, fn, f.joinable)
		if !handed || err != nil {
			return err
		}
		pos = last
	}
}

// checkFeed refuses a shared feed that reads another stream than the
// store's, or names its subjects otherwise: its commits would not be the
// store's, or would be decoded against other subjects.
func checkFeed(f *Feed, o Options) error {
	if have := f.src.opts; have.Stream != o.Stream || have.SubjectPrefix != o.SubjectPrefix {
		return fmt.Errorf("event feed reads stream %s under %s, the store %s under %s", have.Stream, have.SubjectPrefix, o.Stream, o.SubjectPrefix)
	}
	return nil
}
