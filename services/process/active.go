package process

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge/events"
)

// spawner runs work for the event at a position in the background; it
// waits while MaxInFlight works are running.
type spawner func(position uint64, work func(context.Context) error) error

// errStopped ends an active spell whose follower stopped on its own.
var errStopped = errors.New("process manager: the log or the deadlines stopped being followed")

// active follows the log from the checkpoint and takes the firings of
// deadlines until ctx ends, the lease is lost or something fails; the
// first failure (the cause of the cancellation) is returned.
func (m *Manager[S]) active(parent context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait() // after the cancel below: deferred calls run last first
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	wg.Go(func() { m.lease.hold(ctx, cancel) })

	from, err := m.Checkpoint(ctx)
	if err != nil {
		return err
	}
	work := &inflight{scanned: from, pending: map[uint64]int{}}
	slots := make(chan struct{}, m.opts.MaxInFlight)
	spawn := func(pos uint64, fn func(context.Context) error) error {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		work.begin(pos)
		wg.Go(func() {
			defer func() { <-slots }()
			if err := fn(ctx); err != nil {
				cancel(err) // the position stays pending: the checkpoint stays before it
				return
			}
			work.end(pos)
		})
		return nil
	}
	stop := func(err error) {
		if err == nil {
			err = errStopped // a no-op if ctx ended first: the first cause stays
		}
		cancel(err)
	}
	wg.Go(func() {
		stop(m.opts.Store.Subscribe(ctx, from, func(e events.Event) error {
			if err := m.handle(ctx, e, spawn); err != nil {
				return err
			}
			if e.LastInCommit {
				work.scan(e.Position)
			}
			return nil
		}))
	})
	wg.Go(func() { stop(m.timers.consume(ctx, m.fire)) })
	wg.Go(func() { m.keepCheckpoint(ctx, from, work) })

	<-ctx.Done()
	err = context.Cause(ctx)
	wg.Wait()
	if errors.Is(err, errCrashed) {
		return err
	}
	_ = m.saveCheckpoint(context.WithoutCancel(parent), work.checkpoint())
	return err
}

// keepCheckpoint saves the position handled every CheckpointEvery, so a
// restart resumes there. What lies between it and the crash is handled
// again, which records and sends nothing twice.
func (m *Manager[S]) keepCheckpoint(ctx context.Context, saved uint64, work *inflight) {
	t := time.NewTicker(m.opts.CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if pos := work.checkpoint(); pos != saved && m.saveCheckpoint(ctx, pos) == nil {
			saved = pos
		}
	}
}

// inflight tracks how far the log has been handled while sends run in the
// background: up to the last commit scanned, but before the first commit
// whose send has not finished.
type inflight struct {
	mu      sync.Mutex
	scanned uint64         // the last whole commit handed out
	pending map[uint64]int // commit position → sends running for it
}

func (f *inflight) begin(pos uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending[pos]++
}

func (f *inflight) end(pos uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending[pos]--; f.pending[pos] <= 0 {
		delete(f.pending, pos)
	}
}

func (f *inflight) scan(pos uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scanned = pos
}

// checkpoint is the position after which a restart must resume.
func (f *inflight) checkpoint() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := f.scanned
	for pos := range f.pending {
		cp = min(cp, pos-1) // pos is a commit's position, so at least 1
	}
	return cp
}
