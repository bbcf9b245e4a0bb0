package process

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/spans"
)

// The manager's side of deadlines: arming their schedules (timers.go) on
// its clock, and recording their firings.

// arm makes sure a deadline still pending has its schedule.
func (m *Manager[S]) arm(ctx context.Context, id string, d DeadlineScheduled) error {
	in, err := m.Load(ctx, id)
	if err != nil {
		return err
	}
	if at, ok := in.Deadlines[d.Name]; !ok || !at.Equal(d.At) || in.Status.Final() {
		return nil // moved, cancelled, fired or moot
	}
	if err := m.crashAt("before-arm"); err != nil {
		return err
	}
	now := m.now()
	return m.timers.arm(ctx, id, d.Name, d.At, now, m.wakeAt(d.At, now))
}

// now is the time on the manager's clock.
func (m *Manager[S]) now() time.Time {
	if m.opts.Clock != nil {
		return m.opts.Clock().UTC()
	}
	return time.Now().UTC()
}

// recheck is how far ahead on the wall clock a deadline is armed while
// the manager's clock is not the wall clock.
const recheck = time.Second

// wakeAt is the wall-clock time at which to fire a deadline due at `at`,
// later than now on the manager's clock. JetStream schedules by the wall
// clock: on it (or a clock within a second of it) that is `at` itself.
// A clock running behind the wall clock may jump ahead at any moment (a
// simulated history moving to its next day), so its deadlines are armed
// at most a second ahead, and a firing that finds its time not yet come
// is armed again (fire): it fires within a second of the clock reaching
// it, and once, like any other.
func (m *Manager[S]) wakeAt(at, now time.Time) time.Time {
	if !simulated(now) {
		return at
	}
	return time.Now().Add(min(at.Sub(now), recheck))
}

// simulated reports whether now, read on the manager's clock, is more
// than a second away from the wall clock.
func simulated(now time.Time) bool { return time.Until(now).Abs() > time.Second }

// fire records a deadline's firing and what the process decides on it.
func (m *Manager[S]) fire(ctx context.Context, w wakeMsg) (err error) {
	if !validID(w.Process) {
		return nil
	}
	// On a clock of its own, a firing may come before its time: armed a
	// second ahead while the clock was behind the wall clock, and fired
	// after a jump that left it short, or after the hand-over to the wall
	// clock. It is armed again for its time. (On the wall clock JetStream
	// never fires early: schedules are rounded up to the second.)
	if m.opts.Clock != nil && w.At.After(m.now()) {
		return m.arm(ctx, w.Process, DeadlineScheduled{Name: w.Deadline, At: w.At})
	}
	if m.tracing != nil {
		// A deadline starts a trace of its own: what the process does on
		// it, and the commands it sends, are its steps.
		var span trace.Span
		ctx, span = m.tracing.Tracer(tracerName).Start(ctx, "process "+m.def.Name+" deadline", trace.WithNewRoot(),
			trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(spans.Process.String(m.def.Name), spans.Deadline.String(w.Deadline)))
		defer func() { spans.End(span, err) }()
	}
	meta := events.Meta{Actor: m.actor, CausationID: "deadline/" + w.Deadline, Command: m.step("wake"), IdempotencyKey: "wake/" + w.Deadline + "/" + w.At.UTC().Format(time.RFC3339Nano)}
	wake := Wake{ProcessID: w.Process, Name: w.Deadline, At: w.At}
	if err := m.execute(ctx, w.Process, meta, func(in Instance[S]) []events.Payload { return m.def.wake(in, wake) }); err != nil {
		return err
	}
	return m.crashAt("fired")
}
