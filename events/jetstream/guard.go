package jetstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
)

// openEventStream creates the event stream if there is none, and otherwise
// opens it without ever narrowing it: no code path here can drop, purge
// or expire an event. An existing stream with limits that would drop
// events (an age, a count, a size, another retention or fewer subjects)
// is refused with the reason rather than "fixed": changing the limits of
// a log is an administrator's decision, not a start-up's. What Open may
// add to an existing stream only makes it safer or faster to read: deny
// delete and purge, atomic batches, direct gets, the duplicate window.
func openEventStream(ctx context.Context, js njs.JetStream, want njs.StreamConfig) (njs.Stream, error) {
	for {
		stream, err := openOnce(ctx, js, want)
		if err == nil {
			return stream, nil
		}
		var unsafe *UnsafeStreamError
		if errors.As(err, &unsafe) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func openOnce(ctx context.Context, js njs.JetStream, want njs.StreamConfig) (njs.Stream, error) {
	attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	stream, err := js.Stream(attempt, want.Name)
	if errors.Is(err, njs.ErrStreamNotFound) {
		return js.CreateStream(attempt, want) // a concurrent create fails here and is tried again
	}
	if err != nil {
		return nil, err
	}
	have := stream.CachedInfo().Config
	if reasons := narrowing(have, want); len(reasons) > 0 {
		return nil, &UnsafeStreamError{Stream: want.Name, Reasons: reasons}
	}
	next, changed := widened(have, want)
	if !changed {
		return stream, nil
	}
	return js.UpdateStream(attempt, next)
}

// UnsafeStreamError refuses to open an event stream configured to lose
// events.
type UnsafeStreamError struct {
	Stream  string
	Reasons []string
}

func (e *UnsafeStreamError) Error() string {
	return fmt.Sprintf("the event stream %s is configured to lose events (%v); Fundbridge keeps every event forever and will not change that itself: fix the stream with the nats CLI, knowing what it drops", e.Stream, e.Reasons)
}

// narrowing lists what in have could drop events that want keeps.
func narrowing(have, want njs.StreamConfig) []string {
	var r []string
	if have.Retention != njs.LimitsPolicy {
		r = append(r, "retention "+have.Retention.String())
	}
	if have.MaxAge > 0 {
		r = append(r, "max age "+have.MaxAge.String())
	}
	if have.MaxMsgs > 0 {
		r = append(r, fmt.Sprintf("max messages %d", have.MaxMsgs))
	}
	if have.MaxBytes > 0 {
		r = append(r, fmt.Sprintf("max bytes %d", have.MaxBytes))
	}
	if have.MaxMsgsPerSubject > 0 {
		r = append(r, fmt.Sprintf("max messages per subject %d", have.MaxMsgsPerSubject))
	}
	if have.AllowRollup {
		r = append(r, "rollups (a rollup purges a subject)")
	}
	if have.AllowMsgTTL {
		r = append(r, "per-message TTLs")
	}
	if have.Storage != want.Storage {
		r = append(r, "storage "+have.Storage.String())
	}
	for _, sub := range want.Subjects {
		if !slices.Contains(have.Subjects, sub) {
			r = append(r, "subjects "+fmt.Sprint(have.Subjects))
			break
		}
	}
	return r
}

// widened is have with what want adds and nothing it removes.
func widened(have, want njs.StreamConfig) (njs.StreamConfig, bool) {
	next := have
	next.Description = want.Description
	next.DenyDelete, next.DenyPurge = true, true
	next.AllowAtomicPublish = have.AllowAtomicPublish || want.AllowAtomicPublish
	next.AllowDirect = have.AllowDirect || want.AllowDirect
	next.Duplicates = max(have.Duplicates, want.Duplicates)
	next.MaxMsgSize = max(have.MaxMsgSize, want.MaxMsgSize)
	if have.MaxMsgSize <= 0 {
		next.MaxMsgSize = have.MaxMsgSize // unlimited stays unlimited
	}
	next.Replicas = max(have.Replicas, want.Replicas)
	changed := next.Description != have.Description || next.DenyDelete != have.DenyDelete || next.DenyPurge != have.DenyPurge ||
		next.AllowAtomicPublish != have.AllowAtomicPublish || next.AllowDirect != have.AllowDirect ||
		next.Duplicates != have.Duplicates ||
		next.MaxMsgSize != have.MaxMsgSize || next.Replicas != have.Replicas
	return next, changed
}
