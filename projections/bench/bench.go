// Package bench measures the read projections on a simulated market log:
// a rebuild of all of them next to a raw ordered-consumer replay of the
// same stream in the same run (taking turns, round by round), the CPU each
// costs per event, a restart from their snapshots and the cost of the
// snapshot format (gob against JSON). `fundbridge bench rebuild` runs it
// and adds the peak RSS of the whole measured phase.
//
// Figures come with their baseline from the same run where there is one,
// so a slow or noisy machine moves both sides together.
package bench

import (
	"bytes"
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
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/bench"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/natsserver"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/dealboard"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/projections/market"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/projections/timeline"
)

// Config configures one run.
type Config struct {
	DataDir string // for the embedded server and the snapshots; required
	// Events is about how many events the log holds. Default 100,000
	// (10,000 when Quick); `--events 1000000` for the figure.
	Events int
	Quick  bool
	// Writers append the log concurrently. Default 64.
	Writers int
	// Rounds of raw replay and rebuild taking turns, after a warm-up.
	// Default and least 5.
	Rounds   int
	Progress io.Writer // optional: a line as each figure is measured
	// Memory, when set, is reset once the log is written: the measured
	// phase starts there.
	Memory *bench.Memory
}

// Result is one measured figure, as events/bench measures them.
type Result = bench.Result

// Targets.
const (
	rebuildVsRaw  = 0.60   // rebuild events/s over raw replay msg/s
	restartBudget = 2000.0 // ms from start to caught up, from snapshots
	peakRSSMiB    = 768    // the process's peak RSS over the rebuild rounds
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

// add records a figure and reports it.
func (r *runner) add(res Result) {
	r.results = append(r.results, res)
	r.logf("%s", bench.FormatLine(res))
}

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
	cfg.defaults()
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

	stats, head, err := r.fill(ctx, store)
	if err != nil {
		return nil, err
	}
	js, err := njs.New(nc)
	if err != nil {
		return nil, err
	}
	cfg.Memory.Reset()
	if err := r.replayAndRebuild(ctx, js, store, head, stats.Events); err != nil {
		return nil, err
	}
	snapDir := filepath.Join(cfg.DataDir, "snapshots")
	if err := r.rebuildAndSave(ctx, store, snapDir, stats.Events); err != nil {
		return nil, err
	}
	if err := r.snapshots(snapDir); err != nil {
		return nil, err
	}
	_, stop, err := r.restart(ctx, store, snapDir, head)
	if err != nil {
		return nil, err
	}
	stop()
	return r.results, nil
}

// defaults fills in what cfg leaves zero.
func (cfg *Config) defaults() {
	if cfg.Events == 0 {
		cfg.Events = 100_000
		if cfg.Quick {
			cfg.Events = 10_000
		}
	}
	if cfg.Writers == 0 {
		cfg.Writers = 64
	}
	cfg.Rounds = max(cfg.Rounds, 5)
}

// fill writes the simulated market's log, and says how fast and up to
// which head.
func (r *runner) fill(ctx context.Context, store *jetstream.Store) (sim.Stats, uint64, error) {
	start := time.Now()
	stats, err := sim.Write(ctx, store, sim.Config{Seed: 1, Companies: max(1, r.cfg.Events/sim.EventsPerCompany), Workers: r.cfg.Writers})
	if err != nil {
		return sim.Stats{}, 0, err
	}
	elapsed := time.Since(start)
	head, err := store.Head(ctx)
	if err != nil {
		return sim.Stats{}, 0, err
	}
	r.logf("log: %d events in %d appends (head %d) in %s", stats.Events, stats.Appends, head, elapsed.Round(time.Millisecond))
	r.add(Result{Scenario: "setup/append", Metric: "appends_per_sec", Value: float64(stats.Appends) / elapsed.Seconds(), Unit: "append/s"})
	return stats, head, nil
}

// replayAndRebuild measures the raw replay of the log up to head against
// a rebuild of every projection from it, in rounds, with their CPU and
// the rounds' peak memory.
func (r *runner) replayAndRebuild(ctx context.Context, js njs.JetStream, store *jetstream.Store, head uint64, events int64) error {
	cfg := r.cfg
	// Raw replays and rebuilds take turns: on a shared machine the CPU on
	// offer drifts, and only neighbours see the same machine.
	var rawCPU, rebuildCPU []float64
	r.logf("a warm-up and %d rounds of raw replay and rebuild in turn", cfg.Rounds)
	rounds, err := bench.Interleave(ctx, cfg.Rounds, []string{"raw replay", "rebuild"},
		func(ctx context.Context) (float64, error) {
			settle()
			rate, cpu, err := rawReplay(ctx, js, head)
			rawCPU = append(rawCPU, cpu)
			return rate, err
		},
		func(ctx context.Context) (float64, error) {
			settle()
			rate, cpu, err := rebuild(ctx, store, "", events, nil)
			rebuildCPU = append(rebuildCPU, cpu)
			return rate, err
		})
	if err != nil {
		return err
	}
	r.add(Result{Scenario: "replay/raw", Metric: "msgs_per_sec", Value: rounds.Median(0), Unit: "msg/s"})
	r.add(rounds.Compare(1, 0).Result("rebuild/all", "events_per_sec", "event/s",
		fmt.Sprintf(">= %.2f of raw", rebuildVsRaw), bench.AtLeast(rebuildVsRaw)))
	// The peak of the rounds alone: what follows (saving snapshots, the
	// JSON codec comparison) holds more at once than a rebuild does.
	if rss, heap := cfg.Memory.Peak(); rss > 0 {
		r.add(bench.Budget("rebuild/all", "peak_rss_rounds", float64(rss)/mib, "MiB", peakRSSMiB, fmt.Sprintf("<= %d MiB", peakRSSMiB)))
		r.add(Result{Scenario: "rebuild/all", Metric: "peak_heap_rounds", Value: float64(heap) / mib, Unit: "MiB"})
	}
	// CPU per event shows the cost apart from how much of the machine
	// each side got.
	r.add(Result{Scenario: "replay/raw", Metric: "cpu_per_msg", Value: bench.Median(rawCPU), Unit: "µs"})
	r.add(Result{Scenario: "rebuild/all", Metric: "cpu_per_event", Value: bench.Median(rebuildCPU), Unit: "µs"})
	return nil
}

// rebuildAndSave rebuilds once more, saving snapshots into snapDir as it
// goes and at the end, as the CLI does: the restart starts from them.
func (r *runner) rebuildAndSave(ctx context.Context, store *jetstream.Store, snapDir string, events int64) error {
	start := time.Now()
	var state uint64
	if _, _, err := rebuild(ctx, store, snapDir, events, &state); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	r.add(Result{Scenario: "rebuild/all+save", Metric: "took", Value: time.Since(start).Seconds(), Unit: "s"})
	// The state is what the projections hold once folded; the peak of the
	// whole process (the embedded server's caches included) is the
	// command's, from the kernel.
	r.add(Result{Scenario: "rebuild/all", Metric: "state_heap", Value: float64(state) / mib, Unit: "MiB"})
	return nil
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
// if set, and reports events per second and CPU µs per event; and, if
// state is set, the heap the folded projections hold.
func rebuild(ctx context.Context, store events.Store, dir string, total int64, state *uint64) (float64, float64, error) {
	if dir != "" {
		if err := os.RemoveAll(dir); err != nil {
			return 0, 0, err
		}
	}
	ps := all()
	rr := projections.NewRunner(store, registry(), projections.RunnerOptions{Dir: dir, Logger: quiet()}, ps...)
	start, cpu := time.Now(), cpuTime()
	err := rr.Rebuild(ctx, "", nil)
	elapsed, used := time.Since(start), cpuTime()-cpu
	if err != nil {
		return 0, 0, err
	}
	if state != nil {
		with := liveHeap()
		goruntime.KeepAlive(ps) // and no longer: the next collection frees them
		if without := liveHeap(); with > without {
			*state = with - without
		}
	}
	return float64(total) / elapsed.Seconds(), micros(used, uint64(total)), nil
}

// settle collects the last round's garbage and returns it to the
// system before the next round starts, untimed: each round then measures
// one replay or one rebuild, as a process that runs one would, and the
// peak memory of the rounds is the largest round's, not a round's plus
// what the one before left for the collector.
func settle() {
	debug.FreeOSMemory() // a collection first, then the heap returned
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
		r.add(Result{Scenario: "snapshot/" + p.Name(), Metric: "bytes", Value: float64(st.Size()) / mib, Unit: "MiB"})
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
		r.add(bench.Budget("codec/"+c.name+"/gob", "encode+decode", gobEnc+gobDec, "ms", jsonEnc+jsonDec, "<= json"))
		r.add(bench.Budget("codec/"+c.name+"/gob", "size", float64(gobSize)/mib, "MiB", float64(jsonSize)/mib, "<= json"))
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
// every projection has caught up with the head. It returns the runner,
// still running, and how to stop it.
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
	r.add(bench.Budget("restart/snapshots", "ready", took, "ms", restartBudget, fmt.Sprintf("<= %.0f ms", restartBudget)))
	return rr, stop, nil
}

// PrintTable writes the results as an aligned table and a verdict line.
func PrintTable(w io.Writer, rs []Result) { bench.PrintTable(w, rs) }
