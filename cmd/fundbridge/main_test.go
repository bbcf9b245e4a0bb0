package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func absPath(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// binary builds the fundbridge command once per test run.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fundbridge")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type devProcess struct {
	cmd    *exec.Cmd
	http   string
	nats   string
	stdout *bufio.Reader
	lines  []string
}

func startDev(t *testing.T, bin, dataDir string, env ...string) *devProcess {
	t.Helper()
	cmd := exec.Command(bin, "dev", "--http-addr", "127.0.0.1:0", "--nats-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), append([]string{"FUNDBRIDGE_DATA_DIR=" + dataDir,
		"FUNDBRIDGE_OPERATOR_EMAIL=ops@dev.test", "FUNDBRIDGE_OPERATOR_PASSWORD=operator-password"}, env...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &devProcess{cmd: cmd, stdout: bufio.NewReader(stdout)}
	httpRe := regexp.MustCompile(`HTTP\s+(http://\S+)`)
	natsRe := regexp.MustCompile(`NATS\s+(nats://\S+)`)
	deadline := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for {
		line, err := p.stdout.ReadString('\n')
		if err != nil {
			t.Fatalf("dev exited before it was ready: %v (printed %q)", err, p.lines)
		}
		p.lines = append(p.lines, line)
		if m := httpRe.FindStringSubmatch(line); m != nil {
			p.http = m[1]
		}
		if m := natsRe.FindStringSubmatch(line); m != nil {
			p.nats = m[1]
		}
		if strings.Contains(line, "Ctrl-C") {
			return p
		}
	}
}

func (p *devProcess) stop(t *testing.T) string {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(p.stdout)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v after Ctrl-C", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not stop within 30s of Ctrl-C")
	}
	return string(rest)
}

func signIn(t *testing.T, base, email, password string) string {
	t.Helper()
	body := strings.NewReader(`{"email":"` + email + `","password":"` + password + `"}`)
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err = http.Post(base+"/api/v1/auth/token", "application/json", body)
		if err == nil && resp.StatusCode == 200 {
			break
		}
		body = strings.NewReader(`{"email":"` + email + `","password":"` + password + `"}`)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out.AccessToken
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestDevRunsPrintsWhereAndStopsCleanly(t *testing.T) {
	bin := binary(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startDev(t, bin, dataDir)
	if p.http == "" || p.nats == "" || strings.HasSuffix(p.http, ":0") || strings.HasSuffix(p.nats, ":0") {
		t.Fatalf("dev did not print the real addresses: %q", p.lines)
	}
	// NATS is closed to strangers; dev says where the admin's key is.
	if nc, err := nats.Connect(p.nats); err == nil {
		nc.Close()
		t.Error("dev's NATS took a connection without credentials")
	}
	adminKey := filepath.Join(dataDir, "credentials", "admin.nk")
	if printed := strings.Join(p.lines, ""); !strings.Contains(printed, "--nkey "+absPath(t, adminKey)) {
		t.Errorf("dev does not print how to use the admin's key %s: %q", adminKey, printed)
	}
	if nkey, err := nats.NkeyOptionFromSeed(adminKey); err != nil {
		t.Error(err)
	} else if nc, err := nats.Connect(p.nats, nkey); err != nil {
		t.Errorf("the admin's key: %v", err)
	} else {
		nc.Close()
	}
	if code, body := getJSON(t, p.http+"/healthz"); code != 200 || body["status"] != "ok" {
		t.Errorf("healthz = %d %v", code, body)
	}
	// Ready once the services answer over NATS.
	var code int
	var body map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if code, body = getJSON(t, p.http+"/readyz"); code == 200 {
			break
		}
	}
	if code != 200 || body["status"] != "ready" {
		t.Errorf("readyz = %d %v", code, body)
	}
	resp, err := http.Get(p.http + "/no/such/route")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown route = %d %s, want 404 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The operator signs in; the token outlives a restart (the signing key
	// is kept in the data directory).
	token := signIn(t, p.http, "ops@dev.test", "operator-password")
	if out := p.stop(t); !strings.Contains(out, "Stopped.") {
		t.Errorf("shutdown output %q lacks Stopped.", out)
	}
	// The event log is on disk where the flag said.
	if _, err := os.Stat(filepath.Join(dataDir, "nats", "jetstream")); err != nil {
		t.Errorf("no JetStream data under %s: %v", dataDir, err)
	}
	// The views rebuild from the log on disk.
	out, err := exec.Command(bin, "projections", "rebuild", "--data-dir", dataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Rebuilt all projections") {
		t.Errorf("projections rebuild: %v\n%s", err, out)
	}
	// And it starts again on the same directory, with the same operator
	// and signing key.
	p = startDev(t, bin, dataDir)
	req, _ := http.NewRequest("GET", p.http+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err = http.DefaultClient.Do(req); err == nil && resp.StatusCode != 503 {
			break
		}
	}
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("a token from before the restart: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	p.stop(t)
}

func TestServeWithoutNATSFailsFast(t *testing.T) {
	bin := binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "audit", "--nats", "nats://127.0.0.1:1").CombinedOutput()
	if ctx.Err() != nil {
		t.Fatal("serve hung without NATS")
	}
	var exit *exec.ExitError
	if err == nil || !errorsAs(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("serve without NATS: %v, want a non-zero exit", err)
	}
	if !strings.Contains(string(out), "cannot reach NATS at nats://127.0.0.1:1") {
		t.Errorf("message %q does not say NATS is unreachable", out)
	}
}

func TestUsageAndVersion(t *testing.T) {
	bin := binary(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "fundbridge ") {
		t.Errorf("version = %q, %v", out, err)
	}
	out, _ = exec.Command(bin, "dev", "--help").CombinedOutput()
	for _, want := range []string{"--data-dir", "FUNDBRIDGE_DATA_DIR", "--http-addr", "FUNDBRIDGE_HTTP_ADDR", "--nats-addr", "FUNDBRIDGE_NATS_ADDR"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dev --help lacks %s:\n%s", want, out)
		}
	}
	if err := exec.Command(bin, "frobnicate").Run(); err == nil {
		t.Error("an unknown command exited 0")
	}
	out, err = exec.Command(bin, "serve", "nosuch", "--nats", "nats://127.0.0.1:1").CombinedOutput()
	if err == nil {
		t.Errorf("serve of an unknown service exited 0: %s", out)
	}
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

func TestDevWithItsPortsTakenFailsFast(t *testing.T) {
	bin := binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	for _, flag := range []string{"--nats-addr", "--http-addr"} {
		args := []string{"dev", "--data-dir", t.TempDir(), "--nats-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", flag, taken}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		hung := ctx.Err() != nil
		cancel()
		if hung {
			t.Fatalf("%s taken: dev hung", flag)
		}
		if err == nil || !strings.Contains(string(out), taken) || strings.Contains(string(out), "panic") {
			t.Errorf("%s taken: %v\n%s", flag, err, out)
		}
	}
}

// An operator password the product refuses stops dev with a usage error
// naming the rule, instead of running a product nobody can administer.
func TestDevWithARefusedOperatorPasswordStops(t *testing.T) {
	bin := binary(t)
	args := []string{"dev", "--data-dir", t.TempDir(), "--nats-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--operator-email", "ops@fundbridge.test", "--operator-password", "ops-is-my-password-1"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("dev kept running with a refused operator password:\n%s", out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "password: must not contain your email address or the part before the @") {
		t.Errorf("exit %v, want 2 naming the password's rule:\n%s", err, out)
	}
}
