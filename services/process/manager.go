package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/spans"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Sender sends a command to another service and waits for its reply; the
// NATS client of services/svc (svc.Client) is one. A refusal comes back
// as a *fundbridge.Error with its code; EUNAVAILABLE or EINTERNAL means the
// command may or may not have been applied, and it is sent again under
// the same idempotency key.
type Sender interface {
	Call(ctx context.Context, service, op string, req *svc.Request, out any) (svc.Reply, error)
}

// Options configure a manager.
type Options struct {
	Store    events.Store
	Registry *events.Registry // with Register and the definition's types
	// Conn reaches JetStream, which keeps the lease, the checkpoint and
	// the deadlines.
	Conn   *nats.Conn
	Sender Sender
	// Instance names this manager in the lease, unique among the running
	// managers of the definition; a manager restarted under the same name
	// takes its lease back at once. Default: a fresh ULID.
	Instance string
	// LeaseTTL is how long a dead manager keeps standbys waiting, and how
	// long before a firing it took is handed to another. Default 10s.
	LeaseTTL time.Duration
	// CheckpointEvery is how often the position handled is saved. Default 1s.
	CheckpointEvery time.Duration
	// MaxInFlight bounds the commands waiting for a reply at once. Default 64.
	MaxInFlight int
	Replicas    int // of the JetStream assets; default 1
	// Actor the manager appends and sends commands as; default the
	// system actor "process.<name>". Over a system client it must be
	// that client's service's system actor.
	Actor  fundbridge.Actor
	Logger *slog.Logger
	// Aggregate is the aggregate type of the instances' streams,
	// "<Aggregate>-<name>-<id>"; default "process". A service whose NATS
	// user may append only to its own types gives its processes a type
	// of its own, so that it cannot write another service's processes.
	Aggregate string
	// Clock, if set, is the time deadlines fall due by: the services'
	// own clock, which may be a simulated one running behind the wall
	// clock and jumping ahead (dev --demo's history; tests). Nil is the
	// wall clock. See Manager.wakeAt.
	Clock func() time.Time
}

// Manager runs the instances of one process definition.
type Manager[S any] struct {
	def         Definition[S]
	opts        Options
	log         *slog.Logger
	actor       fundbridge.Actor
	prefix      string // "<aggregate>-<name>-", by default "process-<name>-"
	lease       *lease
	timers      *timers
	checkpoints jetstream.KeyValue

	tracing trace.TracerProvider // the store's; nil: no spans

	mu    sync.Mutex
	cache map[string]Instance[S] // folded instances, by id

	holding atomic.Bool // this manager holds the lease and works

	// crash, in tests, says to die at a point as a killed process would:
	// at once, saving and releasing nothing.
	crash func(point string) bool
}

// maxCached bounds the instances a manager keeps folded in memory.
const maxCached = 10_000

// errCrashed is what a simulated crash returns.
var errCrashed = errors.New("process manager crashed (test)")

// New checks the definition and opens the manager's JetStream assets.
func New[S any](ctx context.Context, def Definition[S], opts Options) (*Manager[S], error) {
	if err := def.validate(); err != nil {
		return nil, err
	}
	if opts.Store == nil || opts.Registry == nil || opts.Conn == nil || opts.Sender == nil {
		return nil, fmt.Errorf("process %s: Store, Registry, Conn and Sender are required", def.Name)
	}
	if !opts.Registry.Known(Observed{}.EventType()) {
		return nil, fmt.Errorf("process %s: the registry lacks the process events; call process.Register", def.Name)
	}
	if opts.Instance == "" {
		opts.Instance = events.NewIDs().New()
	}
	if opts.LeaseTTL == 0 {
		opts.LeaseTTL = 10 * time.Second
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = time.Second
	}
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = 64
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	js, err := jetstream.New(opts.Conn)
	if err != nil {
		return nil, fmt.Errorf("process %s: %w", def.Name, err)
	}
	if opts.Aggregate == "" {
		opts.Aggregate = "process"
	}
	m := &Manager[S]{
		def: def, opts: opts, prefix: opts.Aggregate + "-" + def.Name + "-",
		cache:   map[string]Instance[S]{},
		log:     opts.Logger.With("process", def.Name, "instance", opts.Instance),
		actor:   fundbridge.Actor{UserID: "process." + def.Name, Role: fundbridge.RoleSystem},
		tracing: spans.Provider(opts.Store),
	}
	if opts.Actor.UserID != "" {
		m.actor = opts.Actor
	}
	// Bind to what the admin provisioned; provision it here only where
	// this connection may (a server without per-service permissions).
	if !provisioned(ctx, js, def.Name) {
		if err := Provision(ctx, js, def.Name, opts.Replicas, opts.LeaseTTL); err != nil {
			return nil, err
		}
	}
	if m.lease, err = openLease(ctx, js, def.Name, opts.Instance, opts.LeaseTTL, opts.Replicas); err != nil {
		return nil, err
	}
	if m.timers, err = openTimers(ctx, js, def.Name, opts.Replicas, max(opts.LeaseTTL, time.Second)); err != nil {
		return nil, err
	}
	m.checkpoints, err = js.KeyValue(ctx, CheckpointBucket)
	if err != nil {
		return nil, fmt.Errorf("process %s: open checkpoint bucket: %w", def.Name, err)
	}
	return m, nil
}

// step names one of the process's own steps as the command its events
// record: process.<name>.observe, .reply or .wake.
func (m *Manager[S]) step(kind string) string { return "process." + m.def.Name + "." + kind }

// tracerName names the spans of the process managers' steps.
const tracerName = "github.com/fundbridge/fundbridge/services/process"

// Active reports whether this manager holds the lease now: what else must
// act once per event in the same service may follow it (matching's
// reactor does), rather than hold a lease of its own.
func (m *Manager[S]) Active() bool { return m.holding.Load() }

// StreamID is the event stream of the process instance with this id.
func (m *Manager[S]) StreamID(id string) string { return m.prefix + id }

// Run stands by until this manager holds the lease, then works until the
// lease is lost (and stands by again) or ctx ends (and releases it).
func (m *Manager[S]) Run(ctx context.Context) error {
	for {
		if err := m.lease.acquire(ctx, m.log); err != nil {
			return nil // ctx ended while standing by
		}
		m.log.Info("active")
		m.holding.Store(true)
		err := m.active(ctx)
		m.holding.Store(false)
		if errors.Is(err, errCrashed) {
			return err
		}
		if ctx.Err() != nil {
			m.lease.release()
			return nil
		}
		m.log.Warn("no longer active; standing by", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(m.opts.LeaseTTL / 4):
		}
	}
}

// Checkpoint is the position of the log this definition's managers have
// fully handled: a restart resumes after it.
func (m *Manager[S]) Checkpoint(ctx context.Context) (uint64, error) {
	entry, err := m.checkpoints.Get(ctx, m.def.Name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("process %s: read checkpoint: %w", m.def.Name, err)
	}
	pos, err := strconv.ParseUint(string(entry.Value()), 10, 64)
	if err != nil {
		// A damaged checkpoint costs a replay, which records nothing twice.
		m.log.Warn("checkpoint unreadable; following the log from the start", "err", err)
		return 0, nil
	}
	return pos, nil
}

func (m *Manager[S]) saveCheckpoint(ctx context.Context, pos uint64) error {
	if pos == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := m.checkpoints.Put(ctx, m.def.Name, []byte(strconv.FormatUint(pos, 10))); err != nil {
		m.log.Warn("checkpoint not saved", "position", pos, "err", err)
		return err
	}
	return nil
}

// handle reacts to one event of the log: the process's own outbox
// entries (commands to send, deadlines to arm) and the events routed to it.
// Sends, which wait for another service, are handed to spawn.
func (m *Manager[S]) handle(ctx context.Context, e events.Event, spawn spawner) (err error) {
	if id, ok := strings.CutPrefix(e.StreamID, m.prefix); ok {
		return m.handleOwn(ctx, id, e, spawn)
	}
	route, ok := m.def.Route[e.Type]
	if !ok {
		return nil
	}
	e, payload, err := m.opts.Registry.Decode(e)
	if err != nil {
		m.log.Error("routed event undecodable; skipped", "event", e.ID, "err", err)
		return nil
	}
	id := route(e, payload)
	if id == "" {
		return nil
	}
	if !validID(id) {
		m.log.Error("route gave a malformed process id; event skipped", "event", e.ID, "id", id)
		return nil
	}
	// Observing a traced write is a step of its trace; what the step
	// records carries the trace on, to the commands it issues.
	ctx, span := spans.FromEvent(ctx, m.tracing, tracerName, "process "+m.def.Name+" observe", e, spans.Process.String(m.def.Name))
	defer func() { spans.End(span, err) }()
	meta := events.Meta{Actor: m.actor, CorrelationID: e.CorrelationID, CausationID: e.ID, Command: m.step("observe"), IdempotencyKey: "observe/" + e.ID}
	if err := m.execute(ctx, id, meta, func(in Instance[S]) []events.Payload { return m.def.observe(in, e, payload) }); err != nil {
		return err
	}
	return m.crashAt("observed")
}

func (m *Manager[S]) handleOwn(ctx context.Context, id string, e events.Event, spawn spawner) error {
	if e.Type != (CommandIssued{}).EventType() && e.Type != (DeadlineScheduled{}).EventType() {
		return nil
	}
	e, payload, err := m.opts.Registry.Decode(e)
	if err != nil {
		return fmt.Errorf("process %s: %w", m.def.Name, err)
	}
	switch p := payload.(type) {
	case CommandIssued:
		return spawn(e.Position, func(ctx context.Context) (err error) {
			// Sending a command the process issued in a traced step is a
			// step of the same trace; the call carries it to the receiver.
			ctx, span := spans.FromEvent(ctx, m.tracing, tracerName, "process "+m.def.Name+" send "+p.Service+"."+p.Op, e,
				spans.Process.String(m.def.Name), spans.Service.String(p.Service), spans.Operation.String(p.Op))
			defer func() { spans.End(span, err) }()
			return m.dispatch(ctx, id, e, p)
		})
	case DeadlineScheduled:
		return m.arm(ctx, id, p)
	}
	return nil
}

// dispatch sends an issued command that has no recorded reply yet, and
// records the reply with what the process decides on it.
func (m *Manager[S]) dispatch(ctx context.Context, id string, e events.Event, c CommandIssued) error {
	in, err := m.loadThrough(ctx, id, e.Version)
	if err != nil {
		return err
	}
	if _, pending := in.Pending[c.Step]; !pending {
		return nil
	}
	if err := m.crashAt("before-send"); err != nil {
		return err
	}
	reply, err := m.send(ctx, in, e.ID, c)
	if err != nil {
		return err
	}
	if err := m.crashAt("after-send"); err != nil {
		return err
	}
	meta := events.Meta{Actor: m.actor, CorrelationID: in.Correlation, CausationID: e.ID, Command: m.step("reply"), IdempotencyKey: "reply/" + c.Step}
	if err := m.execute(ctx, id, meta, func(in Instance[S]) []events.Payload { return m.def.reply(in, reply) }); err != nil {
		return err
	}
	return m.crashAt("replied")
}

// send calls the receiver until it answers: a result or a refusal. While
// it is unavailable the command is sent again, always under its key.
func (m *Manager[S]) send(ctx context.Context, in Instance[S], commandID string, c CommandIssued) (Reply, error) {
	backoff := 50 * time.Millisecond
	for {
		req := &svc.Request{
			ID: commandID, Actor: m.actor, CorrelationID: in.Correlation, CausationID: commandID,
			IdempotencyKey: c.IdempotencyKey, Payload: c.Payload,
		}
		rep, err := m.opts.Sender.Call(ctx, c.Service, c.Op, req, nil)
		now := m.now()
		if err == nil {
			return Reply{ProcessID: in.ID, Step: c.Step, At: now, Result: rep.Result, Position: rep.Position}, nil
		}
		if refusal(err) {
			var fe *fundbridge.Error
			if !errors.As(err, &fe) {
				fe = &fundbridge.Error{Code: fundbridge.ErrorCode(err), Message: err.Error()}
			}
			return Reply{ProcessID: in.ID, Step: c.Step, At: now, Refusal: fe}, nil
		}
		m.log.Warn("command not answered; sending it again", "id", in.ID, "step", c.Step, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return Reply{}, context.Cause(ctx)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// refusal reports whether err is the receiver's answer (it decided not to
// do it) rather than a failure to get one.
func refusal(err error) bool {
	switch fundbridge.ErrorCode(err) {
	case fundbridge.EINVALID, fundbridge.EUNAUTHORIZED, fundbridge.EFORBIDDEN, fundbridge.ENOTFOUND,
		fundbridge.ECONFLICT, fundbridge.EUNPROCESSABLE:
		return true
	}
	return false
}

// execute plans on the instance as stored and appends the plan at the
// version it was planned on; if another write got in first, it plans
// again on the new state (where the input may well be a no-op).
func (m *Manager[S]) execute(ctx context.Context, id string, meta events.Meta, plan func(Instance[S]) []events.Payload) error {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		in, err := m.Load(ctx, id)
		if err != nil {
			return err
		}
		out := plan(in)
		if len(out) == 0 {
			return nil
		}
		if meta.CorrelationID == "" {
			meta.CorrelationID = in.Correlation
		}
		req := events.AppendRequest{StreamID: m.StreamID(id), Expected: events.Exactly(in.Version), Meta: meta, Events: make([]events.NewEvent, len(out))}
		for i, p := range out {
			data, err := json.Marshal(p)
			if err != nil {
				return fmt.Errorf("process %s-%s: encode %s: %w", m.def.Name, id, p.EventType(), err)
			}
			req.Events[i] = events.NewEvent{Type: p.EventType(), Payload: data}
		}
		_, err = m.opts.Store.Append(ctx, req)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, events.ErrConcurrency) && attempt < 20:
			continue
		case errors.Is(err, events.ErrUnavailable) && ctx.Err() == nil:
			m.log.Warn("event store unavailable; trying again", "id", id, "err", err)
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		return fmt.Errorf("process %s-%s: record: %w", m.def.Name, id, err)
	}
}

// Load folds the process instance with this id from its stream. It
// always asks the store for the stream's tail; instances it folded before
// are kept, so the tail is usually nothing new, one round trip.
func (m *Manager[S]) Load(ctx context.Context, id string) (Instance[S], error) {
	m.mu.Lock()
	in, ok := m.cache[id]
	m.mu.Unlock()
	if !ok {
		in = m.def.initial(id)
	}
	var tail []events.Event
	var err error
	if pr, positioned := m.opts.Store.(events.PositionedReader); positioned {
		tail, err = pr.ReadStreamAfter(ctx, m.StreamID(id), in.Version+1, in.Position)
	} else {
		tail, err = m.opts.Store.ReadStream(ctx, m.StreamID(id), in.Version+1)
	}
	if err != nil {
		return in, fmt.Errorf("process %s-%s: load: %w", m.def.Name, id, err)
	}
	for _, e := range tail {
		e, payload, err := m.opts.Registry.Decode(e)
		if err != nil {
			return in, fmt.Errorf("process %s-%s: load: %w", m.def.Name, id, err)
		}
		if in.Version == 0 {
			in.Correlation = e.CorrelationID
		}
		in = m.def.fold(in, payload)
		in.Version, in.Position = e.Version, e.Position
	}
	if len(tail) > 0 {
		m.remember(in)
	}
	return in, nil
}

// loadThrough is Load of an instance known to have reached version: on a
// replicated stream a read may come from a replica that does not show the
// newest events yet (found by the fault test: an issued command read as
// not pending was never sent, and the checkpoint passed it).
func (m *Manager[S]) loadThrough(ctx context.Context, id string, version uint64) (Instance[S], error) {
	wait := 2 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	for {
		in, err := m.Load(ctx, id)
		if err != nil || in.Version >= version {
			return in, err
		}
		if time.Now().After(deadline) {
			return in, fmt.Errorf("process %s-%s: load: at version %d, not yet %d", m.def.Name, id, in.Version, version)
		}
		select {
		case <-ctx.Done():
			return in, context.Cause(ctx)
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// Await waits until the instance has ended and returns it as it ended;
// its Position covers every event the process caused. It reads the
// instance's stream, so it works on any manager of the definition, active
// or standing by. It polls, starting at 2ms and backing off to 100ms.
func (m *Manager[S]) Await(ctx context.Context, id string) (Instance[S], error) {
	wait := 2 * time.Millisecond
	for {
		in, err := m.Load(ctx, id)
		if err != nil || in.Status.Final() {
			return in, err
		}
		select {
		case <-ctx.Done():
			return in, context.Cause(ctx)
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// remember keeps a folded instance; fold never mutates what it is given,
// so a kept instance may be handed out and folded further safely.
func (m *Manager[S]) remember(in Instance[S]) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.cache) >= maxCached {
		for id := range m.cache { // random order: forget an arbitrary eighth
			delete(m.cache, id)
			if len(m.cache) <= maxCached*7/8 {
				break
			}
		}
	}
	m.cache[in.ID] = in
}

func (m *Manager[S]) crashAt(point string) error {
	if m.crash != nil && m.crash(point) {
		return errCrashed
	}
	return nil
}

// validID reports whether id can name a process instance: its stream ID
// and a NATS subject token.
func validID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
