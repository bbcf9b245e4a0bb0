package audit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge/events"
)

// The service's answers go through redact; the black-box suite reads a
// user's trail through the whole product (internal/app).
func TestRedactHidesSecretsAtAnyDepth(t *testing.T) {
	v1 := `{"user_id":"u1","email":"a@b.cn","password_hash":"$2a$10$0123456789012345678901uabcdefghijklmnopqrstuvwxyzABCD",` +
		`"nested":{"api_token":"tok-secret","kept":"visible","list":[{"client_secret":"s3"}]}}`
	v2 := `{"user_id":"u2","credential":"aesgcm:0a1b2c3d:AAAA"}`
	plain := `{"fund_id":"f1","amount":"100.00"}`
	in := []events.Event{{Type: "user.registered.v1", Payload: json.RawMessage(v1)}, {Type: "user.registered.v2", Payload: json.RawMessage(v2)},
		{Type: "fund.registered.v1", Payload: json.RawMessage(plain)}}
	out := redact(in)
	for _, secret := range []string{"$2a$", "tok-secret", "s3", "aesgcm"} {
		for _, e := range out {
			if strings.Contains(string(e.Payload), secret) {
				t.Errorf("%s still shows %q: %s", e.Type, secret, e.Payload)
			}
		}
	}
	var got map[string]any
	_ = json.Unmarshal(out[0].Payload, &got)
	nested := got["nested"].(map[string]any)
	if got["password_hash"] != Redacted || got["email"] != "a@b.cn" || nested["kept"] != "visible" || nested["api_token"] != Redacted {
		t.Errorf("redacted v1 = %s; want the secrets marked and the rest as it was", out[0].Payload)
	}
	if string(out[2].Payload) != plain {
		t.Errorf("an event without secrets changed: %s", out[2].Payload)
	}
	if string(in[0].Payload) != v1 {
		t.Error("redact changed the events it was given")
	}
}
