package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/fundbridge/fundbridge/events"
)

// handlerError carries the subscriber's own error out of follow.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// Subscribe delivers every event after the given position, then live ones.
// A dropped subscription is renewed from the last append delivered.
func (s *Store) Subscribe(ctx context.Context, after uint64, fn func(events.Event) error) error {
	last := after
	wait := minResubscribeWait
	for {
		progressed, err := s.follow(ctx, &last, fn)
		var herr *handlerError
		if errors.As(err, &herr) {
			return herr.err
		}
		if ctx.Err() != nil {
			return nil
		}
		if s.isClosed() || !resubscribable(err) {
			return fmt.Errorf("subscribe after %d: %w", last, err)
		}
		if progressed {
			wait = minResubscribeWait
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, maxResubscribeWait)
	}
}

// follow runs one subscription to $all from *last until it drops, ctx ends
// or fn fails, advancing *last past each append delivered.
func (s *Store) follow(ctx context.Context, last *uint64, fn func(events.Event) error) (progressed bool, err error) {
	c, err := s.current()
	if err != nil {
		return false, err
	}
	sub, err := c.SubscribeToAll(ctx, kurrentdb.SubscribeToAllOptions{From: allPosition(*last), Filter: kurrentdb.ExcludeSystemEventsFilter()})
	if err != nil {
		return false, s.transport(c, err)
	}
	defer sub.Close()
	var asm assembler
	for {
		msg := sub.Recv()
		switch {
		case msg.SubscriptionDropped != nil:
			err := msg.SubscriptionDropped.Error
			if err == nil {
				err = errors.New("subscription dropped")
			}
			return progressed, s.transport(c, err)
		case msg.EventAppeared != nil:
			progressed = true
			r, ok := ownRecord(msg.EventAppeared)
			if !ok {
				continue
			}
			// Appends at or before *last were delivered before a resubscribe.
			done := *last
			for _, d := range asm.add(r) {
				if d.event.Position <= done {
					continue
				}
				if err := fn(d.event); err != nil {
					return progressed, &handlerError{err}
				}
				*last = d.event.Position
			}
		}
	}
}

// resubscribable says whether a dropped subscription may work again.
func resubscribable(err error) bool {
	var kerr *kurrentdb.Error
	if !errors.As(err, &kerr) {
		return true // end of stream or a transport failure the client did not classify
	}
	switch kerr.Code() {
	case kurrentdb.ErrorCodeUnauthenticated, kurrentdb.ErrorCodeAccessDenied, kurrentdb.ErrorCodeUnsupportedFeature,
		kurrentdb.ErrorCodeParsing, kurrentdb.ErrorCodeInternalClient:
		return false
	}
	return true
}
