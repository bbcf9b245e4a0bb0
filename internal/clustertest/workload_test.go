package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fundbridge/fundbridge"
)

// entry is one command the workload sent, in the client-side log: what
// was asked, and how it was answered in the end.
type entry struct {
	kind, key string
	id        string // the resource it made or acted on
	sub       string // what else identifies it (an advance's step)
	attempts  int
	status    int
	acked     bool // answered 2xx
	failed    bool // refused (4xx other than "retry"): must not be applied
	answer    string
}

// ledger is the client-side log of every command.
type ledger struct {
	mu      sync.Mutex
	entries []*entry
	sent    atomic.Int64 // HTTP requests carrying a command, retries included
	lastAck atomic.Int64 // unix nanos of the latest acknowledgement
}

func (l *ledger) add(e *entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
}

func (l *ledger) snapshot() []*entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*entry(nil), l.entries...)
}

// client sends to the gateways in turn, so consecutive requests (and a
// retry) usually go to different ones.
type client struct {
	gateways []string
	http     *http.Client
	next     atomic.Uint64
	log      *ledger
}

func (c *client) do(ctx context.Context, method, path, token, key string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(data)
	}
	base := c.gateways[c.next.Add(1)%uint64(len(c.gateways))]
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data, err
}

// retryable says whether an answer leaves the command's fate open: no
// answer, a 5xx, a rate limit, or its key still in use by the first try.
func retryable(status int, hdr http.Header, err error) bool {
	switch {
	case err != nil || status == 0 || status >= 500 || status == http.StatusTooManyRequests:
		return true
	case status == http.StatusConflict && hdr.Get("Retry-After") != "":
		return true
	}
	return false
}

// command sends one command with its idempotency key until it is
// answered for good (or ctx ends), logging it; out receives the reply.
func (c *client) command(ctx context.Context, e *entry, method, path, token string, body, out any) bool {
	c.log.add(e)
	for {
		c.log.mu.Lock()
		e.attempts++
		c.log.mu.Unlock()
		c.log.sent.Add(1)
		status, hdr, data, err := c.do(ctx, method, path, token, e.key, body)
		if !retryable(status, hdr, err) {
			c.log.mu.Lock()
			e.status, e.answer = status, fmt.Sprintf("%.300s", data)
			e.acked, e.failed = status/100 == 2, status/100 != 2
			c.log.mu.Unlock()
			if e.acked {
				c.log.lastAck.Store(time.Now().UnixNano())
				if out != nil {
					_ = json.Unmarshal(data, out)
				}
			}
			return e.acked
		}
		c.log.mu.Lock()
		e.answer = fmt.Sprintf("%d %v %.200s", status, err, data)
		c.log.mu.Unlock()
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// signIn gets a token, waiting while the user is not yet in identity's
// view or the cluster does not answer. Each refusal counts against the
// sign-in limits, so it backs off, and waits as long as a 429 says.
func (c *client) signIn(ctx context.Context, email, password string) (string, error) {
	var last string
	wait := 100 * time.Millisecond
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; {
		status, hdr, data, err := c.do(ctx, "POST", "/api/v1/auth/token", "", "", map[string]string{"email": email, "password": password})
		if err == nil && status == 200 {
			var out struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(data, &out); err != nil {
				return "", err
			}
			return out.AccessToken, nil
		}
		last = fmt.Sprintf("%d %v %.200s", status, err, data)
		pause := wait
		if secs, err := strconv.Atoi(hdr.Get("Retry-After")); err == nil && status == http.StatusTooManyRequests {
			pause = time.Duration(secs) * time.Second
		}
		time.Sleep(pause)
		wait = min(2*wait, 2*time.Second)
	}
	return "", fmt.Errorf("sign in %s: %s", email, last)
}

// market is what every scenario deals with: one fund manager and a fund.
type market struct {
	operator, manager string // tokens
	fundID            string
}

func setUpMarket(ctx context.Context, c *client) (market, error) {
	var m market
	var err error
	if m.operator, err = c.signIn(ctx, OperatorEmail, OperatorPassword); err != nil {
		return m, err
	}
	var org struct {
		Org struct {
			OrgID string `json:"org_id"`
		} `json:"org"`
	}
	e := &entry{kind: "org", key: "org-fm"}
	if !c.command(ctx, e, "POST", "/api/v1/orgs", m.operator, map[string]any{"name": "Qiming", "role": "fund_manager",
		"user": map[string]string{"email": "fm@qiming.cn", "password": "fund-manager-password", "name": "Fang"}}, &org) {
		return m, fmt.Errorf("onboarding the fund manager: %s", e.answer)
	}
	e.id = org.Org.OrgID
	if m.manager, err = c.signIn(ctx, "fm@qiming.cn", "fund-manager-password"); err != nil {
		return m, err
	}
	var fund struct {
		FundID string `json:"fund_id"`
	}
	e = &entry{kind: "fund", key: "fund-1"}
	if !c.command(ctx, e, "POST", "/api/v1/funds", m.manager, map[string]any{"name": "Qiming Venture I", "type": "vc", "committed_capital": "10000000000.00"}, &fund) {
		return m, fmt.Errorf("registering the fund: %s", e.answer)
	}
	m.fundID, e.id = fund.FundID, fund.FundID
	e = &entry{kind: "mandate", key: "mandate-1", id: fund.FundID}
	if !c.command(ctx, e, "PUT", "/api/v1/funds/"+m.fundID+"/mandate", m.manager, map[string]any{
		"stages": fundbridge.Stages, "ticket_min": "1000000.00", "ticket_max": "50000000.00", "max_ownership": "0.30"}, nil) {
		return m, fmt.Errorf("the fund's mandate: %s", e.answer)
	}
	return m, nil
}

// scenario is one startup's way from sign-up to a closed deal: sign-up,
// draft, submit, matched, sourced, four screening steps, term sheet,
// accepted, closed. closing is told just before the close is sent.
func (m market) scenario(ctx context.Context, c *client, n int, closing func(dealID string)) error {
	email := fmt.Sprintf("founder%d@cluster.test", n)
	body := fmt.Sprintf("9144030%010d", n)
	check, _ := fundbridge.USCCCheck(body)
	var user struct {
		OrgID string `json:"org_id"`
	}
	e := &entry{kind: "signup", key: fmt.Sprintf("signup-%d", n)}
	if !c.command(ctx, e, "POST", "/api/v1/auth/signup", "", map[string]any{"email": email, "password": "founder-password", "name": "Founder",
		"company": map[string]any{"name": fmt.Sprintf("深度视觉 %d", n), "uscc": body + string(check), "city": "shenzhen", "layer": "technology",
			"sector": "computer_vision", "founded_on": "2022-03-01", "headcount": 40, "stage": "seed"}}, &user) {
		return fmt.Errorf("sign-up %d: %s", n, e.answer)
	}
	e.id = user.OrgID
	startup, err := c.signIn(ctx, email, "founder-password")
	if err != nil {
		return err
	}
	var app struct {
		ApplicationID string `json:"application_id"`
	}
	e = &entry{kind: "draft", key: fmt.Sprintf("draft-%d", n)}
	if !c.command(ctx, e, "POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "2000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs"}, &app) {
		return fmt.Errorf("draft %d: %s", n, e.answer)
	}
	e.id = app.ApplicationID
	appPath := "/api/v1/applications/" + app.ApplicationID
	if e := (&entry{kind: "submit", key: fmt.Sprintf("submit-%d", n), id: app.ApplicationID}); !c.command(ctx, e, "POST", appPath+"/submit", startup, map[string]any{}, nil) {
		return fmt.Errorf("submit %d: %s", n, e.answer)
	}
	if err := c.waitMatched(ctx, appPath, startup); err != nil {
		return err
	}
	var deal struct {
		DealID string `json:"deal_id"`
	}
	e = &entry{kind: "source", key: fmt.Sprintf("source-%d", n)}
	if !c.command(ctx, e, "POST", "/api/v1/deals", m.manager, map[string]any{"fund_id": m.fundID, "application_id": app.ApplicationID}, &deal) {
		return fmt.Errorf("source %d: %s", n, e.answer)
	}
	e.id = deal.DealID
	dealPath := "/api/v1/deals/" + deal.DealID
	for _, step := range []string{"screening", "first_meeting", "due_diligence", "ic_review"} {
		e := &entry{kind: "advance", key: fmt.Sprintf("advance-%d-%s", n, step), id: deal.DealID, sub: step}
		if !c.command(ctx, e, "POST", dealPath+"/advance", m.manager, map[string]any{"to": step}, nil) {
			return fmt.Errorf("advance %d to %s: %s", n, step, e.answer)
		}
	}
	steps := []struct {
		kind, suffix, token string
		body                map[string]any
	}{
		{"term_sheet", "/term-sheet", m.manager, map[string]any{"amount": "2000000.00", "pre_money": "8000000.00"}},
		{"accept", "/term-sheet/accept", startup, map[string]any{}},
		{"close", "/close", m.manager, map[string]any{}},
	}
	for _, s := range steps {
		if s.kind == "close" {
			closing(deal.DealID)
		}
		e := &entry{kind: s.kind, key: fmt.Sprintf("%s-%d", s.kind, n), id: deal.DealID, sub: app.ApplicationID}
		if !c.command(ctx, e, "POST", dealPath+s.suffix, s.token, s.body, nil) {
			return fmt.Errorf("%s %d: %s", s.kind, n, e.answer)
		}
	}
	return nil
}

// waitMatched waits until matching has matched the application (its
// reactor marks it on the application).
func (c *client) waitMatched(ctx context.Context, path, token string) error {
	var last string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(200 * time.Millisecond) {
		status, _, data, err := c.do(ctx, "GET", path, token, "", nil)
		if err == nil && status == 200 {
			var a struct {
				Status string `json:"status"`
			}
			_ = json.Unmarshal(data, &a)
			if a.Status == "matched" {
				return nil
			}
			last = a.Status
		} else {
			last = fmt.Sprintf("%d %v", status, err)
		}
	}
	return fmt.Errorf("%s not matched: %s", path, last)
}
