// Package bench measures the JetStream event store against raw JetStream on
// the same embedded servers in the same run: append throughput with and
// without fsync, stream load latency (whole stream and snapshot plus tail),
// and replay throughput. `fundbridge bench store` prints its table.
//
// Every ratio is computed from figures measured in the run itself, so a
// slow or noisy machine moves the raw and the store figures together.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/natsserver"
)

// Config configures one benchmark run.
type Config struct {
	DataDir  string        // temp dir for the embedded servers; required
	Duration time.Duration // measured time per throughput scenario (taken in rounds), default 2s
	Quick    bool          // tiny sizes for tests: Duration 200ms, fewer events
	Progress io.Writer     // optional: human-readable lines as each figure is measured
}

// Result is one measured figure.
type Result struct {
	Scenario string  `json:"scenario"` // e.g. "append/single/fsync/c64"
	Metric   string  `json:"metric"`   // e.g. "appends_per_sec", "events_per_sec", "load_ms_median"
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	// Baseline is the figure Value is compared with, measured in the same
	// run (for the snapshot load: the 1 ms budget); 0 if none.
	Baseline float64 `json:"baseline"`
	// Ratio is Value/Baseline, also for latencies (there lower is better).
	Ratio  float64 `json:"ratio"`
	Target string  `json:"target,omitempty"` // e.g. ">= 0.85 of raw"
	Met    *bool   `json:"met,omitempty"`
}

// Sizes of one run.
type sizes struct {
	rounds        int           // turns each throughput workload takes
	round         time.Duration // measured part of one turn (Duration/rounds)
	warmup        time.Duration // unmeasured lead-in of one turn
	loads         int           // loads per latency figure (the median is kept)
	replayEvents  int           // single-event commits replayed
	replayRounds  int           // raw/store alternations; the best of each is kept
	setupWriters  int           // concurrent appenders filling the replay stream
	streamsPerGor int           // event streams (subjects) each appender cycles over
}

// Shapes of the workload.
const (
	payloadSize  = 250  // bytes of one event's JSON payload
	rawMsgSize   = 300  // bytes of one raw publish
	snapshotSize = 2048 // bytes of one snapshot's state
	shortStream  = 10   // events of the short stream load
	longStream   = 1000 // events of the long stream load
	snapshotTail = 3    // events after the snapshot in the snapshot load
	loadBudgetMs = 1.0  // target for a snapshot plus tail load
	eventType    = "bench.happened.v1"
	replayStream = "BENCH_REPLAY"
	replayPrefix = "fb.replay"
	replayPull   = 1024 // messages buffered by both replay consumers, as the store's Subscribe does
	// replayTimeout bounds one replay pass, should one never finish.
	replayTimeout = 5 * time.Minute
)

// Targets.
const (
	singleVsRaw     = 0.85 // single-event appends / raw publishes
	threeVsSingle   = 0.50 // three-event appends / single-event appends
	fsyncC64VsRawC1 = 3.0  // fsync appends by 64 writers / raw fsync publishes by one
	replayVsRaw     = 0.90 // store replay / raw ordered consumer
)

// concurrencies are the numbers of concurrent writers measured.
var concurrencies = []int{1, 8, 64}

// happened is the payload type of every benchmark event.
type happened struct {
	N    int    `json:"n"`
	Note string `json:"note"`
}

func registry() *events.Registry {
	r := events.NewRegistry()
	events.Register[happened](r, eventType)
	return r
}

var benchActor = fundbridge.Actor{UserID: "bench-user", Role: fundbridge.RoleSystem, OrgID: "bench-org"}

// payload is a JSON object of exactly payloadSize bytes.
func payload(n int) json.RawMessage {
	head := `{"n":` + strconv.Itoa(n) + `,"note":"`
	pad := payloadSize - len(head) - len(`"}`)
	if pad < 0 {
		pad = 0
	}
	return json.RawMessage(head + strings.Repeat("x", pad) + `"}`)
}

func appendReq(stream string, version uint64, evs []events.NewEvent) events.AppendRequest {
	return events.AppendRequest{
		StreamID: stream,
		Expected: events.Exactly(version),
		Events:   evs,
		Meta:     events.Meta{Actor: benchActor, CorrelationID: "bench-corr", CausationID: "bench-cmd"},
	}
}

// node is one embedded server with a connection and an event store on it.
type node struct {
	name  string // "fsync" or "lazy"
	srv   *natsserver.Server
	nc    *nats.Conn
	js    njs.JetStream
	store *jetstream.Store
}

func startNode(ctx context.Context, dir, name string, syncAlways bool) (*node, error) {
	dir = filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: dir, SyncAlways: syncAlways})
	if err != nil {
		return nil, fmt.Errorf("%s server: %w", name, err)
	}
	n := &node{name: name, srv: srv}
	if n.nc, err = nats.Connect(srv.ClientURL()); err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("%s server: %w", name, err)
	}
	if n.js, err = njs.New(n.nc); err != nil {
		n.close()
		return nil, err
	}
	// Group commit where every write is fsynced, plain publishes otherwise:
	// what the store's documentation prescribes for each setting.
	n.store, err = jetstream.Open(ctx, n.nc, registry(), jetstream.Options{GroupCommit: syncAlways})
	if err != nil {
		n.close()
		return nil, fmt.Errorf("%s store: %w", name, err)
	}
	return n, nil
}

func (n *node) close() {
	if n.store != nil {
		n.store.Close()
	}
	if n.nc != nil {
		n.nc.Close()
	}
	n.srv.Shutdown()
}

// runner holds what the scenarios share.
type runner struct {
	sz       sizes
	progress io.Writer
	results  []Result
}

func (r *runner) logf(format string, args ...any) {
	if r.progress != nil {
		fmt.Fprintf(r.progress, format+"\n", args...)
	}
}

// add records a figure, compares it with its baseline and reports it.
// met decides whether the target holds from the ratio; nil if no target.
func (r *runner) add(res Result, met func(ratio float64) bool) {
	if res.Baseline > 0 {
		res.Ratio = res.Value / res.Baseline
	}
	if met != nil && res.Baseline > 0 {
		ok := met(res.Ratio)
		res.Met = &ok
	}
	r.results = append(r.results, res)
	line := fmt.Sprintf("%-40s %12.3f %s", res.Scenario, res.Value, res.Unit)
	if res.Baseline > 0 {
		line += fmt.Sprintf("  (baseline %.3f, ratio %.3f", res.Baseline, res.Ratio)
		if res.Met != nil {
			line += ", target " + res.Target + ": " + metWord(*res.Met)
		}
		line += ")"
	}
	r.logf("%s", line)
}

func metWord(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func atLeast(x float64) func(float64) bool { return func(r float64) bool { return r >= x } }
func atMost(x float64) func(float64) bool  { return func(r float64) bool { return r <= x } }

// Run starts two embedded servers under cfg.DataDir (one fsyncing every
// write, one not), measures every scenario on them and returns the figures,
// always the same scenarios in the same order.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("bench: DataDir is required")
	}
	duration := 2 * time.Second
	sz := sizes{
		rounds:        9, // a multiple of the three workloads, which take turns going first
		loads:         50,
		replayEvents:  200_000,
		replayRounds:  2,
		setupWriters:  64,
		streamsPerGor: 8,
	}
	if cfg.Duration > 0 {
		duration = cfg.Duration
	}
	if cfg.Quick {
		duration = 200 * time.Millisecond
		sz.rounds = 3
		sz.loads = 10
		sz.replayEvents = 5_000
	}
	sz.round = duration / time.Duration(sz.rounds)
	sz.warmup = min(sz.round/4, 100*time.Millisecond)
	r := &runner{sz: sz, progress: cfg.Progress}

	fsync, err := startNode(ctx, cfg.DataDir, "fsync", true)
	if err != nil {
		return nil, err
	}
	defer fsync.close()
	lazy, err := startNode(ctx, cfg.DataDir, "lazy", false)
	if err != nil {
		return nil, err
	}
	defer lazy.close()

	for _, n := range []*node{fsync, lazy} {
		if err := r.throughput(ctx, n); err != nil {
			return nil, err
		}
	}
	if err := r.loads(ctx, lazy); err != nil {
		return nil, err
	}
	if err := r.replay(ctx, lazy); err != nil {
		return nil, err
	}
	return r.results, nil
}

// throughput measures raw publishes, single-event and three-event appends
// at each concurrency on one server. The three workloads take turns in
// short rounds, so that a disk or a neighbour slowing down for a while
// weighs on all three alike.
func (r *runner) throughput(ctx context.Context, n *node) error {
	if _, err := n.js.CreateOrUpdateStream(ctx, rawStreamConfig()); err != nil {
		return fmt.Errorf("raw stream on %s: %w", n.name, err)
	}
	var rawC1, singleC64 float64
	for _, c := range concurrencies {
		tag := fmt.Sprintf("%s/c%d", n.name, c)
		r.logf("%s: raw publishes, single-event and three-event appends in turn, %d rounds of %s each", tag, r.sz.rounds, r.sz.round.Round(time.Millisecond))
		loads := []*load{
			newLoad("raw publish "+tag, c, r.rawPublisher(n, tag)),
			newLoad("single-event appends "+tag, c, r.appender(n, "single", tag, 1)),
			newLoad("three-event appends "+tag, c, r.appender(n, "three", tag, 3)),
		}
		// Each round starts with the next workload, so that none always
		// follows the same one (and, say, pays for its garbage).
		for round := range r.sz.rounds {
			for i := range loads {
				l := loads[(round+i)%len(loads)]
				if err := r.run(ctx, l); err != nil {
					return fmt.Errorf("%s, round %d: %w", l.name, round+1, err)
				}
			}
		}
		raw, single, three := loads[0].rate(), loads[1].rate(), loads[2].rate()
		r.add(Result{Scenario: "raw/publish/" + tag, Metric: "msgs_per_sec", Value: raw, Unit: "msg/s"}, nil)
		r.add(Result{
			Scenario: "append/single/" + tag, Metric: "appends_per_sec", Value: single, Unit: "append/s",
			Baseline: raw, Target: fmt.Sprintf(">= %.2f of raw", singleVsRaw),
		}, atLeast(singleVsRaw))
		r.add(Result{
			Scenario: "append/three/" + tag, Metric: "appends_per_sec", Value: three, Unit: "append/s",
			Baseline: single, Target: fmt.Sprintf(">= %.2f of single-event appends", threeVsSingle),
		}, atLeast(threeVsSingle))
		switch c {
		case 1:
			rawC1 = raw
		case 64:
			singleC64 = single
		}
	}
	if n.name == "fsync" {
		r.add(Result{
			Scenario: "append/single/fsync/c64/vs-raw-c1", Metric: "appends_per_sec",
			Value: singleC64, Unit: "append/s", Baseline: rawC1,
			Target: fmt.Sprintf(">= %.1fx raw fsync c1", fsyncC64VsRawC1),
		}, atLeast(fsyncC64VsRawC1))
	}
	return nil
}

// rawStreamConfig is a plain stream: file storage, JetStream's defaults.
func rawStreamConfig() njs.StreamConfig {
	return njs.StreamConfig{Name: "BENCH_RAW", Subjects: []string{"raw.>"}, Storage: njs.FileStorage}
}

// worker performs operations one after another; each call does one.
type worker func(ctx context.Context) error

// load is one workload of c workers, measured over several rounds. The
// workers keep their state (subjects, versions) from round to round.
type load struct {
	name    string
	workers []worker
	ops     int64
	elapsed time.Duration
}

func newLoad(name string, c int, newWorker func(g int) worker) *load {
	l := &load{name: name, workers: make([]worker, c)}
	for g := range l.workers {
		l.workers[g] = newWorker(g)
	}
	return l
}

// rate is the operations per second over all measured rounds.
func (l *load) rate() float64 {
	if l.elapsed <= 0 {
		return 0
	}
	return float64(l.ops) / l.elapsed.Seconds()
}

// run runs the workers for one round: a warm-up, then a measured window
// in which every operation completed is counted.
func (r *runner) run(ctx context.Context, l *load) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		count     atomic.Int64
		wg        sync.WaitGroup
		errOnce   sync.Once
		firstErr  error
		measureAt = time.Now().Add(r.sz.warmup)
		endAt     = measureAt.Add(r.sz.round)
	)
	for _, w := range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if err := w(ctx); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				now := time.Now()
				if now.After(endAt) {
					return
				}
				if !now.Before(measureAt) {
					count.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	l.ops += count.Load()
	l.elapsed += endAt.Sub(measureAt)
	return nil
}

// rawPublisher publishes ~300-byte messages, each goroutine to its own
// subjects in turn, each publish conditional on its subject's last sequence.
func (r *runner) rawPublisher(n *node, tag string) func(g int) worker {
	body := make([]byte, rawMsgSize)
	for i := range body {
		body[i] = 'r'
	}
	prefix := "raw." + strings.ReplaceAll(tag, "/", "_")
	return func(g int) worker {
		subjects := make([]string, r.sz.streamsPerGor)
		last := make([]uint64, len(subjects))
		for k := range subjects {
			subjects[k] = fmt.Sprintf("%s.g%d.s%d", prefix, g, k)
		}
		k := 0
		return func(ctx context.Context) error {
			msg := nats.NewMsg(subjects[k])
			msg.Data = body
			msg.Header.Set(njs.ExpectedLastSubjSeqHeader, strconv.FormatUint(last[k], 10))
			ack, err := n.js.PublishMsg(ctx, msg)
			if err != nil {
				return err
			}
			last[k] = ack.Sequence
			k = (k + 1) % len(subjects)
			return nil
		}
	}
}

// appender appends size-event commits, each goroutine to its own event
// streams in turn, each at the exact version it expects.
func (r *runner) appender(n *node, kind, tag string, size int) func(g int) worker {
	typ := "bench" + kind
	idTag := strings.ReplaceAll(tag, "/", "_")
	return func(g int) worker {
		streams := make([]string, r.sz.streamsPerGor)
		versions := make([]uint64, len(streams))
		for k := range streams {
			streams[k] = fmt.Sprintf("%s-%s_g%d_s%d", typ, idTag, g, k)
		}
		k, seq := 0, 0
		return func(ctx context.Context) error {
			evs := newEvents(seq, size)
			seq++
			res, err := n.store.Append(ctx, appendReq(streams[k], versions[k], evs))
			if err != nil {
				return err
			}
			versions[k] = res.LastVersion
			k = (k + 1) % len(streams)
			return nil
		}
	}
}

// payloads are built once: the benchmark measures the store, not fmt.
var payloadCache = func() []json.RawMessage {
	out := make([]json.RawMessage, 64)
	for i := range out {
		out[i] = payload(i)
	}
	return out
}()

// newEvents proposes count events with payloads of payloadSize bytes.
func newEvents(n, count int) []events.NewEvent {
	out := make([]events.NewEvent, count)
	for i := range out {
		out[i] = events.NewEvent{Type: eventType, Payload: payloadCache[(n+i)%len(payloadCache)]}
	}
	return out
}

// fill appends count single-event commits to one new stream and returns
// the result of the last append.
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

// snapshotState is the state a snapshot holds in the benchmark: one field
// of about snapshotSize bytes, decoded on every load as the repository does.
type snapshotState struct {
	Fields string `json:"fields"`
}

// loads measures the median time to load streams of 10 and 1,000 events
// with ReadStream, and of 1,000 events from a snapshot plus a short tail.
func (r *runner) loads(ctx context.Context, n *node) error {
	s := n.store
	short, long := "benchload-short", "benchload-long"
	if _, err := fill(ctx, s, short, 0, shortStream); err != nil {
		return err
	}
	snapRes, err := fill(ctx, s, long, 0, longStream-snapshotTail)
	if err != nil {
		return err
	}
	if _, err := fill(ctx, s, long, snapRes.LastVersion, snapshotTail); err != nil {
		return err
	}

	// The aggregate repository's way: the store's snapshot stream, then the
	// tail after the snapshot's position.
	snaps, err := jetstream.OpenSnapshots(ctx, n.nc, 1)
	if err != nil {
		return err
	}
	state, _ := json.Marshal(snapshotState{Fields: strings.Repeat("s", snapshotSize-len(`{"fields":""}`))})
	if err := snaps.SaveSnapshot(ctx, events.Snapshot{
		StreamID: long, Version: snapRes.LastVersion, Position: snapRes.Position, Schema: "bench.v1", State: state,
	}); err != nil {
		return err
	}

	readAll := func(stream string, want int) func() error {
		return func() error {
			evs, err := s.ReadStream(ctx, stream, 1)
			if err != nil {
				return err
			}
			if len(evs) != want {
				return fmt.Errorf("load %s: %d events, want %d", stream, len(evs), want)
			}
			return nil
		}
	}
	fromSnapshot := func() error {
		snap, ok, err := snaps.LoadSnapshot(ctx, long)
		if err != nil || !ok {
			return fmt.Errorf("load snapshot: found %v, %v", ok, err)
		}
		var st snapshotState
		if err := json.Unmarshal(snap.State, &st); err != nil {
			return fmt.Errorf("decode snapshot: %w", err)
		}
		tail, err := s.ReadStreamAfter(ctx, long, snap.Version+1, snap.Position)
		if err != nil {
			return err
		}
		if len(tail) != snapshotTail || tail[0].Version != snap.Version+1 {
			return fmt.Errorf("load %s after snapshot: %d events, want %d", long, len(tail), snapshotTail)
		}
		return nil
	}

	for _, l := range []struct {
		scenario string
		load     func() error
		budget   bool
	}{
		{fmt.Sprintf("load/%d", shortStream), readAll(short, shortStream), false},
		{fmt.Sprintf("load/%d", longStream), readAll(long, longStream), false},
		{fmt.Sprintf("load/%d/snapshot+tail%d", longStream, snapshotTail), fromSnapshot, true},
	} {
		ms, err := r.median(ctx, l.load)
		if err != nil {
			return fmt.Errorf("%s: %w", l.scenario, err)
		}
		res := Result{Scenario: l.scenario, Metric: "load_ms_median", Value: ms, Unit: "ms"}
		var met func(float64) bool
		if l.budget {
			res.Metric = "load_ms_median_vs_budget" // ratio = value / 1 ms budget: lower is better
			res.Baseline = loadBudgetMs
			res.Target = fmt.Sprintf("<= %.0f ms (ratio <= 1)", loadBudgetMs)
			met = atMost(1)
		}
		r.add(res, met)
	}
	return nil
}

// median runs load sz.loads times (after two unmeasured ones) and returns
// the median duration in milliseconds.
func (r *runner) median(ctx context.Context, load func() error) (float64, error) {
	for range 2 {
		if err := load(); err != nil {
			return 0, err
		}
	}
	ds := make([]time.Duration, r.sz.loads)
	for i := range ds {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		start := time.Now()
		if err := load(); err != nil {
			return 0, err
		}
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	mid := len(ds) / 2
	med := ds[mid]
	if len(ds)%2 == 0 {
		med = (ds[mid-1] + ds[mid]) / 2
	}
	return float64(med) / float64(time.Millisecond), nil
}

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
	r.logf("replay: stored %d single-event commits in %s", total, time.Since(start).Round(time.Millisecond))

	var bestRaw, bestStore float64
	for round := range r.sz.replayRounds {
		rawRate, err := r.rawReplay(ctx, n, total)
		if err != nil {
			return fmt.Errorf("raw replay: %w", err)
		}
		storeRate, err := r.storeReplay(ctx, s, total)
		if err != nil {
			return fmt.Errorf("store replay: %w", err)
		}
		r.logf("replay round %d: raw %.0f msg/s, store %.0f event/s", round+1, rawRate, storeRate)
		bestRaw, bestStore = max(bestRaw, rawRate), max(bestStore, storeRate)
	}
	r.add(Result{Scenario: "replay/raw", Metric: "msgs_per_sec", Value: bestRaw, Unit: "msg/s"}, nil)
	r.add(Result{
		Scenario: "replay/store", Metric: "events_per_sec", Value: bestStore, Unit: "event/s",
		Baseline: bestRaw, Target: fmt.Sprintf(">= %.2f of raw", replayVsRaw),
	}, atLeast(replayVsRaw))
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
		wg.Add(1)
		go func() {
			defer wg.Done()
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
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// rawReplay counts the replay stream's messages through an ordered
// consumer, without decoding them.
func (r *runner) rawReplay(ctx context.Context, n *node, total int) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, replayTimeout)
	defer cancel()
	start := time.Now()
	cons, err := n.js.OrderedConsumer(ctx, replayStream, njs.OrderedConsumerConfig{
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
		_ = n.js.DeleteConsumer(ctx, replayStream, info.Name)
	}
	return float64(count) / elapsed.Seconds(), nil
}

// storeReplay subscribes from the start and stops once every event came.
func (r *runner) storeReplay(ctx context.Context, s *jetstream.Store, total int) (float64, error) {
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

// PrintTable writes the results as an aligned table.
func PrintTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmetric\tvalue\tunit\tbaseline\tratio\ttarget\tresult\t")
	for _, r := range rs {
		baseline, ratio, met := "-", "-", ""
		if r.Baseline > 0 {
			baseline, ratio = formatValue(r.Baseline), fmt.Sprintf("%.3f", r.Ratio)
		}
		if r.Met != nil {
			met = metWord(*r.Met)
		}
		target := r.Target
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Scenario, r.Metric, formatValue(r.Value), r.Unit, baseline, ratio, target, met)
	}
	tw.Flush()
	var met, missed []string
	for _, r := range rs {
		if r.Met == nil {
			continue
		}
		if *r.Met {
			met = append(met, r.Scenario)
		} else {
			missed = append(missed, r.Scenario)
		}
	}
	sort.Strings(missed)
	fmt.Fprintf(w, "targets: %d met, %d missed", len(met), len(missed))
	if len(missed) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(missed, ", "))
	}
	fmt.Fprintln(w)
}

func formatValue(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}
