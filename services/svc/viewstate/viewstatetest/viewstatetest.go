// Package viewstatetest checks a service's checkpointed views against
// the log: a restart folds only the tail, and whatever the log and
// wherever the views stopped, resuming reaches the state a fold from 0
// reaches.
package viewstatetest

import (
	"context"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// Instance is one start of a service's views.
type Instance interface {
	Run(ctx context.Context) error
	WaitFor(ctx context.Context, p uint64) error
	Stats() viewstate.Stats
	// State is the views' whole state in a form that compares equal
	// exactly when the states are equal (JSON with sorted keys, say).
	State() ([]byte, error)
}

// Open returns a fresh instance over the log with its checkpoint in dir
// ("": none, fold from 0).
type Open func(dir string) Instance

// running is a started instance.
type running struct {
	Instance
	cancel context.CancelFunc
	done   chan error
}

// Start runs the instance and waits until it reflects head.
func Start(t testing.TB, in Instance, head uint64) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Instance: in, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- in.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	if err := in.WaitFor(wctx, head); err != nil {
		cancel()
		t.Fatal(err)
	}
	return r
}

// Stop ends the instance, which saves its checkpoint.
func (r *running) Stop(t testing.TB) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
}

func head(t testing.TB, store events.Store) uint64 {
	t.Helper()
	h, err := store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// eventsAfter counts the log's events after position p.
func eventsAfter(t testing.TB, store events.Store, p uint64) uint64 {
	t.Helper()
	var n uint64
	for {
		evs, err := store.ReadAll(context.Background(), p, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return n
		}
		n += uint64(len(evs))
		p = evs[len(evs)-1].Position
	}
}

// Writer appends a log in phases, calling between after each phase but
// the last, once its appends are acknowledged.
type Writer func(between func(phase int)) error

// Sim writes a simulated market (cfg, in cfg.Phases phases, default 4).
// The store's registry must know its events (sim.Register).
func Sim(store events.Store, cfg sim.Config) Writer {
	if cfg.Phases == 0 {
		cfg.Phases = 4
	}
	return func(between func(int)) error {
		cfg.Between = func(phase int) error { between(phase); return nil }
		_, err := sim.Write(context.Background(), store, cfg)
		return err
	}
}

// CheckResume has write append a log to store in phases; after each phase
// and at the end it starts the views from their checkpoint, checks that
// they folded only the events appended since they last stopped and that
// their state equals a fold from 0, and stops them (which saves).
func CheckResume(t *testing.T, store events.Store, write Writer, open Open) {
	t.Helper()
	dir := t.TempDir()
	var stoppedAt uint64
	phases := 0
	check := func(phase int) {
		h := head(t, store)
		tail := eventsAfter(t, store, stoppedAt)
		r := Start(t, open(dir), h)
		st := r.Stats()
		if st.RestoredFrom != stoppedAt || st.Folded != tail {
			t.Errorf("phase %d: restored from %d and folded %d events, want from %d and the tail's %d", phase, st.RestoredFrom, st.Folded, stoppedAt, tail)
		}
		fresh := Start(t, open(""), h)
		a, errA := r.State()
		b, errB := fresh.State()
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if string(a) != string(b) {
			t.Fatalf("phase %d: resumed state differs from a fold from 0:\nresumed %.2000s\nfresh   %.2000s", phase, a, b)
		}
		fresh.Stop(t)
		r.Stop(t)
		stoppedAt = h
		phases++
	}
	if err := write(check); err != nil {
		t.Fatal(err)
	}
	check(phases)
}
