package projections_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/projections/sim"
)

// A message that is not a commit is skipped by the runner: the views pass
// it, say so in the quarantine list, and apply everything after it; the
// list survives a restart.
func TestABadMessageIsQuarantinedNotRetried(t *testing.T) {
	env := testenv.Start(t, writerRegistry())
	ctx := context.Background()
	// The bad message first: everything the views show comes after it.
	if err := env.Conn.Publish("fb.ev.application.junk", []byte("not json at all")); err != nil {
		t.Fatal(err)
	}
	env.Conn.Flush()
	time.Sleep(100 * time.Millisecond)
	bad, _ := env.Store.Head(ctx)
	if _, err := sim.Write(ctx, env.Store, sim.Config{Seed: 3, Companies: 4, Funds: 2}); err != nil {
		t.Fatal(err)
	}
	head, _ := env.Store.Head(ctx)
	dir := t.TempDir()
	r := start(t, env.Store, dir, projections.RunnerOptions{})
	caughtUp(t, r.Runner, head, names()...)
	for _, st := range r.Status() {
		if st.State != projections.StateRunning || st.Position != head {
			t.Errorf("%s: %s at %d, want running at %d", st.Name, st.State, st.Position, head)
		}
	}
	n, list := r.Quarantined()
	if n != 1 || len(list) != 1 || list[0].Position != bad || !strings.Contains(list[0].Reason, "decode commit") {
		t.Errorf("quarantined %d: %+v, want the message at %d", n, list, bad)
	}
	r.stop()
	again := start(t, env.Store, dir, projections.RunnerOptions{})
	caughtUp(t, again.Runner, head, names()...)
	if n, list := again.Quarantined(); n != 1 || len(list) != 1 {
		t.Errorf("after a restart: quarantined %d %+v", n, list)
	}
}

// A log that ends before a saved checkpoint was reset or replaced: the
// views say so and refuse to answer, rather than serve the old log's
// state and never see the new one's events; a rebuild brings them back.
func TestAViewAheadOfTheLogRefusesToServe(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := testenv.Start(t, writerRegistry())
	if _, err := sim.Write(ctx, old.Store, sim.Config{Seed: 5, Companies: 6, Funds: 2}); err != nil {
		t.Fatal(err)
	}
	oldHead, _ := old.Store.Head(ctx)
	r := start(t, old.Store, dir, projections.RunnerOptions{})
	caughtUp(t, r.Runner, oldHead, names()...)
	r.stop() // saves at oldHead

	fresh := testenv.Start(t, writerRegistry()) // the log, reset
	if _, err := sim.Write(ctx, fresh.Store, sim.Config{Seed: 6, Companies: 1, Funds: 1}); err != nil {
		t.Fatal(err)
	}
	head, _ := fresh.Store.Head(ctx)
	if head >= oldHead {
		t.Fatalf("the new log (%d) is not shorter than the old (%d)", head, oldHead)
	}
	r = start(t, fresh.Store, dir, projections.RunnerOptions{})
	for deadline := time.Now().Add(10 * time.Second); r.Status()[0].State == projections.StateStarting && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	for _, st := range r.Status() {
		if st.State != projections.StateDiverged || !strings.Contains(st.Error, "before this view's checkpoint") {
			t.Errorf("%s: %s %q, want diverged", st.Name, st.State, st.Error)
		}
	}
	err := r.WaitFor(ctx, lifecycle.Name, 0)
	if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE || !strings.Contains(err.Error(), "rebuild") {
		t.Errorf("a query of a diverged view: %v, want EUNAVAILABLE saying to rebuild", err)
	}
	if err := r.Rebuild(ctx, "", nil); err != nil {
		t.Fatal(err)
	}
	for _, st := range r.Status() {
		if st.State != projections.StateRunning || st.Position != head {
			t.Errorf("after the rebuild %s: %s at %d, want running at %d", st.Name, st.State, st.Position, head)
		}
	}
}

// A wait for a position beyond the log's head is refused at once, naming
// after and the head, instead of timing out as unavailable.
func TestAfterBeyondTheHeadIsInvalid(t *testing.T) {
	env := testenv.Start(t, writerRegistry())
	ctx := context.Background()
	if _, err := sim.Write(ctx, env.Store, sim.Config{Seed: 7, Companies: 2, Funds: 1}); err != nil {
		t.Fatal(err)
	}
	head, _ := env.Store.Head(ctx)
	r := start(t, env.Store, "", projections.RunnerOptions{})
	caughtUp(t, r.Runner, head, names()...)
	began := time.Now()
	err := r.WaitFor(ctx, lifecycle.Name, head+1000)
	fields := fundbridge.ErrorFields(err)
	if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fields) != 1 || fields[0].Field != "after" || !strings.Contains(fields[0].Reason, "head") {
		t.Errorf("runner wait beyond the head: %v %+v", err, fields)
	}
	f := projections.NewFollower("test", env.Store, func(events.Event) error { return nil })
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go f.Run(fctx, 0)
	err = f.WaitFor(ctx, head+1000)
	if fields := fundbridge.ErrorFields(err); fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fields) != 1 || fields[0].Field != "after" {
		t.Errorf("follower wait beyond the head: %v", err)
	}
	if time.Since(began) > projections.MaxWait {
		t.Error("the refusal waited")
	}
}
