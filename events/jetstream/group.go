package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// maxGroup is the most appends one atomic batch carries. JetStream allows
// 1000 messages per batch; past a few hundred the fsync is well amortised.
const maxGroup = 256

// groupCommitter turns concurrent appends into few fsyncs. While one batch
// is being written, new appends queue; the next batch takes all of them.
// Under no load an append goes out alone, with no added wait.
type groupCommitter struct {
	s     *Store
	queue chan *pendingPublish
	done  sync.WaitGroup
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

// publish queues msg for the next batch and waits for its own answer.
func (g *groupCommitter) publish(ctx context.Context, msg *nats.Msg) (*njs.PubAck, error) {
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
		for _, p := range carry {
			if len(batch) < maxGroup && !subjects[p.msg.Subject] {
				subjects[p.msg.Subject] = true
				batch = append(batch, p)
			} else {
				next = append(next, p)
			}
		}
	fill:
		for len(batch) < maxGroup {
			select {
			case p := <-g.queue:
				if subjects[p.msg.Subject] {
					next = append(next, p)
					continue
				}
				subjects[p.msg.Subject] = true
				batch = append(batch, p)
			default:
				break fill
			}
		}
		carry = next
		g.commit(batch)
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
// was refused for one of them (a stale expected sequence, a duplicate).
func (g *groupCommitter) commit(batch []*pendingPublish) {
	ctx, cancel := context.WithTimeout(context.Background(), g.s.opts.Timeout)
	defer cancel()
	if len(batch) == 1 {
		g.single(ctx, batch[0])
		return
	}
	firstSeq, err := g.atomic(ctx, batch)
	if err == nil {
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
	for _, p := range batch {
		g.single(ctx, p)
	}
}

func (g *groupCommitter) single(ctx context.Context, p *pendingPublish) {
	ack, err := g.s.js.PublishMsg(ctx, p.msg)
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
