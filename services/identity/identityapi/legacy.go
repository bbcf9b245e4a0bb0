package identityapi

import "encoding/json"

// Earlier versions of identity's events. Events never change once
// written: these are read through upcasters to the newest version.
const (
	// UserRegisteredV1 carried the bcrypt hash in the clear.
	UserRegisteredV1 = "user.registered.v1"
	// UserRegisteredV2 carried the email and name in the clear.
	UserRegisteredV2 = "user.registered.v2"
	// EmailClaimedV1 carried the email in the clear.
	EmailClaimedV1 = "email.claimed.v1"
)

// upcastUserRegisteredV1 reads a v1 event as v2. Events never change, so
// the clear hash of a v1 event stays in the log: identity reads it from
// LegacyHash to keep those users signing in, and the audit service
// redacts it from the trail.
func upcastUserRegisteredV1(payload json.RawMessage) (json.RawMessage, error) {
	var v1 map[string]json.RawMessage
	if err := json.Unmarshal(payload, &v1); err != nil {
		return nil, err
	}
	if h, ok := v1["password_hash"]; ok {
		v1["legacy_password_hash"] = h
		delete(v1, "password_hash")
	}
	v1["credential"] = json.RawMessage(`""`)
	return json.Marshal(v1)
}

// upcastUserRegisteredV2 reads a v2 event as v3: its clear email and name
// stay where they were (v3 keeps those fields for old events only), and it
// has nothing sealed in Personal. Erasing such a user hides them in the
// views, but their old event still holds the clear text.
func upcastUserRegisteredV2(payload json.RawMessage) (json.RawMessage, error) {
	var v2 map[string]json.RawMessage
	if err := json.Unmarshal(payload, &v2); err != nil {
		return nil, err
	}
	v2["personal"] = json.RawMessage(`""`)
	return json.Marshal(v2)
}

// upcastEmailClaimedV1 reads a v1 claim as v2, leaving the clear email out:
// the claim's stream already names the address by its hash.
func upcastEmailClaimedV1(payload json.RawMessage) (json.RawMessage, error) {
	var v1 map[string]json.RawMessage
	if err := json.Unmarshal(payload, &v1); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]json.RawMessage{"user_id": v1["user_id"]})
}
