package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/fundbridge/fundbridge/events"
)

// ClockSkew bounds how far the recording clocks of two instances may
// disagree: the log is in commit order, so a fold "as of" an instant
// stops at the first event recorded more than this after it.
const ClockSkew = time.Minute

// FoldAsOf folds the log into p (emptied first) as it stood at an
// instant: every event recorded at or before until, up to position upTo
// at most (the live view's checkpoint, so the answer never runs ahead of
// it). It answers "as of" queries of views that keep running totals,
// as DESIGN §6 has it: by folding the log up to that date.
func FoldAsOf(ctx context.Context, store events.Store, registry *events.Registry, p Projection, until time.Time, upTo uint64) error {
	p.Reset()
	const page = 2000
	for after := uint64(0); after < upTo; {
		batch, err := store.ReadAll(ctx, after, page)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, e := range batch {
			if e.Position > upTo || e.RecordedAt.After(until.Add(ClockSkew)) {
				return nil
			}
			after = e.Position
			if e.RecordedAt.After(until) || !registry.Readable(e.Type) {
				continue
			}
			ev, payload, err := registry.Decode(e)
			if err != nil {
				return err
			}
			if !p.Handles(ev.Type) {
				continue
			}
			if err := p.Apply(ev, payload); err != nil {
				return fmt.Errorf("%s as of %s: position %d (%s): %w", p.Name(), until.Format(time.RFC3339), e.Position, ev.Type, err)
			}
		}
	}
	return nil
}
