package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/services/process"
)

// TestFault runs the product as the deploy files do, on 127.0.0.1: three
// NATS nodes (the deploy configuration: R3, fsync always, TLS, a user per
// service) and every service as its own process, two instances of
// applications, matching, deals and the gateway. Startups go from sign-up
// to a closed deal through both gateways, every command with an
// Idempotency-Key and logged on the client. During the load it SIGKILLs a
// NATS node and restarts it, SIGKILLs an applications instance, and
// SIGKILLs the matching instance whose closing process manager is active
// while a deal is closing. Then it checks the log against the client's:
// every acknowledged command's events exactly once, nothing of a refused
// one, every process ended once, every due deadline fired once, and the
// views equal a rebuild from zero.
//
// make fault runs it (FUNDBRIDGE_FAULT_TEST=1); FUNDBRIDGE_FAULT_DURATION
// makes the load longer (default 60s); FUNDBRIDGE_FAULT_DIR keeps the
// run's files (each process's log) in that directory.
func TestFault(t *testing.T) {
	if os.Getenv("FUNDBRIDGE_FAULT_TEST") == "" {
		t.Skip("runs a NATS cluster and a dozen processes: make fault (FUNDBRIDGE_FAULT_TEST=1)")
	}
	duration := time.Minute
	if d, err := time.ParseDuration(os.Getenv("FUNDBRIDGE_FAULT_DURATION")); err == nil && d > 0 {
		duration = d
	}
	ctx := context.Background()
	begun := time.Now()
	dir := os.Getenv("FUNDBRIDGE_FAULT_DIR") // kept, logs and all, to look into a run
	if dir == "" {
		dir = t.TempDir()
	}
	c, err := Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	top, err := StartTopology(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3 NATS nodes and %d fundbridge processes ready in %s (builds included)", len(top.Procs), time.Since(begun).Round(time.Millisecond))

	log := &ledger{}
	cl := &client{gateways: top.Gateways, http: &http.Client{Timeout: 30 * time.Second}, log: log}
	m, err := setUpMarket(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}

	// The load: workers run scenarios until stop; a scenario under way
	// finishes (its commands retried until answered), bounded by drain.
	stop := make(chan struct{})
	drain, cancelDrain := context.WithTimeout(ctx, duration+5*time.Minute)
	defer cancelDrain()
	closings := make(chan string, 16)
	var scenarios, completed atomic.Int64
	var mu sync.Mutex
	var scenarioErrs []string
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for n := w; ; n += 4 {
				select {
				case <-stop:
					return
				default:
				}
				if drain.Err() != nil {
					return // past the drain bound: no new scenario (the faults overran it)
				}
				scenarios.Add(1)
				err := m.scenario(drain, cl, n+1, func(deal string) {
					select {
					case closings <- deal:
					default:
					}
				})
				if err != nil {
					mu.Lock()
					scenarioErrs = append(scenarioErrs, err.Error())
					mu.Unlock()
					continue
				}
				completed.Add(1)
			}
		})
	}

	f := &faults{t: t, top: top, log: log}
	loadStart := time.Now()
	f.at(loadStart.Add(duration*15/100), func() { f.killNATSNode(ctx, 1) })
	f.at(loadStart.Add(duration*40/100), func() { f.killService(ctx, "applications-1") })
	f.at(loadStart.Add(duration*60/100), func() { f.killActiveClosing(ctx, closings) })
	f.at(loadStart.Add(duration), func() {})
	close(stop)
	wg.Wait()
	t.Logf("load: %s, %d scenarios started, %d reached a closed deal", time.Since(loadStart).Round(time.Millisecond), scenarios.Load(), completed.Load())
	for _, e := range scenarioErrs {
		t.Errorf("scenario: %s", e)
	}

	entries := log.snapshot()
	var acked, retried, failed int
	kinds := map[string]int{}
	for _, e := range entries {
		if e.acked {
			acked++
			kinds[e.kind]++
		}
		if e.failed {
			failed++
			t.Errorf("refused: %s %s: %d %s", e.kind, e.key, e.status, e.answer)
		}
		if e.attempts > 1 {
			retried++
		}
	}
	t.Logf("commands: %d sent (requests, retries included), %d acknowledged, %d needed a retry, %d failed; by kind %v", log.sent.Load(), acked, retried, failed, kinds)
	for _, r := range f.report {
		t.Log(r)
	}

	l, err := readLog(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	problems, figures := verify(l, entries, m.fundID)
	for _, p := range problems {
		t.Error(p)
	}
	for _, fig := range figures {
		t.Log(fig)
	}
	compareWithRebuild(t, ctx, top, cl, m.operator, m.fundID, l.head)
}

// faults does one fault at a time and reports what it did and how long
// the product took to recover.
type faults struct {
	t      *testing.T
	top    *Topology
	log    *ledger
	report []string
}

func (f *faults) at(when time.Time, fn func()) {
	time.Sleep(time.Until(when))
	fn()
}

// nextAck is how long after since the workload next had a command
// acknowledged.
func (f *faults) nextAck(since time.Time) time.Duration {
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if last := time.Unix(0, f.log.lastAck.Load()); last.After(since) {
			return last.Sub(since)
		}
	}
	return -1
}

func (f *faults) killNATSNode(ctx context.Context, i int) {
	node := f.top.Nodes[i]
	killed := time.Now()
	node.Kill()
	ack := f.nextAck(killed)
	time.Sleep(5 * time.Second)
	if err := node.Start(); err != nil {
		f.t.Errorf("restart %s: %v", node.Name, err)
		return
	}
	restarted := time.Now()
	if err := WaitHealthy(ctx, node.Health+"/healthz?js-enabled-only=true", 2*time.Minute); err != nil {
		f.t.Errorf("%s after restart: %v", node.Name, err)
		return
	}
	f.report = append(f.report, fmt.Sprintf("fault: SIGKILL NATS node %s; next command acknowledged %s after the kill; restarted after 5s, JetStream healthy %s after the restart",
		node.Name, ack.Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond)))
}

func (f *faults) killService(ctx context.Context, name string) {
	p := f.top.Procs[name]
	killed := time.Now()
	p.Kill()
	ack := f.nextAck(killed)
	time.Sleep(3 * time.Second)
	if err := p.Start(); err != nil {
		f.t.Errorf("restart %s: %v", name, err)
		return
	}
	restarted := time.Now()
	if err := p.WaitReady(ctx, 2*time.Minute); err != nil {
		f.t.Error(err)
		return
	}
	f.report = append(f.report, fmt.Sprintf("fault: SIGKILL %s; next command acknowledged %s after the kill; restarted after 3s, ready %s after the restart",
		name, ack.Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond)))
}

// killActiveClosing waits for a deal's close to be sent, finds the
// matching instance whose closing process manager holds the lease, and
// SIGKILLs it while the closing runs; the standby takes over.
func (f *faults) killActiveClosing(ctx context.Context, closings <-chan string) {
	for len(closings) > 0 { // only a close sent from now on
		<-closings
	}
	var deal string
	select {
	case deal = <-closings:
	case <-time.After(time.Minute):
		f.t.Error("no deal was closing within a minute: the process manager was not killed")
		return
	}
	active, err := f.activeClosing(ctx)
	if err != nil {
		f.t.Error(err)
		return
	}
	time.Sleep(20 * time.Millisecond) // the close is on its way
	killed := time.Now()
	active.Kill()
	took := f.closeAcked(deal)
	other := "matching-1"
	if active.Name == other {
		other = "matching-2"
	}
	takeover := f.waitActiveLog(f.top.Procs[other], killed)
	if err := active.Start(); err != nil {
		f.t.Errorf("restart %s: %v", active.Name, err)
		return
	}
	if err := active.WaitReady(ctx, 2*time.Minute); err != nil {
		f.t.Error(err)
	}
	f.report = append(f.report, fmt.Sprintf("fault: SIGKILL %s, the active closing process manager, while deal %s was closing; %s took over %s after the kill; the close was acknowledged %s after the kill",
		active.Name, deal, other, takeover.Round(time.Millisecond), took.Round(time.Millisecond)))
}

// activeClosing is the matching process whose manager holds the lease.
func (f *faults) activeClosing(ctx context.Context) (*Proc, error) {
	nc, err := f.top.Connect(natsauth.Admin)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := njs.New(nc)
	if err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, process.LeaseBucket("closing"))
	if err != nil {
		return nil, err
	}
	entry, err := kv.Get(ctx, "active")
	if err != nil {
		return nil, fmt.Errorf("closing lease: %w", err)
	}
	needle := []byte(`"instance":"` + string(entry.Value()) + `"`)
	for _, name := range []string{"matching-1", "matching-2"} {
		p := f.top.Procs[name]
		data, err := os.ReadFile(p.Log)
		if err == nil && bytes.Contains(data, needle) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("no matching log names the lease holder %s", entry.Value())
}

// waitActiveLog is how long after since p logged that its manager is
// active.
func (f *faults) waitActiveLog(p *Proc, since time.Time) time.Duration {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		data, _ := os.ReadFile(p.Log)
		for _, line := range bytes.Split(data, []byte("\n")) {
			var rec struct {
				Time    time.Time `json:"time"`
				Msg     string    `json:"msg"`
				Process string    `json:"process"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "active" && rec.Process == "closing" && rec.Time.After(since) {
				return rec.Time.Sub(since)
			}
		}
	}
	return -1
}

func (f *faults) closeAcked(deal string) time.Duration {
	start := time.Now()
	for deadline := start.Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, e := range f.log.snapshot() {
			f.log.mu.Lock()
			done := e.kind == "close" && e.id == deal && (e.acked || e.failed)
			f.log.mu.Unlock()
			if done {
				return time.Since(start)
			}
		}
	}
	return -1
}

// compareWithRebuild reads the views, then replaces the views process by
// one on an empty data directory (folding the log from zero) and reads
// them again: they must be equal.
func compareWithRebuild(t *testing.T, ctx context.Context, top *Topology, c *client, operator, fundID string, head uint64) {
	t.Helper()
	paths := []string{"/api/v1/views/lifecycle-stages", "/api/v1/views/lifecycle-stages?period=month&sector=computer_vision",
		"/api/v1/views/market", "/api/v1/views/funds/" + fundID + "/board"}
	read := func() []string {
		var out []string
		for _, p := range paths {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			// A views instance just started is ready in itself; the other
			// NATS nodes learn of its subscriptions a moment later.
			status, _, data, err := c.do(ctx, "GET", fmt.Sprintf("%s%safter=%d", p, sep, head), operator, "", nil)
			for deadline := time.Now().Add(10 * time.Second); status == http.StatusServiceUnavailable && time.Now().Before(deadline); {
				time.Sleep(200 * time.Millisecond)
				status, _, data, err = c.do(ctx, "GET", fmt.Sprintf("%s%safter=%d", p, sep, head), operator, "", nil)
			}
			if err != nil || status != 200 {
				t.Fatalf("GET %s: %d %v %s", p, status, err, data)
			}
			out = append(out, string(data))
		}
		return out
	}
	before := read()
	old := top.Procs["views"]
	old.Stop(10 * time.Second)
	rebuilt, err := top.Serve("views-rebuilt", "views", "--data-dir", filepath.Join(top.Dir, "views-rebuilt"))
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := rebuilt.WaitReady(ctx, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("views folded from zero (%d positions) and ready in %s", head, time.Since(started).Round(time.Millisecond))
	after := read()
	for i := range paths {
		if before[i] != after[i] {
			t.Errorf("%s differs from a rebuild from zero:\nbefore %.500s\nafter  %.500s", paths[i], before[i], after[i])
		}
	}
}
