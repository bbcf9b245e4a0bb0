package httpbench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/fundbridge/fundbridge/events/bench"
)

// Targets of the http scenario.
const (
	p99Budget      = 20 * time.Millisecond
	writesVsRaw    = 0.5    // HTTP writes held / raw fsync publish at 64 publishers
	writesFloor    = 3000.0 // commands/s
	readsFloor     = 10000.0
	lifecycleFloor = 2000.0
	heldShare      = 0.95 // a step holds only if it achieved this much of the rate asked
	rateFactor     = 1.5  // each step asks this much more
	refineSteps    = 2    // steps bisecting the gap past the last rate held (stepUp)
	rawPublishers  = 64
)

// Run measures each workload's highest rate held, beside the raw
// fsync-always publish rate of 64 publishers measured between the steps.
func Run(ctx context.Context, cfg Config) ([]bench.Result, error) {
	cfg.defaults()
	p, err := start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer p.close()
	raw, err := newRawPublisher(ctx, p.natsURL, cfg.DataDir, rawPublishers, p.natsOpts...)
	if err != nil {
		return nil, fmt.Errorf("raw baseline: %w", err)
	}
	defer raw.close()
	cfg.Memory.Reset()

	var out []bench.Result
	add := func(r bench.Result) {
		out = append(out, r)
		cfg.logf("%s", bench.FormatLine(r))
	}
	rawRound := min(cfg.Step/3, time.Second)
	var rawRates []float64
	measureRaw := func() error {
		rate, err := raw.round(ctx, rawRound)
		rawRates = append(rawRates, rate)
		return err
	}
	if err := measureRaw(); err != nil { // warm-up: its figure counts too, as the first round before any step
		return nil, err
	}
	held := make([]float64, len(cfg.Workloads))
	bases := make([]baseHeld, len(cfg.Workloads)) // each workload's baseline
	baseRuns := map[string][]float64{}            // each baseline's runs
	for i, w := range cfg.Workloads {
		if b, ok := baselineOf(w); ok {
			// Quick runs measure each baseline once, for the first workload
			// that needs it: a smoke test, not a figure.
			if runs := baseRuns[b.workload]; cfg.Quick && len(runs) > 0 {
				bases[i] = baseHeld{rate: runs[0], reused: true}
			} else if bases[i].rate, err = p.held(ctx, cfg, b.workload, raw, measureRaw, add); err != nil {
				return nil, err
			} else {
				baseRuns[b.workload] = append(runs, bases[i].rate)
			}
		}
		if held[i], err = p.held(ctx, cfg, w, raw, measureRaw, add); err != nil {
			return nil, err
		}
	}
	// Against the raw rate of every round, now that all are in.
	for i, w := range cfg.Workloads {
		add(heldResult(w, held[i], bench.Median(rawRates)))
	}
	for _, r := range baselineResults(cfg.Workloads, held, bases, baseRuns) {
		add(r)
	}
	add(bench.Result{Scenario: fmt.Sprintf("http/raw-publish/fsync/c%d", rawPublishers), Metric: "msgs_per_sec",
		Value: bench.Median(rawRates), Unit: "msg/s", Pairs: len(rawRates),
		Note: fmt.Sprintf("median of %d rounds between the steps, on %s", len(rawRates), raw.where)})
	return out, nil
}

// held steps workload w up from cfg.StartRate, adds each step's result,
// and returns the highest rate held. The raw-open workload is raw's
// open-loop publishes, every other one HTTP requests.
func (p *product) held(ctx context.Context, cfg Config, w string, raw *rawPublisher, between func() error, add func(bench.Result)) (float64, error) {
	run := func(rate float64, d time.Duration) (step, error) { return raw.openLoop(ctx, rate, d) }
	if w != rawOpen {
		tr, err := p.targeter(w)
		if err != nil {
			return 0, err
		}
		run = func(rate float64, d time.Duration) (step, error) { return attack(ctx, tr, rate, d) }
	}
	// Unmeasured: the server's caches and the first of each kind of
	// request warm up at the first rate.
	if _, err := run(float64(cfg.StartRate), cfg.Step/2); err != nil {
		return 0, err
	}
	hold := func(rate float64) (step, error) { return run(rate, cfg.Step) }
	steps, err := stepUp(cfg, w, hold, between)
	if err != nil {
		return 0, err
	}
	var held float64
	for _, s := range steps {
		add(s.result(w))
		if s.held {
			held = max(held, s.achieved)
		}
	}
	return held, nil
}

// rawOpen is the workload of raw open-loop publishes.
const rawOpen = "raw-open"

// A baseline is what a workload is measured beside: the same kind of
// load at its least cost on this machine, stepped up the same way just
// before it. No target rests on it (the targets are the issue's); it
// shows how much of the machine's most the product keeps.
type baseline struct {
	workload string
	what     string
}

// baseHeld is the rate a workload's baseline held: just before it, or
// (quick) before an earlier workload of the same kind.
type baseHeld struct {
	rate   float64
	reused bool
}

// baselineOf is workload w's baseline: for writes, the raw open-loop
// publish, one fsync'd message per write (the raw counterpart of the
// append); for reads, the floor, GET /healthz (the HTTP stack and the
// load generator together, without a token, lookup or encoding).
func baselineOf(w string) (baseline, bool) {
	switch w {
	case "writes":
		return baseline{rawOpen, "raw publishes open loop, one fsync'd message each, on the product's NATS server"}, true
	case "read-company", "read-list", "read-lifecycle":
		return baseline{"floor", "GET /healthz (no token, lookup or encoding)"}, true
	}
	return baseline{}, false
}

// baselineResults are each workload's held rate against its baseline's
// held just before it, and each baseline's held rate (the median of its
// runs).
func baselineResults(workloads []string, held []float64, bases []baseHeld, runs map[string][]float64) []bench.Result {
	var out []bench.Result
	var order []baseline
	for i, w := range workloads {
		b, ok := baselineOf(w)
		if !ok {
			continue
		}
		if !slices.Contains(order, b) {
			order = append(order, b)
		}
		base, note := bases[i].rate, "against http/"+b.workload+" held just before it"
		if bases[i].reused {
			note = "against http/" + b.workload + " held before an earlier workload (quick: measured once)"
		}
		r := bench.Result{Scenario: "http/" + w, Metric: "held_vs_" + strings.ReplaceAll(b.workload, "-", "_"), Value: held[i], Unit: "req/s",
			Baseline: base, Pairs: 1, Note: note}
		if base > 0 {
			r.Ratio = held[i] / base
			r.RatioMin, r.RatioMax = r.Ratio, r.Ratio
		}
		out = append(out, r)
	}
	for _, b := range order {
		out = append(out, bench.Result{Scenario: "http/" + b.workload, Metric: "held_per_sec", Value: bench.Median(runs[b.workload]), Unit: "req/s",
			Note: fmt.Sprintf("%s; median of %d runs", b.what, len(runs[b.workload]))})
	}
	return out
}

func heldResult(w string, held, raw float64) bench.Result {
	scen := "http/" + w
	switch w {
	case "writes":
		r := bench.Result{Scenario: scen, Metric: "held_per_sec", Value: held, Unit: "req/s", Baseline: raw,
			Target: fmt.Sprintf(">= %.1f of raw fsync publish c%d and >= %.0f/s", writesVsRaw, rawPublishers, writesFloor)}
		if raw > 0 {
			r.Ratio = held / raw
			ok := r.Ratio >= writesVsRaw && held >= writesFloor
			r.Met = &ok
		}
		return r
	case "read-company", "read-list":
		return floor(scen, held, readsFloor)
	case "read-lifecycle":
		return floor(scen, held, lifecycleFloor)
	}
	return bench.Result{Scenario: scen, Metric: "held_per_sec", Value: held, Unit: "req/s"}
}

// floor is a rate against the least it should be: ratio = value / floor.
func floor(scen string, held, least float64) bench.Result {
	ok := held >= least
	return bench.Result{Scenario: scen, Metric: "held_per_sec", Value: held, Unit: "req/s", Baseline: least,
		Ratio: held / least, Target: fmt.Sprintf(">= %.0f/s at p99 <= %s", least, p99Budget), Met: &ok}
}

// step is one constant rate held for cfg.Step.
type step struct {
	asked, achieved float64
	p50, p99, max   time.Duration
	cpuPerReq       time.Duration // the whole process's CPU (load generator included) per request
	requests        uint64
	errors          int
	firstError      string
	held            bool
}

func (s step) result(w string) bench.Result {
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
	}
	note := fmt.Sprintf("asked %.0f/s p50 %s p99 %s max %s ms, %d errors, cpu %.0f µs/req", s.asked, ms(s.p50), ms(s.p99), ms(s.max), s.errors,
		float64(s.cpuPerReq)/float64(time.Microsecond))
	if s.firstError != "" {
		note += " (" + s.firstError + ")"
	}
	if s.held {
		note += ": held"
	}
	scen := fmt.Sprintf("http/%s/at-%.0f", w, s.asked)
	if w == "load" {
		scen = fmt.Sprintf("lag/load/at-%.0f", s.asked) // the lag scenario's background writes
	}
	return bench.Result{Scenario: scen, Metric: "achieved_per_sec", Value: s.achieved, Unit: "req/s", Note: note}
}

// stepUp holds rate after rate, 1.5 times more each, until one is not
// held (p99 over budget, an error, or less achieved than asked), running
// a raw publish round before each step. While no rate has been held it
// halves the rate instead (at most three times), so that the table shows
// what the server does hold. Once a rate held is followed by one not
// held, the highest rate held lies between the two, a factor of 1.5
// apart: refineSteps more steps bisect that gap (by ratio), so the
// figure is found to within about 10% rather than 50% (1,708/s reported
// for a server that holds 2,200/s, say). Every kind of load, baselines
// included, is stepped this same way.
func stepUp(cfg Config, w string, hold func(rate float64) (step, error), between func() error) ([]step, error) {
	var steps []step
	take := func(rate float64) (step, error) {
		if err := between(); err != nil {
			return step{}, err
		}
		s, err := hold(rate)
		if err != nil {
			return step{}, err
		}
		steps = append(steps, s)
		cfg.logf("http %s: asked %.0f/s, achieved %.0f/s, p50 %s p99 %s max %s, %d errors, cpu %s/req%s", w, s.asked, s.achieved,
			s.p50.Round(10*time.Microsecond), s.p99.Round(10*time.Microsecond), s.max.Round(10*time.Microsecond), s.errors,
			s.cpuPerReq.Round(time.Microsecond), heldWord(s.held))
		return s, nil
	}
	rate, lastHeld := float64(cfg.StartRate), 0.0
	for try := 0; try < cfg.MaxSteps+3; try++ {
		s, err := take(rate)
		if err != nil {
			return steps, err
		}
		switch {
		case s.held:
			lastHeld, rate = rate, rate*rateFactor
		case lastHeld > 0:
			return steps, refine(lastHeld, rate, refineSteps, take)
		case try >= 3:
			return steps, nil
		default:
			rate /= 2
		}
	}
	return steps, nil
}

// refine bisects, by ratio, the gap between a rate held (lo) and the
// next one asked that was not (hi), n steps.
func refine(lo, hi float64, n int, take func(rate float64) (step, error)) error {
	for range n {
		mid := math.Round(math.Sqrt(lo * hi))
		if mid <= lo || mid >= hi {
			return nil
		}
		s, err := take(mid)
		if err != nil {
			return err
		}
		if s.held {
			lo = mid
		} else {
			hi = mid
		}
	}
	return nil
}

func heldWord(held bool) string {
	if held {
		return ": held"
	}
	return ": not held"
}

// attack sends rate requests per second for d, open loop: a request goes
// out on time whether or not the earlier ones have been answered.
// Each attack has an attacker of its own: vegeta stops an attacker when
// its attack ends, so one cannot be reused.
func attack(ctx context.Context, tr vegeta.Targeter, rate float64, d time.Duration) (step, error) {
	atk := newAttacker()
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	pacer := vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}
	var m vegeta.Metrics
	var lat []time.Duration
	s := step{asked: float64(pacer.Freq)}
	cpu0 := processCPU()
	for res := range atk.Attack(tr, pacer, d, "fundbridge") {
		m.Add(res)
		lat = append(lat, res.Latency)
		if res.Error != "" || res.Code < 200 || res.Code >= 300 {
			s.errors++
			if s.firstError == "" {
				s.firstError = fmt.Sprintf("%d %s %.120s", res.Code, res.Error, res.Body)
			}
		}
	}
	m.Close()
	if len(lat) > 0 {
		s.cpuPerReq = (processCPU() - cpu0) / time.Duration(len(lat))
	}
	if err := ctx.Err(); err != nil {
		return s, err
	}
	if len(lat) == 0 {
		return s, errors.New("no request sent")
	}
	s.requests = m.Requests
	s.settle(lat, m.Throughput) // successes per second, from the first request to the last answer
	return s, nil
}

// settle sets the step's percentiles from its latencies (sorting them),
// its achieved rate, and whether it held.
func (s *step) settle(lat []time.Duration, achieved float64) {
	slices.Sort(lat)
	q := func(x float64) time.Duration { return lat[min(len(lat)-1, int(x*float64(len(lat))))] }
	s.p50, s.p99, s.max = q(0.50), q(0.99), lat[len(lat)-1]
	s.achieved = achieved
	s.held = s.errors == 0 && s.p99 <= p99Budget && s.achieved >= heldShare*s.asked
}

// newAttacker is vegeta's HTTP client: keep-alive, as many connections
// as the open loop needs, a request abandoned (an error) after 10 s.
func newAttacker() *vegeta.Attacker {
	return vegeta.NewAttacker(vegeta.Timeout(10*time.Second), vegeta.KeepAlive(true), vegeta.Connections(10000), vegeta.MaxConnections(0))
}

// targeter makes the requests of a workload: writes draft applications
// across every company, each with its own Idempotency-Key; reads get a
// company, a page of the application list, or the lifecycle view; mix is
// nine reads (of the three kinds in turn) to one write.
func (p *product) targeter(w string) (vegeta.Targeter, error) {
	var n atomic.Uint64
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	write := func(t *vegeta.Target, i uint64) {
		s := p.startups[i%uint64(len(p.startups))]
		t.Method, t.URL, t.Body = http.MethodPost, p.base+"/api/v1/applications", []byte(draftBody)
		t.Header = http.Header{"Authorization": {"Bearer " + s.token}, "Content-Type": {"application/json"},
			"Idempotency-Key": {"bench-" + run + "-" + strconv.FormatUint(i, 10)}}
	}
	reads := []func(t *vegeta.Target, i uint64){
		func(t *vegeta.Target, i uint64) {
			s := p.startups[i%uint64(len(p.startups))]
			t.Method, t.URL = http.MethodGet, p.base+"/api/v1/companies/"+s.companyID
			t.Header = http.Header{"Authorization": {"Bearer " + s.token}}
		},
		func(t *vegeta.Target, _ uint64) {
			t.Method, t.URL = http.MethodGet, p.base+"/api/v1/applications?limit=20"
			t.Header = http.Header{"Authorization": {"Bearer " + p.operator}}
		},
		func(t *vegeta.Target, _ uint64) {
			t.Method, t.URL = http.MethodGet, p.base+"/api/v1/views/lifecycle-stages"
			t.Header = http.Header{"Authorization": {"Bearer " + p.operator}}
		},
	}
	var one func(t *vegeta.Target, i uint64)
	switch w {
	case "writes":
		one = write
	case "floor":
		// The least a request costs: the gateway's health check, answered
		// without a token, a lookup or an encoding.
		one = func(t *vegeta.Target, _ uint64) { t.Method, t.URL = http.MethodGet, p.base+"/healthz" }
	case "read-company":
		one = reads[0]
	case "read-list":
		one = reads[1]
	case "read-lifecycle":
		one = reads[2]
	case "mix":
		one = func(t *vegeta.Target, i uint64) {
			if i%10 == 9 {
				write(t, i/10)
				return
			}
			reads[i%3](t, i)
		}
	default:
		return nil, fmt.Errorf("no workload %q (writes, read-company, read-list, read-lifecycle, mix)", w)
	}
	return func(t *vegeta.Target) error {
		if t == nil {
			return vegeta.ErrNilTarget
		}
		*t = vegeta.Target{}
		one(t, n.Add(1)-1)
		return nil
	}, nil
}
