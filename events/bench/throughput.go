package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/fundbridge/fundbridge/events"
)

// throughput measures, at each concurrency on one server, raw synchronous
// publishes, single-event and three-event appends and, where the store
// gathers concurrent appends into atomic batches (fsync always), raw
// atomic batches gathered the same way: the like-for-like baseline that
// shows the store's own overhead rather than batching against none.
func (r *runner) throughput(ctx context.Context, n *node) error {
	if _, err := n.js.CreateOrUpdateStream(ctx, njs.StreamConfig{
		Name: "BENCH_RAW", Subjects: []string{"raw.>"}, Storage: njs.FileStorage, AllowAtomicPublish: true,
	}); err != nil {
		return fmt.Errorf("raw stream on %s: %w", n.name, err)
	}
	for _, c := range concurrencies {
		tag := fmt.Sprintf("%s/c%d", n.name, c)
		names := []string{"raw publish " + tag, "single-event appends " + tag, "three-event appends " + tag}
		loads := []*load{
			newLoad(c, r.rawPublisher(n, tag)),
			newLoad(c, r.appender(n, "single", tag, 1)),
			newLoad(c, r.appender(n, "three", tag, 3)),
		}
		var batcher *rawBatcher
		if n.sync {
			batcher = newRawBatcher(n.nc, n.js)
			names = append(names, "raw atomic batches "+tag)
			loads = append(loads, newLoad(c, r.batchedPublisher(batcher, tag)))
		}
		r.logf("%s: %s in turn, a warm-up and %d rounds of %s", tag, strings.Join(names, ", "), r.sz.rounds, r.sz.round)
		ms := make([]Measure, len(loads))
		for i, l := range loads {
			ms[i] = func(ctx context.Context) (float64, error) { return r.run(ctx, l) }
		}
		rounds, err := Interleave(ctx, r.sz.rounds, names, ms...)
		if batcher != nil {
			batcher.close()
		}
		if err != nil {
			return err
		}
		r.add(Result{Scenario: "raw/publish/" + tag, Metric: "msgs_per_sec", Value: rounds.Median(0), Unit: "msg/s"})
		if n.sync {
			r.add(Result{Scenario: "raw/atomic-batches/" + tag, Metric: "msgs_per_sec", Value: rounds.Median(3), Unit: "msg/s"})
		}
		r.add(rounds.Compare(1, 0).Result("append/single/"+tag, "appends_per_sec", "append/s",
			fmt.Sprintf(">= %.2f of raw publish", singleVsRaw), AtLeast(singleVsRaw)))
		if n.sync {
			r.add(rounds.Compare(1, 3).Result("append/single/"+tag+"/vs-batched", "appends_per_sec", "append/s",
				fmt.Sprintf(">= %.2f of raw atomic batches", singleVsRaw), AtLeast(singleVsRaw)))
		}
		r.add(rounds.Compare(2, 1).Result("append/three/"+tag, "appends_per_sec", "append/s",
			fmt.Sprintf(">= %.2f of single-event appends", threeVsSingle), AtLeast(threeVsSingle)))
	}
	return nil
}

// worker performs operations one after another; each call does one.
type worker func(ctx context.Context) error

// load is one workload of c workers. The workers keep their state
// (subjects, versions) from round to round.
type load struct{ workers []worker }

func newLoad(c int, newWorker func(g int) worker) *load {
	l := &load{workers: make([]worker, c)}
	for g := range l.workers {
		l.workers[g] = newWorker(g)
	}
	return l
}

// run runs the workers for one round: a lead-in, then a measured window
// in which every operation completed is counted, and returns the rate.
// The window lasts sz.round, and longer until there are at least as many
// operations as workers: an fsync stall must not make a round of nothing.
func (r *runner) run(ctx context.Context, l *load) (float64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		count     atomic.Int64
		endNanos  atomic.Int64 // when the window closed, after measureAt
		wg        sync.WaitGroup
		errOnce   sync.Once
		firstErr  error
		measureAt = time.Now().Add(r.sz.warmup)
		endAt     = measureAt.Add(r.sz.round)
		enough    = int64(len(l.workers))
	)
	for _, w := range l.workers {
		wg.Go(func() {
			for endNanos.Load() == 0 {
				if err := w(ctx); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				now := time.Now()
				if now.Before(measureAt) || endNanos.Load() != 0 {
					continue
				}
				if n := count.Add(1); now.After(endAt) && n >= enough {
					endNanos.CompareAndSwap(0, int64(now.Sub(measureAt)))
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(count.Load()) / time.Duration(endNanos.Load()).Seconds(), nil
}

var rawBody = []byte(strings.Repeat("r", rawMsgSize))

// rawSubjects gives each goroutine its own subjects, each publish
// conditional on its subject's last sequence, as the store's appends are.
type rawSubjects struct {
	subjects []string
	last     []uint64
	k        int
}

func (r *runner) newRawSubjects(prefix string, g int) *rawSubjects {
	s := &rawSubjects{subjects: make([]string, r.sz.streamsPerGor), last: make([]uint64, r.sz.streamsPerGor)}
	for k := range s.subjects {
		s.subjects[k] = fmt.Sprintf("%s.g%d.s%d", prefix, g, k)
	}
	return s
}

func (s *rawSubjects) next() *nats.Msg {
	msg := nats.NewMsg(s.subjects[s.k])
	msg.Data = rawBody
	msg.Header.Set(njs.ExpectedLastSubjSeqHeader, strconv.FormatUint(s.last[s.k], 10))
	return msg
}

func (s *rawSubjects) acked(seq uint64) {
	s.last[s.k] = seq
	s.k = (s.k + 1) % len(s.subjects)
}

// rawPublisher publishes ~300-byte messages synchronously.
func (r *runner) rawPublisher(n *node, tag string) func(g int) worker {
	prefix := "raw." + strings.ReplaceAll(tag, "/", "_")
	return func(g int) worker {
		s := r.newRawSubjects(prefix, g)
		return func(ctx context.Context) error {
			ack, err := n.js.PublishMsg(ctx, s.next())
			if err != nil {
				return err
			}
			s.acked(ack.Sequence)
			return nil
		}
	}
}

// batchedPublisher publishes the same messages through a rawBatcher.
func (r *runner) batchedPublisher(b *rawBatcher, tag string) func(g int) worker {
	prefix := "raw." + strings.ReplaceAll(tag, "/", "_") + "_batched"
	return func(g int) worker {
		s := r.newRawSubjects(prefix, g)
		return func(ctx context.Context) error {
			seq, err := b.publish(ctx, s.next())
			if err != nil {
				return err
			}
			s.acked(seq)
			return nil
		}
	}
}

// appender appends size-event commits, each goroutine to its own event
// streams in turn, each at the exact version it expects.
func (r *runner) appender(n *node, kind, tag string, size int) func(g int) worker {
	typ := "bench" + kind
	idTag := strings.ReplaceAll(tag, "/", "_")
	return func(g int) worker {
		streams := make([]string, r.sz.streamsPerGor)
		versions := make([]uint64, len(streams))
		for k := range streams {
			streams[k] = fmt.Sprintf("%s-%s_g%d_s%d", typ, idTag, g, k)
		}
		k, seq := 0, 0
		return func(ctx context.Context) error {
			evs := newEvents(seq, size)
			seq++
			res, err := n.store.Append(ctx, appendReq(streams[k], versions[k], evs))
			if err != nil {
				return err
			}
			versions[k] = res.LastVersion
			k = (k + 1) % len(streams)
			return nil
		}
	}
}

// payloads are built once: the benchmark measures the store, not fmt.
var payloadCache = func() []json.RawMessage {
	out := make([]json.RawMessage, 64)
	for i := range out {
		out[i] = payload(i)
	}
	return out
}()

// newEvents proposes count events with payloads of payloadSize bytes.
func newEvents(n, count int) []events.NewEvent {
	out := make([]events.NewEvent, count)
	for i := range out {
		out[i] = events.NewEvent{Type: eventType, Payload: payloadCache[(n+i)%len(payloadCache)]}
	}
	return out
}

// rawBatcher is the best a plain JetStream client does with concurrent
// single-message publishes on an fsync-always server: while one atomic
// batch is in flight the others queue, and the next batch takes them all
// (one message goes out as a plain publish). No envelope, no encoding, no
// linger: what is left between it and the store is the store's own cost.
type rawBatcher struct {
	nc    *nats.Conn
	js    njs.JetStream
	queue chan *rawPending
	done  chan struct{}
}

type rawPending struct {
	ctx    context.Context
	msg    *nats.Msg
	result chan rawAck
}

type rawAck struct {
	seq uint64
	err error
}

const maxRawBatch = 256 // as the store's group commit

func newRawBatcher(nc *nats.Conn, js njs.JetStream) *rawBatcher {
	b := &rawBatcher{nc: nc, js: js, queue: make(chan *rawPending, 4*maxRawBatch), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *rawBatcher) close() {
	close(b.queue)
	<-b.done
}

func (b *rawBatcher) publish(ctx context.Context, msg *nats.Msg) (uint64, error) {
	p := &rawPending{ctx: ctx, msg: msg, result: make(chan rawAck, 1)}
	b.queue <- p
	res := <-p.result
	return res.seq, res.err
}

func (b *rawBatcher) loop() {
	defer close(b.done)
	for first := range b.queue {
		batch := []*rawPending{first}
	drain:
		for len(batch) < maxRawBatch {
			select {
			case p, ok := <-b.queue:
				if !ok {
					break drain
				}
				batch = append(batch, p)
			default:
				break drain
			}
		}
		b.commit(batch)
	}
}

func (b *rawBatcher) commit(batch []*rawPending) {
	if len(batch) == 1 {
		ack, err := b.js.PublishMsg(batch[0].ctx, batch[0].msg)
		if err != nil {
			batch[0].result <- rawAck{err: err}
			return
		}
		batch[0].result <- rawAck{seq: ack.Sequence}
		return
	}
	first, err := b.atomic(batch[0].ctx, batch)
	for i, p := range batch {
		if err != nil {
			p.result <- rawAck{err: err}
			continue
		}
		p.result <- rawAck{seq: first + uint64(i)}
	}
}

// atomic sends the batch with JetStream's atomic batch protocol and returns
// the sequence of its first message.
func (b *rawBatcher) atomic(ctx context.Context, batch []*rawPending) (uint64, error) {
	id := nuid.Next()
	for i, p := range batch {
		m := p.msg
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i < len(batch)-1 {
			if err := b.nc.PublishMsg(m); err != nil {
				return 0, err
			}
			continue
		}
		m.Header.Set("Nats-Batch-Commit", "1")
		resp, err := b.nc.RequestMsgWithContext(ctx, m)
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
	return 0, nil
}
