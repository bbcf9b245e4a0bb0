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

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// maxGroup is the most appends one atomic batch carries. JetStream allows
// 1000 messages per batch; past a few hundred the fsync is well amortised.
const maxGroup = 256

// minGroup is the fewest appends worth an atomic batch. A batch costs the
// server more than its one fsync: on a one-replica file stream it stages
// the batch in a file store of its own, created and removed for each batch
// with synced metadata writes. Measured on a cloud disk, that is as long as
// 15 to 30 plain publishes each with its own fsync. With fewer appends in
// flight than this, each goes out as a plain publish, concurrently with the
// others, exactly as if there were no group commit.
const minGroup = 16

// maxLinger bounds how long the committer waits for a batch to fill.
const maxLinger = 2 * time.Millisecond

// groupCommitter turns concurrent appends into few fsyncs. While one batch
// is being written, new appends queue; the next batch takes all of them.
// Under light load appends bypass it: they are published directly.
type groupCommitter struct {
	s        *Store
	queue    chan *pendingPublish
	done     sync.WaitGroup
	inflight atomic.Int64 // appends inside publish, grouped or not
	batches  atomic.Int64 // atomic batches committed, for tests
}

type pendingPublish struct {
	ctx    context.Context
	msg    *nats.Msg
	result chan publishResult
}

type publishResult struct {
	ack *njs.PubAck
	err error
}

func newGroupCommitter(s *Store) *groupCommitter {
	g := &groupCommitter{s: s, queue: make(chan *pendingPublish, 4*maxGroup)}
	g.done.Add(1)
	return g
}

func (g *groupCommitter) wait() { g.done.Wait() }

// publish sends msg directly when few appends are in flight, else queues it
// for the next batch, and waits for its own answer.
func (g *groupCommitter) publish(ctx context.Context, msg *nats.Msg) (*njs.PubAck, error) {
	n := g.inflight.Add(1)
	defer g.inflight.Add(-1)
	if n < minGroup {
		return g.s.publishMsg(ctx, msg)
	}
	p := &pendingPublish{ctx: ctx, msg: msg, result: make(chan publishResult, 1)}
	select {
	case g.queue <- p:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-g.s.closed:
		return nil, errors.New("store closed")
	}
	// Once queued, wait for the answer even past ctx: the append may be
	// written, and the caller must learn whether it was.
	r := <-p.result
	return r.ack, r.err
}

func (g *groupCommitter) run() {
	defer g.done.Done()
	var carry []*pendingPublish
	var lastSize int           // appends in the previous batch
	var lastTook time.Duration // how long it took to commit
	for {
		var first *pendingPublish
		if len(carry) > 0 {
			first, carry = carry[0], carry[1:]
		} else {
			select {
			case first = <-g.queue:
			case <-g.s.closed:
				g.failQueued(errors.New("store closed"))
				return
			}
		}
		batch := []*pendingPublish{first}
		subjects := map[string]bool{first.msg.Subject: true}
		// Take what else is waiting. Two appends to one event stream cannot
		// share a batch (the second's expected sequence is the first's), so a
		// second one waits for the next batch.
		var next []*pendingPublish
		add := func(p *pendingPublish) {
			if len(batch) < maxGroup && !subjects[p.msg.Subject] {
				subjects[p.msg.Subject] = true
				batch = append(batch, p)
			} else {
				next = append(next, p)
			}
		}
		for _, p := range carry {
			add(p)
		}
	fill:
		for len(batch) < maxGroup {
			select {
			case p := <-g.queue:
				add(p)
			default:
				break fill
			}
		}
		// The appenders the previous batch answered are about to append
		// again. Without waiting a moment for them, the next batch would
		// take only the few that were quick, and batches would alternate
		// between a handful of appends and all the rest: twice the batches
		// for the same work. So under load, wait until every append in
		// flight has come (but those that must wait for the next batch), or
		// for a small part of a batch's own time.
		if want := min(int(g.inflight.Load())-len(next), maxGroup); lastSize >= minGroup && len(batch) < want {
			timer := time.NewTimer(min(lastTook/4, maxLinger))
		linger:
			for len(batch) < want {
				select {
				case p := <-g.queue:
					add(p)
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		carry = next
		start := time.Now()
		g.commit(batch)
		lastSize, lastTook = len(batch), time.Since(start)
	}
}

func (g *groupCommitter) failQueued(err error) {
	for {
		select {
		case p := <-g.queue:
			p.result <- publishResult{err: err}
		default:
			return
		}
	}
}

// commit writes the batch atomically, or each append alone if the batch
// was refused for one of them (a stale expected sequence, a duplicate) or
// is too small to be worth an atomic batch.
func (g *groupCommitter) commit(batch []*pendingPublish) {
	ctx, cancel := context.WithTimeout(context.Background(), g.s.opts.Timeout)
	defer cancel()
	if len(batch) < minGroup {
		g.singles(ctx, batch)
		return
	}
	firstSeq, err := g.atomic(ctx, batch)
	if err == nil {
		g.batches.Add(1)
		for i, p := range batch {
			p.result <- publishResult{ack: &njs.PubAck{Stream: g.s.opts.Stream, Sequence: firstSeq + uint64(i)}}
		}
		return
	}
	var apiErr *njs.APIError
	if !errors.As(err, &apiErr) {
		// Transport failure: the batch may or may not be stored; each caller
		// learns it is unavailable and retries with its own commit ID.
		for _, p := range batch {
			p.result <- publishResult{err: err}
		}
		return
	}
	g.singles(ctx, batch)
}

// singles publishes each append of the batch on its own, all at once.
func (g *groupCommitter) singles(ctx context.Context, batch []*pendingPublish) {
	if len(batch) == 1 {
		g.single(ctx, batch[0])
		return
	}
	var wg sync.WaitGroup
	for _, p := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.single(ctx, p)
		}()
	}
	wg.Wait()
}

func (g *groupCommitter) single(ctx context.Context, p *pendingPublish) {
	ack, err := g.s.publishMsg(ctx, p.msg)
	p.result <- publishResult{ack: ack, err: err}
}

// atomic publishes the batch with JetStream's atomic batch protocol and
// returns the stream sequence of its first message.
func (g *groupCommitter) atomic(ctx context.Context, batch []*pendingPublish) (uint64, error) {
	id := nuid.Next()
	nc := g.s.nc
	for i, p := range batch {
		m := &nats.Msg{Subject: p.msg.Subject, Data: p.msg.Data, Header: nats.Header{}}
		for k, v := range p.msg.Header {
			m.Header[k] = v
		}
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i < len(batch)-1 {
			if err := nc.PublishMsg(m); err != nil {
				return 0, err
			}
			continue
		}
		m.Header.Set("Nats-Batch-Commit", "1")
		resp, err := nc.RequestMsgWithContext(ctx, m)
		if err != nil {
			return 0, err
		}
		var ack struct {
			njs.PubAck
			Error *njs.APIError `json:"error"`
		}
		if err := json.Unmarshal(resp.Data, &ack); err != nil {
			return 0, fmt.Errorf("batch commit: %w", err)
		}
		if ack.Error != nil {
			return 0, ack.Error
		}
		return ack.Sequence - uint64(len(batch)-1), nil
	}
	panic("unreachable")
}
