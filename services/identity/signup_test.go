package identity

import (
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
)

func TestClaimForSignup(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	fresh := claimState{UserID: "u1", ClaimedAt: now.Add(-time.Minute)}
	stale := claimState{UserID: "u1", ClaimedAt: now.Add(-abandonedAfter - time.Second)}
	for _, tc := range []struct {
		name       string
		given      claimState
		holderGone bool
		events     int
		code       string
	}{
		{"a free email is claimed", claimState{}, false, 1, ""},
		{"the sign-up's own claim is kept", claimState{UserID: "u2", ClaimedAt: now}, false, 0, ""},
		{"another's claim is refused", fresh, false, 0, fundbridge.ECONFLICT},
		{"another's registered user keeps it however old", stale, false, 0, fundbridge.ECONFLICT},
		{"an unregistered holder keeps it while it may still be running", fresh, true, 0, fundbridge.ECONFLICT},
		{"an abandoned claim is taken over", stale, true, 2, ""},
	} {
		got, err := claimForSignup(tc.given, "a@b.cn", "u2", tc.holderGone, now)
		if fundbridge.ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) || len(got) != tc.events {
			t.Errorf("%s: %v %v, want %d events, error %q", tc.name, got, err, tc.events, tc.code)
		}
		if tc.events == 2 {
			if r, ok := got[0].(identityapi.EmailReleased); !ok || r.UserID != "u1" {
				t.Errorf("%s: %v, want u1's claim released first", tc.name, got)
			}
		}
	}
}
