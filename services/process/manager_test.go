package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	ejs "github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/simclock"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc"
)

// These tests run the manager against a real embedded NATS server, with
// the ledger as a real service over NATS built from the svc.

var platform = fundbridge.Actor{UserID: "deals", Role: fundbridge.RoleSystem}

type world struct {
	t   testing.TB
	env *testenv.Env
	reg *events.Registry
}

func newWorld(t testing.TB) *world {
	t.Helper()
	reg := testRegistry()
	w := &world{t: t, env: testenv.Start(t, reg), reg: reg}
	t.Cleanup(w.startLedger())
	return w
}

// startLedger serves the ledger on a connection of its own until the
// returned stop is called.
func (w *world) startLedger() (stop func()) {
	nc := w.env.Connect(w.t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, nc, ledgerService(w.env.Store, w.reg)) }()
	for {
		_, err := nc.Request(svc.Subject("ledger", "fund.commit"), []byte("{"), time.Second)
		if !errors.Is(err, nats.ErrNoResponders) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done; nc.Close() }) }
}

// running is a manager in its own goroutine on its own connection, as a
// separate process would be.
type running struct {
	m    *Manager[closing]
	nc   *nats.Conn
	stop context.CancelFunc
	done chan error
}

type managerOpts struct {
	instance string
	crash    func(point string) bool
	def      *Definition[closing]
	clock    func() time.Time
}

func (w *world) start(o managerOpts) *running {
	w.t.Helper()
	nc := w.env.Connect(w.t)
	store, err := ejs.Open(context.Background(), nc, w.reg, ejs.Options{GroupCommit: true})
	if err != nil {
		w.t.Fatal(err)
	}
	def := closingDefinition()
	if o.def != nil {
		def = *o.def
	}
	m, err := New(context.Background(), def, Options{
		Store: store, Registry: w.reg, Conn: nc, Sender: svc.NewClient(nc, 5*time.Second),
		Instance: o.instance, LeaseTTL: time.Second, CheckpointEvery: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler), Clock: o.clock,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	m.crash = o.crash
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{m: m, nc: nc, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- m.Run(ctx) }()
	w.t.Cleanup(func() { cancel(); <-r.done; nc.Close() })
	return r
}

// shutdown stops the manager gracefully and waits for it.
func (r *running) shutdown(t *testing.T) {
	t.Helper()
	r.stop()
	if err := <-r.done; err != nil {
		t.Fatalf("manager stopped with %v", err)
	}
	r.done <- nil // for the cleanup
}

// crashed waits for the manager to die of its simulated crash, then cuts
// its connection as the death of its process would.
func (r *running) crashed(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		if !errors.Is(err, errCrashed) {
			t.Fatalf("manager ended with %v, want a crash", err)
		}
		r.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("the manager never reached its crash point")
	}
	r.nc.Close()
}

func (w *world) append(streamID string, p events.Payload) {
	w.t.Helper()
	_, err := w.env.Store.Append(context.Background(), events.AppendRequest{
		StreamID: streamID, Expected: events.Any, Meta: events.Meta{Actor: platform, CorrelationID: "corr-" + streamID},
		Events: []events.NewEvent{{Type: p.EventType(), Payload: raw(p)}},
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) openFund(id string, capital int64) {
	w.append("ledgerfund-"+id, FundOpened{Capital: money.Yuan(capital)})
}

func (w *world) requestClosing(deal, app, fund string, amount int64, settle *time.Time) {
	w.append("closing-"+deal, ClosingRequested{ClosingID: deal, ApplicationID: app, FundID: fund, Amount: money.Yuan(amount), SettleAt: settle})
}

// final waits until the process has ended.
func (w *world) final(m *Manager[closing], id string) Instance[closing] {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		in, err := m.Load(context.Background(), id)
		if err != nil {
			w.t.Fatal(err)
		}
		if in.Status.Final() {
			return in
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("process %s never ended: %+v", id, in)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count is how many events of this type the stream holds.
func (w *world) count(streamID string, p events.Payload) int {
	w.t.Helper()
	recorded, err := w.env.Store.ReadStream(context.Background(), streamID, 1)
	if err != nil {
		w.t.Fatal(err)
	}
	n := 0
	for _, e := range recorded {
		if e.Type == p.EventType() {
			n++
		}
	}
	return n
}

func (w *world) types(streamID string) []string {
	recorded, err := w.env.Store.ReadStream(context.Background(), streamID, 1)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range recorded {
		out = append(out, e.Type)
	}
	return out
}

// committed is how many times the fund committed capital to the deal.
func (w *world) committed(fund, deal string) int {
	w.t.Helper()
	recorded, err := w.env.Store.ReadStream(context.Background(), "ledgerfund-"+fund, 1)
	if err != nil {
		w.t.Fatal(err)
	}
	n := 0
	for _, e := range recorded {
		if _, p, err := w.reg.Decode(e); err == nil {
			if c, ok := p.(CapitalCommitted); ok && c.Deal == deal {
				n++
			}
		}
	}
	return n
}

// closedOnce checks that the closing took effect exactly once.
func (w *world) closedOnce(deal, app, fund string) {
	w.t.Helper()
	if n := w.committed(fund, deal); n != 1 {
		w.t.Errorf("%s: capital committed %d times in fund %s, want once", deal, n, fund)
	}
	if n := w.count("ledgerapp-"+app, ApplicationReserved{}); n != 1 {
		w.t.Errorf("%s: application %s reserved %d times, want once", deal, app, n)
	}
}

func TestAClosingCompletesOverNATSAndItsStreamTellsEachStep(t *testing.T) {
	w := newWorld(t)
	r := w.start(managerOpts{instance: "a"})
	w.openFund("f1", 10_000_000)
	w.requestClosing("d1", "a1", "f1", 4_000_000, nil)

	in := w.final(r.m, "d1")
	if in.Status != Completed || !in.State.Started || in.State.FundID != "f1" {
		t.Fatalf("ended %+v", in)
	}
	w.closedOnce("d1", "a1", "f1")
	want := []string{"process.observed.v1", "closing.started.v1", "process.command_issued.v1",
		"process.command_succeeded.v1", "process.command_issued.v1",
		"process.command_succeeded.v1", "process.ended.v1"}
	if got := w.types("process-closing-d1"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("process stream\n  %v\nwant\n  %v", got, want)
	}
	// The ledger's event names its cause: the process's command, by key.
	fund, _ := w.env.Store.ReadStream(context.Background(), "ledgerfund-f1", 2)
	proc, _ := w.env.Store.ReadStream(context.Background(), "process-closing-d1", 5)
	if in.Position <= fund[0].Position {
		t.Errorf("process position %d does not cover the commitment at %d", in.Position, fund[0].Position)
	}
	if fund[0].IdempotencyKey != "process/closing/d1/commit" || fund[0].CausationID != proc[0].ID || fund[0].CorrelationID != "corr-closing-d1" {
		t.Fatalf("committed event key %q cause %q correlation %q; want the commit's key, command %s and the request's correlation",
			fund[0].IdempotencyKey, fund[0].CausationID, fund[0].CorrelationID, proc[0].ID)
	}
	// The process's own steps name themselves as the command.
	steps, _ := w.env.Store.ReadStream(context.Background(), "process-closing-d1", 1)
	if steps[0].Command != "process.closing.observe" || steps[3].Command != "process.closing.reply" {
		t.Errorf("the process's steps record commands %q and %q; want process.closing.observe and process.closing.reply", steps[0].Command, steps[3].Command)
	}
}

func TestAClosingBeyondDryPowderReleasesTheReservation(t *testing.T) {
	w := newWorld(t)
	r := w.start(managerOpts{instance: "a"})
	w.openFund("f1", 1_000_000)
	w.requestClosing("d1", "a1", "f1", 4_000_000, nil)

	in := w.final(r.m, "d1")
	if in.Status != Compensated || in.Reason != "the fund refused the commitment: commitment of 4000000.00 is beyond the dry powder of 1000000.00" {
		t.Fatalf("ended %s: %q", in.Status, in.Reason)
	}
	if n := w.count("ledgerfund-f1", CapitalCommitted{}); n != 0 {
		t.Errorf("capital committed %d times", n)
	}
	if r, rel := w.count("ledgerapp-a1", ApplicationReserved{}), w.count("ledgerapp-a1", ApplicationReleased{}); r != 1 || rel != 1 {
		t.Errorf("application reserved %d and released %d times, want once each", r, rel)
	}
}

func TestARestartResumesFromTheCheckpointNotFromTheStart(t *testing.T) {
	w := newWorld(t)
	r := w.start(managerOpts{instance: "a"})
	w.openFund("f1", 10_000_000)
	w.requestClosing("d1", "a1", "f1", 1_000_000, nil)
	w.final(r.m, "d1")
	// The process's last event is in the log once it is final; the
	// manager handles it when its subscription delivers it back, which
	// on a busy machine can be after the instance reads as final: wait
	// for the checkpoint (saved every 50 ms) to cover it, then stop.
	last, _ := w.env.Store.ReadStream(context.Background(), "process-closing-d1", 7)
	if len(last) != 1 {
		t.Fatalf("the process's stream ends before version 7: %+v", last)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := r.m.Checkpoint(context.Background()); err == nil && c >= last[0].Position {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the checkpoint never reached the process's last event")
		}
	}
	r.shutdown(t)

	checkpoint, err := r.m.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if checkpoint < last[0].Position {
		t.Fatalf("checkpoint %d is before the process's last event, after a clean stop", checkpoint)
	}

	// The restarted manager sees only what came after the checkpoint.
	var mu sync.Mutex
	var seen []uint64
	def := closingDefinition()
	route := def.Route[ClosingRequested{}.EventType()]
	def.Route = map[string]func(events.Event, any) string{ClosingRequested{}.EventType(): func(e events.Event, p any) string {
		mu.Lock()
		seen = append(seen, e.Position)
		mu.Unlock()
		return route(e, p)
	}}
	r2 := w.start(managerOpts{instance: "a", def: &def})
	w.requestClosing("d2", "a2", "f1", 1_000_000, nil)
	w.final(r2.m, "d2")
	w.closedOnce("d1", "a1", "f1")
	mu.Lock()
	defer mu.Unlock()
	for _, pos := range seen {
		if pos <= checkpoint {
			t.Errorf("the restarted manager handled position %d again (checkpoint %d)", pos, checkpoint)
		}
	}
	if len(seen) != 1 {
		t.Errorf("routed %d events after the restart, want the one new request", len(seen))
	}
}

// crashAt returns a crash hook that fires at the nth time point is reached.
func crashAt(point string, nth int32) func(string) bool {
	var n atomic.Int32
	return func(p string) bool { return p == point && n.Add(1) == nth }
}

func TestACrashAtAnyPointResumesAndEveryCommandTakesEffectOnce(t *testing.T) {
	w := newWorld(t)
	w.openFund("rich", 1_000_000_000)
	w.openFund("poor", 1)
	cases := []struct {
		point  string
		nth    int32
		fund   string
		settle bool
		want   Status
	}{
		{"observed", 1, "rich", false, Completed},
		{"before-send", 1, "rich", false, Completed}, // issued, never sent
		{"after-send", 1, "rich", false, Completed},  // reserved, reply lost
		{"replied", 1, "rich", false, Completed},     // reply recorded, commit issued
		{"before-send", 2, "rich", false, Completed},
		{"after-send", 2, "rich", false, Completed}, // committed, reply lost
		{"replied", 2, "rich", false, Completed},
		{"after-send", 2, "poor", false, Compensated}, // refusal lost
		{"after-send", 3, "poor", false, Compensated}, // release done, reply lost
		{"before-arm", 1, "rich", true, Completed},    // deadline recorded, not armed
		{"fired", 1, "rich", true, Completed},         // firing recorded, not acknowledged
	}
	for i, c := range cases {
		deal, app := fmt.Sprintf("d%d", i), fmt.Sprintf("a%d", i)
		t.Run(fmt.Sprintf("%s#%d/%s", c.point, c.nth, c.fund), func(t *testing.T) {
			w.t = t
			r := w.start(managerOpts{instance: "a", crash: crashAt(c.point, c.nth)})
			var settle *time.Time
			if c.settle {
				at := time.Now().Add(time.Second)
				settle = &at
			}
			w.requestClosing(deal, app, c.fund, 1_000_000, settle)
			r.crashed(t)

			r2 := w.start(managerOpts{instance: "a"})
			in := w.final(r2.m, deal)
			if in.Status != c.want {
				t.Fatalf("ended %s (%s), want %s", in.Status, in.Reason, c.want)
			}
			if c.want == Completed {
				w.closedOnce(deal, app, c.fund)
			} else if n := w.count("ledgerapp-"+app, ApplicationReleased{}); n != 1 {
				t.Errorf("application released %d times, want once", n)
			}
			if c.settle {
				if n := w.count("process-closing-"+deal, DeadlineFired{}); n != 1 {
					t.Errorf("deadline fired %d times, want once", n)
				}
			}
			r2.shutdown(t)
		})
	}
}

func TestTwoManagersOneWorksTheOtherTakesOverWhenItDies(t *testing.T) {
	w := newWorld(t)
	w.openFund("f1", 1_000_000_000)
	var crashed atomic.Bool
	var replies atomic.Int32
	crash := func(p string) bool {
		return p == "replied" && replies.Add(1) == 4 && crashed.CompareAndSwap(false, true)
	}
	a := w.start(managerOpts{instance: "a", crash: crash})
	b := w.start(managerOpts{instance: "b", crash: crash})

	settle := time.Now().Add(2 * time.Second)
	for i := range 6 {
		var at *time.Time
		if i%2 == 1 {
			at = &settle
		}
		w.requestClosing(fmt.Sprintf("d%d", i), fmt.Sprintf("a%d", i), "f1", 1_000_000, at)
	}
	// One of them is active; it dies after its fourth reply.
	var survivor *running
	select {
	case err := <-a.done:
		a.done <- err
		a.crashed(t)
		survivor = b
	case err := <-b.done:
		b.done <- err
		b.crashed(t)
		survivor = a
	case <-time.After(30 * time.Second):
		t.Fatal("no manager crashed")
	}
	for i := range 6 {
		deal := fmt.Sprintf("d%d", i)
		if in := w.final(survivor.m, deal); in.Status != Completed {
			t.Fatalf("%s ended %s: %s", deal, in.Status, in.Reason)
		}
		w.closedOnce(deal, fmt.Sprintf("a%d", i), "f1")
		if want := i % 2; w.count("process-closing-"+deal, DeadlineFired{}) != want {
			t.Errorf("%s: deadline fired %d times, want %d", deal, w.count("process-closing-"+deal, DeadlineFired{}), want)
		}
	}
	if n := w.count("ledgerfund-f1", CapitalCommitted{}); n != 6 {
		t.Errorf("capital committed %d times for 6 closings", n)
	}
}

// armed waits until the deadline's schedule is in the timer stream.
func (w *world) armed(deal string) {
	w.t.Helper()
	js, _ := jetstream.New(w.env.Conn)
	stream, err := js.Stream(context.Background(), timerStream)
	if err != nil {
		w.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := stream.GetLastMsgForSubject(context.Background(), scheduleSubject+".closing."+deal+".settle")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("deadline of %s never armed: %v", deal, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestADeadlineScheduledBeforeARestartFiresAfterIt(t *testing.T) {
	w := newWorld(t)
	w.openFund("f1", 10_000_000)
	r := w.start(managerOpts{instance: "a"})
	settle := time.Now().Add(1500 * time.Millisecond)
	w.requestClosing("d1", "a1", "f1", 1_000_000, &settle)
	w.armed("d1")
	r.shutdown(t)

	time.Sleep(time.Until(settle) + time.Second) // it fires while no manager runs
	if in, _ := r.m.Load(context.Background(), "d1"); in.Status != Running || len(in.Deadlines) != 1 {
		t.Fatalf("before the restart: %+v", in)
	}
	r2 := w.start(managerOpts{instance: "b"})
	if in := w.final(r2.m, "d1"); in.Status != Completed {
		t.Fatalf("ended %s: %s", in.Status, in.Reason)
	}
	w.closedOnce("d1", "a1", "f1")
	if n := w.count("process-closing-d1", DeadlineFired{}); n != 1 {
		t.Errorf("deadline fired %d times", n)
	}
}

// A manager on a simulated clock, thirty days behind the wall clock: its
// deadline ten days ahead on that clock (twenty days past on the wall
// clock, where JetStream schedules) is looked at again and again but
// does not fire until the clock jumps past it; then it fires once. A
// deadline an hour ahead of the wall clock, looked at while the clock
// was behind, does not fire when the clock is handed over to the wall
// clock.
func TestADeadlineFallsDueOnASimulatedClock(t *testing.T) {
	w := newWorld(t)
	w.openFund("f1", 10_000_000)
	clock := simclock.Starting(time.Now().AddDate(0, 0, -30))
	r := w.start(managerOpts{instance: "a", clock: clock.Now})
	settle, later := clock.Now().AddDate(0, 0, 10), time.Now().Add(time.Hour)
	w.requestClosing("d1", "a1", "f1", 1_000_000, &settle)
	w.requestClosing("d2", "a2", "f1", 1_000_000, &later)

	js, _ := jetstream.New(w.env.Conn)
	cons, err := js.Consumer(context.Background(), timerStream, "process_closing")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		info, err := cons.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.Delivered.Consumer >= 6 && info.NumAckPending == 0 {
			break // they fired early on the wall clock and were armed again, twice over
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deadline was never looked at: %+v", info)
		}
	}
	if in, _ := r.m.Load(context.Background(), "d1"); in.Status != Running || w.count("process-closing-d1", DeadlineFired{}) != 0 {
		t.Fatalf("fired before its time on the clock: %+v", in)
	}

	clock.AdvanceTo(settle.Add(time.Minute))
	if in := w.final(r.m, "d1"); in.Status != Completed {
		t.Fatalf("ended %s: %s", in.Status, in.Reason)
	}
	w.drained()
	if n := w.count("process-closing-d1", DeadlineFired{}); n != 1 {
		t.Errorf("deadline fired %d times", n)
	}
	w.closedOnce("d1", "a1", "f1")

	// After the hand-over the later deadline's next look finds it an
	// hour ahead and arms it for its time: wait for that schedule (the
	// looks before the hand-over armed it a second ahead).
	clock.HandOver()
	stream, err := js.Stream(context.Background(), timerStream)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		msg, err := stream.GetLastMsgForSubject(context.Background(), scheduleSubject+".closing.d2.settle")
		if err == nil {
			at, _ := time.Parse(time.RFC3339, strings.TrimPrefix(msg.Header.Get(jetstream.ScheduleHeader), "@at "))
			if time.Until(at) > 30*time.Minute {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the later deadline was not armed for its time after the hand-over")
		}
	}
	w.drained()
	if in, _ := r.m.Load(context.Background(), "d2"); in.Status != Running || w.count("process-closing-d2", DeadlineFired{}) != 0 {
		t.Fatalf("a deadline an hour ahead fired at the hand-over: %+v", in)
	}
}

// drained waits until every firing was handled and acknowledged.
func (w *world) drained() {
	w.t.Helper()
	js, _ := jetstream.New(w.env.Conn)
	cons, err := js.Consumer(context.Background(), timerStream, "process_closing")
	if err != nil {
		w.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		info, err := cons.Info(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("firings left: %d pending, %d unacknowledged", info.NumPending, info.NumAckPending)
		}
	}
}

func TestARepeatedOrStaleFiringRecordsNothing(t *testing.T) {
	w := newWorld(t)
	w.openFund("f1", 10_000_000)
	r := w.start(managerOpts{instance: "a"})
	settle := time.Now().Add(time.Hour)
	w.requestClosing("d1", "a1", "f1", 1_000_000, &settle)
	w.armed("d1")

	// Fire it by hand: for a time it is not set for, then twice for its time.
	js, _ := jetstream.New(w.env.Conn)
	fire := func(at time.Time) {
		t.Helper()
		if _, err := js.Publish(context.Background(), fireSubject+".closing.d1.settle", raw(wakeMsg{Process: "d1", Deadline: "settle", At: at})); err != nil {
			t.Fatal(err)
		}
		w.drained()
	}
	fire(settle.Add(-time.Minute))
	if n := w.count("process-closing-d1", DeadlineFired{}); n != 0 {
		t.Fatalf("a firing for another time was recorded")
	}
	fire(settle)
	if in := w.final(r.m, "d1"); in.Status != Completed {
		t.Fatalf("ended %s: %s", in.Status, in.Reason)
	}
	fire(settle)
	if n := w.count("process-closing-d1", DeadlineFired{}); n != 1 {
		t.Errorf("deadline fired %d times", n)
	}
	w.closedOnce("d1", "a1", "f1")
}

func TestAStandbyTakesOverAtOnceWhenTheActiveOneStopsCleanly(t *testing.T) {
	w := newWorld(t)
	w.openFund("f1", 10_000_000)
	a := w.start(managerOpts{instance: "a"})
	w.requestClosing("d1", "a1", "f1", 1_000_000, nil)
	w.final(a.m, "d1") // a is the active one: it did the work
	b := w.start(managerOpts{instance: "b"})
	a.shutdown(t) // releases the lease

	w.requestClosing("d2", "a2", "f1", 1_000_000, nil)
	if in := w.final(b.m, "d2"); in.Status != Completed {
		t.Fatalf("ended %s: %s", in.Status, in.Reason)
	}
	w.closedOnce("d1", "a1", "f1")
	w.closedOnce("d2", "a2", "f1")
}

func TestACommandToAServiceThatIsDownIsSentWhenItIsBack(t *testing.T) {
	reg := testRegistry()
	w := &world{t: t, env: testenv.Start(t, reg), reg: reg}
	w.openFund("f1", 10_000_000)
	r := w.start(managerOpts{instance: "a"})
	w.requestClosing("d1", "a1", "f1", 1_000_000, nil)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		in, err := r.m.Load(context.Background(), "d1")
		if err != nil {
			t.Fatal(err)
		}
		if _, pending := in.Pending["reserve"]; pending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reserve never issued: %+v", in)
		}
	}
	t.Cleanup(w.startLedger())
	if in := w.final(r.m, "d1"); in.Status != Completed {
		t.Fatalf("ended %s: %s", in.Status, in.Reason)
	}
	w.closedOnce("d1", "a1", "f1")
}

func TestADamagedCheckpointMeansAReplayFromTheStartThatRepeatsNothing(t *testing.T) {
	w := newWorld(t)
	w.openFund("f1", 1_000_000_000)
	w.openFund("poor", 1)
	r := w.start(managerOpts{instance: "a"})
	w.requestClosing("d1", "a1", "f1", 1_000_000, nil)
	w.requestClosing("d2", "a2", "poor", 1_000_000, nil)
	w.final(r.m, "d1")
	w.final(r.m, "d2")
	r.shutdown(t)
	before := map[string][]string{"d1": w.types("process-closing-d1"), "d2": w.types("process-closing-d2")}

	js, _ := jetstream.New(w.env.Conn)
	kv, err := js.KeyValue(context.Background(), "fb_process_checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), "closing", []byte("not a position")); err != nil {
		t.Fatal(err)
	}
	r2 := w.start(managerOpts{instance: "a"})
	w.requestClosing("d3", "a3", "f1", 1_000_000, nil)
	w.final(r2.m, "d3")
	for id, types := range before {
		if got := w.types("process-closing-" + id); fmt.Sprint(got) != fmt.Sprint(types) {
			t.Errorf("%s after the replay:\n  %v\nbefore:\n  %v", id, got, types)
		}
	}
	w.closedOnce("d1", "a1", "f1")
	w.closedOnce("d3", "a3", "f1")
	if n := w.count("ledgerapp-a2", ApplicationReleased{}); n != 1 {
		t.Errorf("a2 released %d times", n)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		pos, err := r2.m.Checkpoint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if pos > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the damaged checkpoint was never replaced")
		}
	}
}
