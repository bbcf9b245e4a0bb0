package jetstream

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

// A commit is one NATS message holding every event of one append. One
// message is one write: atomic across a crash, one fsync, one sequence.
// The body is plain JSON so `nats stream view` shows the log as it is.
type commit struct {
	ID             string           `json:"id"` // also the Nats-Msg-Id of a retryable append, for dedupe
	Stream         string           `json:"stream"`
	First          uint64           `json:"first"` // version of the first event
	RecordedAt     time.Time        `json:"recorded_at"`
	Actor          fundbridge.Actor `json:"actor"`
	CorrelationID  string           `json:"correlation_id,omitempty"`
	CausationID    string           `json:"causation_id,omitempty"`
	Command        string           `json:"command,omitempty"`
	IdempotencyKey string           `json:"idempotency_key,omitempty"`
	Events         []commitEvent    `json:"events"`
}

type commitEvent struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func (c *commit) last() uint64 { return c.First + uint64(len(c.Events)) - 1 }

// sizeHint is about the length of the encoded commit, to allocate once.
func (c *commit) sizeHint() int {
	n := 256 + len(c.ID) + len(c.Stream) + len(c.CorrelationID) + len(c.CausationID) + len(c.Command) + len(c.IdempotencyKey) + len(c.Actor.UserID) + len(c.Actor.OrgID)
	for _, e := range c.Events {
		n += 48 + len(e.ID) + len(e.Type) + len(e.Payload)
	}
	return n
}

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
	if c.Command != "" {
		b = append(b, `,"command":`...)
		b = appendString(b, c.Command)
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

// decodeCommit decodes a commit body. Every read decodes every commit it
// passes, so the shape appendTo writes is read by hand (decodeCommitFast);
// anything else goes to encoding/json, and either way the result is what
// encoding/json makes of the body.
func decodeCommit(data []byte) (*commit, error) {
	return decodeCommitReusing(data, new(commit))
}

// decodeCommitReusing is decodeCommit into c, whose Events array it reuses
// when the body is read by hand. c must not be in use: the events handed
// out before hold no reference to it, only to their own bodies.
func decodeCommitReusing(data []byte, c *commit) (*commit, error) {
	*c = commit{Events: c.Events[:0]}
	if !decodeCommitFast(data, c) {
		// encoding/json would fill the reused array in place, payloads
		// included: give it a fresh commit.
		c = new(commit)
		if err := json.Unmarshal(data, c); err != nil {
			return nil, fmt.Errorf("decode commit: %w", err)
		}
	}
	if len(c.Events) == 0 || c.First == 0 {
		return nil, fmt.Errorf("decode commit %s: no events", c.ID)
	}
	if y := c.RecordedAt.UTC().Year(); y < 1 || y > 9999 {
		return nil, fmt.Errorf("decode commit %s: recorded_at is outside years 1 to 9999 in UTC", c.ID)
	}
	for i := range c.Events {
		// A commit an append wrote has both; one without would be encoded
		// again (a retry's answer, a copy) as invalid JSON.
		if c.Events[i].Type == "" || len(c.Events[i].Payload) == 0 {
			return nil, fmt.Errorf("decode commit %s: event %d has no type or no payload", c.ID, i)
		}
	}
	return c, nil
}

// commitReader reads the body of a commit as appendTo writes it: keys in
// its order, no white space between them, strings without escapes. It
// gives up (ok false) at the first byte that differs, and never accepts a
// body encoding/json would refuse or read differently.
//
// The commit it returns shares the body's memory: payloads are slices of
// it and strings are views of it, so a decoded body must never change.
// Every body decoded is a message received for this read alone.
type commitReader struct {
	data []byte
	text string // data viewed as a string, without a copy
	pos  int
}

// maxFastDepth bounds the nesting of payloads read by hand; deeper ones
// are left to encoding/json and its own limit.
const maxFastDepth = 512

// decodeCommitFast decodes data into c, a zero commit but perhaps for
// the array behind its Events, and reports whether it could.
func decodeCommitFast(data []byte, c *commit) bool {
	if len(data) == 0 {
		return false
	}
	r := commitReader{data: data, text: unsafe.String(&data[0], len(data))}
	ok := r.key(`{"id":`) && r.str(&c.ID) &&
		r.key(`,"stream":`) && r.str(&c.Stream) &&
		r.key(`,"first":`) && r.uint(&c.First) &&
		r.key(`,"recorded_at":`) && r.time(&c.RecordedAt) &&
		r.key(`,"actor":{"user":`) && r.str(&c.Actor.UserID) &&
		r.key(`,"role":`) && r.str((*string)(&c.Actor.Role)) &&
		(!r.key(`,"org":`) || r.str(&c.Actor.OrgID)) && r.key(`}`) &&
		(!r.key(`,"correlation_id":`) || r.str(&c.CorrelationID)) &&
		(!r.key(`,"causation_id":`) || r.str(&c.CausationID)) &&
		(!r.key(`,"command":`) || r.str(&c.Command)) &&
		(!r.key(`,"idempotency_key":`) || r.str(&c.IdempotencyKey)) &&
		r.key(`,"events":[`)
	if !ok {
		return false
	}
	for {
		var e commitEvent
		if !(r.key(`{"id":`) && r.str(&e.ID) &&
			r.key(`,"type":`) && r.str(&e.Type) &&
			r.key(`,"payload":`) && r.raw(&e.Payload) && r.key(`}`)) {
			return false
		}
		c.Events = append(c.Events, e)
		if r.key(`,`) {
			continue
		}
		if !r.key(`]}`) {
			return false
		}
		break
	}
	// encoding/json allows white space after the value, nothing else.
	if skipSpace(data, r.pos) != len(data) {
		return false
	}
	return true
}

// key consumes k if the body continues with it.
func (r *commitReader) key(k string) bool {
	if len(r.data)-r.pos >= len(k) && r.text[r.pos:r.pos+len(k)] == k {
		r.pos += len(k)
		return true
	}
	return false
}

// str reads a string that needs no unescaping: no escapes, no control
// characters, valid UTF-8 (encoding/json would replace invalid bytes).
func (r *commitReader) str(dst *string) bool {
	start, end, ok := r.quoted()
	if ok {
		*dst = r.text[start:end]
	}
	return ok
}

// quoted finds the contents of a string at pos, as str accepts them.
func (r *commitReader) quoted() (start, end int, ok bool) {
	d := r.data
	if r.pos >= len(d) || d[r.pos] != '"' {
		return 0, 0, false
	}
	start = r.pos + 1
	n := bytes.IndexByte(d[start:], '"')
	if n < 0 {
		return 0, 0, false
	}
	end = start + n
	if !plainString(d[start:end]) {
		return 0, 0, false
	}
	r.pos = end + 1
	return start, end, true
}

// uint reads a non-negative integer that fits in a uint64.
func (r *commitReader) uint(dst *uint64) bool {
	d, i := r.data, r.pos
	if i >= len(d) || d[i] < '0' || d[i] > '9' {
		return false
	}
	if d[i] == '0' {
		// JSON allows no leading zeros: "0" must end here.
		r.pos = i + 1
		*dst = 0
		return r.pos >= len(d) || d[r.pos] < '0' || d[r.pos] > '9'
	}
	var v uint64
	for ; i < len(d) && d[i] >= '0' && d[i] <= '9'; i++ {
		digit := uint64(d[i] - '0')
		if v > (math.MaxUint64-digit)/10 {
			return false // overflow: encoding/json refuses it
		}
		v = v*10 + digit
	}
	// A fraction or exponent makes it no integer: leave it to encoding/json.
	if i < len(d) && (d[i] == '.' || d[i] == 'e' || d[i] == 'E') {
		return false
	}
	r.pos, *dst = i, v
	return true
}

// time reads a timestamp as encoding/json does, by time.Time's own
// UnmarshalJSON, except for the UTC form appendTo writes, which it reads
// by hand into the same value.
func (r *commitReader) time(dst *time.Time) bool {
	begin := r.pos
	start, end, ok := r.quoted()
	if !ok {
		return false
	}
	if t, ok := parseUTC(r.data[start:end]); ok {
		*dst = t
		return true
	}
	return dst.UnmarshalJSON(r.data[begin:r.pos]) == nil
}

// parseUTC reads "2006-01-02T15:04:05Z" with an optional fraction of one
// to nine digits, as time.Parse(time.RFC3339Nano) would. Anything else,
// including dates that do not exist, is left to the time package.
func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' ||
		b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // the day does not exist in that month
		return time.Time{}, false
	}
	return t, true
}

// raw reads any JSON value, with the white space around it, and keeps the
// value itself (a slice of the body, which no one modifies), as
// json.RawMessage does.
func (r *commitReader) raw(dst *json.RawMessage) bool {
	start := skipSpace(r.data, r.pos)
	end, ok := skipValue(r.data, start, 0)
	if !ok {
		return false
	}
	*dst = json.RawMessage(r.data[start:end:end])
	r.pos = skipSpace(r.data, end)
	return true
}

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at i, checking it
// as strictly as encoding/json does.
func skipValue(d []byte, i, depth int) (int, bool) {
	if i >= len(d) {
		return i, false
	}
	switch c := d[i]; {
	case c == '{':
		if depth >= maxFastDepth {
			return i, false
		}
		i = skipSpace(d, i+1)
		if i < len(d) && d[i] == '}' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = skipString(d, i); !ok {
				return i, false
			}
			if i = skipSpace(d, i); i >= len(d) || d[i] != ':' {
				return i, false
			}
			if i, ok = skipValue(d, skipSpace(d, i+1), depth+1); !ok {
				return i, false
			}
			if i = skipSpace(d, i); i >= len(d) {
				return i, false
			}
			switch d[i] {
			case ',':
				i = skipSpace(d, i+1)
			case '}':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '[':
		if depth >= maxFastDepth {
			return i, false
		}
		i = skipSpace(d, i+1)
		if i < len(d) && d[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = skipValue(d, i, depth+1); !ok {
				return i, false
			}
			if i = skipSpace(d, i); i >= len(d) {
				return i, false
			}
			switch d[i] {
			case ',':
				i = skipSpace(d, i+1)
			case ']':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '"':
		return skipString(d, i)
	case c == 't':
		return skipLiteral(d, i, "true")
	case c == 'f':
		return skipLiteral(d, i, "false")
	case c == 'n':
		return skipLiteral(d, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(d, i)
	}
	return i, false
}

func skipLiteral(d []byte, i int, lit string) (int, bool) {
	if len(d)-i >= len(lit) && string(d[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// skipString checks a JSON string as encoding/json's scanner does: no
// control characters, only valid escapes; other bytes pass as they are.
func skipString(d []byte, i int) (int, bool) {
	if i >= len(d) || d[i] != '"' {
		return i, false
	}
	i++
	for {
		n := bytes.IndexByte(d[i:], '"')
		if n < 0 {
			return len(d), false
		}
		// An escape before the quote may be the quote's own.
		esc := bytes.IndexByte(d[i:i+n], '\\')
		if esc < 0 {
			if hasControl(d[i : i+n]) {
				return i, false
			}
			return i + n + 1, true
		}
		if hasControl(d[i : i+esc]) {
			return i, false
		}
		i += esc + 1 // at the escaped character
		if i >= len(d) {
			return i, false
		}
		switch d[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if len(d)-i <= 4 {
				return i, false
			}
			for _, h := range d[i+1 : i+5] {
				if !isHex(h) {
					return i, false
				}
			}
			i += 5
		default:
			return i, false
		}
	}
}

// Words of eight equal bytes, for testing eight bytes at a time.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasLess reports whether a byte of x is below n (n <= 128).
func hasLess(x uint64, n byte) bool { return (x-ones*uint64(n))&^x&highs != 0 }

// hasByte reports whether a byte of x is c.
func hasByte(x uint64, c byte) bool { return hasLess(x^(ones*uint64(c)), 1) }

// hasControl reports whether b holds a byte below 0x20.
func hasControl(b []byte) bool {
	for len(b) >= 8 {
		if hasLess(binary.LittleEndian.Uint64(b), 0x20) {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// plainString reports whether b, the contents of a JSON string, reads as
// it is: no escapes, no control characters, valid UTF-8.
func plainString(b []byte) bool {
	ascii := true
	rest := b
	for len(rest) >= 8 {
		x := binary.LittleEndian.Uint64(rest)
		if hasLess(x, 0x20) || hasByte(x, '\\') {
			return false
		}
		if x&highs != 0 {
			ascii = false
		}
		rest = rest[8:]
	}
	for _, c := range rest {
		if c < 0x20 || c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(b)
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// skipNumber checks a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(d []byte, i int) (int, bool) {
	if d[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return i, false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return i, false
		}
	}
	return i, true
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
			Command:        c.Command,
			IdempotencyKey: c.IdempotencyKey,
			LastInCommit:   i == len(c.Events)-1,
			Payload:        e.Payload,
		})
	}
	return dst
}
