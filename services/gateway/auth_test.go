package gateway

import (
	"bytes"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/fundbridge/fundbridge"
)

func TestSigningKeyRotation(t *testing.T) {
	oldKey, newKey, strangerKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	actor := fundbridge.Actor{UserID: "u1", Role: fundbridge.RoleBank, OrgID: "o1"}
	mustTokens := func(key []byte, others ...[]byte) *Tokens {
		t.Helper()
		tk, err := NewTokens(key, time.Hour, others...)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	issue := func(tk *Tokens) string {
		s, _, err := tk.Issue(actor)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := mustTokens(oldKey)
	phase1 := mustTokens(oldKey, newKey) // every instance learns the new key
	phase2 := mustTokens(newKey, oldKey) // then signs with it
	after := mustTokens(newKey)          // the old one dropped once its tokens expired

	for _, tc := range []struct {
		name   string
		token  string
		verify *Tokens
		ok     bool
	}{
		{"old token, phase 1", issue(before), phase1, true},
		{"old token, phase 2", issue(before), phase2, true},
		{"phase 2 token on a phase 1 instance", issue(phase2), phase1, true},
		{"phase 1 token on a phase 2 instance", issue(phase1), phase2, true},
		{"old token after the rotation", issue(before), after, false},
		{"a stranger's key", issue(mustTokens(strangerKey)), phase2, false},
	} {
		_, err := tc.verify.Verify(tc.token)
		if (err == nil) != tc.ok {
			t.Errorf("%s: verify = %v, want ok %v", tc.name, err, tc.ok)
		}
	}

	// A token from before key IDs (no kid) still verifies while its key is known.
	c := claims{Role: actor.Role, Org: actor.OrgID, RegisteredClaims: jwt.RegisteredClaims{Subject: actor.UserID, Issuer: issuer,
		IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}
	legacy, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := phase2.Verify(legacy); err != nil || a != actor {
		t.Errorf("a token without a key ID = %+v %v", a, err)
	}
	if _, err := NewTokens(newKey, time.Hour, []byte("short")); err == nil {
		t.Error("a short previous key accepted")
	}
}
