package svc

import (
	"regexp"
	"testing"

	"github.com/fundbridge/fundbridge"
)

// An ID looks the same whether its request had an Idempotency-Key or
// not, and a retry with the key gets the same one.
func TestNewIDOneShape(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-z]{26}$`)
	actor := fundbridge.Actor{UserID: "u1", Role: fundbridge.RoleStartup, OrgID: "c1"}
	fresh := (&Request{Actor: actor}).NewID("applications.draft")
	keyed := (&Request{Actor: actor, IdempotencyKey: "k-1"}).NewID("applications.draft")
	again := (&Request{Actor: actor, IdempotencyKey: "k-1"}).NewID("applications.draft")
	derived := DerivedID("policy", "q-1")
	if derived != DerivedID("policy", "q-1") || derived == DerivedID("policy", "q-2") {
		t.Errorf("DerivedID is not a function of its parts: %q", derived)
	}
	for _, id := range []string{fresh, keyed, derived} {
		if !shape.MatchString(id) {
			t.Errorf("ID %q is not 26 lower-case letters and digits", id)
		}
	}
	if keyed != again {
		t.Errorf("a retry got %q, the first %q", again, keyed)
	}
	if other := (&Request{Actor: actor}).NewID("applications.draft"); other == fresh {
		t.Errorf("two requests without a key got one ID %q", fresh)
	}
}
