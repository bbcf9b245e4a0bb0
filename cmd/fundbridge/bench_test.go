package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchQuick runs every scenario at its quick size, each in its own
// process as the command does, and checks the shape of what comes out:
// every scenario reports, ratios come from at least five pairs, and the
// JSON holds what the table shows. It asserts nothing about speed.
func TestBenchQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("every benchmark scenario, if quick: not under -short")
	}
	bin := binary(t)
	out := filepath.Join(t.TempDir(), "bench.json")
	cmd := exec.Command(bin, "bench", "--quick", "--json", out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench --quick: %v\n%s\n%s", err, stderr.String(), stdout.String())
	}
	t.Logf("bench --quick took %s\n%s", time.Since(start).Round(time.Millisecond), stdout.String())

	var rs []struct {
		Scenario, Metric, Unit, Target string
		Value, Baseline, Ratio         float64
		RatioMin                       float64 `json:"ratio_min"`
		RatioMax                       float64 `json:"ratio_max"`
		Pairs                          int
		Met                            *bool
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		seen[strings.SplitN(r.Scenario, "/", 2)[0]] = true
		if !strings.Contains(stdout.String(), r.Scenario) {
			t.Errorf("table lacks %s", r.Scenario)
		}
		if r.Pairs > 0 && r.Baseline > 0 && r.Met != nil && r.Pairs < 5 {
			t.Errorf("%s %s: ratio from %d pairs, want at least 5", r.Scenario, r.Metric, r.Pairs)
		}
		if r.Target != "" && r.Met == nil {
			t.Errorf("%s %s: a target without a verdict", r.Scenario, r.Metric)
		}
	}
	// Every scenario's own figures, and each scenario's peak memory from
	// its own process.
	for _, s := range []string{"store", "commands", "http", "lag", "rebuild", "restart", "matching"} {
		if !seen[s] {
			t.Errorf("no figure under %s/", s)
		}
	}
	for _, s := range []string{"store/append/single/fsync/c64/vs-batched", "store/load/snapshot+tail0-99", "store/replay/store",
		"commands/command/application.draft/fsync/c64", "http/writes", "http/raw-publish/fsync/c64", "lag/ack-to-lifecycle-view",
		"rebuild/all", "matching/loan_plus_equity", "restart/funds"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("no figure %s", s)
		}
	}
	for _, s := range []string{"store", "commands", "http", "lag", "rebuild", "matching"} {
		if !strings.Contains(stdout.String(), s+"/memory") {
			t.Errorf("no peak memory of %s", s)
		}
	}
	if !strings.Contains(stdout.String(), "targets: ") {
		t.Errorf("no verdict line")
	}
}

func TestBenchRefusesAnUnknownScenario(t *testing.T) {
	bin := binary(t)
	out, err := exec.Command(bin, "bench", "stores").CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), `no bench scenario "stores"`) {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

// The profiler is off unless asked for, only on loopback, and on a
// listener of its own.
func TestPprofLoopbackOnly(t *testing.T) {
	bin := binary(t)
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "example.com:6060"} {
		out, err := exec.Command(bin, "dev", "--data-dir", t.TempDir(), "--pprof-addr", addr).CombinedOutput()
		if code := exitCode(err); code != 2 || !strings.Contains(string(out), "loopback") {
			t.Errorf("--pprof-addr %s: exit %d, output:\n%s", addr, code, out)
		}
	}
	if testing.Short() {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := startDev(t, bin, t.TempDir(), "FUNDBRIDGE_PPROF_ADDR="+addr)
	res, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "dev") {
		t.Fatalf("pprof cmdline: %d %q", res.StatusCode, body)
	}
	// Not on the API's mux.
	res, err = http.Get(p.http + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == 200 {
		t.Fatalf("the API serves pprof")
	}
}

// exitCode is the process's exit status: 0 on success, -1 if it did not
// run or exit.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	return -1
}
