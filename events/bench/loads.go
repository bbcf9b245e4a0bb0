package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
)

// Shapes and targets of the loads.
const (
	snapshotEvery = 100  // the aggregate repository snapshots every 100 events
	snapshotSize  = 2048 // bytes of one snapshot's state
	longStream    = 1000 // events of the full fold
	snapLoadMs    = 1.0  // target: median load from a snapshot plus its tail
	foldLoadMs    = 5.0  // target: median full fold of longStream events
)

// benchState is what the benchmark's aggregate folds into, as an
// aggregate's state: a snapshot decodes into it and every event evolves it.
type benchState struct {
	Version uint64 `json:"version"`
	Sum     int    `json:"sum"`
	Fields  string `json:"fields"` // pads a snapshot to about snapshotSize
}

func evolve(s benchState, e events.Event, p any) benchState {
	h, _ := p.(happened)
	s.Version, s.Sum = e.Version, s.Sum+h.N
	return s
}

// loads measures loading an aggregate as the repository does: its
// snapshot (taken at a multiple of snapshotEvery events) and the tail
// after it, decoded and folded, on streams whose tails cover 0..99 events;
// and a full fold of a longStream-event stream without a snapshot.
func (r *runner) loads(ctx context.Context, n *node) error {
	s, reg := n.store, registry()
	snaps, err := jetstream.OpenSnapshots(ctx, n.nc, 1)
	if err != nil {
		return err
	}
	streams, err := r.fillSnapshotted(ctx, s, snaps)
	if err != nil {
		return err
	}
	long := "benchload-long"
	if _, err := fill(ctx, s, long, 0, longStream); err != nil {
		return err
	}

	fold := func(evs []events.Event, st benchState) (benchState, error) {
		for _, e := range evs {
			e, p, err := reg.Decode(e)
			if err != nil {
				return st, err
			}
			st = evolve(st, e, p)
		}
		return st, nil
	}
	fromSnapshot := func(stream string, tail int) error {
		snap, ok, err := snaps.LoadSnapshot(ctx, stream)
		if err != nil || !ok {
			return fmt.Errorf("load snapshot of %s: found %v, %v", stream, ok, err)
		}
		var st benchState
		if err := json.Unmarshal(snap.State, &st); err != nil {
			return fmt.Errorf("decode snapshot: %w", err)
		}
		evs, err := s.ReadStreamAfter(ctx, stream, snap.Version+1, snap.Position)
		if err != nil {
			return err
		}
		if st, err = fold(evs, st); err != nil {
			return err
		}
		if len(evs) != tail || st.Version != uint64(snapshotEvery+tail) {
			return fmt.Errorf("load %s: tail of %d events to version %d, want %d to %d", stream, len(evs), st.Version, tail, snapshotEvery+tail)
		}
		return nil
	}
	full := func() error {
		evs, err := s.ReadStream(ctx, long, 1)
		if err != nil {
			return err
		}
		st, err := fold(evs, benchState{})
		if err != nil {
			return err
		}
		if st.Version != longStream {
			return fmt.Errorf("fold %s: version %d, want %d", long, st.Version, longStream)
		}
		return nil
	}

	rng := rand.New(rand.NewPCG(7, 11))
	snapMs, err := r.latencies(ctx, func() error {
		i := rng.IntN(len(streams))
		return fromSnapshot(streams[i].id, streams[i].tail)
	})
	if err != nil {
		return fmt.Errorf("load from snapshot: %w", err)
	}
	foldMs, err := r.latencies(ctx, full)
	if err != nil {
		return fmt.Errorf("full fold: %w", err)
	}
	scen := fmt.Sprintf("load/snapshot+tail0-%d", snapshotEvery-1)
	r.add(Budget(scen, "ms_median", Median(snapMs), "ms", snapLoadMs, fmt.Sprintf("<= %.0f ms", snapLoadMs)))
	r.add(Result{Scenario: scen, Metric: "ms_p99", Value: quantile(snapMs, 0.99), Unit: "ms"})
	scen = fmt.Sprintf("load/fold%d", longStream)
	r.add(Budget(scen, "ms_median", Median(foldMs), "ms", foldLoadMs, fmt.Sprintf("<= %.0f ms", foldLoadMs)))
	r.add(Result{Scenario: scen, Metric: "ms_p99", Value: quantile(foldMs, 0.99), Unit: "ms"})
	return nil
}

type snapshotted struct {
	id   string
	tail int
}

// fillSnapshotted writes streams of snapshotEvery events plus a tail, the
// tails spread evenly over 0..snapshotEvery-1, with a snapshot at
// snapshotEvery, from a few writers at once.
func (r *runner) fillSnapshotted(ctx context.Context, s events.Store, snaps *jetstream.Snapshots) ([]snapshotted, error) {
	streams := make([]snapshotted, r.sz.loadStreams)
	for i := range streams {
		streams[i] = snapshotted{id: fmt.Sprintf("benchsnap-s%d", i), tail: i * snapshotEvery / len(streams)}
	}
	pad := strings.Repeat("s", snapshotSize-len(`{"version":100,"sum":0,"fields":""}`))
	var wg sync.WaitGroup
	errs := make(chan error, len(streams))
	sem := make(chan struct{}, 16)
	for _, st := range streams {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			res, err := fill(ctx, s, st.id, 0, snapshotEvery)
			if err != nil {
				errs <- err
				return
			}
			state, _ := json.Marshal(benchState{Version: snapshotEvery, Fields: pad})
			if err := snaps.SaveSnapshot(ctx, events.Snapshot{StreamID: st.id, Version: res.LastVersion,
				Position: res.Position, Schema: "bench.v1", State: state}); err != nil {
				errs <- err
				return
			}
			if _, err := fill(ctx, s, st.id, res.LastVersion, st.tail); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return streams, <-errs
}

// fill appends count single-event commits to a stream from version from
// and returns the result of the last append.
func fill(ctx context.Context, s events.Store, stream string, from uint64, count int) (events.AppendResult, error) {
	var res events.AppendResult
	for i := range count {
		v := from + uint64(i)
		var err error
		res, err = s.Append(ctx, appendReq(stream, v, newEvents(int(v), 1)))
		if err != nil {
			return res, fmt.Errorf("fill %s at %d: %w", stream, v, err)
		}
	}
	return res, nil
}

// latencies runs load sz.loads times (after a few unmeasured ones) and
// returns each time in milliseconds.
func (r *runner) latencies(ctx context.Context, load func() error) ([]float64, error) {
	for range 5 {
		if err := load(); err != nil {
			return nil, err
		}
	}
	out := make([]float64, r.sz.loads)
	for i := range out {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := load(); err != nil {
			return nil, err
		}
		out[i] = float64(time.Since(start)) / float64(time.Millisecond)
	}
	return out, nil
}

// quantile is the q-quantile of xs (nearest rank).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
