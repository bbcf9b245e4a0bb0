package main_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A service run on its own serves its metrics on --metrics-addr: its NATS
// connection, and (deals) its process managers' lag and deadlines, read
// with its own least-privilege NATS user.
func TestServeExposesMetrics(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	p := startDev(t, bin, dir)
	defer p.stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "serve", "deals", "--nats", p.nats, "--log-format", "text",
		"--creds", filepath.Join(dir, "credentials", "deals.nk"), "--metrics-addr", "127.0.0.1:0")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	url, serving := "", false
	lines := bufio.NewScanner(stderr)
	for !serving && lines.Scan() {
		if m := regexp.MustCompile(`url=(http://\S+/metrics)`).FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
		serving = strings.Contains(lines.Text(), "msg=serving")
	}
	go func() {
		for lines.Scan() {
		}
	}()
	if url == "" {
		t.Fatal("serve deals never said where its metrics are")
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`fundbridge_nats_reconnects_total{conn="deals"} 0`,
		`fundbridge_lag_events{kind="process",name="syndication"}`,
		`fundbridge_process_deadlines_pending{process="loan_arrears"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics of serve deals lacks %s", want)
		}
	}
	if strings.Contains(string(body), "} -1\n") {
		t.Errorf("a gauge could not be read (-1):\n%s", body)
	}
}
