package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

// After a restart on a log long enough that folding it takes a while,
// /readyz answers 503 until every service's views reflect the log's head
// as it was at start and the operator exists; the first time it answers
// 200, a read without ?after= already shows the last write and every
// projection is at the head. (The issue saw "ready" at 62,388 of 70,797.)
func TestReadyMeansTheViewsHaveCaughtUp(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a long log")
	}
	funds := 4000
	if n, err := strconv.Atoi(os.Getenv("FUNDBRIDGE_READY_FUNDS")); err == nil {
		funds = n
	}
	p := startWith(t, func(o *app.Options) { o.Fsync = false }) // the log is written here, not under test
	ctx := context.Background()
	stats, err := sim.Write(ctx, p.app.Store, sim.Config{Seed: 7, Funds: funds, Workers: 16})
	if err != nil {
		t.Fatal(err)
	}
	head, err := p.app.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := sim.FundID(funds - 1)

	p.app.Close()
	// The views fold again from 0 and nothing bootstraps the operator yet.
	if err := os.RemoveAll(filepath.Join(p.opts.DataDir, "projections")); err != nil {
		t.Fatal(err)
	}
	o := p.opts
	o.AwaitOperator = true
	a, err := app.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	p.app, p.base = a, "http://"+a.HTTPAddr.String()
	started := time.Now()

	var notReady int
	var reason string
	bootstrapped := false
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 2 minutes: %s", reason)
		}
		r := p.do("GET", "/readyz", p.opToken, nil)
		if r.status == http.StatusOK {
			break
		}
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("readyz = %d %s", r.status, r.raw)
		}
		notReady++
		reason, _ = r.body["detail"].(string)
		if !bootstrapped && notReady == 3 {
			// Start-up work: until it is done, caught-up views are not enough.
			if _, err := a.BootstrapOperator(ctx, "ops@fundbridge.test", operatorPassword, io.Discard); err != nil {
				t.Fatal(err)
			}
			bootstrapped = true
		}
	}
	readyAfter := time.Since(started)
	if !bootstrapped {
		t.Fatal("ready before the operator account was bootstrapped")
	}
	// At once: the last fund of the log, without ?after=, and every
	// projection at the head.
	if r := p.do("GET", "/api/v1/funds/"+last, p.opToken, nil); r.status != http.StatusOK {
		t.Errorf("the last fund written, read when ready: %d %s", r.status, r.raw)
	}
	r := p.do("GET", "/api/v1/views/status", p.opToken, nil)
	var status viewsapi.StatusResult
	if err := json.Unmarshal(r.raw, &status); err != nil {
		t.Fatalf("views status %d: %v %s", r.status, err, r.raw)
	}
	for _, s := range status.Items {
		if s.Position < head {
			t.Errorf("ready while projection %s is at %d of %d", s.Name, s.Position, head)
		}
	}
	t.Logf("%d events in %d appends; head %d; ready %s after the restart, after %d probes answered 503 (last: %q)",
		stats.Events, stats.Appends, head, readyAfter.Round(time.Millisecond), notReady, reason)
}
