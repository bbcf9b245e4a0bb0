package httpbench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge/events/bench"
)

const lagP99Budget = 10 * time.Millisecond

// Lag writes drafts at cfg.LagRate (open loop) and meanwhile, one after
// another, sends a probe draft and then reads the lifecycle view with
// ?after= its position: the time from the probe's acknowledgement to the
// view's answer is the lag (it includes the one GET's round trip).
func Lag(ctx context.Context, cfg Config) ([]bench.Result, error) {
	cfg.defaults()
	p, err := start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer p.close()
	tr, err := p.targeter("writes")
	if err != nil {
		return nil, err
	}
	cfg.Memory.Reset()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var background step
	var bgErr error
	var wg sync.WaitGroup
	wg.Go(func() { background, bgErr = attack(ctx, tr, float64(cfg.LagRate), cfg.LagDuration) })

	var lags []time.Duration
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	deadline := time.Now().Add(cfg.LagDuration)
	var probeErr error
	for i := 0; time.Now().Before(deadline); i++ {
		lag, err := p.probe(ctx, p.startups[i%len(p.startups)], fmt.Sprintf("bench-lag-%s-%d", run, i))
		if err != nil {
			probeErr = err
			cancel()
			break
		}
		lags = append(lags, lag)
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	if probeErr != nil {
		return nil, fmt.Errorf("lag probe: %w", probeErr)
	}
	if bgErr != nil {
		return nil, fmt.Errorf("lag load: %w", bgErr)
	}
	if len(lags) == 0 {
		return nil, fmt.Errorf("lag: no probe in %s", cfg.LagDuration)
	}
	slices.Sort(lags)
	q := func(x float64) float64 {
		return float64(lags[min(len(lags)-1, int(x*float64(len(lags))))]) / float64(time.Millisecond)
	}
	scen := fmt.Sprintf("lag/ack-to-lifecycle-view/at-%d", cfg.LagRate)
	out := []bench.Result{
		{Scenario: scen, Metric: "p50", Value: q(0.5), Unit: "ms", Note: fmt.Sprintf("%d probes", len(lags))},
		bench.Budget(scen, "p99", q(0.99), "ms", float64(lagP99Budget/time.Millisecond), fmt.Sprintf("<= %s", lagP99Budget)),
		background.result("load"),
	}
	for _, r := range out {
		cfg.logf("%s", bench.FormatLine(r))
	}
	return out, nil
}

// probe drafts an application and waits for the lifecycle view to hold
// its position.
func (p *product) probe(ctx context.Context, s startup, key string) (time.Duration, error) {
	hdr, err := p.call(ctx, http.MethodPost, "/api/v1/applications", s.token, json.RawMessage(draftBody), nil, "Idempotency-Key", key)
	if err != nil {
		return 0, err
	}
	acked := time.Now()
	pos := hdr.Get("Fundbridge-Position")
	if pos == "" {
		return 0, fmt.Errorf("draft answered without a Fundbridge-Position")
	}
	if _, err := p.call(ctx, http.MethodGet, "/api/v1/views/lifecycle-stages?after="+pos, p.operator, nil, nil); err != nil {
		return 0, err
	}
	return time.Since(acked), nil
}
