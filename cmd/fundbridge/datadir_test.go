package main_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// One owner per data directory: a second dev on it refuses at once and
// names the first; a projections rebuild runs online in the first, over
// NATS, and after a restart every acknowledged write is still there.
func TestOneOwnerPerDataDirectoryAndRebuildOnline(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	p := startDev(t, bin, dir)
	token := signIn(t, p.http, "ops@dev.test", "operator-password")
	if token == "" {
		t.Fatal("no operator token")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "dev", "--data-dir", dir, "--http-addr", "127.0.0.1:0", "--nats-addr", "127.0.0.1:0").CombinedOutput()
	if ctx.Err() != nil {
		t.Fatal("a second dev on the same directory hung")
	}
	if err == nil || !strings.Contains(string(out), "is in use by pid") || !strings.Contains(string(out), "dev") {
		t.Errorf("second dev on %s: %v\n%s", dir, err, out)
	}

	out, err = exec.CommandContext(ctx, bin, "serve", "views", "--data-dir", dir, "--nats", p.nats,
		"--creds", filepath.Join(dir, "credentials", "views.nk")).CombinedOutput()
	if ctx.Err() != nil || err == nil || !strings.Contains(string(out), "is in use by pid") {
		t.Errorf("serve views on a directory in use: %v\n%s", err, out)
	}

	out, err = exec.CommandContext(ctx, bin, "projections", "rebuild", "--data-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "rebuilding there, online") || !strings.Contains(string(out), "Rebuilt all projections online") {
		t.Errorf("rebuild beside a running dev: %v\n%s", err, out)
	}
	p.stop(t)

	// The rebuild changed nothing in the log: the operator created on the
	// first start still signs in after a restart.
	p = startDev(t, bin, dir)
	if signIn(t, p.http, "ops@dev.test", "operator-password") == "" {
		t.Error("the operator is gone after a rebuild and a restart")
	}
	p.stop(t)

	// A mistyped directory is refused, and not made.
	missing := filepath.Join(t.TempDir(), "datta")
	out, err = exec.CommandContext(ctx, bin, "projections", "rebuild", "--data-dir", missing).CombinedOutput()
	if _, serr := os.Stat(missing); err == nil || !strings.Contains(string(out), "no data directory at") || serr == nil {
		t.Errorf("rebuild of a missing directory: %v\n%s", err, out)
	}

	// The embedded server's own directory, given as a data directory by
	// mistake, is refused rather than given a second, empty log.
	out, err = exec.CommandContext(ctx, bin, "dev", "--data-dir", filepath.Join(dir, "nats"), "--http-addr", "127.0.0.1:0", "--nats-addr", "127.0.0.1:0").CombinedOutput()
	if ctx.Err() != nil || err == nil || !strings.Contains(string(out), "inside the data directory "+dir) {
		t.Errorf("dev on %s/nats: %v\n%s", dir, err, out)
	}

	// With nothing running, the rebuild opens the directory itself.
	out, err = exec.CommandContext(ctx, bin, "projections", "rebuild", "--data-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Rebuilt all projections to position") {
		t.Errorf("offline rebuild: %v\n%s", err, out)
	}
}

func TestHelpOnASubcommandExitsZero(t *testing.T) {
	bin := binary(t)
	for _, args := range [][]string{{"--help"}, {"dev", "--help"}, {"serve", "--help"}, {"projections", "--help"}, {"projections", "rebuild", "--help"}, {"demo", "--help"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
}
