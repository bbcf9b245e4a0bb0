package viewstate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/spans"
)

// tracerName names the spans of the views' folds.
const tracerName = "github.com/fundbridge/fundbridge/services/svc/viewstate"

// Subscriber is the part of the store a follower reads.
type Subscriber interface {
	Subscribe(ctx context.Context, after uint64, fn func(events.Event) error) error
}

// Follower feeds the event log to a read model, whole appends at a time,
// and tells how far the model has got, so a query can wait until it
// reflects a given write (read-your-writes).
type Follower struct {
	name  string
	store Subscriber
	apply func(events.Event) error

	mu       sync.Mutex
	position uint64        // of the last append applied whole
	changed  chan struct{} // closed and replaced when position moves
	err      error         // why the follower stopped, if it did
}

// NewFollower returns a follower that calls apply for every event in log
// order. apply must be safe against concurrent queries of the model.
func NewFollower(name string, store Subscriber, apply func(events.Event) error) *Follower {
	return &Follower{name: name, store: store, apply: apply, changed: make(chan struct{})}
}

// Run follows the log from after until ctx ends or apply fails; a failure
// stops the model at that position instead of letting it diverge.
func (f *Follower) Run(ctx context.Context, after uint64) error {
	f.setPosition(after)
	tp := spans.Provider(f.store) // a traced write's event is applied in a span of its trace
	err := f.store.Subscribe(ctx, after, func(e events.Event) error {
		if _, ok := events.QuarantineOf(e); ok {
			f.setPosition(e.Position) // not a commit: skipped, never applied
			return nil
		}
		_, span := spans.FromEvent(ctx, tp, tracerName, "project "+f.name, e, spans.View.String(f.name))
		err := f.apply(e)
		spans.End(span, err)
		if err != nil {
			return fmt.Errorf("projection %s at position %d (%s %s@%d): %w", f.name, e.Position, e.Type, e.StreamID, e.Version, err)
		}
		if e.LastInCommit {
			f.setPosition(e.Position)
		}
		return nil
	})
	if err != nil {
		f.mu.Lock()
		f.err = err
		close(f.changed)
		f.changed = make(chan struct{})
		f.mu.Unlock()
	}
	return err
}

func (f *Follower) setPosition(p uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p > f.position {
		f.position = p
		close(f.changed)
		f.changed = make(chan struct{})
	}
}

// Position is that of the last append the model reflects.
func (f *Follower) Position() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.position
}

// MaxWait bounds how long a query waits for its model to catch up.
const MaxWait = 5 * time.Second

// WaitFor returns once the model reflects position p, or an EUNAVAILABLE
// error if it does not within MaxWait (or ctx's deadline, if sooner).
func (f *Follower) WaitFor(ctx context.Context, p uint64) error {
	if p == 0 || f.Position() >= p {
		return nil
	}
	if err := BeyondHead(ctx, f.store, p); err != nil {
		return err
	}
	return f.wait(ctx, p)
}

// CatchUp returns once the model reflects the log as it is now. A query
// about to answer "there is none" calls it first, since another instance
// may just have written what is asked for. When the head cannot be read or
// reached it returns an EUNAVAILABLE error: the caller then answers "try
// again", never a "not found" it cannot vouch for.
func (f *Follower) CatchUp(ctx context.Context) error {
	h, ok := f.store.(header)
	if !ok {
		return nil // a log without a head: nothing to catch up with
	}
	head, err := h.Head(ctx)
	if err != nil {
		return fundbridge.Errorf(fundbridge.EUNAVAILABLE, "view %s cannot catch up with the log: %v", f.name, err)
	}
	return f.wait(ctx, head)
}

func (f *Follower) wait(ctx context.Context, p uint64) error {
	timer := time.NewTimer(MaxWait)
	defer timer.Stop()
	for {
		f.mu.Lock()
		pos, changed, err := f.position, f.changed, f.err
		f.mu.Unlock()
		if pos >= p {
			return nil
		}
		if err != nil {
			return fundbridge.Errorf(fundbridge.EUNAVAILABLE, "view %s stopped at position %d: %v", f.name, pos, err)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fundbridge.Errorf(fundbridge.EUNAVAILABLE, "view %s is at position %d, not yet %d", f.name, pos, p)
		case <-timer.C:
			return fundbridge.Errorf(fundbridge.EUNAVAILABLE, "view %s is at position %d, not yet %d after %s", f.name, pos, p, MaxWait)
		}
	}
}

// header is the part of the store that knows the log's head.
type header interface {
	Head(ctx context.Context) (uint64, error)
}

// BeyondHead refuses a wait for a position the log has not reached: no
// write acknowledged so far has it, so waiting could only time out.
func BeyondHead(ctx context.Context, store any, p uint64) error {
	h, ok := store.(header)
	if !ok {
		return nil
	}
	head, err := h.Head(ctx)
	if err != nil || p <= head {
		return nil // the wait decides
	}
	return fundbridge.Invalid("after is beyond the log", fundbridge.FieldError{Field: "after", Reason: fmt.Sprintf("is %d, beyond the log's head, %d: pass a position a write answered with", p, head)})
}
