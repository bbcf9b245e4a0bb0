package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// Projection is a read model a Runner folds from the log. The runner calls
// Apply, MarshalState, UnmarshalState and Reset from one goroutine at a
// time; queries run concurrently, so the projection guards its state.
type Projection interface {
	// Name identifies the projection in its snapshot file, status and logs.
	Name() string
	// Schema names the shape of the state: a snapshot written under another
	// schema is discarded and the projection folded again from position 0.
	Schema() string
	// Handles reports whether Apply wants events of this type (the newest
	// version's name). Other types are skipped without being decoded.
	Handles(eventType string) bool
	// Apply folds one event with its decoded payload. An error means the
	// log breaks the projection's invariants: the runner stops it there
	// rather than let it diverge.
	Apply(e events.Event, payload any) error
	// MarshalState encodes the state. It is called between appends, so the
	// state matches the checkpoint saved with it.
	MarshalState() ([]byte, error)
	UnmarshalState(data []byte) error
	// Reset empties the state, as before the first event.
	Reset()
}

// Freezer is a Projection whose state can be captured in a moment and
// encoded later. The runner then captures it between appends and encodes
// and writes it in the background, so a save of a large state does not
// hold up the events (and the queries waiting for them) meanwhile.
type Freezer interface {
	// Freeze captures the state; the function it returns encodes the
	// capture as MarshalState would, and may run while Apply goes on.
	Freeze() func() ([]byte, error)
}

// State is what a projection is doing.
type State string

const (
	StateStarting   State = "starting"   // its snapshot is not loaded yet
	StateRunning    State = "running"    // following the log
	StateRebuilding State = "rebuilding" // folding the log again from 0
	StateStopped    State = "stopped"    // an event broke it; see the error
	// StateDiverged (quarantine.go): the log no longer backs its checkpoint.
)

// Status is how a projection stands, as the service shows operators.
type Status struct {
	Name string `json:"name"`
	// How the projection stands: catching up, live, failed or diverged (its log
	// no longer backs its checkpoint; rebuild it).
	State State `json:"state"`
	// Position is its checkpoint: the log position of the last append
	// it applied whole.
	Position uint64 `json:"position"`
	// Events counts the events folded into its state since position 0.
	Events uint64 `json:"events"`
	// RestoredFrom is the checkpoint of the snapshot it started from; 0
	// when it folded the log from the start.
	RestoredFrom uint64 `json:"restored_from"`
	// The log position its last saved snapshot reflects; 0 when none is saved.
	SavedPosition uint64 `json:"saved_position"`
	// When the last snapshot was saved; absent when none is.
	SavedAt *time.Time `json:"saved_at,omitempty"`
	// SavedBytes is the size of the state in the last snapshot, in bytes.
	SavedBytes int `json:"saved_bytes"`
	// Why it stopped, when it failed on an event.
	Error string `json:"error,omitempty"`
	// The log position of the event it failed on.
	ErrorPosition uint64 `json:"error_position,omitempty"`
	// ErrorEvent names the event it failed on: "<type> <stream>@<version>".
	ErrorEvent string `json:"error_event,omitempty"`
}

// ApplyError is why a projection stopped: the event it could not apply.
type ApplyError struct {
	Projection string
	Position   uint64
	StreamID   string
	Version    uint64
	Type       string
	Err        error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("projection %s stopped at position %d (%s %s@%d): %v", e.Projection, e.Position, e.Type, e.StreamID, e.Version, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Dir holds one snapshot file per projection: its state with its
	// checkpoint. Empty keeps no snapshots: every start folds from 0.
	Dir string
	// SaveEvery and SaveInterval say when to save: after this many events
	// applied, or this long after the last save if anything changed.
	// Defaults 250,000 events and one minute.
	SaveEvery    uint64
	SaveInterval time.Duration
	// Decoders decode payloads in parallel, ahead of the one goroutine
	// that applies them in order. Default GOMAXPROCS.
	Decoders int
	Logger   *slog.Logger
}

// Runner follows the log with one subscription and feeds every event to
// the projections that handle it, each decoded once. Each projection keeps
// its own checkpoint: one that fails stops alone, one restored from an
// older snapshot catches up while the others skip what they have.
type Runner struct {
	store    events.Store
	registry *events.Registry
	payloads *payloads
	opts     RunnerOptions
	log      *slog.Logger
	lanes    []*lane
	byName   map[string]*lane
	scanned  atomic.Uint64 // events the current pass has read, for rates

	mu       sync.Mutex
	busy     bool               // Run or an offline Rebuild owns the lanes
	requests chan *resetRequest // rebuilds asked of a running Run

	logMu  sync.Mutex
	logged map[string]bool // event types already logged as skipped

	qmu         sync.Mutex
	quarantined quarantineList
}

// lane is one projection with its checkpoint and persistence.
type lane struct {
	p          Projection
	checkpoint atomic.Uint64
	state      atomic.Value // State
	applied    atomic.Uint64
	waiters    atomic.Int32

	mu         sync.Mutex
	changed    chan struct{} // closed when the checkpoint moves and someone waits, or on failure
	failure    *ApplyError
	diverged   string // why the log no longer backs the checkpoint
	savedPos   uint64
	savedAt    time.Time
	savedBytes int
	restored   uint64

	// Owned by whichever goroutine applies events (one at a time).
	sinceSave uint64
	lastSave  time.Time
	saving    chan struct{} // closed when the background write ends; nil if none
	unhandled map[string]bool
}

type resetRequest struct {
	lanes []*lane
	done  chan struct{} // closed once the lanes are reset and the log replays
}

// NewRunner returns a runner of the projections; names must be unique.
func NewRunner(store events.Store, registry *events.Registry, opts RunnerOptions, ps ...Projection) *Runner {
	if opts.SaveEvery == 0 {
		opts.SaveEvery = 250_000
	}
	if opts.SaveInterval == 0 {
		opts.SaveInterval = time.Minute
	}
	if opts.Decoders <= 0 {
		opts.Decoders = runtime.GOMAXPROCS(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Runner{
		store: store, registry: registry, payloads: newPayloads(registry), opts: opts, log: opts.Logger.With("component", "projections"),
		byName: map[string]*lane{}, requests: make(chan *resetRequest), logged: map[string]bool{},
	}
	for _, p := range ps {
		if _, dup := r.byName[p.Name()]; dup {
			panic("projections: two projections named " + p.Name())
		}
		l := &lane{p: p, changed: make(chan struct{}), unhandled: map[string]bool{}}
		l.state.Store(StateStarting)
		r.lanes = append(r.lanes, l)
		r.byName[p.Name()] = l
	}
	return r
}

func (l *lane) getState() State { return l.state.Load().(State) }

func (l *lane) active() bool {
	s := l.getState()
	return s == StateRunning || s == StateRebuilding
}

// Run loads the snapshots and follows the log until ctx ends, then saves
// every projection that is still running. A lost connection to the log
// is retried; a projection that fails stops alone.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.busy {
		r.mu.Unlock()
		return errors.New("projections: the runner is already running or rebuilding")
	}
	r.busy = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.busy = false
		r.mu.Unlock()
	}()
	r.loadQuarantine()
	r.loadAll()
	// Checked before any view says it is running: a view its log no longer
	// backs must never answer, not even in the moment after its load.
	r.checkLog(ctx)
	for _, l := range r.lanes {
		if l.state.CompareAndSwap(StateStarting, StateRunning) {
			l.advance(l.checkpoint.Load()) // wakes queries that came during the load
		}
	}
	backoff := 100 * time.Millisecond
	for {
		var pass []*lane
		after := uint64(0)
		for i, l := range r.activeLanes() {
			if c := l.checkpoint.Load(); i == 0 || c < after {
				after = c
			}
			pass = append(pass, l)
		}
		req, err := r.followWatching(ctx, after, pass)
		if ctx.Err() != nil {
			r.saveAll()
			return nil
		}
		if req != nil {
			r.reset(req.lanes)
			close(req.done)
			continue
		}
		if err != nil {
			r.log.Warn("following the log failed; retrying", "after", after, "err", err)
			select {
			case <-ctx.Done():
				r.saveAll()
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

// followWatching follows the log for the lanes until ctx ends, the
// subscription fails, or a rebuild is requested (returned, once the pass
// has stopped at a commit boundary). With no lanes to feed it only waits.
func (r *Runner) followWatching(ctx context.Context, after uint64, pass []*lane) (*resetRequest, error) {
	if len(pass) == 0 {
		select {
		case <-ctx.Done():
			return nil, nil
		case req := <-r.requests:
			return req, nil
		}
	}
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan *resetRequest, 1)
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		select {
		case req := <-r.requests:
			got <- req
			cancel()
		case <-sub.Done():
		}
	}()
	err := r.follow(sub, after, pass, 0)
	cancel()
	<-watching
	select {
	case req := <-got:
		return req, nil
	default:
	}
	if err == nil && ctx.Err() == nil && slices.ContainsFunc(pass, (*lane).active) {
		err = errors.New("subscription ended")
	}
	return nil, err
}

func (r *Runner) activeLanes() []*lane {
	var out []*lane
	for _, l := range r.lanes {
		if l.active() {
			out = append(out, l)
		}
	}
	return out
}

// reset empties lanes to fold them again from 0. The caller owns them.
func (r *Runner) reset(lanes []*lane) {
	for _, l := range lanes {
		l.p.Reset()
		l.checkpoint.Store(0)
		l.applied.Store(0)
		l.sinceSave = 0
		l.mu.Lock()
		l.failure, l.restored, l.diverged = nil, 0, ""
		l.mu.Unlock()
		l.state.Store(StateRebuilding)
	}
}

// Rebuild empties the named projection ("" for all) and folds the log
// again from 0 up to its head as of the call, reporting progress about
// four times a second: done and total are log positions, rate is events
// read per second. On a running runner the shared subscription replays
// the log; the other projections skip what they have and serve their
// state meanwhile. Otherwise the fold runs here and the result is saved.
func (r *Runner) Rebuild(ctx context.Context, name string, progress func(done, total uint64, rate float64)) error {
	lanes := r.lanes
	if name != "" {
		l, ok := r.byName[name]
		if !ok {
			return fundbridge.Errorf(fundbridge.ENOTFOUND, "no projection %q", name)
		}
		lanes = []*lane{l}
	}
	head, err := r.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	r.mu.Lock()
	running := r.busy
	if !running {
		r.busy = true
	}
	r.mu.Unlock()
	if !running {
		defer func() {
			r.mu.Lock()
			r.busy = false
			r.mu.Unlock()
		}()
		return r.rebuildOffline(ctx, lanes, head, progress)
	}
	req := &resetRequest{lanes: lanes, done: make(chan struct{})}
	select {
	case r.requests <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.scanned.Store(0)
	start := time.Now()
	report := func() {
		if progress != nil {
			progress(minCheckpoint(lanes), head, rate(r.scanned.Load(), start))
		}
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := failureOf(lanes); err != nil {
			return err
		}
		if minCheckpoint(lanes) >= head {
			for _, l := range lanes {
				l.state.CompareAndSwap(StateRebuilding, StateRunning)
			}
			report()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			report()
		}
	}
}

func (r *Runner) rebuildOffline(ctx context.Context, lanes []*lane, head uint64, progress func(done, total uint64, rate float64)) error {
	r.reset(lanes)
	start := time.Now()
	if head > 0 {
		stopReports := make(chan struct{})
		reported := make(chan struct{})
		go func() {
			defer close(reported)
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stopReports:
					return
				case <-tick.C:
					if progress != nil {
						progress(minCheckpoint(lanes), head, rate(r.scanned.Load(), start))
					}
				}
			}
		}()
		err := r.follow(ctx, 0, lanes, head)
		close(stopReports)
		<-reported
		if err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := failureOf(lanes); err != nil {
		return err
	}
	for _, l := range lanes {
		l.state.Store(StateRunning)
		r.save(l, true)
	}
	if progress != nil {
		progress(minCheckpoint(lanes), head, rate(r.scanned.Load(), start))
	}
	return nil
}

func rate(n uint64, since time.Time) float64 {
	if s := time.Since(since).Seconds(); s > 0 {
		return float64(n) / s
	}
	return 0
}

func minCheckpoint(lanes []*lane) uint64 {
	var m uint64
	for i, l := range lanes {
		if c := l.checkpoint.Load(); i == 0 || c < m {
			m = c
		}
	}
	return m
}

func failureOf(lanes []*lane) error {
	var errs []error
	for _, l := range lanes {
		l.mu.Lock()
		if l.failure != nil {
			errs = append(errs, l.failure)
		}
		l.mu.Unlock()
	}
	return errors.Join(errs...)
}

// WaitFor returns once the named projection reflects position p, or an
// EUNAVAILABLE error if it stopped or does not within MaxWait (or ctx's
// deadline, if sooner): a query's read-your-writes, as Follower.WaitFor.
func (r *Runner) WaitFor(ctx context.Context, name string, p uint64) error {
	l, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("wait for %d: no projection %q", p, name)
	}
	if err := l.serving(); err != nil {
		return err
	}
	if p == 0 || l.checkpoint.Load() >= p && l.getState() != StateStarting {
		return nil
	}
	if err := viewstate.BeyondHead(ctx, r.store, p); err != nil {
		return err
	}
	l.waiters.Add(1)
	defer l.waiters.Add(-1)
	timer := time.NewTimer(MaxWait)
	defer timer.Stop()
	for {
		l.mu.Lock()
		changed, failure := l.changed, l.failure
		l.mu.Unlock()
		if err := l.serving(); err != nil {
			return err
		}
		pos := l.checkpoint.Load()
		if pos >= p && l.getState() != StateStarting {
			return nil
		}
		if failure != nil {
			return fundbridge.Errorf(fundbridge.EUNAVAILABLE, "view %s stopped at position %d: %v", name, pos, failure.Err)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fundbridge.Errorf(fundbridge.EUNAVAILABLE, "view %s is at position %d, not yet %d", name, pos, p)
		case <-timer.C:
			return fundbridge.Errorf(fundbridge.EUNAVAILABLE, "view %s is at position %d, not yet %d after %s", name, pos, p, MaxWait)
		}
	}
}

// Position is the named projection's checkpoint.
func (r *Runner) Position(name string) uint64 {
	if l, ok := r.byName[name]; ok {
		return l.checkpoint.Load()
	}
	return 0
}

// Err is why the named projection stopped; nil while it runs.
func (r *Runner) Err(name string) error {
	l, ok := r.byName[name]
	if !ok {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failure == nil {
		return nil
	}
	return l.failure
}

// Status reports every projection, in the order given to NewRunner.
func (r *Runner) Status() []Status {
	out := make([]Status, 0, len(r.lanes))
	for _, l := range r.lanes {
		s := Status{Name: l.p.Name(), State: l.getState(), Position: l.checkpoint.Load(), Events: l.applied.Load()}
		l.mu.Lock()
		s.SavedPosition, s.SavedBytes, s.RestoredFrom = l.savedPos, l.savedBytes, l.restored
		if !l.savedAt.IsZero() {
			at := l.savedAt
			s.SavedAt = &at
		}
		if f := l.failure; f != nil {
			s.Error, s.ErrorPosition, s.ErrorEvent = f.Err.Error(), f.Position, fmt.Sprintf("%s %s@%d", f.Type, f.StreamID, f.Version)
		}
		if l.diverged != "" {
			s.Error = l.diverged
		}
		l.mu.Unlock()
		out = append(out, s)
	}
	return out
}

// advance moves the checkpoint and wakes waiters, if there are any: most
// appends are waited for by no one, and waking costs a channel.
func (l *lane) advance(p uint64) {
	l.checkpoint.Store(p)
	if l.waiters.Load() > 0 {
		l.mu.Lock()
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
}

func (r *Runner) fail(l *lane, e events.Event, err error) {
	f := &ApplyError{Projection: l.p.Name(), Position: e.Position, StreamID: e.StreamID, Version: e.Version, Type: e.Type, Err: err}
	l.mu.Lock()
	l.failure = f
	l.state.Store(StateStopped)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	r.log.Error("projection stopped", "projection", f.Projection, "position", f.Position, "stream", f.StreamID, "version", f.Version, "type", f.Type, "err", err)
}
