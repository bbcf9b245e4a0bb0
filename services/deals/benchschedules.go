package deals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/bench"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/natsserver"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
	"github.com/fundbridge/fundbridge/services/svc"
)

// BenchConfig configures BenchSchedules (fundbridge bench schedules).
type BenchConfig struct {
	DataDir  string // the NATS server's files
	Quick    bool   // 100 loans and 1,000 repayments instead of 10,000 and 100,000
	Progress io.Writer
	Memory   *bench.Memory // reset before the measured phases
}

// benchWorkers is the concurrency of both the store's appends and the
// raw baseline's publishes.
const benchWorkers = 64

// BenchSchedules measures what the issue asks of loan servicing: fixing
// the schedules of 10,000 loans of 360 months and persisting them, then
// applying 100,000 repayments (ten installments a loan), each through the
// service's repository (load, decide, append with fsync, fold) on an
// embedded JetStream server that fsyncs before it acknowledges. Beside
// each, in the same run and interleaved chunk by chunk (ours, raw, ours,
// raw …), the raw baseline publishes the very same bytes that chunk
// appended to a plain stream at the same concurrency; the ratio is the
// median over the chunks.
// It also reports the schedule event's size as written (v2: the terms)
// and as v1 wrote it (every period), and what computing the periods when
// folded costs, so the choice can be judged by figures.
func BenchSchedules(ctx context.Context, cfg BenchConfig) ([]bench.Result, error) {
	nLoans, nRepay := 10_000, 100_000
	if cfg.Quick {
		nLoans, nRepay = 100, 1_000
	}
	logf := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "schedules: "+format+"\n", args...)
		}
	}
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: filepath.Join(cfg.DataDir, "nats"), SyncAlways: true})
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
	dealsapi.Register(reg)
	store, err := jetstream.Open(ctx, nc, reg, jetstream.Options{GroupCommit: true})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	js, err := njs.New(nc)
	if err != nil {
		return nil, err
	}
	if _, err := js.CreateStream(ctx, njs.StreamConfig{Name: "BENCH_RAW", Subjects: []string{"bench.raw.>"}, Storage: njs.FileStorage}); err != nil {
		return nil, err
	}
	repo := svc.NewRepository(store, reg, svc.Decider[Loan]{Type: LoanAggregate, Initial: func() Loan { return Loan{} }, Evolve: LoanFolds().Apply, SnapshotSchema: "loan.v1"},
		svc.RepositoryOptions{Retries: 10})
	b := &schedBench{repo: repo, js: js, opened: BenchLoansOpened(nLoans), perLoan: nRepay / nLoans}
	if cfg.Memory != nil {
		cfg.Memory.Reset()
	}
	var out []bench.Result
	chunks := 10
	logf("%d loans of 360 months: open, draw down, fix and persist the schedule; raw publishes of the same bytes interleaved", nLoans)
	fixRaw, fixOurs, fixRatios, err := b.interleave(ctx, chunks, b.fix)
	if err != nil {
		return nil, err
	}
	out = append(out, pairResult("fix", fmt.Sprintf("schedules_%d_loans_s", nLoans), fixOurs, fixRaw, fixRatios))
	logf("%d repayments, %d a loan", nRepay, b.perLoan)
	repRaw, repOurs, repRatios, err := b.interleave(ctx, chunks, b.repay)
	if err != nil {
		return nil, err
	}
	out = append(out, pairResult("repay", fmt.Sprintf("repayments_%d_s", nRepay), repOurs, repRaw, repRatios))
	out = append(out, b.eventSizes()...)
	return out, nil
}

type schedBench struct {
	repo    *svc.Repository[Loan]
	js      njs.JetStream
	opened  []dealsapi.LoanOpened
	perLoan int
	// bytes each loan's commands appended, by phase: the raw baseline
	// publishes the same.
	mu      sync.Mutex
	written map[string][][]byte
	schedKB []float64
	periods map[string]int // each fixed schedule's length
	// rawRound numbers the raw publishes: their message IDs make a
	// retried one count once, as our idempotency keys do.
	rawRound atomic.Int64
}

var benchActor = fundbridge.Actor{UserID: "bench", Role: fundbridge.RoleOperator}

// interleave runs phase over the loans in chunks, the raw baseline of
// each chunk just before ours, and returns the totals and the ratios.
func (b *schedBench) interleave(ctx context.Context, chunks int, phase func(ctx context.Context, loans []int) error) (raw, ours float64, ratios []float64, err error) {
	n := len(b.opened)
	for c := range chunks {
		loans := make([]int, 0, n/chunks+1)
		for i := c * n / chunks; i < (c+1)*n/chunks; i++ {
			loans = append(loans, i)
		}
		// Ours first: the raw baseline publishes the bytes ours appended.
		t0 := time.Now()
		if err := phase(ctx, loans); err != nil {
			return 0, 0, nil, err
		}
		o := time.Since(t0).Seconds()
		t0 = time.Now()
		if err := b.publishRaw(ctx, loans); err != nil {
			return 0, 0, nil, err
		}
		r := time.Since(t0).Seconds()
		raw, ours, ratios = raw+r, ours+o, append(ratios, o/r)
	}
	return raw, ours, ratios, nil
}

// retried runs do again while the server does not answer in time (a
// loaded machine): each attempt carries the same idempotency key, so one
// that was written but not acknowledged takes effect once.
func retried(ctx context.Context, do func(ctx context.Context) error) error {
	var err error
	for range 10 {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = do(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return err
		}
	}
	return err
}

func transient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, events.ErrUnavailable) ||
		fundbridge.ErrorCode(err) == fundbridge.EUNAVAILABLE
}

// each runs do for every loan, benchWorkers at a time.
func each(ctx context.Context, loans []int, do func(ctx context.Context, i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, benchWorkers)
	for w := range benchWorkers {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < len(loans); k = int(next.Add(1)) - 1 {
				if err := do(ctx, loans[k]); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// fix opens each loan and draws it in full, which fixes its schedule.
func (b *schedBench) fix(ctx context.Context, loans []int) error {
	return each(ctx, loans, func(ctx context.Context, i int) error {
		o := b.opened[i]
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		var written [][]byte
		for step, decide := range []func(Loan) ([]events.Payload, error){
			func(l Loan) ([]events.Payload, error) {
				if l.exists() {
					return nil, nil
				}
				return []events.Payload{o}, nil
			},
			func(l Loan) ([]events.Payload, error) {
				return decideDrawDown(l, benchActor, at, dealsapi.LoanAmount{LoanID: l.ID, Amount: l.Undrawn()})
			},
		} {
			var out []events.Payload
			var l Loan
			cmd := svc.Command{Meta: events.Meta{Actor: benchActor, IdempotencyKey: fmt.Sprintf("bench/%s/fix/%d", o.LoanID, step)}}
			err := retried(ctx, func(ctx context.Context) error {
				var err error
				_, l, err = b.repo.Execute(ctx, o.LoanID, cmd, svc.CheckedBefore, func(l Loan) ([]events.Payload, error) {
					var err error
					out, err = decide(l)
					return out, err
				})
				return err
			})
			if err != nil {
				return fmt.Errorf("loan %s: %w", o.LoanID, err)
			}
			data, err := json.Marshal(out)
			if err != nil {
				return err
			}
			written = append(written, data)
			if l.Status == dealsapi.StatusRepaying {
				b.remember(o.LoanID, written, l)
			}
		}
		return nil
	})
}

func (b *schedBench) remember(id string, written [][]byte, l Loan) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written == nil {
		b.written = map[string][][]byte{}
	}
	b.written[id] = written
	b.schedKB = append(b.schedKB, float64(len(written[len(written)-1]))/1024)
	if b.periods == nil {
		b.periods = map[string]int{}
	}
	b.periods[id] = len(l.Schedule)
}

// repay applies each loan's next installments, each on its due date.
func (b *schedBench) repay(ctx context.Context, loans []int) error {
	return each(ctx, loans, func(ctx context.Context, i int) error {
		id := b.opened[i].LoanID
		var written [][]byte
		for k := range b.perLoan {
			var out []events.Payload
			cmd := svc.Command{Meta: events.Meta{Actor: benchActor, IdempotencyKey: fmt.Sprintf("bench/%s/repay/%d", id, k)}}
			err := retried(ctx, func(ctx context.Context) error {
				_, _, err := b.repo.Execute(ctx, id, cmd, svc.CheckedBefore, func(l Loan) ([]events.Payload, error) {
					in := l.Installment(l.Next)
					var err error
					out, err = decideRepay(l, benchActor, in.Due, dealsapi.LoanAmount{LoanID: id, Amount: in.owed()})
					return out, err
				})
				return err
			})
			if err != nil {
				return fmt.Errorf("repay loan %s: %w", id, err)
			}
			data, err := json.Marshal(out)
			if err != nil {
				return err
			}
			written = append(written, data)
		}
		b.mu.Lock()
		b.written[id] = written
		b.mu.Unlock()
		return nil
	})
}

// publishRaw publishes, for each loan, the bytes its commands appended
// in the phase just run, one message each, at the same concurrency.
func (b *schedBench) publishRaw(ctx context.Context, loans []int) error {
	return each(ctx, loans, func(ctx context.Context, i int) error {
		b.mu.Lock()
		written := b.written[b.opened[i].LoanID]
		delete(b.written, b.opened[i].LoanID) // not kept: 48 KiB a schedule before v2
		b.mu.Unlock()
		for k, data := range written {
			id := fmt.Sprintf("%s/%d/%d", b.opened[i].LoanID, k, b.rawRound.Add(1))
			if err := retried(ctx, func(ctx context.Context) error {
				_, err := b.js.Publish(ctx, "bench.raw."+b.opened[i].LoanID, data, njs.WithMsgID(id))
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// eventSizes: the schedule event as written (v2: the terms), as v1
// wrote it (every period), and the cost of computing a schedule from its
// terms (what a fold pays for a v2 event), checked to give the periods
// the loan folded.
func (b *schedBench) eventSizes() []bench.Result {
	var v1KB []float64
	var computing time.Duration
	mismatches := 0
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range b.opened {
		fixed, err := dealsapi.FixSchedule(o.LoanID, o.Terms.Schedule(), at, nil)
		start := time.Now()
		var periods []dealsapi.ScheduledPeriod
		if err == nil {
			periods, err = fixed.Schedule() // what a fold of the v2 event does
		}
		computing += time.Since(start)
		if err != nil || len(periods) != b.periods[o.LoanID] {
			mismatches++
			continue
		}
		fixed.Periods = periods // as v1 wrote it
		data, _ := json.Marshal(fixed)
		v1KB = append(v1KB, float64(len(data))/1024)
	}
	recompute := computing.Seconds() * 1000 / float64(len(b.opened))
	note := "every recomputed schedule has the folded one's length"
	if mismatches > 0 {
		note = fmt.Sprintf("%d recomputed schedules differ", mismatches)
	}
	return []bench.Result{
		{Scenario: "schedules/event", Metric: "schedule_event_kb_median", Value: medianOf(b.schedKB), Unit: "KiB", Note: "as written (v2: the terms; with the drawdown)"},
		{Scenario: "schedules/event", Metric: "v1_event_kb_median", Value: medianOf(v1KB), Unit: "KiB", Note: "as v1 wrote it: every period"},
		{Scenario: "schedules/event", Metric: "recompute_ms_per_schedule", Value: recompute, Unit: "ms", Note: note},
	}
}

func pairResult(name, metric string, ours, raw float64, ratios []float64) bench.Result {
	s := slices.Clone(ratios)
	slices.Sort(s)
	return bench.Result{Scenario: "schedules/" + name, Metric: metric, Value: ours, Unit: "s", Baseline: raw,
		Ratio: medianOf(ratios), RatioMin: s[0], RatioMax: s[len(s)-1], Pairs: len(ratios),
		Note: "ours: repository load, decide, append (fsync), fold; raw: the same bytes published"}
}

func medianOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchLoansOpened are n loans of 360 months with two or three banks,
// the same for every run.
func BenchLoansOpened(n int) []dealsapi.LoanOpened {
	r := rand.New(rand.NewPCG(10_000, 360))
	out := make([]dealsapi.LoanOpened, n)
	half, fifth, tenth := decimal.New(5, -1), decimal.New(2, -1), decimal.New(1, -1)
	for i := range out {
		banks := make([]dealsapi.LoanBank, 2+r.IntN(2))
		total := money.Zero
		for k := range banks {
			banks[k] = dealsapi.LoanBank{BankID: fmt.Sprintf("bank-%d", k), Commitment: money.Fen(1_000_000_00 + r.Int64N(50_000_000_00))}
			total = total.Add(banks[k].Commitment)
		}
		out[i] = dealsapi.LoanOpened{LoanID: fmt.Sprintf("loan-%d", i), BorrowerID: "co-1", LeadBankID: "bank-0", Banks: banks,
			Terms: dealsapi.LoanTerms{Principal: total, AnnualRate: decimal.New(20_000+r.Int64N(100_000), -6), Months: 360,
				Method: loan.Methods[r.IntN(len(loan.Methods))]},
			RiskSharing: dealsapi.RiskSharing{Banks: half, Fund: fifth, RiskCompensationFund: fifth, Insurer: tenth}}
	}
	return out
}
