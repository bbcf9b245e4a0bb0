package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/fundbridge/fundbridge"
)

// Limits on what one append may hold. They keep one commit within a NATS
// message (1 MiB by default) with room for the envelope.
const (
	MaxEventSize       = 256 << 10 // bytes of one event's payload
	MaxAppendSize      = 768 << 10 // bytes of all payloads of one append
	MaxEventsPerAppend = 500
	MaxStreamIDLength  = 200
)

// Store is an append-only event log of many streams.
type Store interface {
	// Append writes the events atomically if the stream is at the expected
	// version. A mismatch is a *ConcurrencyError carrying the actual version.
	Append(ctx context.Context, req AppendRequest) (AppendResult, error)
	// ReadStream returns the events of a stream from version from (1-based),
	// in order. A stream that does not exist has no events.
	ReadStream(ctx context.Context, streamID string, from uint64) ([]Event, error)
	// ReadAll returns up to limit events with a position after the given one,
	// in commit order. It never splits a commit: it may return more than limit
	// events to finish the last one.
	ReadAll(ctx context.Context, after uint64, limit int) ([]Event, error)
	// Subscribe calls fn with every event after the given position, catching
	// up and then following new commits live, in order, without gaps or
	// duplicates. It returns when ctx ends (nil) or fn fails (fn's error).
	// Where the log holds a message that is not a valid commit, fn gets a
	// QuarantinedType placeholder instead, and the log goes on after it.
	Subscribe(ctx context.Context, after uint64, fn func(Event) error) error
	// Head is the position of the last commit, 0 for an empty log.
	Head(ctx context.Context) (uint64, error)
	Close() error
}

// ErrConcurrency is matched by every *ConcurrencyError.
var ErrConcurrency = errors.New("wrong expected version")

// ConcurrencyError reports an append whose expected version did not hold.
type ConcurrencyError struct {
	StreamID string
	Expected ExpectedVersion
	Actual   uint64
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("append %s: expected version %d, stream is at %d", e.StreamID, e.Expected, e.Actual)
}

func (e *ConcurrencyError) Is(target error) bool { return target == ErrConcurrency }
func (e *ConcurrencyError) ErrorCode() string    { return fundbridge.ECONFLICT }

// ErrUnavailable is matched by store errors that a retry may cure: the
// connection to the log was lost or a deadline passed before an answer.
// Such an append may or may not have been stored; retry with the same
// event IDs or idempotency key to find out safely.
var ErrUnavailable = errors.New("event store unavailable")

// UnavailableError wraps the transport failure behind ErrUnavailable.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string        { return "event store unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error        { return e.Err }
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }
func (e *UnavailableError) ErrorCode() string    { return fundbridge.EUNAVAILABLE }

// wellFormedStreamID reports whether id is "<type>-<id>": a lower-case
// letter, then lower-case letters, digits or '_', a dash, then one or more
// letters, digits, '_' or '-'. By hand, not a regexp: it runs on every append.
func wellFormedStreamID(id string) bool {
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	i := 1
	for ; i < len(id) && id[i] != '-'; i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	if i >= len(id)-1 { // no dash, or nothing after it
		return false
	}
	for _, c := range []byte(id[i+1:]) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// SplitStreamID returns the aggregate type and id of "<type>-<id>".
func SplitStreamID(streamID string) (aggregateType, id string, err error) {
	if err := ValidateStreamID(streamID); err != nil {
		return "", "", err
	}
	aggregateType = aggregateOf(streamID)
	return aggregateType, streamID[len(aggregateType)+1:], nil
}

// aggregateOf is the aggregate type of a well-formed stream ID: what comes
// before its first dash.
func aggregateOf(streamID string) string {
	if i := strings.IndexByte(streamID, '-'); i > 0 {
		return streamID[:i]
	}
	return streamID
}

// ValidateStreamID checks the "<aggregate-type>-<id>" shape: a lower-case
// type, then letters, digits, '_' or '-'. Both halves become NATS subject
// tokens, so dots, wildcards and spaces are refused.
func ValidateStreamID(streamID string) error {
	switch {
	case streamID == "":
		return fundbridge.Invalid("empty stream ID", fundbridge.FieldError{Field: "stream_id", Reason: "required"})
	case len(streamID) > MaxStreamIDLength:
		return fundbridge.Invalid("stream ID too long", fundbridge.FieldError{Field: "stream_id", Reason: fmt.Sprintf("longer than %d characters", MaxStreamIDLength)})
	case !wellFormedStreamID(streamID):
		return fundbridge.Invalid("malformed stream ID", fundbridge.FieldError{Field: "stream_id", Reason: fmt.Sprintf("%q is not <aggregate-type>-<id>", streamID)})
	}
	return nil
}

// validJSON is json.Valid, as lenient (a name given twice, invalid
// UTF-8), in a quarter of the time: it runs on every event appended.
func validJSON(data []byte) bool {
	return jsontext.Value(data).IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
}

// eventField names a field of the append's ith event, written only for a
// refusal: Validate is on every append's path.
func eventField(i int, name string) string { return "events[" + strconv.Itoa(i) + "]." + name }

// Validate checks an append before any backend touches it, so bad input
// is refused the same way everywhere and nothing is written.
func (r *Registry) Validate(req AppendRequest) error {
	if err := ValidateStreamID(req.StreamID); err != nil {
		return err
	}
	var fields []fundbridge.FieldError
	if req.Expected < Any {
		fields = append(fields, fundbridge.FieldError{Field: "expected_version", Reason: fmt.Sprintf("%d is neither Any (-1) nor a version (>= 0)", req.Expected)})
	}
	switch n := len(req.Events); {
	case n == 0:
		fields = append(fields, fundbridge.FieldError{Field: "events", Reason: "no events to append"})
	case n > MaxEventsPerAppend:
		fields = append(fields, fundbridge.FieldError{Field: "events", Reason: fmt.Sprintf("%d events, at most %d per append", n, MaxEventsPerAppend)})
	}
	if !req.Meta.Actor.Valid() {
		fields = append(fields, fundbridge.FieldError{Field: "meta.actor", Reason: "a user and a known role are required"})
	}
	total := 0
	for i, e := range req.Events {
		if !r.Known(e.Type) {
			fields = append(fields, fundbridge.FieldError{Field: eventField(i, "type"), Reason: fmt.Sprintf("unknown event type %q", e.Type)})
		} else if !r.BelongsIn(req.StreamID, e.Type) {
			fields = append(fields, fundbridge.FieldError{Field: eventField(i, "type"), Reason: fmt.Sprintf("event type %q does not belong in a %s stream", e.Type, aggregateOf(req.StreamID))})
		}
		if len(e.Payload) > MaxEventSize {
			fields = append(fields, fundbridge.FieldError{Field: eventField(i, "payload"), Reason: fmt.Sprintf("%d bytes, at most %d", len(e.Payload), MaxEventSize)})
		}
		if len(e.Payload) == 0 {
			fields = append(fields, fundbridge.FieldError{Field: eventField(i, "payload"), Reason: "empty; use {} for an event without data"})
		} else if len(e.Payload) <= MaxEventSize && !validJSON(e.Payload) {
			fields = append(fields, fundbridge.FieldError{Field: eventField(i, "payload"), Reason: "not valid JSON"})
		}
		total += len(e.Payload)
	}
	if total > MaxAppendSize {
		fields = append(fields, fundbridge.FieldError{Field: "events", Reason: fmt.Sprintf("%d bytes in all, at most %d per append", total, MaxAppendSize)})
	}
	if len(fields) > 0 {
		return fundbridge.Invalid("append "+req.StreamID+" refused", fields...)
	}
	return nil
}
