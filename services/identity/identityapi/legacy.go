package identityapi

import "encoding/json"

// UserRegisteredV1 is the first version of UserRegistered, which carried
// the bcrypt hash in the clear.
const UserRegisteredV1 = "user.registered.v1"

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
