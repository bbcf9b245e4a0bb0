package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge/internal/demo"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("demo", "fundbridge demo [flags]", stderr)
	url := f.string("url", "http://localhost:8080", "the Fundbridge HTTP API to load")
	email := f.string("operator-email", "operator@fundbridge.local", "an operator's email")
	password := f.string("operator-password", "", "that operator's password (required)")
	seed := f.int("seed", 1, "the same seed loads the same market")
	startups := f.int("startups", 200, "startups to sign up")
	funds := f.int("funds", 40, "funds to register")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *password == "" {
		return fmt.Errorf("%w: --operator-password (or FUNDBRIDGE_OPERATOR_PASSWORD) is required", errUsage)
	}
	token, err := signIn(ctx, strings.TrimRight(*url, "/"), *email, *password)
	if err != nil {
		return err
	}
	return loadDemo(ctx, demo.Config{BaseURL: strings.TrimRight(*url, "/"), OperatorToken: token, Seed: uint64(*seed), Startups: *startups, Funds: *funds, Progress: stderr}, stdout)
}

func loadDemo(ctx context.Context, cfg demo.Config, stdout io.Writer) error {
	start := time.Now()
	sum, err := demo.Load(ctx, cfg)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	data, _ := json.MarshalIndent(sum, "", "  ")
	fmt.Fprintf(stdout, "Demo market loaded in %s (seed %d):\n%s\n", time.Since(start).Round(time.Millisecond), cfg.Seed, data)
	return nil
}

func signIn(ctx context.Context, base, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/auth/token", strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("sign in at %s: %w", base, err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Detail      string `json:"detail"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("sign in as %s: %d %s", email, resp.StatusCode, out.Detail)
	}
	return out.AccessToken, nil
}
