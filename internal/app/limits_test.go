package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/services/gateway"
)

// from is an HTTP client whose connections come from ip: every address
// of 127.0.0.0/8 is this machine's, so a test can be many callers.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}
}

func (p *product) signInFrom(c *http.Client, email, password string) *http.Response {
	p.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := c.Post(p.base+"/api/v1/auth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p.record(raw)
	return resp
}

func TestSignInIsLimitedPerAccountAndAddress(t *testing.T) {
	p := start(t)
	attacker, user := from("127.0.0.2"), from("127.0.0.3")
	for i := range 10 {
		if resp := p.signInFrom(attacker, "ops@fundbridge.test", "not-the-password-"+strconv.Itoa(i)); resp.StatusCode != 401 {
			t.Fatalf("wrong password %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp := p.signInFrom(attacker, "ops@fundbridge.test", "not-the-password-10")
	if resp.StatusCode != 429 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("11th wrong password: %d %s, want a 429 problem", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q, want 1 to 60 seconds", resp.Header.Get("Retry-After"))
	}
	if resp := p.signInFrom(attacker, "ops@fundbridge.test", operatorPassword); resp.StatusCode != 429 {
		t.Errorf("the right password from the locked-out address: %d, want 429", resp.StatusCode)
	}
	if resp := p.signInFrom(user, "ops@fundbridge.test", operatorPassword); resp.StatusCode != 200 {
		t.Errorf("the right password from another address: %d, want 200", resp.StatusCode)
	}
}

func TestParallelGuessesAreRefused(t *testing.T) {
	p := start(t)
	attacker := from("127.0.0.4")
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]string{"email": "ops@fundbridge.test", "password": "guess-number-" + strconv.Itoa(i)})
			resp, err := attacker.Post(p.base+"/api/v1/auth/token", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			counts[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts[401] != 10 || counts[429] != 190 {
		t.Errorf("200 parallel guesses answered %v, want 10 × 401 and 190 × 429", counts)
	}
}

func TestWritesAreLimitedPerUser(t *testing.T) {
	p := startWith(t, func(o *app.Options) { o.Limits.Writes = gateway.Bucket{Burst: 20, Every: time.Hour} })
	tok, _ := p.onboard("Qiming", "fund_manager", "fm@q.cn")
	limited := 0
	for i := range 30 {
		r := p.do("POST", "/api/v1/funds", tok, map[string]any{"name": "Fund " + strconv.Itoa(i), "type": "vc", "committed_capital": "x"})
		switch r.status {
		case 400:
		case 429:
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Fatalf("429 without Retry-After: %s", r.raw)
			}
		default:
			t.Fatalf("write %d: %d %s", i, r.status, r.raw)
		}
	}
	if limited != 10 {
		t.Errorf("%d of 30 writes in a row by one user were refused, want 10 over the burst of 20", limited)
	}
	// Reads and other users are not held back.
	if r := p.do("GET", "/api/v1/funds", tok, nil); r.status != 200 {
		t.Errorf("a read by the limited user: %d", r.status)
	}
	if r := p.do("POST", "/api/v1/funds", p.opToken, map[string]any{"name": "x", "type": "vc", "committed_capital": "x"}); r.status != 400 {
		t.Errorf("a write by another user: %d %s", r.status, r.raw)
	}
}

func TestWeakPasswordsAreRefusedAtSignUpAndOnboarding(t *testing.T) {
	p := start(t)
	head, _ := p.app.Store.Head(context.Background())
	for _, weak := range []string{"aaaaaaaaaa", "1234567890", "password12", "          ", "founder77-is-here"} {
		r := p.do("POST", "/api/v1/auth/signup", "", map[string]any{"email": "founder77@startup.cn", "password": weak, "name": "Founder", "company": company(77, "seed")})
		wantProblem(t, r, 400, "password")
		r = p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "Qiming", "role": "fund_manager",
			"user": map[string]string{"email": "founder77@startup.cn", "password": weak, "name": "Partner"}})
		wantProblem(t, r, 400, "user.password")
	}
	if after, _ := p.app.Store.Head(context.Background()); after != head {
		t.Errorf("weak passwords appended: head %d → %d", head, after)
	}
}
