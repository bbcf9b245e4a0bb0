package kurrentdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

// eventUUID is a name-based (v5) UUID: the same name always gives the same
// event ID, which is what lets KurrentDB recognise a retry.
func eventUUID(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.MustParse(eventIDNamespace), []byte(name))
}

// keyedUUID is the ID of the i-th event of the append with this idempotency
// key on this stream; a retry carries fresh event IDs but the same key.
func keyedUUID(streamID, key string, i int) uuid.UUID {
	return eventUUID("key\x00" + streamID + "\x00" + strconv.Itoa(i) + "\x00" + key)
}

// namedUUID is the ID of an event the caller named: its ID if that is a
// UUID already, else one derived from it.
func namedUUID(id string) uuid.UUID {
	if u, err := uuid.Parse(id); err == nil {
		return u
	}
	return eventUUID("id\x00" + id)
}

// envelope is the metadata of every event: what events.Event carries beyond
// type and payload, and where the event sits in its append.
type envelope struct {
	ID             string           `json:"id"`
	RecordedAt     time.Time        `json:"recorded_at"` // RFC 3339 with nanoseconds, UTC
	Actor          fundbridge.Actor `json:"actor"`
	CorrelationID  string           `json:"correlation_id,omitempty"`
	CausationID    string           `json:"causation_id,omitempty"`
	Command        string           `json:"command,omitempty"`
	IdempotencyKey string           `json:"idempotency_key,omitempty"`
	CommitID       string           `json:"commit_id"`
	CommitIndex    int              `json:"commit_index"`
	CommitSize     int              `json:"commit_size"`
}

func encodeEnvelope(e envelope) ([]byte, error) {
	e.RecordedAt = e.RecordedAt.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	return b, nil
}

// decodeEnvelope refuses metadata this store did not write.
func decodeEnvelope(b []byte) (envelope, error) {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return envelope{}, fmt.Errorf("decode metadata: %w", err)
	}
	if e.ID == "" || e.CommitID == "" || e.CommitSize < 1 || e.CommitIndex < 0 || e.CommitIndex >= e.CommitSize {
		return envelope{}, errors.New("decode metadata: not a fundbridge event envelope")
	}
	e.RecordedAt = e.RecordedAt.UTC()
	return e, nil
}

// record is an event as read, with what reassembling its append needs.
type record struct {
	event events.Event // Position is the event's own until its append is complete
	uuid  uuid.UUID
	env   envelope
}

func decodeRecord(re *kurrentdb.ResolvedEvent) (record, error) {
	ev := re.Event
	if ev == nil {
		return record{}, errors.New("read returned a link to a missing event")
	}
	env, err := decodeEnvelope(ev.UserMetadata)
	if err != nil {
		return record{}, fmt.Errorf("event %s@%d: %w", ev.StreamID, ev.EventNumber+1, err)
	}
	pos := ev.Position.Commit
	if re.Commit != nil {
		pos = *re.Commit
	}
	return record{
		uuid: ev.EventID,
		env:  env,
		event: events.Event{
			ID:             env.ID,
			Type:           ev.EventType,
			StreamID:       ev.StreamID,
			Version:        ev.EventNumber + 1,
			Position:       pos,
			RecordedAt:     env.RecordedAt,
			Actor:          env.Actor,
			CorrelationID:  env.CorrelationID,
			CausationID:    env.CausationID,
			Command:        env.Command,
			IdempotencyKey: env.IdempotencyKey,
			Payload:        json.RawMessage(ev.Data),
		},
	}, nil
}

// ownRecord decodes an event of $all if this store wrote it. System events
// and other applications' events on a shared server are not part of the log.
func ownRecord(re *kurrentdb.ResolvedEvent) (record, bool) {
	if re.Event == nil || isSystem(re.Event) {
		return record{}, false
	}
	r, err := decodeRecord(re)
	return r, err == nil
}

func isSystem(ev *kurrentdb.RecordedEvent) bool {
	return strings.HasPrefix(ev.EventType, "$") || strings.HasPrefix(ev.StreamID, "$")
}

// assembler gathers the events of one append as a read returns them, so that
// each gets the append's position: the commit position of its last event.
// KurrentDB writes an append's events next to each other, atomically.
type assembler struct {
	pending []record
}

// add takes the next event read and returns what it completes: nothing yet,
// or the append it ends. A read that starts inside an append yields the
// rest of it. An append whose events stop coming (not written by this
// store) is returned as it stands when the next one starts.
func (a *assembler) add(r record) []record {
	var done []record
	if n := len(a.pending); n > 0 {
		prev := a.pending[n-1]
		if prev.env.CommitID != r.env.CommitID || prev.event.StreamID != r.event.StreamID || prev.env.CommitIndex+1 != r.env.CommitIndex {
			done = a.flush()
		}
	}
	a.pending = append(a.pending, r)
	if r.env.CommitIndex == r.env.CommitSize-1 {
		done = append(done, a.flush()...)
	}
	return done
}

// flush returns the pending events at the position of the last of them.
func (a *assembler) flush() []record {
	out := a.pending
	a.pending = nil
	if len(out) > 0 {
		pos := out[len(out)-1].event.Position
		for i := range out {
			out[i].event.Position = pos
		}
		out[len(out)-1].event.LastInCommit = true
	}
	return out
}

// sameCommit is the leading run of records from batch[0]'s append.
func sameCommit(batch []record) []record {
	for i := 1; i < len(batch); i++ {
		if batch[i].env.CommitID != batch[0].env.CommitID {
			return batch[:i]
		}
	}
	return batch
}

func resultOf(commit []record) events.AppendResult {
	last := commit[len(commit)-1].event
	return events.AppendResult{FirstVersion: commit[0].event.Version, LastVersion: last.Version, Position: last.Position}
}
