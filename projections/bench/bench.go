// Package bench measures the read projections on a simulated market log:
// a rebuild of all of them next to a raw ordered-consumer replay of the
// same stream in the same run, the peak heap of the rebuild, a restart
// from their snapshots, the cost of the snapshot format (gob against
// JSON), and the lag from an append's acknowledgement to its visibility
// in the lifecycle view under a steady load. Run returns the figures and
// PrintTable writes them, for a CLI or the benchmark in bench_test.go.
//
// Figures come with their baseline from the same run where there is one,
// so a slow or noisy machine moves both sides together.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/bench"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/natsserver"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/dealboard"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/projections/market"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/projections/timeline"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// Config configures one run.
type Config struct {
	DataDir string // for the embedded server and the snapshots; required
	// Events is about how many events the log holds. Default 1,000,000;
	// Quick makes it 20,000 and the lag test short.
	Events int
	Quick  bool
	// Writers append the log concurrently. Default 64.
	Writers int
	// LagRate appends per second, for LagDuration, in the lag test.
	// Defaults 200/s for 10s (2s when Quick).
	LagRate     int
	LagDuration time.Duration
	// Rounds: rebuilds, each between two raw replays. Default 5 (1
	// when Quick).
	Rounds   int
	Progress io.Writer // optional: a line as each figure is measured
}

// Result is one measured figure, as events/bench measures them.
type Result = bench.Result

// Targets.
const (
	rebuildVsRaw  = 0.60   // rebuild events/s over raw replay msg/s
	peakHeapMiB   = 1024   // heap in use during the rebuild
	restartBudget = 2000.0 // ms from start to caught up, from snapshots
	lagP99Budget  = 10.0   // ms
	rawPull       = 1024   // messages buffered by the raw consumer, as the store's Subscribe does
	streamName    = "FUNDBRIDGE_EVENTS"
	mib           = 1 << 20 // bytes
)

type runner struct {
	cfg     Config
	results []Result
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format+"\n", args...)
	}
}

// add records a figure; met decides from the ratio whether the target holds.
func (r *runner) add(res Result, met func(ratio float64) bool) {
	if res.Baseline > 0 {
		res.Ratio = res.Value / res.Baseline
		if met != nil {
			ok := met(res.Ratio)
			res.Met = &ok
		}
	}
	r.results = append(r.results, res)
	line := fmt.Sprintf("%-32s %14.3f %s", res.Scenario+" "+res.Metric, res.Value, res.Unit)
	if res.Met != nil {
		line += fmt.Sprintf("  (baseline %.3f, ratio %.3f, target %s: %s)", res.Baseline, res.Ratio, res.Target, word(*res.Met))
	}
	r.logf("%s", line)
}

func word(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func atLeast(x float64) func(float64) bool { return func(r float64) bool { return r >= x } }
func atMost(x float64) func(float64) bool  { return func(r float64) bool { return r <= x } }

func registry() *events.Registry {
	r := events.NewRegistry()
	sim.Register(r)
	return r
}

func all() []projections.Projection {
	return []projections.Projection{lifecycle.New(), timeline.New(), market.New(), dealboard.New()}
}

// Run fills a log on a lazy-fsync embedded server and measures.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("bench: DataDir is required")
	}
	if cfg.Events == 0 {
		cfg.Events = 1_000_000
		if cfg.Quick {
			cfg.Events = 20_000
		}
	}
	if cfg.Writers == 0 {
		cfg.Writers = 64
	}
	if cfg.LagRate == 0 {
		cfg.LagRate = 200
	}
	if cfg.LagDuration == 0 {
		cfg.LagDuration = 10 * time.Second
		if cfg.Quick {
			cfg.LagDuration = 2 * time.Second
		}
	}
	if cfg.Rounds == 0 {
		cfg.Rounds = 5
		if cfg.Quick {
			cfg.Rounds = 1
		}
	}
	r := &runner{cfg: cfg}

	// Lazy fsync: the setup appends are only a way to get a log.
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: filepath.Join(cfg.DataDir, "nats")})
	if err != nil {
		return nil, err
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	store, err := jetstream.Open(ctx, nc, registry(), jetstream.Options{})
	if err != nil {
		return nil, err
	}
	defer store.Close()

	start := time.Now()
	stats, err := sim.Write(ctx, store, sim.Config{Seed: 1, Companies: max(1, cfg.Events/sim.EventsPerCompany), Workers: cfg.Writers})
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	head, err := store.Head(ctx)
	if err != nil {
		return nil, err
	}
	r.logf("log: %d events in %d appends (head %d) in %s", stats.Events, stats.Appends, head, elapsed.Round(time.Millisecond))
	r.add(Result{Scenario: "setup/append", Metric: "appends_per_sec", Value: float64(stats.Appends) / elapsed.Seconds(), Unit: "append/s"}, nil)

	js, err := njs.New(nc)
	if err != nil {
		return nil, err
	}
	// Raw replays and rebuilds take turns, and each rebuild is compared
	// with the mean of the raw replays just before and after it: on a
	// shared machine the CPU on offer drifts, and only neighbours see the
	// same machine. The round with the median ratio is reported.
	type round struct{ raw, rawCPU, rebuild, rebuildCPU float64 }
	var rounds []round
	var peak uint64
	raw, rawCPU, err := rawReplay(ctx, js, head)
	if err != nil {
		return nil, fmt.Errorf("raw replay: %w", err)
	}
	for i := range cfg.Rounds {
		rate, cpuPer, heap, err := rebuild(ctx, store, "", stats.Events, nil)
		if err != nil {
			return nil, fmt.Errorf("rebuild: %w", err)
		}
		after, afterCPU, err := rawReplay(ctx, js, head)
		if err != nil {
			return nil, fmt.Errorf("raw replay: %w", err)
		}
		rd := round{raw: (raw + after) / 2, rawCPU: (rawCPU + afterCPU) / 2, rebuild: rate, rebuildCPU: cpuPer}
		r.logf("round %d: raw replay %.0f msg/s around it (%.1f µs CPU each), rebuild %.0f event/s (%.1f µs CPU each): %.3f of raw; peak heap %.0f MiB",
			i+1, rd.raw, rd.rawCPU, rate, cpuPer, rate/rd.raw, float64(heap)/mib)
		rounds = append(rounds, rd)
		raw, rawCPU, peak = after, afterCPU, max(peak, heap)
	}
	slices.SortFunc(rounds, func(a, b round) int { return cmp.Compare(a.rebuild/a.raw, b.rebuild/b.raw) })
	med := rounds[len(rounds)/2]
	r.add(Result{Scenario: "replay/raw", Metric: "msgs_per_sec", Value: med.raw, Unit: "msg/s"}, nil)
	r.add(Result{Scenario: "rebuild/all", Metric: "events_per_sec", Value: med.rebuild, Unit: "event/s",
		Baseline: med.raw, Target: fmt.Sprintf(">= %.2f of raw", rebuildVsRaw)}, atLeast(rebuildVsRaw))
	// CPU per event shows the cost apart from how much of the machine
	// each side got.
	r.add(Result{Scenario: "replay/raw", Metric: "cpu_per_msg", Value: med.rawCPU, Unit: "µs"}, nil)
	r.add(Result{Scenario: "rebuild/all", Metric: "cpu_per_event", Value: med.rebuildCPU, Unit: "µs"}, nil)

	// Once more, saving snapshots as it goes and at the end, as the CLI
	// does: the restart below starts from them.
	snapDir := filepath.Join(cfg.DataDir, "snapshots")
	start = time.Now()
	var state uint64
	_, _, heap, err := rebuild(ctx, store, snapDir, stats.Events, &state)
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	peak = max(peak, heap)
	r.add(Result{Scenario: "rebuild/all+save", Metric: "took", Value: time.Since(start).Seconds(), Unit: "s"}, nil)
	// The peak is the whole process's, the embedded server's caches
	// included; the state is what the projections hold once folded.
	r.add(Result{Scenario: "rebuild/all", Metric: "peak_heap", Value: float64(peak) / mib, Unit: "MiB",
		Baseline: peakHeapMiB, Target: fmt.Sprintf("<= %d MiB", peakHeapMiB)}, atMost(1))
	r.add(Result{Scenario: "rebuild/all", Metric: "state_heap", Value: float64(state) / mib, Unit: "MiB"}, nil)

	if err := r.snapshots(snapDir); err != nil {
		return nil, err
	}
	live, stop, err := r.restart(ctx, store, snapDir, head)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := r.lag(ctx, store, live); err != nil {
		return nil, err
	}
	return r.results, nil
}

// rawReplay counts the stream's messages through an ordered consumer,
// without decoding them: the ceiling for any reader of the log. It
// reports messages per second and the process's CPU µs per message.
func rawReplay(ctx context.Context, js njs.JetStream, total uint64) (float64, float64, error) {
	start, cpu := time.Now(), cpuTime()
	cons, err := js.OrderedConsumer(ctx, streamName, njs.OrderedConsumerConfig{DeliverPolicy: njs.DeliverAllPolicy, InactiveThreshold: 30 * time.Second})
	if err != nil {
		return 0, 0, err
	}
	it, err := cons.Messages(njs.PullMaxMessages(rawPull))
	if err != nil {
		return 0, 0, err
	}
	defer it.Stop()
	for n := uint64(0); n < total; n++ {
		if _, err := it.Next(); err != nil {
			return 0, 0, err
		}
	}
	return float64(total) / time.Since(start).Seconds(), micros(cpuTime()-cpu, total), nil
}

func micros(d time.Duration, n uint64) float64 {
	return float64(d) / float64(time.Microsecond) / float64(n)
}

// rebuild folds the whole log into fresh projections, saving them to dir
// if set, and reports events per second, CPU µs per event and the peak
// heap in use meanwhile; and, if state is set, the heap the folded
// projections hold.
func rebuild(ctx context.Context, store events.Store, dir string, total int64, state *uint64) (float64, float64, uint64, error) {
	if dir != "" {
		if err := os.RemoveAll(dir); err != nil {
			return 0, 0, 0, err
		}
	}
	goruntime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var ms goruntime.MemStats
		for {
			goruntime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	ps := all()
	rr := projections.NewRunner(store, registry(), projections.RunnerOptions{Dir: dir, Logger: quiet()}, ps...)
	start, cpu := time.Now(), cpuTime()
	err := rr.Rebuild(ctx, "", nil)
	elapsed, used := time.Since(start), cpuTime()-cpu
	close(stop)
	<-sampled
	if err != nil {
		return 0, 0, 0, err
	}
	if state != nil {
		with := liveHeap()
		goruntime.KeepAlive(ps) // and no longer: the next collection frees them
		if without := liveHeap(); with > without {
			*state = with - without
		}
	}
	return float64(total) / elapsed.Seconds(), micros(used, uint64(total)), peak.Load(), nil
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// snapshots reports each snapshot's size and compares gob, the format
// the projections use, with JSON on the same states.
func (r *runner) snapshots(dir string) error {
	for _, p := range all() {
		st, err := os.Stat(filepath.Join(dir, p.Name()+".snapshot"))
		if err != nil {
			return err
		}
		r.add(Result{Scenario: "snapshot/" + p.Name(), Metric: "bytes", Value: float64(st.Size()) / mib, Unit: "MiB"}, nil)
	}
	// The states as the snapshots hold them, decoded once, then encoded
	// and decoded both ways.
	for _, c := range []struct {
		name  string
		state func() any
	}{
		{lifecycle.Name, func() any { return new(lifecycle.State) }},
		{timeline.Name, func() any { return new(timeline.State) }},
	} {
		_, data, err := projections.ReadSnapshot(dir, c.name)
		if err != nil {
			return err
		}
		st := c.state()
		if err := gobDecode(data, st); err != nil {
			return fmt.Errorf("codec %s: %w", c.name, err)
		}
		gobEnc, gobDec, gobSize, err := timeCodec(st, c.state, gobEncode, gobDecode)
		if err != nil {
			return err
		}
		jsonEnc, jsonDec, jsonSize, err := timeCodec(st, c.state, json.Marshal, json.Unmarshal)
		if err != nil {
			return err
		}
		r.logf("codec %s: gob %d bytes, encode %.0f ms, decode %.0f ms; json %d bytes, encode %.0f ms, decode %.0f ms",
			c.name, gobSize, gobEnc, gobDec, jsonSize, jsonEnc, jsonDec)
		r.add(Result{Scenario: "codec/" + c.name + "/gob", Metric: "encode+decode", Value: gobEnc + gobDec, Unit: "ms",
			Baseline: jsonEnc + jsonDec, Target: "< json"}, atMost(1))
		r.add(Result{Scenario: "codec/" + c.name + "/gob", Metric: "size", Value: float64(gobSize) / mib, Unit: "MiB",
			Baseline: float64(jsonSize) / mib, Target: "< json"}, atMost(1))
	}
	return nil
}

func gobEncode(v any) ([]byte, error) {
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(v)
	return buf.Bytes(), err
}

func gobDecode(data []byte, v any) error { return gob.NewDecoder(bytes.NewReader(data)).Decode(v) }

// timeCodec encodes and decodes st, reporting milliseconds and size.
func timeCodec(st any, fresh func() any, enc func(any) ([]byte, error), dec func([]byte, any) error) (float64, float64, int, error) {
	start := time.Now()
	data, err := enc(st)
	if err != nil {
		return 0, 0, 0, err
	}
	encoded := time.Since(start)
	start = time.Now()
	if err := dec(data, fresh()); err != nil {
		return 0, 0, 0, err
	}
	return ms(encoded), ms(time.Since(start)), len(data), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// restart starts a runner on the rebuilt snapshots and times it until
// every projection has caught up with the head. It leaves it running,
// saving every 10 seconds (six times as often as by default), so that
// the lag test pays for a save of each projection.
func (r *runner) restart(ctx context.Context, store events.Store, dir string, head uint64) (*projections.Runner, func(), error) {
	start := time.Now()
	opts := projections.RunnerOptions{Dir: dir, Logger: quiet(), SaveInterval: 10 * time.Second}
	rr := projections.NewRunner(store, registry(), opts, all()...)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rr.Run(runCtx) }()
	stop := func() {
		cancel()
		<-done
	}
	for _, name := range []string{lifecycle.Name, timeline.Name, market.Name, dealboard.Name} {
		for {
			err := rr.WaitFor(ctx, name, head)
			if err == nil {
				break
			}
			if rr.Err(name) != nil || time.Since(start) > time.Minute {
				stop()
				return nil, nil, fmt.Errorf("restart: %s: %w", name, err)
			}
		}
	}
	took := ms(time.Since(start))
	for _, s := range rr.Status() {
		if s.RestoredFrom != head {
			stop()
			return nil, nil, fmt.Errorf("restart: %s restored from %d, not the snapshot at %d", s.Name, s.RestoredFrom, head)
		}
	}
	r.add(Result{Scenario: "restart/snapshots", Metric: "ready", Value: took, Unit: "ms",
		Baseline: restartBudget, Target: fmt.Sprintf("<= %.0f ms", restartBudget)}, atMost(1))
	return rr, stop, nil
}

// lag appends new submissions at a steady rate from a few writers and
// times each from its acknowledgement to the lifecycle view holding it.
func (r *runner) lag(ctx context.Context, store events.Store, live *projections.Runner) error {
	const writers = 4
	interval := time.Duration(float64(time.Second) * writers / float64(r.cfg.LagRate))
	var mu sync.Mutex
	var lags []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	deadline := time.Now().Add(r.cfg.LagDuration)
	for w := range writers {
		wg.Go(func() {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for n := 0; time.Now().Before(deadline); n++ {
				<-tick.C
				payload, err := json.Marshal(submission(fmt.Sprintf("lag%d_%d", w, n)))
				if err != nil {
					errs <- err
					return
				}
				res, err := store.Append(ctx, events.AppendRequest{
					StreamID: fmt.Sprintf("application-lag%d_%d", w, n), Expected: events.NoStream,
					Events: []events.NewEvent{{Type: applicationsapi.ApplicationSubmitted{}.EventType(), Payload: payload}},
					Meta:   events.Meta{Actor: fundbridge.Actor{UserID: "bench", Role: fundbridge.RoleStartup, OrgID: "bench"}},
				})
				if err != nil {
					errs <- err
					return
				}
				acked := time.Now()
				if err := live.WaitFor(ctx, lifecycle.Name, res.Position); err != nil {
					errs <- err
					return
				}
				lag := time.Since(acked)
				mu.Lock()
				lags = append(lags, lag)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("lag: %w", err)
	}
	if len(lags) == 0 {
		return errors.New("lag: nothing appended")
	}
	slices.Sort(lags)
	pct := func(p float64) float64 { return ms(lags[min(len(lags)-1, int(p*float64(len(lags))))]) }
	r.logf("lag: %d appends at %d/s", len(lags), r.cfg.LagRate)
	r.add(Result{Scenario: "lag/ack-to-view", Metric: "p50", Value: pct(0.50), Unit: "ms"}, nil)
	r.add(Result{Scenario: "lag/ack-to-view", Metric: "p99", Value: pct(0.99), Unit: "ms",
		Baseline: lagP99Budget, Target: fmt.Sprintf("<= %.0f ms", lagP99Budget)}, atMost(1))
	return nil
}

func submission(id string) applicationsapi.ApplicationSubmitted {
	return applicationsapi.ApplicationSubmitted{
		ApplicationID: id, CompanyName: "Bench AI",
		Slice: applicationsapi.Slice{CompanyID: "bench", Stage: fundbridge.StageGrowth, Layer: fundbridge.LayerTechnology, Sector: "speech", City: "hangzhou"},
		ApplicationTerms: applicationsapi.ApplicationTerms{AmountRequested: money.MustParse("8000000.00"),
			Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity}, UseOfFunds: "compute"},
	}
}

// PrintTable writes the results as an aligned table and a verdict line.
func PrintTable(w io.Writer, rs []Result) { bench.PrintTable(w, rs) }
