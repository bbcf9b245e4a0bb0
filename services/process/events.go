package process

import (
	"encoding/json"
	"time"

	"github.com/fundbridge/fundbridge/events"
)

// The events the manager records in every process stream, beside the
// definition's own. Together they are the audit trail: what the process
// saw, what it asked whom and under which key, what came back, when it
// meant to wake up and how it ended.

// Observed records that the process saw an event of the log and decided
// on it; the event's position makes a second delivery a no-op.
type Observed struct {
	EventID  string `json:"event_id"`
	Type     string `json:"type"`
	StreamID string `json:"stream"`
	Version  uint64 `json:"version"`
	Position uint64 `json:"position"`
}

// CommandSpec is a command to another service, as recorded.
type CommandSpec struct {
	Step    string          `json:"step"`
	Service string          `json:"service"`
	Op      string          `json:"op"`
	Payload json.RawMessage `json:"payload"`
}

// CommandIssued records a command before it is sent (an outbox entry): a
// crash after it is followed by a resend under the same idempotency key.
type CommandIssued struct {
	CommandSpec
	IdempotencyKey string `json:"idempotency_key"`
	// Undo is the command that reverses this one, sent if the process
	// compensates after this step succeeded.
	Undo *CommandSpec `json:"undo,omitempty"`
	// UndoOf names the step this command reverses, if it is an undo.
	UndoOf string `json:"undo_of,omitempty"`
}

// CommandSucceeded records the reply to a command.
type CommandSucceeded struct {
	Step     string          `json:"step"`
	Result   json.RawMessage `json:"result,omitempty"`
	Position uint64          `json:"position,omitempty"` // of the receiver's events
	At       time.Time       `json:"at"`
}

// CommandRefused records a command the receiver refused, and why.
type CommandRefused struct {
	Step    string    `json:"step"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// DeadlineScheduled records a wake-up the process asked for. Scheduling
// a deadline of the same name again moves it.
type DeadlineScheduled struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// DeadlineCancelled records that a deadline is no longer wanted.
type DeadlineCancelled struct {
	Name string `json:"name"`
}

// DeadlineFired records a deadline's wake-up; a second firing finds it
// no longer pending and records nothing.
type DeadlineFired struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// CompensationStarted records that a step could not complete and the
// steps done so far are being undone, newest first.
type CompensationStarted struct {
	Reason string `json:"reason"`
}

// Ended records how the process ended.
type Ended struct {
	Outcome Status `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

func (Observed) EventType() string            { return "process.observed.v1" }
func (CommandIssued) EventType() string       { return "process.command_issued.v1" }
func (CommandSucceeded) EventType() string    { return "process.command_succeeded.v1" }
func (CommandRefused) EventType() string      { return "process.command_refused.v1" }
func (DeadlineScheduled) EventType() string   { return "process.deadline_scheduled.v1" }
func (DeadlineCancelled) EventType() string   { return "process.deadline_cancelled.v1" }
func (DeadlineFired) EventType() string       { return "process.deadline_fired.v1" }
func (CompensationStarted) EventType() string { return "process.compensation_started.v1" }
func (Ended) EventType() string               { return "process.ended.v1" }

// Register adds the manager's event types to the registry. Call it once
// per registry, beside the definitions' own event types.
func Register(r *events.Registry) {
	events.Register[Observed](r, Observed{}.EventType())
	events.Register[CommandIssued](r, CommandIssued{}.EventType())
	events.Register[CommandSucceeded](r, CommandSucceeded{}.EventType())
	events.Register[CommandRefused](r, CommandRefused{}.EventType())
	events.Register[DeadlineScheduled](r, DeadlineScheduled{}.EventType())
	events.Register[DeadlineCancelled](r, DeadlineCancelled{}.EventType())
	events.Register[DeadlineFired](r, DeadlineFired{}.EventType())
	events.Register[CompensationStarted](r, CompensationStarted{}.EventType())
	events.Register[Ended](r, Ended{}.EventType())
}
