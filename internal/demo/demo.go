// Package demo loads a realistic market through the public HTTP API:
// fund managers and their funds with varied mandates, startups across
// layers, sectors, cities and stages with patents, applications in every
// state and deals at every step of the pipeline; banks with limits and
// programmes, and loan plus equity deals from syndication to default. The same seed loads the
// same market, and loading it twice changes nothing: every request carries
// an idempotency key derived from the seed and what it creates.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
)

// Config sizes the market.
type Config struct {
	BaseURL       string // e.g. http://localhost:8080
	OperatorToken string // a bearer token of an operator
	Seed          uint64
	Startups      int // default 200
	Managers      int // fund manager orgs; default 12
	Funds         int // default 40
	Progress      io.Writer
	// Clock, if set, is the clock of the product being loaded, running
	// HistoryDays behind the wall clock: the demo simulates its history
	// on it (see Clock) and hands it over to the wall clock at the end.
	// Nil loads today only: no loan falls into arrears, no quote or
	// policy expires.
	Clock Clock
}

// Summary counts what the market holds after loading.
type Summary struct {
	Startups     int            `json:"startups"`
	Patents      int            `json:"patents"`
	Funds        int            `json:"funds"`
	Applications map[string]int `json:"applications"` // by status
	Deals        map[string]int `json:"deals"`        // by step
	Banks        int            `json:"banks"`
	LoanDeals    map[string]int `json:"loan_deals"` // loan plus equity deals, by the step they were taken to
	Policies     map[string]int `json:"policies"`   // insurance requests by the state the demo took them to
	// History says when the market's history happened: on a demo clock
	// from a day months ago to today, or today.
	History string `json:"history"`
}

type loader struct {
	cfg       Config
	clock     Clock
	simulated bool      // the clock runs behind the wall clock
	origin    time.Time // the clock when the load began
	rnd       *rand.Rand
	client    *http.Client
	log       io.Writer
}

// Load builds the market and reports what it holds.
func Load(ctx context.Context, cfg Config) (Summary, error) {
	if cfg.Startups == 0 {
		cfg.Startups = 200
	}
	if cfg.Managers == 0 {
		cfg.Managers = 12
	}
	if cfg.Funds == 0 {
		cfg.Funds = 40
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	l := &loader{cfg: cfg, clock: cfg.Clock, simulated: cfg.Clock != nil, rnd: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)), client: &http.Client{Timeout: 30 * time.Second}, log: cfg.Progress}
	if l.clock == nil {
		l.clock = wallClock{}
	}
	defer l.clock.HandOver() // even when the load fails: the product goes on in real time
	from := l.clock.Now()
	sum, err := l.load(ctx)
	sum.History = "loaded today, on the wall clock"
	if l.simulated {
		sum.History = fmt.Sprintf("simulated on a demo clock from %s to %s, then handed over to the wall clock", from.Format(time.DateOnly), l.clock.Now().Format(time.DateOnly))
	}
	return sum, err
}

// call sends one request and decodes the JSON answer; a non-2xx answer is
// an error carrying the problem's detail.
func (l *loader) call(ctx context.Context, method, path, token, key string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, l.cfg.BaseURL+path, rd)
		if err != nil {
			return err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := l.client.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if retry := retryDelay(resp); retry > 0 && attempt < 20 {
			time.Sleep(retry)
			if body != nil {
				b, _ := json.Marshal(body)
				rd = bytes.NewReader(b)
			}
			continue
		}
		if resp.StatusCode/100 != 2 {
			return &apiError{Status: resp.StatusCode, Method: method, Path: path, Body: strings.TrimSpace(string(data))}
		}
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("%s %s: %w", method, path, err)
			}
		}
		return nil
	}
}

// retryDelay is how long to wait before sending a request again: a 503
// (views catching up, or a service starting) shortly, a 429 (a rate
// limit) as long as Retry-After says. Zero means do not retry.
func retryDelay(resp *http.Response) time.Duration {
	switch resp.StatusCode {
	case http.StatusServiceUnavailable:
		return 100 * time.Millisecond
	case http.StatusTooManyRequests:
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			return time.Duration(min(s, 60)) * time.Second
		}
		return time.Second
	}
	return 0
}

type apiError struct {
	Status       int
	Method, Path string
	Body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

func (l *loader) key(parts ...any) string {
	return fmt.Sprint(append([]any{"demo", l.cfg.Seed}, parts...)...)
}

func (l *loader) signIn(ctx context.Context, email, password string) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err := l.call(ctx, "POST", "/api/v1/auth/token", "", "", map[string]string{"email": email, "password": password}, &tok)
	if isStatus(err, http.StatusUnauthorized) {
		return "", &UserGoneError{Email: email}
	}
	return tok.AccessToken, err
}

// UserGoneError says a demo user the market was built with can no longer
// sign in (erased, say, since an earlier load): the load stops there and
// leaves the market as it stands, which is no fault of the product.
type UserGoneError struct{ Email string }

func (e *UserGoneError) Error() string {
	return fmt.Sprintf("demo user %s can no longer sign in (erased since the market was loaded?): the demo market is left as it stands", e.Email)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// yuan formats whole yuan as an amount string.
func yuan(n int64) string { return fmt.Sprintf("%d.00", n) }

// uscc makes a valid unified social credit code from a number.
func uscc(n int) string {
	body := fmt.Sprintf("91%06d%09d", 110000+n%900000, 100000000+n)
	body = body[:17]
	check, ok := fundbridge.USCCCheck(body)
	if !ok {
		panic("demo: bad USCC body " + body)
	}
	return body + string(check)
}

var (
	companyWords = []string{"智元", "深度", "灵犀", "星河", "云图", "天枢", "明察", "极光", "若水", "九章", "启明", "玄武", "鲲鹏", "青云", "凌波"}
	companyKinds = []string{"科技", "智能", "机器人", "数据", "芯片", "视觉", "语音", "医疗科技"}
	fundNames    = []string{"Qiming", "Hillhouse", "Sinovation", "Matrix", "Legend", "Northern Light", "GGV", "Lightspeed China", "Source Code", "ZhenFund", "Shenzhen Capital", "Yuanhe", "Oriza", "Lenovo Capital", "Baidu Ventures"}
	useOfFunds   = []string{
		"Hire 20 engineers and expand the training cluster",
		"Scale pilot deployments with three provincial hospitals",
		"Tape out the second-generation inference chip",
		"Build the sales team for manufacturing customers",
		"Expand data annotation and model evaluation",
	}
)
