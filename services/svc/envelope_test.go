package svc

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/fundbridge/fundbridge"
)

// The envelopes' encoding changed library, not format: what one side
// writes with it, encoding/json reads alike, and the other way round;
// the payload and result bytes are carried as the sender wrote them.
func TestEnvelopesReadAsWithEncodingJSON(t *testing.T) {
	exp := uint64(3)
	reqs := []Request{
		{ID: "R1", Actor: fundbridge.Actor{UserID: "U1", Role: fundbridge.RoleStartup, OrgID: "C1"}, CorrelationID: "K1", CausationID: "Z1",
			IdempotencyKey: "key", ExpectedVersion: &exp, Payload: json.RawMessage(`{"name":"智元 \u003cAI\u003e \u2028","n":[1,2]}`)},
		{ID: "R2", Actor: fundbridge.Actor{UserID: "system", Role: fundbridge.RoleSystem}},
	}
	for _, req := range reqs {
		ours, err := encodeRequest(&req)
		if err != nil {
			t.Fatal(err)
		}
		theirs, _ := json.Marshal(&req)
		var a, b Request
		if err := json.Unmarshal(ours, &a); err != nil {
			t.Fatalf("encoding/json reads %s: %v", ours, err)
		}
		if err := decodeRequest(theirs, &b); err != nil {
			t.Fatalf("reading %s: %v", theirs, err)
		}
		if !reflect.DeepEqual(a, req) || !reflect.DeepEqual(b, req) {
			t.Errorf("request %+v: read back as %+v and %+v", req, a, b)
		}
	}
	// An empty payload or result is left out, as encoding/json leaves it.
	empty, err := encodeRequest(&Request{ID: "R3", Actor: fundbridge.Actor{UserID: "U1", Role: fundbridge.RoleOperator}, Payload: json.RawMessage{}})
	if theirs, _ := json.Marshal(&Request{ID: "R3", Actor: fundbridge.Actor{UserID: "U1", Role: fundbridge.RoleOperator}, Payload: json.RawMessage{}}); err != nil || string(empty) != string(theirs) {
		t.Errorf("empty payload: %s (%v), encoding/json writes %s", empty, err, theirs)
	}
	if ours, err := encodeReply(Reply{OK: true, Result: json.RawMessage{}}); err != nil || string(ours) != `{"ok":true}` {
		t.Errorf("empty result: %s (%v)", ours, err)
	}
	replies := []Reply{
		{OK: true, Result: json.RawMessage(`{"company_name":"\u003cb\u003e","amount":"1.00"}`), Position: 42, Version: 3},
		{OK: true},
		{Error: &fundbridge.Error{Code: fundbridge.EINVALID, Message: "malformed request", Fields: []fundbridge.FieldError{{Field: "amount", Reason: "must be a string"}}}},
		{Error: &fundbridge.Error{Code: fundbridge.ENOTFOUND, Message: "no company C1"}},
	}
	for _, r := range replies {
		ours, err := encodeReply(r)
		if err != nil {
			t.Fatal(err)
		}
		theirs, _ := json.Marshal(r)
		if string(ours) != string(theirs) {
			t.Errorf("reply %+v: %s, encoding/json writes %s", r, ours, theirs)
		}
		var got Reply
		if err := decodeReply(theirs, &got); err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("reply %s read as %+v (%v)", theirs, got, err)
		}
	}
}

// A request whose payload is not valid UTF-8 is still a request: the
// payload's decoding names the fault, as it did.
func TestAnEnvelopeCarriesAPayloadWithInvalidUTF8(t *testing.T) {
	data := []byte("{\"id\":\"R1\",\"actor\":{\"user\":\"U1\",\"role\":\"startup\"},\"payload\":{\"name\":\"\xff\"}}")
	var req Request
	if err := decodeRequest(data, &req); err != nil {
		t.Fatalf("the envelope is refused: %v", err)
	}
	var q struct {
		Name string `json:"name"`
	}
	if err := Decode(req.Payload, &q); fundbridge.ErrorCode(err) != fundbridge.EINVALID {
		t.Errorf("the payload's decoding: %v", err)
	}
}
