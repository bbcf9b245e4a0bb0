// Package httpbench measures the product as its users reach it: an
// open-loop, constant-rate load (vegeta's library) on the gateway's public
// API, stepped up until p99 passes 20 ms or a request fails, beside the
// raw fsync-always JetStream publish rate measured in the same run; and
// the lag from a command's acknowledgement to the lifecycle view holding
// it. It starts the product in this process (fsync on, free ports, a
// temporary data directory) unless pointed at a running server.
//
// It uses only the HTTP API and NATS, so it measures any build of the
// product the same way.
package httpbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events/bench"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
)

// Config configures a run.
type Config struct {
	// URL of a running server; empty starts the product in this process.
	URL string
	// The operator of the running server (with URL): the lifecycle view
	// and the application list are read as an operator.
	OperatorEmail, OperatorPassword string
	// NATSURL is the server the raw publish baseline runs on; default the
	// in-process product's, or (with URL) an embedded fsync-always server
	// in DataDir on this machine.
	NATSURL string
	// Step is how long each rate is held; default 3s (500ms when Quick).
	Step time.Duration
	// StartRate is the first step's requests per second; each next step
	// asks 1.5 times more. Default 100 (50 when Quick).
	StartRate int
	// MaxSteps bounds the steps of a workload; default 14 (3 when Quick).
	MaxSteps int
	// Workloads to run: writes, read-company, read-list, read-lifecycle,
	// mix; default all.
	Workloads []string
	// Companies signed up for the load; default 200 (20 when Quick).
	Companies int
	// LagRate is the write rate of the lag scenario; default 200/s.
	LagRate int
	// LagDuration is how long it lasts; default 10s (2s when Quick).
	LagDuration time.Duration

	DataDir  string
	Quick    bool
	Progress io.Writer
	Memory   *bench.Memory // reset once the market is set up
}

func (c *Config) defaults() {
	pick := func(v *int, full, quick int) {
		if *v == 0 {
			*v = full
			if c.Quick {
				*v = quick
			}
		}
	}
	pick(&c.StartRate, 100, 50)
	pick(&c.MaxSteps, 14, 3)
	pick(&c.Companies, 200, 10)
	pick(&c.LagRate, 200, 100)
	if c.Step == 0 {
		c.Step = 3 * time.Second
		if c.Quick {
			c.Step = 500 * time.Millisecond
		}
	}
	if c.LagDuration == 0 {
		c.LagDuration = 10 * time.Second
		if c.Quick {
			c.LagDuration = 2 * time.Second
		}
	}
	if len(c.Workloads) == 0 {
		c.Workloads = []string{"writes", "read-company", "read-list", "read-lifecycle", "mix"}
	}
	if c.OperatorEmail == "" {
		c.OperatorEmail = "operator@fundbridge.local"
	}
}

func (c *Config) logf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// product is the server under load and what the load needs from it.
type product struct {
	base     string        // http://host:port
	natsURL  string        // where the raw baseline publishes
	natsOpts []nats.Option // and as whom (the admin, in process)
	operator string        // operator's token
	startups []startup
	client   *http.Client
	close    func()
}

type startup struct {
	token, companyID string
}

// start starts the product in this process, or finds the running one, and
// signs up the companies the load acts for.
func start(ctx context.Context, cfg Config) (*product, error) {
	p := &product{client: &http.Client{Timeout: 30 * time.Second}, close: func() {}}
	if cfg.URL == "" {
		const password = "Kq7#vX2!pLm9-Rt4w"
		a, err := app.Start(ctx, app.Options{DataDir: filepath.Join(cfg.DataDir, "product"), NATSAddr: "127.0.0.1:0",
			HTTPAddr: "127.0.0.1:0", Fsync: true, Logger: slog.New(slog.DiscardHandler), Version: "bench",
			// Sign-up's password hashing is setup here, not what is measured.
			BcryptCost: bcrypt.MinCost})
		if err != nil {
			return nil, err
		}
		p.close = a.Close
		p.base, p.natsURL = "http://"+a.HTTPAddr.String(), a.NATSURL
		// The raw baseline creates its own stream: the admin's work.
		if p.natsOpts, err = natsauth.ClientOptions(a.Credentials.File(natsauth.Admin), natsauth.Admin); err != nil {
			a.Close()
			return nil, err
		}
		if _, err := a.BootstrapOperator(ctx, cfg.OperatorEmail, password, io.Discard); err != nil {
			a.Close()
			return nil, err
		}
		cfg.OperatorPassword = password
	} else {
		p.base, p.natsURL = strings.TrimRight(cfg.URL, "/"), cfg.NATSURL
	}
	if cfg.OperatorPassword == "" {
		p.close()
		return nil, errors.New("--operator-password is required with --url: the list and the lifecycle view are read as an operator")
	}
	var err error
	if p.operator, err = p.signIn(ctx, cfg.OperatorEmail, cfg.OperatorPassword); err != nil {
		p.close()
		return nil, fmt.Errorf("operator: %w", err)
	}
	start := time.Now()
	if err := p.signUp(ctx, cfg.Companies); err != nil {
		p.close()
		return nil, err
	}
	cfg.logf("http: %s; %d companies signed up, each with a submitted application and a draft, in %s",
		p.base, len(p.startups), time.Since(start).Round(time.Millisecond))
	return p, nil
}

// call sends one JSON request and decodes the answer into out (if set).
func (p *product) call(ctx context.Context, method, path, token string, body any, out any, hdr ...string) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 300 {
		return res.Header, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return res.Header, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return res.Header, nil
}

func (p *product) signIn(ctx context.Context, email, password string) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	var err error
	for range 50 { // the identity service may still be catching up
		if _, err = p.call(ctx, http.MethodPost, "/api/v1/auth/token", "", map[string]string{"email": email, "password": password}, &tok); err == nil {
			return tok.AccessToken, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", err
}

// signUp signs n startups up through the public API, eight at a time,
// each with a submitted application and a draft, so that the list and the
// lifecycle view have something to show.
func (p *product) signUp(ctx context.Context, n int) error {
	nonce := time.Now().UnixNano() % 1_000_000_000 // new companies on a server that ran the bench before
	p.startups = make([]startup, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := p.signUpOne(ctx, int(nonce)+i, i)
			if err != nil {
				errs <- err
				return
			}
			p.startups[i] = s
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

var sectors = []struct{ layer, sector string }{
	{"foundation", "ai_chips"}, {"technology", "computer_vision"}, {"technology", "nlp"},
	{"application", "robotics"}, {"application", "healthcare"}, {"application", "finance"},
}

var stages = []string{"seed", "startup", "growth", "expansion", "pre_ipo"}

func (p *product) signUpOne(ctx context.Context, n, i int) (startup, error) {
	email := fmt.Sprintf("bench%d@startup.cn", n)
	sec := sectors[i%len(sectors)]
	company := map[string]any{"name": fmt.Sprintf("Bench AI %d", n), "uscc": uscc(n), "city": []string{"beijing", "shanghai", "shenzhen", "hangzhou"}[i%4],
		"layer": sec.layer, "sector": sec.sector, "founded_on": "2022-03-01", "headcount": 20 + i%200, "stage": stages[i%len(stages)]}
	var signed struct {
		OrgID string `json:"org_id"`
	}
	if _, err := p.call(ctx, http.MethodPost, "/api/v1/auth/signup", "", map[string]any{"email": email, "password": "Tz8@nW3!qHs6-Yd2f",
		"name": "Founder", "company": company}, &signed, "Idempotency-Key", "bench-signup-"+email); err != nil {
		return startup{}, err
	}
	tok, err := p.signIn(ctx, email, "Tz8@nW3!qHs6-Yd2f")
	if err != nil {
		return startup{}, err
	}
	s := startup{token: tok, companyID: signed.OrgID}
	var draft struct {
		ApplicationID string `json:"application_id"`
	}
	if _, err := p.call(ctx, http.MethodPost, "/api/v1/applications", tok, json.RawMessage(draftBody), &draft, "Idempotency-Key", "bench-seed-"+email); err != nil {
		return s, err
	}
	if _, err := p.call(ctx, http.MethodPost, "/api/v1/applications/"+draft.ApplicationID+"/submit", tok, map[string]any{}, nil, "Idempotency-Key", "bench-submit-"+email); err != nil {
		return s, err
	}
	_, err = p.call(ctx, http.MethodPost, "/api/v1/applications", tok, json.RawMessage(draftBody), nil, "Idempotency-Key", "bench-seed2-"+email)
	return s, err
}

const draftBody = `{"amount_requested":"5000000.00","instruments":["equity","venture_loan"],"use_of_funds":"GPUs and hiring","credit_data_consent":true}`

// uscc is a well-formed unified social credit code for company n.
func uscc(n int) string {
	body := fmt.Sprintf("9144030%010d", n)
	check, _ := fundbridge.USCCCheck(body)
	return body + string(check)
}
