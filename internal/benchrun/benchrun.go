// Package benchrun is the list of `fundbridge bench` scenarios and how one
// runs: each reports figures in the one format of events/bench, followed
// by its peak memory over its measured phase. The command runs each
// scenario in a fresh process, so that the peak is that scenario's alone.
package benchrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge/events/bench"
	"github.com/fundbridge/fundbridge/internal/cmdbench"
	"github.com/fundbridge/fundbridge/internal/httpbench"
	"github.com/fundbridge/fundbridge/internal/restartbench"
	projbench "github.com/fundbridge/fundbridge/projections/bench"
	"github.com/fundbridge/fundbridge/services/deals"
	"github.com/fundbridge/fundbridge/services/matching"
)

// Options are what the scenarios take from the command line.
type Options struct {
	DataDir string // scratch space for servers and logs; required
	Quick   bool   // small sizes: every scenario together under a minute
	// Events in the rebuild's log; 0 for the default (100,000; 10,000
	// when Quick).
	Events int
	// RestartOnce makes restart start the product once per case instead
	// of in rounds (for 1,000,000 events).
	RestartOnce bool
	// HTTP is what the http and lag scenarios take: a running server's
	// URL and its operator, the step length, the lag's write rate.
	HTTP     httpbench.Config
	Progress io.Writer
}

// Scenario is one `fundbridge bench <name>`.
type Scenario struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, o Options, mem *bench.Memory) ([]bench.Result, error)
	// RSSBudgetMiB, when set, is the target for the peak RSS.
	RSSBudgetMiB float64
}

// Scenarios lists every scenario in the order they run by default. A
// service with figures of its own adds its scenario here (the deals
// service: schedules).
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "store", Summary: "event store appends, loads and replay against raw JetStream", Run: store},
		{Name: "commands", Summary: "a command over NATS (load, decide, append, reply) against raw publishes", Run: commands},
		{Name: "http", Summary: "open-loop HTTP load on the gateway, stepped up until p99 > 20 ms or an error", Run: httpLoad},
		{Name: "lag", Summary: "HTTP command acknowledged to visible in the lifecycle view", Run: lag},
		{Name: "rebuild", Summary: "rebuild of every projection against raw replay of the same log", Run: rebuild},
		{Name: "restart", Summary: "fundbridge dev from start to ready over a large log, the services' views resumed from checkpoints against folded from 0", Run: restart},
		{Name: "matching", Summary: "one loan-plus-equity application against 10,000 funds and 1,000 programmes, pairs included, against brute force", Run: matchingRun},
		{Name: "schedules", Summary: "10,000 loan schedules of 360 months fixed and persisted, 100,000 repayments applied, against raw publishes of the same bytes", Run: schedules},
	}
}

// Find returns the scenario of that name.
func Find(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Run runs one scenario in this process and appends its peak memory.
func Run(ctx context.Context, s Scenario, o Options) ([]bench.Result, error) {
	if o.DataDir == "" {
		return nil, errors.New("bench: a data directory is required")
	}
	mem := bench.NewMemory()
	start := time.Now()
	rs, err := s.Run(ctx, o, mem)
	if err != nil {
		mem.Stop()
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	// Every figure under its scenario's name, so that one table of all
	// of them reads unambiguously (the store and the rebuild both replay).
	for i := range rs {
		if rs[i].Scenario != s.Name && !strings.HasPrefix(rs[i].Scenario, s.Name+"/") {
			rs[i].Scenario = s.Name + "/" + rs[i].Scenario
		}
	}
	rs = append(rs, bench.MemoryResults(s.Name, mem, s.RSSBudgetMiB)...)
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "%s: done in %s\n", s.Name, time.Since(start).Round(time.Millisecond))
	}
	return rs, nil
}

func store(ctx context.Context, o Options, mem *bench.Memory) ([]bench.Result, error) {
	return bench.Run(ctx, bench.Config{DataDir: o.DataDir, Quick: o.Quick, Progress: o.Progress, Memory: mem})
}

func commands(ctx context.Context, o Options, mem *bench.Memory) ([]bench.Result, error) {
	return cmdbench.Run(ctx, cmdbench.Config{DataDir: o.DataDir, Quick: o.Quick, Progress: o.Progress, Memory: mem})
}

func httpLoad(ctx context.Context, o Options, mem *bench.Memory) ([]bench.Result, error) {
	cfg := o.HTTP
	cfg.DataDir, cfg.Quick, cfg.Progress, cfg.Memory = o.DataDir, o.Quick, o.Progress, mem
	return httpbench.Run(ctx, cfg)
}

func lag(ctx context.Context, o Options, mem *bench.Memory) ([]bench.Result, error) {
	cfg := o.HTTP
	cfg.DataDir, cfg.Quick, cfg.Progress, cfg.Memory = o.DataDir, o.Quick, o.Progress, mem
	return httpbench.Lag(ctx, cfg)
}

func schedules(ctx context.Context, o Options, mem *bench.Memory) ([]bench.Result, error) {
	return deals.BenchSchedules(ctx, deals.BenchConfig{DataDir: o.DataDir, Quick: o.Quick, Progress: o.Progress, Memory: mem})
}

func rebuild(ctx context.Context, o Options, mem *bench.Memory) ([]bench.Result, error) {
	return projbench.Run(ctx, projbench.Config{DataDir: o.DataDir, Events: o.Events, Quick: o.Quick, Progress: o.Progress, Memory: mem})
}

func restart(ctx context.Context, o Options, mem *bench.Memory) ([]bench.Result, error) {
	cfg := restartbench.Config{DataDir: o.DataDir, Events: o.Events, Quick: o.Quick, Progress: o.Progress, Memory: mem}
	if o.RestartOnce {
		return restartbench.RunOnce(ctx, cfg)
	}
	return restartbench.Run(ctx, cfg)
}

// matchingRun matches loan-plus-equity applications with the match
// engine against brute force in the same run. The engine's other
// benchmarks (a new equity application, a mandate change, the index's
// memory) are go test benchmarks beside its unexported code.
func matchingRun(ctx context.Context, o Options, _ *bench.Memory) ([]bench.Result, error) {
	cfg := matching.BenchConfig{Progress: o.Progress}
	if o.Quick {
		cfg = matching.BenchConfig{Funds: 2_000, Programmes: 200, Open: 2_000, Batch: 50, Rounds: 5, Progress: o.Progress}
	}
	rs, err := matching.BenchLoanPlusEquity(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "matching: the engine's other benchmarks: go test ./services/matching -run '^$' -bench . -benchmem\n")
	}
	return rs, nil
}
