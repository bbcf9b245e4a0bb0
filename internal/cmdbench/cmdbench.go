// Package cmdbench measures the command path as a client sees it: a NATS
// request to a service, which loads the aggregate, decides, appends with
// its expected version and replies. The raw JetStream publish rate at the
// same concurrency on the same server is measured in the same run, in
// rounds taking turns with the commands (events/bench.Interleave).
package cmdbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
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
	"github.com/fundbridge/fundbridge/services/applications"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Config sizes a run.
type Config struct {
	DataDir     string
	Round       time.Duration // measured time of one round; default 300ms (100ms when Quick)
	Rounds      int           // measured rounds after a warm-up; default 7 (5 when Quick), at least 5
	Quick       bool
	Concurrency []int // default 1, 8, 64
	Progress    io.Writer
	Memory      *bench.Memory // reset when the measured phase starts
}

// Run measures the command path and raw publishes, fsync always (the
// product's default), and returns the figures.
func Run(ctx context.Context, cfg Config) ([]bench.Result, error) {
	cfg.defaults()
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: filepath.Join(cfg.DataDir, "cmdbench"), SyncAlways: true})
	if err != nil {
		return nil, err
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	reg := events.NewRegistry()
	applicationsapi.Register(reg)
	store, err := jetstream.Open(ctx, nc, reg, jetstream.Options{GroupCommit: true})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	stop, err := startService(ctx, srv.ClientURL(), store, reg)
	if err != nil {
		return nil, err
	}
	defer stop()

	js, err := njs.New(nc)
	if err != nil {
		return nil, err
	}
	if _, err := js.CreateOrUpdateStream(ctx, njs.StreamConfig{Name: "RAW_CMDBENCH", Subjects: []string{"rawcmd.>"}, Storage: njs.FileStorage}); err != nil {
		return nil, err
	}
	client := svc.NewClient(nc, 10*time.Second)
	companies, err := registerCompanies(ctx, nc, slices.Max(cfg.Concurrency))
	if err != nil {
		return nil, err
	}

	cfg.Memory.Reset()
	var results []bench.Result
	for _, c := range cfg.Concurrency {
		raw := newWorkers(c, rawPublisher(js, c))
		cmds := newWorkers(c, drafter(client, companies))
		rounds, err := bench.Interleave(ctx, cfg.Rounds, []string{fmt.Sprintf("raw publish c%d", c), fmt.Sprintf("commands c%d", c)},
			func(ctx context.Context) (float64, error) { return measure(ctx, cfg.Round, raw) },
			func(ctx context.Context) (float64, error) { return measure(ctx, cfg.Round, cmds) })
		if err != nil {
			return nil, err
		}
		tag := fmt.Sprintf("fsync/c%d", c)
		for _, r := range []bench.Result{
			{Scenario: "raw/publish/" + tag, Metric: "msgs_per_sec", Value: rounds.Median(0), Unit: "msg/s"},
			rounds.Compare(1, 0).Result("command/application.draft/"+tag, "commands_per_sec", "cmd/s", ">= 0.50 of raw publish", bench.AtLeast(0.5)),
		} {
			fmt.Fprintln(cfg.Progress, bench.FormatLine(r))
			results = append(results, r)
		}
	}
	return results, nil
}

// defaults fills in what cfg leaves zero.
func (cfg *Config) defaults() {
	if cfg.Round == 0 {
		cfg.Round = 300 * time.Millisecond
		if cfg.Quick {
			cfg.Round = 100 * time.Millisecond
		}
	}
	if cfg.Rounds == 0 {
		cfg.Rounds = 7
		if cfg.Quick {
			cfg.Rounds = 5
		}
	}
	cfg.Rounds = max(cfg.Rounds, 5)
	if len(cfg.Concurrency) == 0 {
		cfg.Concurrency = []int{1, 8, 64}
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
}

// startService runs the applications service on its own connection, as
// in a cluster, until stop.
func startService(ctx context.Context, url string, store events.Store, reg *events.Registry) (stop func(), err error) {
	snc, err := nats.Connect(url)
	if err != nil {
		return nil, err
	}
	service := applications.New(store, reg, applications.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	svcCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = service.Run(svcCtx) }()
	go func() { defer wg.Done(); _ = svc.Serve(svcCtx, snc, service.Runtime()) }()
	return func() { cancel(); wg.Wait(); snc.Close() }, nil
}

// registerCompanies registers n companies, one for each worker to draft
// applications for. Registering companies is the platform's to do: as
// the system actor of the caller the subject names.
func registerCompanies(ctx context.Context, nc *nats.Conn, n int) ([]string, error) {
	sysClient := svc.NewSystemClient(nc, "bench", 10*time.Second)
	system := svc.SystemActor("bench")
	companies := make([]string, n)
	for i := range companies {
		companies[i] = fmt.Sprintf("bench%04d", i)
		body := fmt.Sprintf(`{"company_id":%q,"uscc":%q,"name":"Bench %d","city":"beijing","layer":"technology","sector":"nlp","founded_on":"2022-01-01","headcount":10,"stage":"seed"}`, companies[i], uscc(i), i)
		if _, err := callUntilUp(ctx, sysClient, applicationsapi.RegisterCompanyEndpoint.Op, &svc.Request{Actor: system, Payload: json.RawMessage(body)}); err != nil {
			return nil, fmt.Errorf("register %s: %w", companies[i], err)
		}
	}
	return companies, nil
}

// rawPublisher makes the g-th of c raw workers: each publishes 300 bytes
// to a subject of its own, expecting its last sequence there, as an
// append at an expected version does.
func rawPublisher(js njs.JetStream, c int) func(g int) func(context.Context) error {
	return func(g int) func(context.Context) error {
		subject := "rawcmd.c" + strconv.Itoa(c) + "." + strconv.Itoa(g)
		var last uint64
		data := make([]byte, 300)
		return func(ctx context.Context) error {
			msg := nats.NewMsg(subject)
			msg.Data = data
			msg.Header.Set(njs.ExpectedLastSubjSeqHeader, strconv.FormatUint(last, 10))
			ack, err := js.PublishMsg(ctx, msg)
			if err != nil {
				return err
			}
			last = ack.Sequence
			return nil
		}
	}
}

// drafter makes the g-th command worker, the founder of companies[g].
func drafter(client *svc.Client, companies []string) func(g int) func(context.Context) error {
	return func(g int) func(context.Context) error {
		// Each command drafts a funding application: the service loads
		// the company (for the stage it records) and the new
		// application, decides, appends with "no stream", and replies.
		founder := fundbridge.Actor{UserID: "founder-" + companies[g], Role: fundbridge.RoleStartup, OrgID: companies[g]}
		body := json.RawMessage(`{"amount_requested":"5000000.00","instruments":["equity"],"use_of_funds":"GPUs and hiring","credit_data_consent":true}`)
		return func(ctx context.Context) error {
			_, err := client.Call(ctx, applicationsapi.Name, applicationsapi.DraftApplicationEndpoint.Op, &svc.Request{Actor: founder, Payload: body}, nil)
			return err
		}
	}
}

func callUntilUp(ctx context.Context, c *svc.Client, op string, req *svc.Request) (svc.Reply, error) {
	for attempt := 0; ; attempt++ {
		reply, err := c.Call(ctx, applications.Name, op, req, nil)
		if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE || attempt > 100 {
			return reply, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newWorkers makes c workers, each keeping its state across rounds.
func newWorkers(c int, newWorker func(g int) func(context.Context) error) []func(context.Context) error {
	ws := make([]func(context.Context) error, c)
	for g := range ws {
		ws[g] = newWorker(g)
	}
	return ws
}

// measure runs the workers for d and returns operations per second.
func measure(ctx context.Context, d time.Duration, workers []func(context.Context) error) (float64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for _, w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := w(ctx); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}

func uscc(n int) string {
	body := fmt.Sprintf("91110000%09d", 100000000+n)
	check, _ := fundbridge.USCCCheck(body)
	return body + string(check)
}
