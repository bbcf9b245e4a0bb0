package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// A cluster of one, set up as SECURITY.md says: seeds and
// authorization.conf from fundbridge nats credentials, a nats-server that
// includes it, the streams created by the admin, and a service serving
// with its own credentials only.
func TestServeOnAnExternalServerWithCredentials(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if out, err := exec.Command(bin, "nats", "credentials", "--dir", creds).CombinedOutput(); err != nil {
		t.Fatalf("nats credentials: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "nats-server.conf")
	body := "listen: 127.0.0.1:-1\njetstream {store_dir: " + `"` + filepath.Join(dir, "js") + `"` + "}\ninclude users.conf\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	useUsers(t, dir, creds)
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	opts.NoSigs, opts.NoLog = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	url := ns.ClientURL()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "nats", "streams", "--nats", url, "--creds", filepath.Join(creds, "admin.nk")).CombinedOutput(); err != nil || !strings.Contains(string(out), "ready") {
		t.Fatalf("nats streams: %v\n%s", err, out)
	}
	// Without credentials a service is turned away at once.
	out, err := exec.CommandContext(ctx, bin, "serve", "audit", "--nats", url).CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "authorization") {
		t.Errorf("serve without credentials: %v %s", err, out)
	}
	// With its own, it serves; the gateway's user reaches it.
	serveAudit(ctx, t, bin, url, filepath.Join(creds, "audit.nk"))
	headAsGateway(ctx, t, url, filepath.Join(creds, "gateway.nk"))

	// Rotation: new keys, accepted beside the old; a new instance on the
	// new key; then the old keys are dropped and the service still answers.
	next := filepath.Join(dir, "credentials-next")
	if out, err := exec.Command(bin, "nats", "credentials", "--dir", next, "--also", creds).CombinedOutput(); err != nil {
		t.Fatalf("nats credentials --also: %v\n%s", err, out)
	}
	useUsers(t, dir, next)
	if err := ns.Reload(); err != nil {
		t.Fatal(err)
	}
	serveAudit(ctx, t, bin, url, filepath.Join(next, "audit.nk"))
	if out, err := exec.Command(bin, "nats", "credentials", "--dir", next).CombinedOutput(); err != nil {
		t.Fatalf("nats credentials: %v\n%s", err, out)
	}
	useUsers(t, dir, next)
	if err := ns.Reload(); err != nil {
		t.Fatal(err)
	}
	headAsGateway(ctx, t, url, filepath.Join(next, "gateway.nk"))
	old, _ := nats.NkeyOptionFromSeed(filepath.Join(creds, "gateway.nk"))
	if nc, err := nats.Connect(url, old); err == nil {
		nc.Close()
		t.Error("a dropped key still connects")
	}
}

// useUsers makes the server's users those of a credentials directory.
func useUsers(t *testing.T, dir, creds string) {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join(creds, "authorization.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.conf"), conf, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveAudit runs fundbridge serve audit with a seed until the test ends.
func serveAudit(ctx context.Context, t *testing.T, bin, url, seed string) {
	t.Helper()
	srv := exec.CommandContext(ctx, bin, "serve", "audit", "--nats", url, "--log-format", "text")
	srv.Env = append(os.Environ(), "FUNDBRIDGE_NATS_CREDS="+seed)
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	lines := bufio.NewScanner(stderr)
	for lines.Scan() && !strings.Contains(lines.Text(), "serving") {
	}
	go func() {
		for lines.Scan() {
		}
	}()
}

// headAsGateway asks audit for the log's head as the gateway's user.
func headAsGateway(ctx context.Context, t *testing.T, url, seed string) {
	t.Helper()
	gw, err := nats.NkeyOptionFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, gw, nats.CustomInboxPrefix("_INBOX.gateway"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var reply struct {
		OK bool `json:"ok"`
	}
	for {
		msg, err := nc.RequestWithContext(ctx, "fb.svc.audit.head", []byte(`{"id":"r1","actor":{"user":"gateway","role":"system"}}`))
		if err == nil {
			_ = json.Unmarshal(msg.Data, &reply)
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("audit never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !reply.OK {
		t.Error("audit.head refused the gateway")
	}
}
