// Package events defines the event envelope, the registry of event types and
// their upcasters, and the Store every backend implements.
//
// Versions are 1-based: a stream's version is the number of events in it,
// and 0 means the stream does not exist. A global position orders commits
// (appends) across all streams; events appended together share their
// commit's position and are ordered within it by stream version. On
// JetStream the position is the commit message's stream sequence; on
// KurrentDB, which gives each event its own log position, it is the
// position of the append's last event.
package events

import (
	"context"
	"encoding/json"
	"time"

	"github.com/fundbridge/fundbridge"
)

// Event is a recorded fact: immutable once appended.
type Event struct {
	// The event's ID, unique in the log.
	ID string `json:"id"`
	// Type is the event's name with its version, such as
	// application.submitted.v1.
	Type string `json:"type"`
	// The stream the event belongs to, <aggregate>-<id>, such as
	// application-01J....
	StreamID string `json:"stream"`
	// Version is its place within its stream, from 1.
	Version uint64 `json:"version"`
	// Position is the global log position of the append holding it.
	Position uint64 `json:"position"`
	// When it was appended.
	RecordedAt time.Time `json:"recorded_at"`
	// Who caused it.
	Actor fundbridge.Actor `json:"actor"`
	// The request that started the chain of commands this event is part of.
	CorrelationID string `json:"correlation_id,omitempty"`
	// The command (request ID) that caused it.
	CausationID string `json:"causation_id,omitempty"`
	// Command names that command's operation, such as application.submit
	// (a process's own step names itself: process.closing.observe).
	// Empty in events written before it was recorded.
	Command string `json:"command,omitempty"`
	// IdempotencyKey is the key of the command that appended the event, if
	// it had one: folding a stream tells which commands it already holds.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// The fact itself, as its type defines it; secrets and sealed personal data
	// are redacted.
	Payload json.RawMessage `json:"payload"`
	// LastInCommit marks the last event of its append, so a reader of the
	// log can act on whole appends (a projection's checkpoint, say).
	LastInCommit bool `json:"-"`
	// Trace is the W3C traceparent of the append that wrote the event, if
	// it was traced and the store keeps it (JetStream, as a message
	// header): a reader's span joins the write's trace (internal/spans).
	Trace string `json:"-"`
}

// Payload is a domain event value: it knows its versioned type name.
type Payload interface {
	EventType() string
}

// NewEvent is an event proposed for appending.
type NewEvent struct {
	ID      string // optional; a retry that reuses IDs is stored once
	Type    string
	Payload json.RawMessage
}

// Meta is what every event of one command records about its cause.
type Meta struct {
	Actor          fundbridge.Actor
	CorrelationID  string
	CausationID    string // the command's ID
	Command        string // the command's operation: application.submit
	IdempotencyKey string // optional; a retry with the same key is stored once
}

// ExpectedVersion is the optimistic-concurrency condition of an append:
// Any, NoStream, or the exact current version of the stream.
type ExpectedVersion int64

const (
	Any      ExpectedVersion = -1
	NoStream ExpectedVersion = 0
)

// Exactly expects the stream to be at version v (0 means it must not exist).
func Exactly(v uint64) ExpectedVersion { return ExpectedVersion(v) }

// AppendRequest is one command's events for one stream.
type AppendRequest struct {
	StreamID string
	Expected ExpectedVersion
	Events   []NewEvent
	Meta     Meta
}

// AppendResult says where an append landed.
type AppendResult struct {
	FirstVersion uint64
	LastVersion  uint64 // the stream's version after the append
	Position     uint64 // global position of the commit
	Duplicate    bool   // an idempotent retry: nothing new was stored
	// RecordedAt is the events' recorded time (zero if the store does not
	// say), so a command's reply shows the time its events carry.
	RecordedAt time.Time
}

// Snapshot is an aggregate's folded state as of a version of its stream, so
// that loading a long stream reads the snapshot and only the tail after it.
// Snapshots are a cache: losing one costs time, never data.
type Snapshot struct {
	StreamID string          `json:"stream"`
	Version  uint64          `json:"version"`
	Position uint64          `json:"position"` // of the commit holding Version
	Schema   string          `json:"schema"`   // the state's shape; a mismatch means fold from scratch
	State    json.RawMessage `json:"state"`
}

// PositionedReader is implemented by stores that read a stream faster when
// told that no wanted event is at or before a global position (a snapshot's).
type PositionedReader interface {
	ReadStreamAfter(ctx context.Context, streamID string, from, after uint64) ([]Event, error)
}
