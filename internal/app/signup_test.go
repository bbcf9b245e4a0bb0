package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// countEvents counts the log's events of each type, every version of a
// type together (user.registered.v1 and .v2 are user.registered).
func (p *product) countEvents() map[string]int {
	p.t.Helper()
	n := map[string]int{}
	for after := uint64(0); ; {
		evs, err := p.app.Store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			p.t.Fatal(err)
		}
		if len(evs) == 0 {
			return n
		}
		for _, e := range evs {
			n[e.Type[:strings.LastIndex(e.Type, ".v")]]++
			after = e.Position
		}
	}
}

// concurrently sends n requests at once and returns their responses.
func (p *product) concurrently(n int, send func(i int) response) []response {
	out := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = send(i)
		}()
	}
	wg.Wait()
	return out
}

func statuses(rs []response) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.status]++
	}
	return m
}

// Sign-ups racing for one email: one company and one user, never a
// company without its user.
func TestSignUpsRacingForOneEmail(t *testing.T) {
	p := start(t)
	const n = 12
	out := p.concurrently(n, func(i int) response {
		// Each its own company and key, as separate people (or tabs) would.
		return p.do("POST", "/api/v1/auth/signup", "", signupBody("same@race.cn", 970+i), "Idempotency-Key", fmt.Sprint("k", i))
	})
	if got := statuses(out); got[201] != 1 || got[409] != n-1 {
		t.Fatalf("statuses = %v, want one 201 and %d 409", got, n-1)
	}
	counts := p.countEvents()
	if counts["company.registered"] != 1 || counts["user.registered"] != 2 || counts["org.created"] != 2 { // the operator's too
		t.Errorf("events = %v, want one company, one org and one user for the email", counts)
	}
	p.signIn("same@race.cn", "founder-password")
}

// Companies racing for one USCC: one gets it; the other is a 409 naming
// the code, and its sign-up is undone, so its email is free.
func TestSignUpsRacingForOneUSCC(t *testing.T) {
	p := start(t)
	const n = 8
	out := p.concurrently(n, func(i int) response {
		return p.do("POST", "/api/v1/auth/signup", "", signupBody(fmt.Sprintf("f%d@uscc.cn", i), 990))
	})
	if got := statuses(out); got[201] != 1 || got[409] != n-1 {
		t.Fatalf("statuses = %v, want one 201 and %d 409", got, n-1)
	}
	loser := -1
	for i, r := range out {
		if r.status == 409 {
			wantProblem(t, r, http.StatusConflict, "company.uscc")
			if !strings.Contains(r.body["detail"].(string), validUSCC(990)) {
				t.Errorf("conflict %s does not name the USCC", r.raw)
			}
			loser = i
		}
	}
	if c := p.countEvents(); c["company.registered"] != 1 || c["user.registered"] != 2 {
		t.Errorf("events = %v, want one company and one user (and the operator)", c)
	}
	// The loser signs up with its own code: its email was released.
	again := p.do("POST", "/api/v1/auth/signup", "", signupBody(fmt.Sprintf("f%d@uscc.cn", loser), 991))
	if again.status != 201 {
		t.Fatalf("loser's second sign-up = %d %s", again.status, again.raw)
	}
	p.signIn(fmt.Sprintf("f%d@uscc.cn", loser), "founder-password")
}

// A sign-up refused for its company leaves nothing behind: the corrected
// retry, with the same key, goes through.
func TestRefusedSignUpIsUndone(t *testing.T) {
	p := start(t)
	bad := signupBody("fix@me.cn", 995)
	bad["company"].(map[string]any)["headcount"] = -3
	wantProblem(t, p.do("POST", "/api/v1/auth/signup", "", bad, "Idempotency-Key", "K"), 400, "company.headcount")
	if r := p.do("POST", "/api/v1/auth/signup", "", signupBody("fix@me.cn", 995), "Idempotency-Key", "K"); r.status != 201 {
		t.Fatalf("corrected sign-up = %d %s", r.status, r.raw)
	}
	p.signIn("fix@me.cn", "founder-password")
}
