package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
)

const (
	replayStream = "BENCH_REPLAY"
	replayPrefix = "fb.replay"
	replayPull   = 1024 // messages buffered by both replay consumers, as the store's Subscribe does
)

// replay fills a store of its own with single-event commits, then times a
// raw ordered consumer and the store's Subscribe over all of it, in turn.
func (r *runner) replay(ctx context.Context, n *node) error {
	s, err := jetstream.Open(ctx, n.nc, registry(), jetstream.Options{Stream: replayStream, SubjectPrefix: replayPrefix})
	if err != nil {
		return fmt.Errorf("replay store: %w", err)
	}
	defer s.Close()
	total := r.sz.replayEvents
	start := time.Now()
	if err := r.fillReplay(ctx, s, total); err != nil {
		return err
	}
	r.logf("replay: stored %d single-event commits in %s; a warm-up and %d rounds of raw and store replay in turn",
		total, time.Since(start).Round(time.Millisecond), r.sz.rounds)
	rounds, err := Interleave(ctx, r.sz.rounds, []string{"raw replay", "store replay"},
		func(ctx context.Context) (float64, error) { return rawReplay(ctx, n.js, total) },
		func(ctx context.Context) (float64, error) { return storeReplay(ctx, s, total) })
	if err != nil {
		return err
	}
	r.add(Result{Scenario: "replay/raw", Metric: "msgs_per_sec", Value: rounds.Median(0), Unit: "msg/s"})
	r.add(rounds.Compare(1, 0).Result("replay/store", "events_per_sec", "event/s",
		fmt.Sprintf(">= %.2f of raw", replayVsRaw), AtLeast(replayVsRaw)))
	return nil
}

func (r *runner) fillReplay(ctx context.Context, s *jetstream.Store, total int) error {
	writers := r.sz.setupWriters
	streamsPer := 32
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		count := total / writers
		if g < total%writers {
			count++
		}
		wg.Go(func() {
			versions := make([]uint64, streamsPer)
			for i := range count {
				k := i % streamsPer
				stream := fmt.Sprintf("benchreplay-g%d_s%d", g, k)
				res, err := s.Append(ctx, appendReq(stream, versions[k], newEvents(i, 1)))
				if err != nil {
					errs <- fmt.Errorf("fill replay %s: %w", stream, err)
					return
				}
				versions[k] = res.LastVersion
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// rawReplay counts the replay stream's messages through an ordered
// consumer, without decoding them.
func rawReplay(ctx context.Context, js njs.JetStream, total int) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, replayTimeout)
	defer cancel()
	start := time.Now()
	cons, err := js.OrderedConsumer(ctx, replayStream, njs.OrderedConsumerConfig{
		DeliverPolicy:     njs.DeliverAllPolicy,
		InactiveThreshold: 30 * time.Second,
	})
	if err != nil {
		return 0, err
	}
	it, err := cons.Messages(njs.PullMaxMessages(replayPull))
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	count := 0
	for count < total {
		if _, err := it.Next(); err != nil {
			it.Stop()
			if ctx.Err() != nil {
				err = fmt.Errorf("%d of %d messages: %w", count, total, ctx.Err())
			}
			return 0, err
		}
		count++
	}
	elapsed := time.Since(start)
	it.Stop()
	if info := cons.CachedInfo(); info != nil {
		_ = js.DeleteConsumer(ctx, replayStream, info.Name)
	}
	return float64(count) / elapsed.Seconds(), nil
}

// storeReplay subscribes from the start and stops once every event came.
func storeReplay(ctx context.Context, s *jetstream.Store, total int) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, replayTimeout)
	defer cancel()
	var elapsed time.Duration
	count := 0
	start := time.Now()
	err := s.Subscribe(ctx, 0, func(e events.Event) error {
		count++
		if count == total {
			elapsed = time.Since(start)
			cancel()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if count != total {
		return 0, fmt.Errorf("subscribe delivered %d events, want %d", count, total)
	}
	return float64(count) / elapsed.Seconds(), nil
}
