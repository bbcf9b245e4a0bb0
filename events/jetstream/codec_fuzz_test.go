package jetstream

import (
	"bytes"
	"testing"
)

// FuzzCommitRoundTrip: a body that decodes as a commit encodes again (as
// appends write it) to a body that decodes to the same commit, and that
// encoding is stable.
func FuzzCommitRoundTrip(f *testing.F) {
	for _, c := range sampleCommits() {
		f.Add(c.appendTo(nil))
	}
	f.Add([]byte(`{"id":"a","stream":"s-1","first":1,"recorded_at":"2025-01-01T08:00:00+08:00","actor":{"user":"u","role":"system","org":"o"},"correlation_id":"c","events":[{"id":"e","type":"t","payload":{"a":[1,"\u00e9"]}}]}`))
	f.Add([]byte(`{"events":[{"payload":null}],"first":18446744073709551615,"id":"\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCommit(data)
		if err != nil {
			return
		}
		once := c.appendTo(nil)
		d, err := decodeCommit(once)
		if err != nil {
			t.Fatalf("%q decoded, but its encoding %q does not: %v", data, once, err)
		}
		if d.ID != c.ID || d.Stream != c.Stream || d.First != c.First || !d.RecordedAt.Equal(c.RecordedAt) || d.Actor != c.Actor ||
			d.CorrelationID != c.CorrelationID || d.CausationID != c.CausationID || d.IdempotencyKey != c.IdempotencyKey || len(d.Events) != len(c.Events) {
			t.Fatalf("%q → %+v, again %+v", data, c, d)
		}
		for i := range c.Events {
			a, b := c.Events[i], d.Events[i]
			if a.ID != b.ID || a.Type != b.Type || !bytes.Equal(a.Payload, b.Payload) {
				t.Fatalf("event %d: %+v, again %+v", i, a, b)
			}
		}
		if twice := d.appendTo(nil); !bytes.Equal(twice, once) {
			t.Fatalf("encoding is not stable: %q then %q", once, twice)
		}
	})
}

// Found by FuzzCommitRoundTrip: an event without a payload, or a time
// before year 1 in UTC, was read as a commit, and encoded again as invalid
// JSON or not at all.
func TestACommitEventNeedsATypeAndAPayload(t *testing.T) {
	for _, body := range []string{
		`{"first":1,"events":[{}]}`,
		`{"id":"a","stream":"s-1","first":1,"recorded_at":"2025-01-01T00:00:00Z","actor":{"user":"u","role":"system"},"events":[{"id":"e","type":"t"}]}`,
		`{"id":"a","stream":"s-1","first":1,"recorded_at":"2025-01-01T00:00:00Z","actor":{"user":"u","role":"system"},"events":[{"id":"e","payload":{}}]}`,
		// and a time that is year -1 in UTC, which no RFC 3339 writer writes
		`{"id":"","stream":"0","first":1,"recorded_at":"0000-01-01T0:00:00+01:00","events":[{"type":"0","payload":{}}]}`,
	} {
		if c, err := decodeCommit([]byte(body)); err == nil {
			t.Errorf("%s read as %+v", body, c)
		}
	}
}
