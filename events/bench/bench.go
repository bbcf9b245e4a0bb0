// Package bench measures the JetStream event store against raw JetStream on
// the same embedded servers in the same run: append throughput with and
// without fsync (against a plain synchronous publish and, where the store
// batches, against raw atomic batches), stream loads from a snapshot plus
// a tail and full folds, and replay throughput. It also holds the one
// result format and table every `fundbridge bench` scenario reports in,
// and the helpers they share: interleaved rounds compared pair by pair
// (Interleave, Pair) and peak memory over a measured phase (Memory).
//
// Every ratio is the median of per-round ratios, each between two
// workloads measured next to each other, so a slow or noisy machine moves
// both sides together.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
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
	DataDir string // temp dir for the embedded servers; required
	// Round is the measured time of one round of a throughput workload;
	// default 300ms (60ms when Quick).
	Round time.Duration
	// Rounds measured after the warm-up; default 7 (5 when Quick). Never
	// fewer than 5.
	Rounds   int
	Quick    bool      // small sizes, for a smoke test
	Progress io.Writer // optional: human-readable lines as each figure is measured
	// Memory, when set, is reset once the servers are up: the measured
	// phase starts there.
	Memory *Memory
}

// Result is one measured figure.
type Result struct {
	Scenario string  `json:"scenario"` // e.g. "append/single/fsync/c64"
	Metric   string  `json:"metric"`   // e.g. "appends_per_sec", "load_ms_median"
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	// Baseline is the figure Value is compared with, measured in the same
	// run (or a fixed budget such as 1 ms); 0 if none.
	Baseline float64 `json:"baseline"`
	// Ratio is Value/Baseline: for figures from rounds, the median of the
	// per-round ratios (so not always Value/Baseline exactly), with the
	// smallest and largest and the number of rounds paired. For latencies
	// and sizes lower is better.
	Ratio    float64 `json:"ratio"`
	RatioMin float64 `json:"ratio_min,omitempty"`
	RatioMax float64 `json:"ratio_max,omitempty"`
	Pairs    int     `json:"pairs,omitempty"`
	Target   string  `json:"target,omitempty"` // e.g. ">= 0.85 of raw"
	Met      *bool   `json:"met,omitempty"`
	Note     string  `json:"note,omitempty"`
}

// sizes of one run.
type sizes struct {
	rounds        int           // measured rounds of each workload
	round         time.Duration // measured part of one round
	warmup        time.Duration // unmeasured lead-in of one round
	loads         int           // loads per latency figure
	loadStreams   int           // streams with a snapshot and a tail
	replayEvents  int           // single-event commits replayed
	setupWriters  int           // concurrent appenders filling streams
	streamsPerGor int           // event streams (subjects) each appender cycles over
}

// Shapes of the workload.
const (
	payloadSize = 250 // bytes of one event's JSON payload
	rawMsgSize  = 300 // bytes of one raw publish
	eventType   = "bench.happened.v1"
	// replayTimeout bounds one replay pass, should one never finish.
	replayTimeout = 5 * time.Minute
)

// Targets.
const (
	singleVsRaw   = 0.85 // single-event appends / raw publishes
	threeVsSingle = 0.50 // three-event appends / single-event appends
	replayVsRaw   = 0.90 // store replay / raw ordered consumer
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
	pad := max(payloadSize-len(head)-len(`"}`), 0)
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
	sync  bool
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
	n := &node{name: name, sync: syncAlways, srv: srv}
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

// add records a figure and reports it.
func (r *runner) add(res Result) {
	r.results = append(r.results, res)
	r.logf("%s", FormatLine(res))
}

// FormatLine is one figure as a progress line.
func FormatLine(res Result) string {
	line := fmt.Sprintf("%-44s %-22s %12s %s", res.Scenario, res.Metric, formatValue(res.Value), res.Unit)
	if res.Baseline > 0 {
		line += fmt.Sprintf("  (baseline %s, ratio %s", formatValue(res.Baseline), formatRatio(res))
		if res.Met != nil {
			line += ", target " + res.Target + ": " + metWord(*res.Met)
		}
		line += ")"
	}
	return line
}

func metWord(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// Run starts two embedded servers under cfg.DataDir (one fsyncing every
// write, one not), measures every scenario on them and returns the figures,
// always the same scenarios in the same order.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("bench: DataDir is required")
	}
	sz := sizes{rounds: 7, round: 300 * time.Millisecond, loads: 200, loadStreams: 100,
		replayEvents: 200_000, setupWriters: 64, streamsPerGor: 8}
	if cfg.Quick {
		sz.rounds, sz.round, sz.loads, sz.loadStreams, sz.replayEvents = 5, 60*time.Millisecond, 40, 20, 5_000
	}
	if cfg.Round > 0 {
		sz.round = cfg.Round
	}
	if cfg.Rounds > 0 {
		sz.rounds = max(cfg.Rounds, 5)
	}
	sz.warmup = min(sz.round/4, 50*time.Millisecond)
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
	cfg.Memory.Reset()

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

// PrintTable writes the results as an aligned table and a verdict line.
func PrintTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmetric\tvalue\tunit\tbaseline\tratio (min-max, pairs)\ttarget\tresult\t")
	for _, r := range rs {
		baseline, ratio, met := "-", "-", ""
		if r.Baseline > 0 {
			baseline, ratio = formatValue(r.Baseline), formatRatio(r)
		}
		if r.Met != nil {
			met = metWord(*r.Met)
		}
		target := r.Target
		if target == "" {
			target = "-"
		}
		if r.Note != "" {
			met = strings.TrimSpace(met + " " + r.Note)
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
			missed = append(missed, r.Scenario+" "+r.Metric)
		}
	}
	sort.Strings(missed)
	fmt.Fprintf(w, "targets: %d met, %d missed", len(met), len(missed))
	if len(missed) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(missed, ", "))
	}
	fmt.Fprintln(w)
}

func formatRatio(r Result) string {
	s := strconv.FormatFloat(r.Ratio, 'f', 3, 64)
	if r.Pairs > 0 {
		s += fmt.Sprintf(" (%.3f-%.3f, %d)", r.RatioMin, r.RatioMax, r.Pairs)
	}
	return s
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
