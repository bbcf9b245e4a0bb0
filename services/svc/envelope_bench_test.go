package svc

import (
	"encoding/json"
	"testing"

	"github.com/fundbridge/fundbridge"
)

// A draft as the gateway sends it and the applications service answers it.
const (
	benchPayload = `{"amount_requested":"5000000.00","instruments":["equity","venture_loan"],"use_of_funds":"GPUs and hiring","credit_data_consent":true}`
	benchResult  = `{"application_id":"01JD0000000000000000000001","company_name":"Deep Vision Ltd","company_id":"01JD0000000000000000000002","stage":"growth","layer":"technology","sector":"computer_vision","city":"beijing","status":"draft","amount_requested":"5000000.00","instruments":["equity","venture_loan"],"use_of_funds":"GPUs and hiring","credit_data_consent":true,"credit_data_shared":true,"fund_ids":[],"reviewed_by":[],"deals":[],"status_history":[],"created_at":"2026-11-30T08:00:00Z","updated_at":"2026-11-30T08:00:00Z","version":1}`
)

// BenchmarkEnvelope is one command's request and reply envelopes, each
// encoded by one side and decoded by the other, as Client.Call and
// serveOne do (go test -bench Envelope -benchmem ./services/svc).
func BenchmarkEnvelope(b *testing.B) {
	exp := uint64(3)
	req := &Request{ID: "01JD0000000000000000000003", Actor: fundbridge.Actor{UserID: "01JD0000000000000000000004", Role: fundbridge.RoleStartup, OrgID: "01JD0000000000000000000002"},
		CorrelationID: "01JD0000000000000000000005", IdempotencyKey: "5f0c7a1e9b2d4c3a8e6f1b0d2c4a6e8f", ExpectedVersion: &exp, Payload: json.RawMessage(benchPayload)}
	b.ReportAllocs()
	for b.Loop() {
		data, err := encodeRequest(req)
		if err != nil {
			b.Fatal(err)
		}
		var got Request
		if err := decodeRequest(data, &got); err != nil {
			b.Fatal(err)
		}
		out, err := encodeReply(Reply{OK: true, Result: json.RawMessage(benchResult), Position: 123456, Version: 1})
		if err != nil {
			b.Fatal(err)
		}
		var reply Reply
		if err := decodeReply(out, &reply); err != nil {
			b.Fatal(err)
		}
	}
}
