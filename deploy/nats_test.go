package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge/internal/clustertest"
)

// checkNATSImage holds a deployment's nats-server image to the version the
// product is built and tested with (go.mod).
func checkNATSImage(t *testing.T, where, image string) {
	t.Helper()
	path, err := clustertest.NATSServer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimPrefix(filepath.Base(filepath.Dir(path)), "nats-server-v")
	if !strings.HasPrefix(image, "nats:"+version) {
		t.Errorf("%s runs %s, want nats-server %s (go.mod)", where, image, version)
	}
}

// checkNATSConfig runs nats-server -t on deploy/nats/nats-server.conf with
// a node's environment, next to an auth directory written by the binary
// (authorization.conf and the TLS files): the server must accept it.
func checkNATSConfig(t *testing.T, where string, env map[string]string, credDir string) {
	t.Helper()
	server, err := clustertest.NATSServer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join("nats", "nats-server.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nats-server.conf"), conf, 0o600); err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "auth")
	if err := os.CopyFS(auth, os.DirFS(credDir)); err != nil {
		t.Fatal(err)
	}
	b := fundbridge(t)
	if out, err := b.run(t, "nats", "tls", "--dir", auth); err != nil {
		t.Fatalf("fundbridge nats tls: %v\n%s", err, out)
	}
	// The files the node's environment names are where the deployment
	// mounts them; here they are in dir.
	vars := []string{}
	for k, v := range env {
		switch {
		case strings.HasPrefix(k, "NATS_TLS_"):
			v = filepath.Join(auth, filepath.Base(v))
			if _, err := os.Stat(v); err != nil {
				t.Errorf("%s: %s names %s, which fundbridge nats credentials/tls does not write", where, k, filepath.Base(v))
			}
		case k == "NATS_STORE_DIR":
			v = filepath.Join(dir, "jetstream")
		}
		vars = append(vars, k+"="+v)
	}
	cmd := exec.Command(server, "-t", "-c", filepath.Join(dir, "nats-server.conf"))
	cmd.Env = vars
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: nats-server -t refuses deploy/nats/nats-server.conf: %v\n%s", where, err, out)
	}
}
