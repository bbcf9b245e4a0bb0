package restartbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge/events/bench"
)

// A start of the product as the one-shot run measures it: which
// checkpoints it finds on disk.
type start struct {
	name string
	// remove lists the data directory's folders deleted before the start.
	remove []string
	note   string
}

// The starts of RunOnce, in order. Each start saves its checkpoints on
// stop, so "resumed" finds what "cold" wrote, and "before" finds the
// projections' checkpoints (they predate the services' ones) but none of
// the services'.
var onceStarts = []start{
	{"cold", []string{"views", "projections"}, "nothing checkpointed: every view and projection folded from 0"},
	{"after", nil, "the services' views and the projections resumed from their checkpoints"},
	{"before", []string{"views"}, "as before checkpointed views: the services' views folded from 0, the projections resumed"},
}

// RunOnce is the run for a log too large for rounds (1,000,000 events:
// one fold from 0 takes tens of minutes on a shared machine): the log is
// written once, then the product starts once per entry of onceStarts,
// each timed to every service ready, with its own peak RSS.
func RunOnce(ctx context.Context, cfg Config) ([]bench.Result, error) {
	if cfg.Events == 0 {
		cfg.Events = 1_000_000
		if cfg.Quick {
			cfg.Events = 5_000
		}
	}
	logf := progress(cfg)
	dir := filepath.Join(cfg.DataDir, "product")
	head, err := writeLog(ctx, dir, cfg.Events, logf)
	if err != nil {
		return nil, err
	}
	var out []bench.Result
	for _, s := range onceStarts {
		rs, err := startOnce(ctx, cfg, dir, s, logf)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", s.name, err)
		}
		rs[0].Note = fmt.Sprintf("%d events in the log (head %d); %s", cfg.Events, head, s.note)
		out = append(out, rs...)
	}
	return out, nil
}

// startOnce removes what s says, starts the product with checkpoints on
// and reports the time to every service ready, each service's, and the
// peak RSS of this start alone.
func startOnce(ctx context.Context, cfg Config, dir string, s start, logf func(string, ...any)) ([]bench.Result, error) {
	for _, sub := range s.remove {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return nil, err
		}
	}
	// The previous start's heap is garbage now: return it to the OS so
	// that the peak RSS measured from here is this start's own.
	runtime.GC()
	debug.FreeOSMemory()
	cfg.Memory.Reset()
	took, each, err := startToReady(ctx, dir, true)
	if err != nil {
		return nil, err
	}
	rss, _ := cfg.Memory.Peak()
	logf("%s: ready in %s (%s), peak RSS %d MiB", s.name, took.Round(time.Millisecond), everyService(each), rss>>20)
	out := []bench.Result{{Scenario: "restart/once/" + s.name, Metric: "start_to_ready_ms", Value: ms(took), Unit: "ms"}}
	for _, name := range sortedKeys(each) {
		out = append(out, bench.Result{Scenario: "restart/once/" + s.name + "/" + name, Metric: "ready_ms", Value: ms(each[name]), Unit: "ms"})
	}
	if rss > 0 {
		out = append(out, bench.Result{Scenario: "restart/once/" + s.name, Metric: "peak_rss_mib", Value: float64(rss >> 20), Unit: "MiB"})
	}
	return out, nil
}

// everyService lists each service's time to ready, for the progress
// line: a run of an hour should not keep them all to its end.
func everyService(each map[string]time.Duration) string {
	parts := make([]string, 0, len(each))
	for _, name := range sortedKeys(each) {
		parts = append(parts, name+" "+each[name].Round(time.Millisecond).String())
	}
	return strings.Join(parts, ", ")
}
