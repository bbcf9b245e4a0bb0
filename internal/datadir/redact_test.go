package datadir

import (
	"strings"
	"testing"
)

// The command line written in the directory keeps no password.
func TestTheHolderKeepsNoSecret(t *testing.T) {
	got := strings.Join(redacted([]string{"fundbridge", "dev", "--operator-password", "amber falcon", "--demo",
		"--token-secret=s3cret", "-password", "x", "--data-dir", "data"}), " ")
	want := "fundbridge dev --operator-password … --demo --token-secret=… -password … --data-dir data"
	if got != want {
		t.Errorf("redacted = %q, want %q", got, want)
	}
}
