package svc

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/oklog/ulid/v2"
)

// NewID returns the ID of an aggregate a request creates. A request with
// an idempotency key gets the same ID every time it is retried (derived
// from the operation, the actor's org and user, and the key), so a retried
// create finds its first result instead of creating a twin. Without a key
// it is a fresh ULID. Either way it is 26 lower-case letters and digits,
// so an ID does not show how it was asked for.
func (r *Request) NewID(op string) string {
	if r.IdempotencyKey == "" {
		return strings.ToLower(ulid.Make().String())
	}
	return DerivedID(op, r.Actor.OrgID, r.Actor.UserID, r.IdempotencyKey)
}

// DerivedID is an aggregate ID made from parts, the same for the same
// parts, in the shape of every other ID (26 lower-case letters and
// digits): for what a retried step must name again, such as the policy
// bound from a quote.
func DerivedID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])[:26])
}
