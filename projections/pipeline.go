package projections

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/spans"
)

// The pipeline of one pass over the log: the subscription's callback
// gathers events into batches; decoders decode the payloads of each batch
// in parallel; one applier folds the batches into the projections in log
// order and moves their checkpoints at the end of each append.

// typeInfo is what the runner knows of an event type within one pass.
type typeInfo struct {
	handlers []*lane // lanes of the pass that want it; none: skip undecoded
}

// item is one event on its way through the pipeline.
type item struct {
	e        events.Event
	handlers []*lane
	payload  any
	err      error
}

type batch struct {
	items []item
	done  chan struct{} // closed when decoded
}

// feeder gathers events into batches for the decoders. A batch goes out
// when full or when the pipeline is idle, so catching up moves in large
// batches and a live event goes through at once.
type feeder struct {
	mu       sync.Mutex
	space    *sync.Cond
	pending  []item
	inflight int
	max      int
	size     int
	work     chan *batch
	ordered  chan *batch
	free     [][]item // emptied batches, to fill again rather than allocate
}

func (f *feeder) add(it item) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, it)
	if len(f.pending) >= f.size || f.inflight == 0 {
		f.dispatchLocked()
	}
}

// dispatchLocked sends the pending batch, waiting for room first; the
// channels hold max batches, so the sends never block.
func (f *feeder) dispatchLocked() {
	for f.inflight >= f.max {
		f.space.Wait()
	}
	b := &batch{items: f.pending, done: make(chan struct{})}
	if n := len(f.free); n > 0 {
		f.pending, f.free = f.free[n-1], f.free[:n-1]
	} else {
		f.pending = make([]item, 0, f.size)
	}
	f.inflight++
	f.work <- b
	f.ordered <- b
}

// applied frees the batch's room, keeps its array for another, and sends
// what waited while the pipeline was busy.
func (f *feeder) applied(b *batch) {
	clear(b.items) // drop the payloads: the array outlives them
	f.mu.Lock()
	defer f.mu.Unlock()
	if cap(b.items) == f.size {
		f.free = append(f.free, b.items[:0])
	}
	f.inflight--
	if f.inflight == 0 && len(f.pending) > 0 {
		f.dispatchLocked()
	}
	f.space.Signal()
}

func (f *feeder) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) > 0 {
		f.dispatchLocked()
	}
}

const batchSize = 256

// tracerName names the spans of the projections' applies.
const tracerName = "github.com/fundbridge/fundbridge/projections"

// follow is one pass over the log after a position for some lanes: one
// subscription, parallel decoders, one applier. It returns when ctx ends,
// the subscription fails, or (until > 0) every lane has reached until;
// always after applying all it read, so every lane ends on a commit
// boundary.
func (r *Runner) follow(ctx context.Context, after uint64, lanes []*lane, until uint64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	maxInflight := 2*r.opts.Decoders + 2
	f := &feeder{max: maxInflight, size: batchSize, work: make(chan *batch, maxInflight), ordered: make(chan *batch, maxInflight)}
	f.space = sync.NewCond(&f.mu)
	var decoders sync.WaitGroup
	for range r.opts.Decoders {
		decoders.Go(func() {
			for b := range f.work {
				r.decode(b)
				close(b.done)
			}
		})
	}
	applierDone := make(chan struct{})
	go func() {
		defer close(applierDone)
		for b := range f.ordered {
			<-b.done
			if r.apply(b, lanes, until) {
				cancel()
			}
			f.applied(b)
		}
	}()
	r.scanned.Store(0)
	types := map[string]*typeInfo{}
	var err error
	if until == 0 || after < until {
		err = r.store.Subscribe(ctx, after, func(e events.Event) error {
			if q, ok := events.QuarantineOf(e); ok {
				r.quarantine(q)
				f.add(item{e: e}) // for no lane: the checkpoints move past it
				return nil
			}
			ti := types[e.Type]
			if ti == nil {
				ti = r.classify(e, lanes)
				types[string([]byte(e.Type))] = ti // the type is a view of the message; keep a copy
			}
			f.add(item{e: e, handlers: ti.handlers})
			return nil
		})
	}
	f.flush()
	close(f.work)
	close(f.ordered)
	decoders.Wait()
	<-applierDone
	if until > 0 && ctx.Err() != nil && minCheckpoint(lanes) >= until {
		return nil
	}
	return err
}

// classify finds the lanes that want an event type, by the name of the
// newest version it reads as. Types the registry cannot read, or that
// no lane handles, are logged once and skipped.
func (r *Runner) classify(e events.Event, lanes []*lane) *typeInfo {
	name := e.Type
	if !r.registry.Readable(name) {
		r.logOnce("unreadable:"+name, slog.LevelWarn, "skipping events of a type the registry cannot read", "type", name)
		return &typeInfo{}
	}
	if !r.registry.Known(name) {
		// An old version: decode one to learn the type it upcasts to.
		ue, _, err := r.registry.Decode(e)
		if err != nil {
			r.log.Warn("cannot upcast an event to learn its type; skipping it", "type", name, "stream", e.StreamID, "version", e.Version, "err", err)
			return &typeInfo{}
		}
		name = ue.Type
	}
	ti := &typeInfo{}
	for _, l := range lanes {
		if l.p.Handles(name) {
			ti.handlers = append(ti.handlers, l)
		} else if !l.unhandled[name] {
			l.unhandled[name] = true
			r.log.Debug("projection skips an event type it does not handle", "projection", l.p.Name(), "type", name)
		}
	}
	if len(ti.handlers) == 0 {
		// Ordinary (the views read only what they show), and logged at
		// debug: at info it would land in the middle of the banner that
		// shows a newcomer the operator's password.
		r.logOnce("unhandled:"+name, slog.LevelDebug, "skipping events of a type no projection handles", "type", name)
	}
	return ti
}

func (r *Runner) logOnce(key string, level slog.Level, msg string, args ...any) {
	r.logMu.Lock()
	seen := r.logged[key]
	r.logged[key] = true
	r.logMu.Unlock()
	if !seen {
		r.log.Log(context.Background(), level, msg, args...)
	}
}

func (r *Runner) decode(b *batch) {
	for i := range b.items {
		it := &b.items[i]
		if len(it.handlers) == 0 {
			continue
		}
		ue, payload, err := r.payloads.decode(it.e)
		if err != nil {
			it.err = err
			continue
		}
		it.e, it.payload = ue, payload
	}
}

// apply folds a decoded batch into the lanes in log order and reports
// whether the pass is done: every lane has reached until, or stopped.
func (r *Runner) apply(b *batch, lanes []*lane, until uint64) (reached bool) {
	r.scanned.Add(uint64(len(b.items)))
	now := time.Now()             // once a batch: saves are due by the minute, not the microsecond
	saved := false                // one capture a batch, so the lanes' saves take turns
	tp := spans.Provider(r.store) // a traced write's event is applied in a span of its trace
	for i := range b.items {
		it := &b.items[i]
		e := it.e
		for _, l := range it.handlers {
			if !l.active() || e.Position <= l.checkpoint.Load() {
				continue
			}
			_, span := spans.FromEvent(context.Background(), tp, tracerName, "project "+l.p.Name(), e, spans.View.String(l.p.Name()))
			err := it.err
			if err == nil {
				err = l.p.Apply(e, it.payload)
			}
			spans.End(span, err)
			if err != nil {
				r.fail(l, e, err)
				continue
			}
			l.applied.Add(1)
			l.sinceSave++
		}
		if !e.LastInCommit {
			continue
		}
		for _, l := range lanes {
			if l.active() && e.Position > l.checkpoint.Load() {
				l.advance(e.Position)
				if !saved && r.due(l, now) {
					r.save(l, false)
					saved = true
				}
			}
		}
		if until > 0 && e.Position >= until {
			reached = true
		}
	}
	// A pass whose lanes have all stopped has nothing left to do.
	return reached || !slices.ContainsFunc(lanes, (*lane).active)
}
