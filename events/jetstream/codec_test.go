package jetstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

// referenceDecode is decodeCommit as it was before the hand-written fast
// path: encoding/json and the same checks.
func referenceDecode(data []byte) (*commit, error) {
	var c commit
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	if len(c.Events) == 0 || c.First == 0 {
		return nil, errors.New("no events")
	}
	if y := c.RecordedAt.UTC().Year(); y < 1 || y > 9999 {
		return nil, errors.New("recorded_at out of range")
	}
	for _, e := range c.Events {
		if e.Type == "" || len(e.Payload) == 0 {
			return nil, errors.New("an event without type or payload")
		}
	}
	return &c, nil
}

// checkDecode asserts decodeCommit reads data exactly as encoding/json does.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := referenceDecode(data)
	got, gotErr := decodeCommit(data)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("decode %q: error %v, encoding/json: %v", data, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decode %q:\n got %#v\nwant %#v", data, got, want)
	}
	if fast := new(commit); decodeCommitFast(data, fast) {
		var c commit
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("fast path accepted %q, which encoding/json refuses: %v", data, err)
		}
		if !reflect.DeepEqual(fast, &c) {
			t.Fatalf("fast path read %q as\n%#v\nencoding/json as\n%#v", data, fast, &c)
		}
	}
}

var payloads = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0.5e+10`, `12E-3`, `"x"`,
	`{"n":1,"note":"hello"}`,
	` { "a" : [ 1 , 2.5 , -3e7 , true , false , null , "s" , { } , [ ] ] } `,
	`{"esc":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00","raw":"é😀"}`,
	`{"deep":[[[[[[[[[[{"x":[{"y":null}]}]]]]]]]]]]}`,
	`"` + strings.Repeat("long ", 200) + `"`,
}

func sampleCommits() []*commit {
	at := time.Date(2025, 3, 4, 5, 6, 7, 890123000, time.UTC)
	base := func() *commit {
		return &commit{
			ID: "01JNQ8ZC5V3T7W0X2Y4Z6A8B9C", Stream: "company-42", First: 7, RecordedAt: at,
			Actor:  fundbridge.Actor{UserID: "user-1", Role: fundbridge.RoleStartup, OrgID: "org-1"},
			Events: []commitEvent{{ID: "01JNQ8ZC5V3T7W0X2Y4Z6A8B9C", Type: "company.registered.v1", Payload: json.RawMessage(`{"name":"Acme"}`)}},
		}
	}
	var out []*commit
	out = append(out, base())

	c := base()
	c.CorrelationID, c.CausationID, c.IdempotencyKey = "corr-1", "cmd-1", "key-1"
	out = append(out, c)

	c = base()
	c.Actor.OrgID, c.CausationID = "", "cmd-only"
	out = append(out, c)

	c = base()
	c.RecordedAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // no fraction
	c.First = 1<<64 - 3
	for i, p := range payloads {
		c.Events = append(c.Events, commitEvent{ID: fmt.Sprintf("e%d", i), Type: "t.v1", Payload: json.RawMessage(p)})
	}
	out = append(out, c)

	// Strings that need escaping, or that encoding/json reads specially:
	// the fast path must leave them to it.
	for _, s := range []string{"quote\"d", `back\slash`, "new\nline", "tab\t", "ctl\x01", "bad\xffutf8", "ünïcödé 😀", "\u2028", "<&>"} {
		c = base()
		c.Stream, c.Actor.UserID, c.CorrelationID = s, s, s
		c.Events[0].Type = s
		out = append(out, c)
	}
	return out
}

func TestDecodeCommitRoundTrip(t *testing.T) {
	for _, c := range sampleCommits() {
		data := c.appendTo(nil)
		checkDecode(t, data)
		got, err := decodeCommit(data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		// What was written comes back, strings as encoding/json would
		// re-encode them (invalid UTF-8 becomes U+FFFD).
		want := *c
		var viaJSON commit
		if err := json.Unmarshal(data, &viaJSON); err != nil {
			t.Fatal(err)
		}
		want.Stream, want.Actor, want.CorrelationID = viaJSON.Stream, viaJSON.Actor, viaJSON.CorrelationID
		want.Events = viaJSON.Events
		if !got.RecordedAt.Equal(want.RecordedAt) || got.First != want.First || got.ID != want.ID ||
			!reflect.DeepEqual(got.Events, want.Events) || got.Actor != want.Actor ||
			got.CausationID != want.CausationID || got.IdempotencyKey != want.IdempotencyKey {
			t.Fatalf("round trip of %s:\n got %#v\nwant %#v", data, got, &want)
		}
	}
}

// TestDecodeCommitFastPathTaken makes sure the commits the store writes
// are read by hand, not by the fallback.
func TestDecodeCommitFastPathTaken(t *testing.T) {
	for i, c := range sampleCommits()[:4] {
		if !decodeCommitFast(c.appendTo(nil), new(commit)) {
			t.Errorf("sample %d: fast path refused %s", i, c.appendTo(nil))
		}
	}
}

func TestDecodeCommitOddBodies(t *testing.T) {
	good := string(sampleCommits()[1].appendTo(nil))
	for _, body := range []string{
		"", "null", "{}", "[]", `{"events":[]}`,
		good + " \n", good + "x", " " + good, good[:len(good)-1], good[:len(good)/2],
		strings.Replace(good, `"first":7`, `"first":07`, 1),
		strings.Replace(good, `"first":7`, `"first":0`, 1),
		strings.Replace(good, `"first":7`, `"first":7.0`, 1),
		strings.Replace(good, `"first":7`, `"first":-7`, 1),
		strings.Replace(good, `"first":7`, `"first":18446744073709551616`, 1),
		strings.Replace(good, `"first":7`, `"first":18446744073709551615`, 1),
		strings.Replace(good, `"first":7`, `"first":"7"`, 1),
		strings.Replace(good, `"id":`, `"ID":`, 1),
		strings.Replace(good, `"id":`, `"id" :`, 1),
		strings.Replace(good, `"stream":"company-42"`, `"stream":null`, 1),
		strings.Replace(good, `"stream":"company-42"`, `"stream":"company-42","stream":"other-1"`, 1),
		strings.Replace(good, `"org":"org-1"`, `"org":"org-1","extra":1`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"yesterday"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-03-04T05:06:07+02:00"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2024-02-29T23:59:59.123456789Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-02-29T00:00:00Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-03-04T24:00:00Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-03-04T05:06:60Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-13-04T05:06:07Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-03-04T05:06:07.Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-03-04T05:06:07.1234567891Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-03-04t05:06:07Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"0000-01-01T00:00:00Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-03-04T05:06:07,5Z"`, 1),
		strings.Replace(good, `"recorded_at":"2025-03-04T05:06:07.890123Z"`, `"recorded_at":"2025-3-04T05:06:07Z"`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"name":"Acme"`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"name":"A\qcme"}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"name":"A`+"\x00"+`cme"}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"name":"A`+"\xff"+`cme"}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"name":"\u12"}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"a":01}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"a":1.}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"a":-}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"a":1e}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"a":tru}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"a":[1,]}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{"a":1,}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, `{1:2}`, 1),
		strings.Replace(good, `{"name":"Acme"}`, strings.Repeat("[", 600)+strings.Repeat("]", 600), 1),
		strings.Replace(good, `{"name":"Acme"}`, strings.Repeat("[", 20000)+strings.Repeat("]", 20000), 1),
		strings.Replace(good, `{"name":"Acme"}`, "", 1),
		strings.Replace(good, `]}`, `],"more":true}`, 1),
	} {
		checkDecode(t, []byte(body))
	}
}

func FuzzDecodeCommit(f *testing.F) {
	for _, c := range sampleCommits() {
		f.Add(c.appendTo(nil))
	}
	f.Add([]byte(`{"id":"a","stream":"s-1","first":1,"recorded_at":"2025-01-01T00:00:00Z","actor":{"user":"u","role":"system"},"events":[{"id":"e","type":"t","payload":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
	})
}

func BenchmarkDecodeCommit(b *testing.B) {
	c := sampleCommits()[1]
	c.Events[0].Payload = json.RawMessage(`{"n":12,"note":"` + strings.Repeat("x", 230) + `"}`)
	data := c.appendTo(nil)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeCommit(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := referenceDecode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestStreamSequence(t *testing.T) {
	for _, tc := range []struct {
		reply string
		seq   uint64
		ok    bool
	}{
		{"$JS.ACK.EV.cons.1.42.7.1700000000000000000.3", 42, true},                                                 // v1
		{"$JS.ACK._.ACCHASH.EV.cons.1.42.7.1700000000000000000.3.tok", 42, true},                                   // v2
		{"$JS.ACK.dom.ACCHASH.EV.cons.2.18446744073709551615.7.1700000000000000000.0", 18446744073709551615, true}, // v2 without the token
		{"$JS.ACK._.ACCHASH.EV.cons.1.9.7.1700000000000000000.3.tok.more", 9, true},                                // tokens added later
		{"$JS.ACK.EV.cons.1.x2.7.1.3", 0, false},
		{"$JS.ACK.EV.cons.1..7.1.3", 0, false},
		{"$JS.ACK.EV.cons.1.42.7.1", 0, false},                     // too few tokens
		{"$JS.ACK._.H.EV.cons.1.42.7.1", 0, false},                 // ten tokens
		{"_INBOX.abc.EV.cons.1.42.7.1.3", 0, false},                // not an ack subject
		{"$JS.ACK.EV.cons.1.18446744073709551616.7.1.3", 0, false}, // too big for a uint64
		{"$JS.ACK.EV.cons.1.+42.7.1.3", 0, false},
		{"", 0, false},
	} {
		seq, ok := streamSequence(tc.reply)
		if seq != tc.seq || ok != tc.ok {
			t.Errorf("streamSequence(%q) = %d, %v; want %d, %v", tc.reply, seq, ok, tc.seq, tc.ok)
		}
	}
}

// TestDecodeCommitReusing decodes commit after commit into one value, as
// Subscribe does, and checks the events handed out before stay intact.
func TestDecodeCommitReusing(t *testing.T) {
	reuse := new(commit)
	type handed struct {
		event events.Event
		want  commitEvent
	}
	var out []handed
	for round := range 3 {
		for i, c := range sampleCommits() {
			data := c.appendTo(nil)
			want, err := referenceDecode(data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeCommitReusing(data, reuse)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, sample %d: got %#v, want %#v", round, i, got, want)
			}
			for j := range got.Events {
				out = append(out, handed{got.event(j, uint64(i)), want.Events[j]})
			}
		}
	}
	for _, h := range out {
		if h.event.ID != h.want.ID || h.event.Type != h.want.Type || !bytes.Equal(h.event.Payload, h.want.Payload) {
			t.Fatalf("event handed out changed: %+v, want %+v", h.event, h.want)
		}
	}
}

func TestParsePubAck(t *testing.T) {
	const prefix = `{"stream":"FUNDBRIDGE_EVENTS","seq":`
	for _, tc := range []struct {
		ack string
		seq uint64
		ok  bool
	}{
		{`{"stream":"FUNDBRIDGE_EVENTS","seq":1}`, 1, true},
		{`{"stream":"FUNDBRIDGE_EVENTS","seq":18446744073709551615}`, 18446744073709551615, true},
		{`{"stream":"FUNDBRIDGE_EVENTS","seq":18446744073709551616}`, 0, false},
		{`{"stream":"FUNDBRIDGE_EVENTS","seq":0}`, 0, false},
		{`{"stream":"FUNDBRIDGE_EVENTS","seq":012}`, 0, false},
		{`{"stream":"FUNDBRIDGE_EVENTS","seq":}`, 0, false},
		{`{"stream":"FUNDBRIDGE_EVENTS","seq":12,"duplicate": true}`, 0, false},
		{`{"stream":"FUNDBRIDGE_EVENTS","domain":"hub","seq":12}`, 0, false},
		{`{"stream":"OTHER","seq":12}`, 0, false},
		{`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"FUNDBRIDGE_EVENTS","seq":0}`, 0, false},
		{``, 0, false},
	} {
		seq, ok := parsePubAck([]byte(tc.ack), prefix)
		if seq != tc.seq || ok != tc.ok {
			t.Errorf("parsePubAck(%s) = %d, %v; want %d, %v", tc.ack, seq, ok, tc.seq, tc.ok)
		}
		if ok {
			var ack njs.PubAck
			if err := json.Unmarshal([]byte(tc.ack), &ack); err != nil || ack.Sequence != seq || ack.Duplicate {
				t.Errorf("encoding/json reads %s as %+v, %v", tc.ack, ack, err)
			}
		}
	}
}
