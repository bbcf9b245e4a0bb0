package views

import (
	"context"
	"time"

	"github.com/fundbridge/fundbridge/projections"
)

// asOfFolds is how many "as of" folds run at once: each reads the log
// from the start, and they must not crowd out the live views.
const asOfFolds = 2

// viewAsOf returns the projection to answer from: the live one, or, for
// a query as of an instant (non-zero), a new one (fresh) folded from the
// log up to that instant and no further than the live one's checkpoint.
func viewAsOf[P projections.Projection](ctx context.Context, s *Service, live P, fresh func() P, asOf time.Time) (P, error) {
	if asOf.IsZero() {
		return live, nil
	}
	var zero P
	select {
	case s.asOfSlots <- struct{}{}:
		defer func() { <-s.asOfSlots }()
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	p := fresh()
	if err := projections.FoldAsOf(ctx, s.store, s.registry, p, asOf, s.runner.Position(live.Name())); err != nil {
		return zero, err
	}
	return p, nil
}
