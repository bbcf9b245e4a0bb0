package events

import (
	"encoding/json"
	"time"
)

// QuarantinedType is the type of the placeholder Subscribe delivers where
// the log holds a message that is not a valid commit (garbage published
// on an event subject, say). The message is skipped, never retried: one
// bad message must not stall every reader behind it. The placeholder
// carries the position, so a reader's checkpoint moves past it, and the
// reason; it has no event payload. Readers of whole appends act on it as
// on a commit with nothing for them (LastInCommit is set).
const QuarantinedType = "$quarantined"

// Quarantine records a message skipped as not a valid commit.
type Quarantine struct {
	Position uint64 `json:"position"`
	// The NATS subject the message was published on.
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
	// When a reader first skipped it.
	SeenAt time.Time `json:"seen_at"`
}

// QuarantinedEvent is the placeholder for q.
func QuarantinedEvent(q Quarantine) Event {
	payload, _ := json.Marshal(q)
	return Event{Type: QuarantinedType, StreamID: q.Subject, Position: q.Position, RecordedAt: q.SeenAt, LastInCommit: true, Payload: payload}
}

// QuarantineOf reads the placeholder e; false if e is an event.
func QuarantineOf(e Event) (Quarantine, bool) {
	if e.Type != QuarantinedType {
		return Quarantine{}, false
	}
	var q Quarantine
	if err := json.Unmarshal(e.Payload, &q); err != nil {
		q = Quarantine{Position: e.Position, Subject: e.StreamID, Reason: "unreadable placeholder"}
	}
	return q, true
}
