package jetstream

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

// A commit is one NATS message holding every event of one append. One
// message is one write: atomic across a crash, one fsync, one sequence.
// The body is plain JSON so `nats stream view` shows the log as it is.
type commit struct {
	ID             string           `json:"id"` // also the Nats-Msg-Id, for dedupe
	Stream         string           `json:"stream"`
	First          uint64           `json:"first"` // version of the first event
	RecordedAt     time.Time        `json:"recorded_at"`
	Actor          fundbridge.Actor `json:"actor"`
	CorrelationID  string           `json:"correlation_id,omitempty"`
	CausationID    string           `json:"causation_id,omitempty"`
	IdempotencyKey string           `json:"idempotency_key,omitempty"`
	Events         []commitEvent    `json:"events"`
}

type commitEvent struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func (c *commit) last() uint64 { return c.First + uint64(len(c.Events)) - 1 }

// appendTo encodes the commit by hand: it is on every append's path, and
// the payloads are already valid JSON that need no second pass.
func (c *commit) appendTo(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"stream":`...)
	b = appendString(b, c.Stream)
	b = append(b, `,"first":`...)
	b = strconv.AppendUint(b, c.First, 10)
	b = append(b, `,"recorded_at":"`...)
	b = c.RecordedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","actor":{"user":`...)
	b = appendString(b, c.Actor.UserID)
	b = append(b, `,"role":`...)
	b = appendString(b, string(c.Actor.Role))
	if c.Actor.OrgID != "" {
		b = append(b, `,"org":`...)
		b = appendString(b, c.Actor.OrgID)
	}
	b = append(b, '}')
	if c.CorrelationID != "" {
		b = append(b, `,"correlation_id":`...)
		b = appendString(b, c.CorrelationID)
	}
	if c.CausationID != "" {
		b = append(b, `,"causation_id":`...)
		b = appendString(b, c.CausationID)
	}
	if c.IdempotencyKey != "" {
		b = append(b, `,"idempotency_key":`...)
		b = appendString(b, c.IdempotencyKey)
	}
	b = append(b, `,"events":[`...)
	for i, e := range c.Events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, e.ID)
		b = append(b, `,"type":`...)
		b = appendString(b, e.Type)
		b = append(b, `,"payload":`...)
		b = append(b, e.Payload...)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, as encoding/json would
// (invalid UTF-8 becomes U+FFFD).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func decodeCommit(data []byte) (*commit, error) {
	var c commit
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode commit: %w", err)
	}
	if len(c.Events) == 0 || c.First == 0 {
		return nil, fmt.Errorf("decode commit %s: no events", c.ID)
	}
	return &c, nil
}

// events expands a commit into the events it holds, stamped with the
// commit's global position, skipping versions before from.
func (c *commit) appendEvents(dst []events.Event, position, from uint64) []events.Event {
	for i, e := range c.Events {
		v := c.First + uint64(i)
		if v < from {
			continue
		}
		dst = append(dst, events.Event{
			ID:             e.ID,
			Type:           e.Type,
			StreamID:       c.Stream,
			Version:        v,
			Position:       position,
			RecordedAt:     c.RecordedAt,
			Actor:          c.Actor,
			CorrelationID:  c.CorrelationID,
			CausationID:    c.CausationID,
			IdempotencyKey: c.IdempotencyKey,
			LastInCommit:   i == len(c.Events)-1,
			Payload:        e.Payload,
		})
	}
	return dst
}
