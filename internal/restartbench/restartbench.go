// Package restartbench times `fundbridge dev` from start to ready over a
// large log: the services' views folded from position 0 at each start
// (checkpoints off, as before viewstate) against the same views resumed
// from their checkpoints, in interleaved rounds on one log.
package restartbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events/bench"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/internal/natsserver"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"

	"github.com/nats-io/nats.go"
)

// Config shapes the benchmark.
type Config struct {
	DataDir  string
	Events   int // in the log; default 1,000,000 (5,000 when Quick)
	Rounds   int // measured pairs; default 5 (2 when Quick)
	Quick    bool
	Progress io.Writer
	Memory   *bench.Memory
}

// Run writes the log once, then times starts with checkpoints off and on,
// taking turns, and reports the median of each with the median of the
// per-round ratios (on / off; lower is better), and each service's own.
func Run(ctx context.Context, cfg Config) ([]bench.Result, error) {
	if cfg.Events == 0 {
		cfg.Events = 1_000_000
		if cfg.Quick {
			cfg.Events = 5_000
		}
	}
	if cfg.Rounds == 0 {
		cfg.Rounds = 5
		if cfg.Quick {
			cfg.Rounds = 2
		}
	}
	logf := progress(cfg)
	dir := filepath.Join(cfg.DataDir, "product")
	head, err := writeLog(ctx, dir, cfg.Events, logf)
	if err != nil {
		return nil, err
	}
	if cfg.Memory != nil {
		cfg.Memory.Reset()
	}
	perService := map[bool]map[string][]float64{false: {}, true: {}}
	measure := func(checkpoints bool) bench.Measure {
		return func(ctx context.Context) (float64, error) {
			took, each, err := startToReady(ctx, dir, checkpoints)
			if err != nil {
				return 0, err
			}
			for name, d := range each {
				perService[checkpoints][name] = append(perService[checkpoints][name], ms(d))
			}
			logf("checkpoints %-5v ready in %s (%s)", checkpoints, took.Round(time.Millisecond), slowest(each))
			return ms(took), nil
		}
	}
	rounds, err := bench.Interleave(ctx, cfg.Rounds, []string{"off", "on"}, measure(false), measure(true))
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("%d events in the log (head %d); ms from app.Start to every service answering a query at the head; baseline: the views folded from 0 (checkpoints off)", cfg.Events, head)
	p := rounds.Compare(1, 0)
	out := []bench.Result{p.Result("restart", "start_to_ready_ms", "ms", "", nil)}
	out[0].Note = note
	for _, name := range sortedKeys(perService[true]) {
		off, on := perService[false][name], perService[true][name]
		// The warm-up round is in neither Rates nor the ratios: drop it here too.
		off, on = off[len(off)-cfg.Rounds:], on[len(on)-cfg.Rounds:]
		out = append(out, bench.Pair(on, off).Result("restart/"+name, "ready_ms", "ms", "", nil))
	}
	return out, nil
}

func progress(cfg Config) func(string, ...any) {
	return func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "restart: "+format+"\n", args...)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func slowest(each map[string]time.Duration) string {
	var name string
	var worst time.Duration
	for n, d := range each {
		if d > worst {
			name, worst = n, d
		}
	}
	return fmt.Sprintf("slowest %s %s", name, worst.Round(time.Millisecond))
}

// writeLog writes a simulated market of about n events into the data
// directory's JetStream, as the product stores it, on a server of its own
// (no product running: its reactors would answer the history meanwhile).
// A log already there is kept, so runs can share one.
func writeLog(ctx context.Context, dir string, n int, logf func(string, ...any)) (uint64, error) {
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: filepath.Join(dir, "nats")})
	if err != nil {
		return 0, err
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	store, err := jetstream.Open(ctx, nc, app.NewRegistry(), jetstream.Options{})
	if err != nil {
		return 0, err
	}
	defer store.Close()
	head, err := store.Head(ctx)
	if err != nil || head > 0 {
		logf("reusing the log in %s (head %d)", dir, head)
		return head, err
	}
	start := time.Now()
	st, err := sim.Write(ctx, store, sim.Config{Seed: 1, Companies: max(1, n/sim.EventsPerCompany), Workers: 16})
	if err != nil {
		return 0, fmt.Errorf("writing the log: %w", err)
	}
	head, err = store.Head(ctx)
	logf("wrote %d events in %d appends in %s", st.Events, st.Appends, time.Since(start).Round(time.Second))
	return head, err
}

// startToReady starts the product on dir and returns how long until every
// service answered a query at the log's head, overall and each.
func startToReady(ctx context.Context, dir string, checkpoints bool) (time.Duration, map[string]time.Duration, error) {
	start := time.Now()
	a, err := app.Start(ctx, app.Options{DataDir: dir, NATSAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler), NoViewCheckpoints: !checkpoints})
	if err != nil {
		return 0, nil, err
	}
	defer a.Close()
	head, err := a.Store.Head(ctx)
	if err != nil {
		return 0, nil, err
	}
	opts, err := natsauth.ClientOptions(a.Credentials.File(natsauth.Gateway), natsauth.Gateway)
	if err != nil {
		return 0, nil, err
	}
	nc, err := nats.Connect(a.NATSURL, opts...)
	if err != nil {
		return 0, nil, err
	}
	defer nc.Close()
	client := svc.NewClient(nc, 10*time.Second)
	probes := probes(client, head)
	var mu sync.Mutex
	each := map[string]time.Duration{}
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			errs[i] = waitReady(ctx, p)
			mu.Lock()
			each[p.name] = time.Since(start)
			mu.Unlock()
		})
	}
	wg.Wait()
	return time.Since(start), each, errors.Join(errs...)
}

// probe asks one service for something that does not exist, as of the
// log's head: the answer "not found" comes once its views reflect the head.
type probe struct {
	name string
	ask  func(ctx context.Context) error
}

var operator = fundbridge.Actor{UserID: "bench", Role: fundbridge.RoleOperator, OrgID: "operators"}

func probes(c *svc.Client, head uint64) []probe {
	req := func() *svc.Request { return &svc.Request{Actor: operator} }
	return []probe{
		{applicationsapi.Name, func(ctx context.Context) error {
			_, _, err := svc.Call(ctx, c, applicationsapi.GetCompanyEndpoint, req(), applicationsapi.GetCompany{CompanyID: "c-none", After: head})
			return err
		}},
		{fundsapi.Name, func(ctx context.Context) error {
			_, _, err := svc.Call(ctx, c, fundsapi.GetFundEndpoint, req(), fundsapi.GetFund{FundID: "f-none", After: head})
			return err
		}},
		{dealsapi.Name, func(ctx context.Context) error {
			_, _, err := svc.Call(ctx, c, dealsapi.GetDealEndpoint, req(), dealsapi.GetDeal{DealID: "d-none", After: head})
			return err
		}},
		{identityapi.Name, func(ctx context.Context) error {
			_, _, err := svc.Call(ctx, c, identityapi.GetUserEndpoint, req(), identityapi.GetUserQuery{UserID: "u-none", After: head})
			return err
		}},
		{matchingapi.Name, func(ctx context.Context) error {
			_, _, err := svc.Call(ctx, c, matchingapi.GetDealEndpoint, req(), matchingapi.GetDeal{DealID: "d-none", After: head})
			return err
		}},
		{viewsapi.Name, func(ctx context.Context) error {
			_, _, err := svc.Call(ctx, c, viewsapi.MarketOverviewEndpoint, req(), viewsapi.MarketQuery{After: head})
			return err
		}},
	}
}

// waitReady asks until the service answers other than "unavailable" (its
// views lag, or it does not serve yet).
func waitReady(ctx context.Context, p probe) error {
	deadline := time.Now().Add(time.Hour)
	for {
		err := p.ask(ctx)
		switch code := fundbridge.ErrorCode(err); {
		case err == nil, code == fundbridge.ENOTFOUND:
			return nil
		case code != fundbridge.EUNAVAILABLE && !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("%s: %w", p.name, err)
		case time.Now().After(deadline):
			return fmt.Errorf("%s not ready after an hour: %w", p.name, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
