package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fundbridge/fundbridge/internal/jsget"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// Reading an event stream takes two kinds of get:
//
//   - the leader's get ($JS.API.STREAM.MSG.GET), answered only by the
//     stream's leader, for a stream's head: a load must see the writer's
//     own last append, and a replica may be behind. nats.go sends its own
//     gets to the replicas once the stream allows direct gets, so the store
//     asks the leader itself (leaderGet).
//   - the batched direct get ($JS.API.DIRECT.GET, nats-server 2.11+) for the
//     commits before that head: one request, the commits as separate
//     messages, then an end-of-batch status. It replaces an ordered
//     consumer, whose create and delete cost two more round trips and more
//     work on the server than reading a short stream does. Any server
//     holding the stream may answer, so what it sends is checked against
//     the leader's head: a replica that is behind answers short, and the
//     rest is read from the leader (scanDirect).

// leaderGet gets one message of the event stream from its leader.
func (s *Store) leaderGet(ctx context.Context, req jsget.Request) (*njs.RawStreamMsg, error) {
	return jsget.FromLeader(ctx, s.nc, s.opts.Stream, req)
}

// lastOn is the last message on subject, from the leader.
func (s *Store) lastOn(ctx context.Context, subject string) (*njs.RawStreamMsg, error) {
	return readAgain(ctx, func(ctx context.Context) (*njs.RawStreamMsg, error) {
		return s.leaderGet(ctx, jsget.Request{LastFor: subject})
	})
}

// Batched direct gets.
const (
	// The status of a direct get's answer that carries no message, and
	// its words (nats.go keeps these names to itself).
	statusHeader = "Status"
	descrHeader  = "Description"

	// directBatch is how many messages one direct get asks for: more
	// than a short read (directMost events) can need, so one request.
	directBatch = 1024
	// directMaxBytes bounds what one batch sends (a commit is at most
	// 1 MiB); the server ends a batch early past it and the next
	// request goes on from there.
	directMaxBytes = 8 << 20
	// directWait is how long a batch may go silent before the read goes
	// to the leader instead (a server that lost its stream, say).
	directWait = readAgainAfter
)

// errDirectSilent says a batched direct get went unanswered for
// directWait: no server answers them for this store (its NATS user may
// not send them, say, with permissions made before this version).
var errDirectSilent = fmt.Errorf("direct get: no answer for %s", directWait)

// errDirectShort says a direct get gave no message where the leader's
// head says there is one: the server that answered is behind.
var errDirectShort = errors.New("direct get answered short")

// directBatchGet asks for up to directBatch messages on subject from
// stream sequence start and calls fn with each, in order, until fn says
// stop. It returns the sequence of the last message it passed to fn (0 if
// none). An answer with no message at all is errDirectShort.
func (s *Store) directBatchGet(ctx context.Context, subject string, start uint64, fn func(seq uint64, data []byte) bool) (uint64, error) {
	b, err := s.sendBatch(subject, start)
	if err != nil {
		return 0, err
	}
	defer b.close()
	return b.read(ctx, fn)
}

// pendingBatch is a batched direct get sent and not yet read.
type pendingBatch struct {
	start   uint64
	answers <-chan *nats.Msg
	close   func()
}

// sendBatch asks for up to directBatch messages on subject from stream
// sequence start. The caller reads them or closes the batch.
func (s *Store) sendBatch(subject string, start uint64) (*pendingBatch, error) {
	body, err := json.Marshal(jsget.Request{Seq: start, NextFor: subject, Batch: directBatch, MaxBytes: directMaxBytes})
	if err != nil {
		return nil, err
	}
	inbox, answers, done, err := s.batches.open(s.nc)
	if err != nil {
		return nil, err
	}
	if err := s.nc.PublishRequest("$JS.API.DIRECT.GET."+s.opts.Stream, inbox, body); err != nil {
		done()
		return nil, err
	}
	return &pendingBatch{start: start, answers: answers, close: done}, nil
}

// read calls fn with each message of the batch, in order, until fn says
// stop, and returns the sequence of the last one it passed to fn.
func (b *pendingBatch) read(ctx context.Context, fn func(seq uint64, data []byte) bool) (uint64, error) {
	wait := time.NewTimer(directWait)
	defer wait.Stop()
	var last uint64
	for {
		var m *nats.Msg
		select {
		case m = <-b.answers:
			wait.Reset(directWait)
		case <-wait.C:
			return last, errDirectSilent
		case <-ctx.Done():
			return last, ctx.Err()
		}
		if len(m.Data) == 0 && m.Header.Get(statusHeader) != "" {
			switch status := m.Header.Get(statusHeader); {
			case status == "204" && last > 0: // end of the batch
				return last, nil
			case status == "204" || status == "404":
				return 0, errDirectShort
			default:
				return last, fmt.Errorf("direct get: status %s %s", status, m.Header.Get(descrHeader))
			}
		}
		seq, err := strconv.ParseUint(m.Header.Get(njs.SequenceHeader), 10, 64)
		if err != nil || seq < b.start || seq <= last {
			return last, fmt.Errorf("direct get: bad sequence %q after %d", m.Header.Get(njs.SequenceHeader), last)
		}
		last = seq
		if !fn(seq, m.Data) {
			return last, nil
		}
	}
}

// scanDirect calls fn with each commit on subject from stream sequence
// start through last (the leader's head, whose commit is lastCommit),
// reading by batched direct gets, until fn says stop. first, if not nil,
// is the first batch, already sent from start. It returns the sequence a
// read of the rest must start from and whether nothing is left: not done
// means the servers that answered were behind the leader, or could not
// answer, and the caller reads the rest from the leader.
func (s *Store) scanDirect(ctx context.Context, subject string, start, last uint64, lastCommit *commit, first *pendingBatch, fn func(seq uint64, c *commit) bool) (uint64, bool, error) {
	seq, done := start, false
	for !done && seq <= last {
		b := first
		if first == nil {
			var err error
			if b, err = s.sendBatch(subject, seq); err != nil {
				return seq, false, nil
			}
		}
		first = nil
		got, err := b.read(ctx, func(at uint64, data []byte) bool {
			seq = at + 1
			if at > last { // appended after the head was read: not this read's
				done = true
				return false
			}
			c := lastCommit
			if at != last {
				var err error
				if c, err = s.decodeOn(data, subject, new(commit)); err != nil {
					s.quarantine(at, subject, err)
					return true
				}
			}
			if !fn(at, c) || at == last {
				done = true
				return false
			}
			return true
		})
		b.close()
		if err != nil {
			if ctx.Err() != nil {
				return seq, false, ctx.Err()
			}
			if errors.Is(err, errDirectSilent) {
				// Waited once: from now on this store reads by consumer.
				s.directSilent.Store(true)
			}
			return seq, false, nil // to the leader, from where this stopped
		}
		if got == 0 {
			return seq, false, nil
		}
	}
	return seq, true, nil
}

// batching reports whether reads may use batched direct gets: the stream
// allows them and none has gone unanswered.
func (s *Store) batching() bool { return s.direct && !s.directSilent.Load() }

// batchReplies takes the answers to every batched direct get of a store on
// one subscription, as nats.go does for plain requests: a subscription of
// its own per read would cost the server a subscribe and an unsubscribe,
// and nats.go a channel sized for half a million messages.
type batchReplies struct {
	once    sync.Once
	err     error
	sub     *nats.Subscription
	closed  atomic.Bool
	prefix  string // the subscription's inbox, "." ending
	mu      sync.Mutex
	next    uint64
	waiting map[string]chan *nats.Msg
}

// open returns a new reply subject and the channel its messages arrive
// on, and done, which forgets both.
func (b *batchReplies) open(nc *nats.Conn) (string, <-chan *nats.Msg, func(), error) {
	b.once.Do(func() {
		b.prefix = nc.NewInbox() + "."
		b.waiting = make(map[string]chan *nats.Msg)
		b.sub, b.err = nc.Subscribe(b.prefix+"*", b.deliver)
	})
	if b.err != nil {
		return "", nil, nil, fmt.Errorf("direct get: %w", b.err)
	}
	if b.closed.Load() {
		return "", nil, nil, errors.New("direct get: the store is closed")
	}
	// A batch is at most directBatch messages and its end: the channel
	// never fills, so delivering never waits on a slow reader.
	ch := make(chan *nats.Msg, directBatch+1)
	b.mu.Lock()
	b.next++
	token := strconv.FormatUint(b.next, 36)
	b.waiting[token] = ch
	b.mu.Unlock()
	done := func() {
		b.mu.Lock()
		delete(b.waiting, token)
		b.mu.Unlock()
	}
	return b.prefix + token, ch, done, nil
}

// stop ends the subscription, if there is one. Reads after it fail.
func (b *batchReplies) stop() {
	b.closed.Store(true)
	b.once.Do(func() {})
	if b.sub != nil {
		_ = b.sub.Unsubscribe() // the connection is the caller's: it may be closed already
	}
}

func (b *batchReplies) deliver(m *nats.Msg) {
	token := m.Subject[len(b.prefix):]
	b.mu.Lock()
	defer b.mu.Unlock()
	if ch, ok := b.waiting[token]; ok {
		select {
		case ch <- m:
		default: // more than a batch: the reader will see the batch is short
		}
	}
}
