// Package viewstate keeps a service's in-memory read model current from
// the event log and checkpointed on disk: its state and the position it
// matches are saved together, atomically, and a restart resumes from there
// and folds only the tail of the log. A checkpoint that is missing,
// damaged, of another fold version, or that the log no longer backs (the
// log ends before it, or holds another event where it stopped) is ignored
// and the model folded from position 0, logged.
//
// Checkpoints are local files, like the projections' snapshots, not a
// JetStream object store: each instance of a service (several may serve
// one queue group, on other machines) folds at its own pace and keeps its
// own state; the file is a cache of what the log already holds, so losing
// it with its machine costs a refold, never data; and a large state read
// from local disk at start costs no transfer from the NATS cluster and no
// bucket or permission to manage.
package viewstate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fundbridge/fundbridge/events"
)

// State is a read model's state as a View saves and restores it. The view
// calls these from the one goroutine that folds, between appends; queries
// run concurrently, so the state guards itself.
type State interface {
	// Capture captures the state as it is now and returns the function
	// that encodes the capture; it may run while folding goes on (copy on
	// write states capture cheaply and encode in the background).
	Capture() func() ([]byte, error)
	// Restore replaces the state with one Capture's function encoded.
	Restore(data []byte) error
	// Reset empties the state, as before the first event.
	Reset()
}

// Log is the part of the store a View reads.
type Log interface {
	Subscriber
	Head(ctx context.Context) (uint64, error)
	ReadAll(ctx context.Context, after uint64, limit int) ([]events.Event, error)
}

// Options configure a View.
type Options struct {
	// Dir holds the checkpoint file. Empty keeps none: every start folds
	// from position 0.
	Dir string
	// Version names the fold and the state's encoding. Change it with
	// either: a checkpoint of another version is folded again from 0.
	Version string
	// SaveEvery and SaveInterval say when to save: after this many events
	// folded, or this long after the last save if anything changed.
	// Defaults 250,000 events and one minute. The view also saves when it
	// stops.
	SaveEvery    uint64
	SaveInterval time.Duration
	Logger       *slog.Logger
}

// Stats tell where a view started and how much it folded since.
type Stats struct {
	RestoredFrom uint64 // the checkpoint's position; 0: folded from the start
	Folded       uint64 // events given to the fold since this start
	Saved        uint64 // position of the last checkpoint written
}

// View is a checkpointed read model: a Follower that starts from the
// model's checkpoint and saves it as it goes. Queries use its Position
// and WaitFor.
type View struct {
	*Follower
	name  string
	log   Log
	state State
	fold  func(events.Event) error
	opts  Options
	logr  *slog.Logger

	restored atomic.Uint64
	folded   atomic.Uint64
	saved    atomic.Uint64

	// Owned by the goroutine that folds.
	committed uint64 // position of the last whole append folded
	lastID    string // its last event's ID
	total     uint64 // events folded into the state since position 0
	partial   bool   // events of an append folded without its last one
	sinceSave uint64
	lastSave  time.Time
	saving    chan struct{} // closed when the background write ends

	mu      sync.Mutex
	running bool
}

// New returns a view named name (its checkpoint file's name) that folds
// every event of the log into state with fold, in log order.
func New(name string, log Log, state State, fold func(events.Event) error, opts Options) *View {
	if opts.SaveEvery == 0 {
		opts.SaveEvery = 250_000
	}
	if opts.SaveInterval == 0 {
		opts.SaveInterval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	v := &View{name: name, log: log, state: state, fold: fold, opts: opts, logr: opts.Logger.With("view", name)}
	v.Follower = NewFollower(name, log, v.apply)
	return v
}

// Stats reports where the view started and how much it folded since.
func (v *View) Stats() Stats {
	return Stats{RestoredFrom: v.restored.Load(), Folded: v.folded.Load(), Saved: v.saved.Load()}
}

// Run restores the checkpoint, then follows the log from there until ctx
// ends or the fold fails, and saves the state when it stops.
func (v *View) Run(ctx context.Context) error {
	v.mu.Lock()
	if v.running {
		v.mu.Unlock()
		return fmt.Errorf("view %s is already running", v.name)
	}
	v.running = true
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.running = false
		v.mu.Unlock()
	}()
	after := v.restore(ctx)
	v.lastSave = time.Now()
	err := v.Follower.Run(ctx, after)
	v.save(true)
	return err
}

// apply folds one event and saves at an append's end when one is due.
func (v *View) apply(e events.Event) error {
	v.partial = true // until the fold is done, and its append whole
	if err := v.fold(e); err != nil {
		return err
	}
	v.folded.Add(1)
	v.total++
	v.sinceSave++
	v.partial = !e.LastInCommit
	if e.LastInCommit {
		v.committed, v.lastID = e.Position, e.ID
		if v.opts.Dir != "" && (v.sinceSave >= v.opts.SaveEvery || time.Since(v.lastSave) >= v.opts.SaveInterval) {
			v.save(false)
		}
	}
	return nil
}

// restore loads the checkpoint and returns the position to follow from:
// the checkpoint's, or 0 with the state reset when it cannot be used.
func (v *View) restore(ctx context.Context) uint64 {
	if v.opts.Dir == "" {
		return 0
	}
	RemoveLeftovers(v.opts.Dir, v.name)
	start := time.Now()
	h, data, err := Read(Path(v.opts.Dir, v.name))
	var why string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.logr.Info("no checkpoint; folding the log from 0")
		return 0
	case err != nil:
		why = "unreadable: " + err.Error()
	case h.Name != v.name:
		why = fmt.Sprintf("written for view %q", h.Name)
	case h.Schema != v.opts.Version:
		why = fmt.Sprintf("of fold version %q, this is %q", h.Schema, v.opts.Version)
	default:
		why = v.backedByLog(ctx, h)
	}
	if why == "" {
		if err := v.state.Restore(data); err != nil {
			why = "undecodable: " + err.Error()
		}
	}
	if why != "" {
		v.state.Reset()
		v.logr.Warn("checkpoint ignored; folding the log from 0", "reason", why, "position", h.Position)
		return 0
	}
	v.committed, v.lastID, v.total = h.Position, h.LastEventID, h.Events
	v.restored.Store(h.Position)
	v.saved.Store(h.Position)
	v.logr.Info("view restored from its checkpoint", "position", h.Position, "bytes", len(data), "took", time.Since(start).Round(time.Millisecond))
	return h.Position
}

// backedByLog says why the log does not back the checkpoint, "" if it
// does: the log must reach the checkpoint's position and hold there the
// event the state was folded up to. A log reset or replaced since would
// otherwise leave the view answering for events it no longer has.
func (v *View) backedByLog(ctx context.Context, h Header) string {
	head, err := v.log.Head(ctx)
	if err != nil {
		return "the log's head is unknown: " + err.Error()
	}
	if h.Position > head {
		return fmt.Sprintf("ahead of the log: checkpoint at position %d, log head %d (the log was reset or replaced)", h.Position, head)
	}
	if h.Position == 0 || h.LastEventID == "" {
		return ""
	}
	evs, err := v.log.ReadAll(ctx, h.Position-1, 1)
	if err != nil {
		return "the log at the checkpoint is unreadable: " + err.Error()
	}
	for _, e := range evs {
		if e.Position == h.Position && e.LastInCommit {
			if e.ID != h.LastEventID {
				return fmt.Sprintf("the log holds event %s at position %d, the checkpoint %s (the log was replaced)", e.ID, h.Position, h.LastEventID)
			}
			return ""
		}
	}
	return fmt.Sprintf("the log holds no append ending at position %d", h.Position)
}

// save writes the state with the position of the last whole append
// folded: in the background unless final, which also waits for a write
// still going.
func (v *View) save(final bool) {
	if v.opts.Dir == "" {
		return
	}
	if v.saving != nil {
		select {
		case <-v.saving:
			v.saving = nil
		default:
			if !final {
				return // the last write is still going: try at a later append
			}
			<-v.saving
			v.saving = nil
		}
	}
	if v.partial || v.sinceSave == 0 || v.committed == 0 {
		return // nothing new, or the state is inside an append
	}
	encode := v.state.Capture()
	h := Header{Name: v.name, Schema: v.opts.Version, Position: v.committed, Events: v.total, LastEventID: v.lastID, SavedAt: time.Now().UTC()}
	v.sinceSave, v.lastSave = 0, time.Now()
	write := func() {
		data, err := encode()
		if err == nil {
			err = Write(v.opts.Dir, h, data)
		}
		if err != nil {
			v.logr.Warn("checkpoint not saved", "position", h.Position, "err", err)
			return
		}
		v.saved.Store(h.Position)
	}
	if final {
		write()
		return
	}
	done := make(chan struct{})
	v.saving = done
	go func() {
		defer close(done)
		write()
	}()
}

// Remove deletes the view's checkpoint, so the next start folds from 0.
func Remove(dir, name string) error {
	err := os.Remove(Path(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
