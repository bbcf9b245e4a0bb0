package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
)

// Two gateway instances on one bucket: what one revokes, the other
// refuses once its watch delivers it, and one started later knows before
// it returns.
func TestRevocationsReachEveryInstance(t *testing.T) {
	ctx := context.Background()
	env := testenv.Start(t, events.NewRegistry())
	first, err := OpenRevocations(ctx, env.Conn, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := OpenRevocations(ctx, env.Conn, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()

	tokens, err := NewTokens([]byte(strings.Repeat("k", 32)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tokens.revoked = second
	erased := fundbridge.Actor{UserID: "user-erased", Role: fundbridge.RoleStartup, OrgID: "co-1"}
	kept := fundbridge.Actor{UserID: "user-kept", Role: fundbridge.RoleStartup, OrgID: "co-1"}
	tok, _, _ := tokens.Issue(erased)
	other, _, _ := tokens.Issue(kept)
	if _, err := tokens.Verify(tok); err != nil { // and now remembered as verified
		t.Fatalf("before revocation: %v", err)
	}

	if err := first.Revoke(ctx, erased.UserID); err != nil {
		t.Fatal(err)
	}
	if !first.Revoked(erased.UserID) {
		t.Fatal("the instance that revoked does not know it")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !second.Revoked(erased.UserID) {
		if time.Now().After(deadline) {
			t.Fatal("the other instance never learnt of the revocation")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := tokens.Verify(tok); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED || !strings.Contains(err.Error(), "erased") {
		t.Errorf("a revoked token, remembered as verified: %v", err)
	}
	if _, err := tokens.Verify(other); err != nil {
		t.Errorf("another user's token: %v", err)
	}

	later, err := OpenRevocations(ctx, env.Conn, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer later.Close()
	if !later.Revoked(erased.UserID) || later.Revoked(kept.UserID) {
		t.Errorf("an instance started after: revoked %v, kept revoked %v", later.Revoked(erased.UserID), later.Revoked(kept.UserID))
	}
}
