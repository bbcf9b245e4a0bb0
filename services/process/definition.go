package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

// Definition is one kind of process: how it starts, what it does on each
// input and how its state folds. Its functions are pure: no I/O, no clock
// (times come with the inputs), no calls to other services, so that a
// process replayed after a crash decides exactly as it did before.
type Definition[S any] struct {
	// Name is a lower-case word ([a-z][a-z0-9_]*); instances live in the
	// streams "process-<Name>-<id>".
	Name    string
	Initial func() S
	// Evolve folds every event recorded in the process stream into the
	// state: the definition's own (Decision.Record) and the manager's
	// (CommandSucceeded, DeadlineFired, ...). It must not mutate its input.
	Evolve func(state S, payload any) S
	// Route names, for each event type the process reacts to, the
	// instance an event concerns; "" means none.
	Route map[string]func(e events.Event, payload any) string
	// On decides on an event of the log routed to this instance, while it
	// runs (not while it compensates, nor after it ended). An instance that
	// does not exist yet starts if the decision is not empty.
	On func(state S, in Observation) Decision
	// OnReply decides on the reply to a command the process sent.
	OnReply func(state S, in Reply) Decision
	// OnDeadline decides on a deadline that fired. Optional if the
	// process schedules none.
	OnDeadline func(state S, in Wake) Decision
}

// Observation is an event of the log routed to a process instance.
type Observation struct {
	ProcessID string
	Event     events.Event
	Payload   any
}

// At is when the observed event was recorded: the process's "now".
func (o Observation) At() time.Time { return o.Event.RecordedAt }

// Reply is the outcome of a command: a result, or the receiver's refusal.
type Reply struct {
	ProcessID string
	Step      string
	At        time.Time       // when the reply was recorded
	Result    json.RawMessage // on success
	Position  uint64          // of the receiver's events, on success
	Refusal   *fundbridge.Error
}

// OK reports whether the command succeeded.
func (r Reply) OK() bool { return r.Refusal == nil }

// Wake is a deadline that fired.
type Wake struct {
	ProcessID string
	Name      string
	At        time.Time // the time it was scheduled for
}

// Command is a request to another service. Step names it within the
// process (unique per instance: with the process's id it makes the
// idempotency key, so a resend after a crash takes effect once).
type Command struct {
	Step    string
	Service string
	Op      string
	Payload any
	// Undo, if set, reverses this command; it is sent only if the process
	// compensates after this command succeeded. Its Step defaults to
	// "undo_<Step>".
	Undo *Command
}

// Deadline is a wake-up at a time; scheduling the same name again moves it.
type Deadline struct {
	Name string
	At   time.Time
}

// Decision is what a process does on one input: facts to record, commands
// to send, deadlines to set or cancel, and at most one way to end.
type Decision struct {
	Record   []events.Payload
	Send     []Command
	Schedule []Deadline
	Cancel   []string
	// Complete ends the process as completed.
	Complete bool
	// Compensate undoes every step done so far that has an Undo, newest
	// first, then ends the process as compensated with this reason.
	Compensate string
	// Fail ends the process as failed with this reason, undoing nothing.
	Fail string
}

// Empty reports whether the decision does nothing.
func (d Decision) Empty() bool {
	return len(d.Record) == 0 && len(d.Send) == 0 && len(d.Schedule) == 0 && len(d.Cancel) == 0 &&
		!d.Complete && d.Compensate == "" && d.Fail == ""
}

// Status is where a process instance stands.
type Status string

const (
	Running      Status = "running"
	Compensating Status = "compensating"
	Completed    Status = "completed"
	Compensated  Status = "compensated"
	Failed       Status = "failed"
)

// Final reports whether the process has ended.
func (s Status) Final() bool { return s == Completed || s == Compensated || s == Failed }

// validate checks a definition once, when a manager is made.
func (d *Definition[S]) validate() error {
	var errs []error
	if !token(d.Name, false) {
		errs = append(errs, fmt.Errorf("name %q is not a lower-case word ([a-z][a-z0-9_]*)", d.Name))
	}
	if d.Initial == nil || d.Evolve == nil || d.On == nil || d.OnReply == nil {
		errs = append(errs, errors.New("the functions Initial, Evolve, On and OnReply are required"))
	}
	if len(d.Route) == 0 {
		errs = append(errs, errors.New("the Route map names no event type: nothing would ever start the process"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("process definition %q: %w", d.Name, err)
	}
	return nil
}

// token reports whether s is usable as a NATS subject token and in an
// idempotency key: a lower-case letter, then lower-case letters, digits,
// '_' (and '-' when dash is true).
func token(s string, dash bool) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || dash && c == '-') {
			return false
		}
	}
	return true
}
