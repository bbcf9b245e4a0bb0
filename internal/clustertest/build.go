// Package clustertest runs Fundbridge as it runs on many machines, on one:
// nats-server processes built from the Go module proxy, each service as
// its own fundbridge serve process, all on 127.0.0.1. The deploy files'
// test and the fault test use it.
package clustertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// ModuleRoot is the directory of the repository's go.mod.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the fundbridge module")
	}
	return filepath.Dir(mod), nil
}

var natsOnce struct {
	sync.Mutex
	path string
}

// NATSServer returns the path of a nats-server binary at the version
// go.mod requires, built with go install from the module proxy into the
// user's cache directory the first time (later runs reuse it).
func NATSServer(ctx context.Context) (string, error) {
	natsOnce.Lock()
	defer natsOnce.Unlock()
	if natsOnce.path != "" {
		return natsOnce.path, nil
	}
	root, err := ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	list := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", "github.com/nats-io/nats-server/v2")
	list.Dir = root
	out, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m nats-server: %w", err)
	}
	version := strings.TrimSpace(string(out))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "fundbridge", "nats-server-"+version)
	path := filepath.Join(bin, "nats-server")
	if _, err := os.Stat(path); err == nil {
		natsOnce.path = path
		return path, nil
	}
	install := exec.CommandContext(ctx, "go", "install", "github.com/nats-io/nats-server/v2@"+version)
	install.Dir = os.TempDir() // outside the module: go install pkg@version
	install.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=")
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install nats-server@%s: %w\n%s", version, err, out)
	}
	natsOnce.path = path
	return path, nil
}

// Fundbridge builds ./cmd/fundbridge into dir and returns its path.
func Fundbridge(ctx context.Context, dir string) (string, error) {
	root, err := ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "fundbridge")
	build := exec.CommandContext(ctx, "go", "build", "-o", path, "./cmd/fundbridge")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/fundbridge: %w\n%s", err, out)
	}
	return path, nil
}
