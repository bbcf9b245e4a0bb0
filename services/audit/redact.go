package audit

import (
	"encoding/json"
	"strings"

	"github.com/fundbridge/fundbridge/events"
)

// Redacted stands in for a secret in the trail.
const Redacted = "[redacted]"

// secretField reports whether a payload field holds a secret: a password,
// a hash of one (user.registered.v1 carried bcrypt hashes in the clear;
// events never change, so they are still in the log), a sealed credential,
// a token or a key. The trail shows that the field was there, not what.
func secretField(name string) bool {
	n := strings.ToLower(name)
	for _, word := range []string{"password", "secret", "credential", "token", "private_key", "signing_key"} {
		if strings.Contains(n, word) {
			return true
		}
	}
	return strings.HasSuffix(n, "_hash")
}

// redact returns the events with every secret field of their payloads,
// at any depth, replaced by Redacted.
func redact(evs []events.Event) []events.Event {
	out := make([]events.Event, len(evs))
	for i, e := range evs {
		out[i] = e
		var v any
		if json.Unmarshal(e.Payload, &v) != nil {
			out[i].Payload = json.RawMessage(`"` + Redacted + `: not JSON"`)
			continue
		}
		if redactValue(v) {
			if p, err := json.Marshal(v); err == nil {
				out[i].Payload = p
			}
		}
	}
	return out
}

// redactValue redacts v in place and reports whether it changed anything.
func redactValue(v any) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretField(k) {
				x[k] = Redacted
				changed = true
				continue
			}
			changed = redactValue(e) || changed
		}
	case []any:
		for _, e := range x {
			changed = redactValue(e) || changed
		}
	}
	return changed
}
