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

// A cluster of one, set up as docs/security-nats.md says: seeds and
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
	body := "listen: 127.0.0.1:-1\njetstream {store_dir: " + `"` + filepath.Join(dir, "js") + `"` + "}\ninclude credentials/authorization.conf\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
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
	srv := exec.CommandContext(ctx, bin, "serve", "audit", "--nats", url, "--log-format", "text")
	srv.Env = append(os.Environ(), "FUNDBRIDGE_NATS_CREDS="+filepath.Join(creds, "audit.nk"))
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
	gw, err := nats.NkeyOptionFromSeed(filepath.Join(creds, "gateway.nk"))
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
