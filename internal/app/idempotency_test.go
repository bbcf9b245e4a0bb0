package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
)

const keyReused = "https://fundbridge.dev/problems/idempotency-key-reused"

func wantKeyReused(t *testing.T, r response) {
	t.Helper()
	wantProblem(t, r, http.StatusUnprocessableEntity, "Idempotency-Key")
	if r.body["type"] != keyReused || r.body["detail"] == "" {
		t.Errorf("problem = %s, want type %s and a detail", r.raw, keyReused)
	}
}

func signupBody(email string, n int) map[string]any {
	return map[string]any{"email": email, "password": "founder-password", "name": "Founder", "company": company(n, "seed")}
}

// Two founders who happen to send one key each get their own sign-up: a
// sign-up's key belongs to the email it signs up.
func TestIdempotencyKeySignUpIsScopedToTheEmail(t *testing.T) {
	p := start(t)
	first := p.do("POST", "/api/v1/auth/signup", "", signupBody("a@one.cn", 901), "Idempotency-Key", "K")
	second := p.do("POST", "/api/v1/auth/signup", "", signupBody("b@two.cn", 902), "Idempotency-Key", "K")
	if first.status != 201 || second.status != 201 {
		t.Fatalf("sign-ups = %d %s, %d %s", first.status, first.raw, second.status, second.raw)
	}
	if first.body["org_id"] == second.body["org_id"] || first.body["user_id"] == second.body["user_id"] || second.body["email"] != "b@two.cn" {
		t.Errorf("second founder got %s, first %s: want their own org and user", second.raw, first.raw)
	}
	p.signIn("a@one.cn", "founder-password")
	tok := p.signIn("b@two.cn", "founder-password")
	if me := p.do("GET", "/api/v1/me", tok, nil); me.body["org"].(map[string]any)["org_id"] != second.body["org_id"] {
		t.Errorf("second founder's me = %s", me.raw)
	}
	// The email's own retry is the first response again.
	again := p.do("POST", "/api/v1/auth/signup", "", signupBody("b@two.cn", 902), "Idempotency-Key", "K")
	if again.status != 201 || !bytes.Equal(again.raw, second.raw) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry = %d %s, want %s replayed", again.status, again.raw, second.raw)
	}
}

// A key names one operation: reused on another, it is refused, and the
// other operation does not run.
func TestIdempotencyKeyOnAnotherOperationIsRefused(t *testing.T) {
	p := start(t)
	tok, _ := p.signUp(911, "growth")
	draft := map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs", "credit_data_consent": true}
	d := p.do("POST", "/api/v1/applications", tok, draft, "Idempotency-Key", "K")
	if d.status != 201 {
		t.Fatalf("draft = %d %s", d.status, d.raw)
	}
	appID := d.body["application_id"].(string)
	head, _ := p.app.Store.Head(context.Background())
	wantKeyReused(t, p.do("POST", "/api/v1/applications/"+appID+"/submit", tok, map[string]any{}, "Idempotency-Key", "K"))
	if after, _ := p.app.Store.Head(context.Background()); after != head {
		t.Errorf("the refused submit appended: head %d → %d", head, after)
	}

	// The startup submits with K2; an operator's K2 is the operator's own.
	if s := p.do("POST", "/api/v1/applications/"+appID+"/submit", tok, map[string]any{}, "Idempotency-Key", "K2"); s.status != 200 {
		t.Fatalf("submit = %d %s", s.status, s.raw)
	}
	rej := p.do("POST", "/api/v1/applications/"+appID+"/reject", p.opToken, map[string]any{"reason": "not a fit"}, "Idempotency-Key", "K2")
	if rej.status != 200 || rej.body["status"] != "rejected" {
		t.Fatalf("operator's reject with the startup's key = %d %s, want it to take effect", rej.status, rej.raw)
	}
}

func TestIdempotencyKeyOnAnotherDealStepIsRefused(t *testing.T) {
	p := start(t)
	fm, dealID := p.sourcedDeal(921)
	adv := p.do("POST", "/api/v1/deals/"+dealID+"/advance", fm, map[string]any{"to": "screening"}, "Idempotency-Key", "K")
	if adv.status != 200 {
		t.Fatalf("advance = %d %s", adv.status, adv.raw)
	}
	wantKeyReused(t, p.do("POST", "/api/v1/deals/"+dealID+"/pass", fm, map[string]any{"reason": "too early"}, "Idempotency-Key", "K"))
	if d := p.do("GET", "/api/v1/deals/"+dealID+"?after="+adv.header.Get("Fundbridge-Position"), fm, nil); d.body["step"] != "screening" {
		t.Errorf("after the refused pass the deal = %s", d.raw)
	}
}

// The same key with another body is refused; the same body again gets
// the first response byte for byte, with its first ETag, even after the
// resource moved on.
func TestIdempotencyKeyReplaysTheFirstResponse(t *testing.T) {
	p := start(t)
	tok, _ := p.signUp(931, "growth")
	draft := map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs", "credit_data_consent": true}
	first := p.do("POST", "/api/v1/applications", tok, draft, "Idempotency-Key", "K")
	if first.status != 201 || first.header.Get("ETag") == "" {
		t.Fatalf("draft = %d %v %s", first.status, first.header, first.raw)
	}
	other := map[string]any{"amount_requested": "40000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs", "credit_data_consent": true}
	wantKeyReused(t, p.do("POST", "/api/v1/applications", tok, other, "Idempotency-Key", "K"))

	appID := first.body["application_id"].(string)
	s := p.do("POST", "/api/v1/applications/"+appID+"/submit", tok, map[string]any{})
	if s.status != 200 {
		t.Fatalf("submit = %d %s", s.status, s.raw)
	}
	// Members reordered and spaced otherwise: the same request.
	retry := p.do("POST", "/api/v1/applications", tok,
		`{"use_of_funds": "GPUs", "credit_data_consent": true, "instruments": ["equity"], "amount_requested": "30000000.00"}`, "Idempotency-Key", "K")
	if retry.status != first.status || !bytes.Equal(retry.raw, first.raw) {
		t.Errorf("retry = %d %s\nwant %d %s", retry.status, retry.raw, first.status, first.raw)
	}
	for _, h := range []string{"ETag", "Fundbridge-Position", "Content-Type"} {
		if retry.header.Get(h) != first.header.Get(h) {
			t.Errorf("retry's %s = %q, first %q", h, retry.header.Get(h), first.header.Get(h))
		}
	}
	if got := p.do("GET", "/api/v1/applications/"+appID+"?after="+s.header.Get("Fundbridge-Position"), tok, nil); got.header.Get("ETag") == first.header.Get("ETag") {
		t.Errorf("the application did not move on (ETag %s): the test proves nothing", got.header.Get("ETag"))
	}
}

func TestIdempotencyKeyConcurrentRequestsHaveOneEffect(t *testing.T) {
	p := start(t)
	tok, _ := p.signUp(941, "growth")
	head, _ := p.app.Store.Head(context.Background())
	draft := map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs", "credit_data_consent": true}
	out := p.concurrently(20, func(int) response {
		return p.do("POST", "/api/v1/applications", tok, draft, "Idempotency-Key", "same")
	})
	for i, r := range out {
		if r.status != 201 || !bytes.Equal(r.raw, out[0].raw) || r.header.Get("ETag") != out[0].header.Get("ETag") {
			t.Errorf("response %d = %d %s, want %d %s", i, r.status, r.raw, out[0].status, out[0].raw)
		}
	}
	after, _ := p.app.Store.Head(context.Background())
	if after != head+1 {
		t.Errorf("20 requests with one key appended %d commits, want 1", after-head)
	}
	list := p.do("GET", "/api/v1/applications?after="+fmt.Sprint(after), tok, nil)
	if items, _ := list.body["items"].([]any); len(items) != 1 {
		t.Errorf("applications = %s, want one", list.raw)
	}
}

// sourcedDeal brings an application to a fund manager's sourced deal.
func (p *product) sourcedDeal(n int) (fm, dealID string) {
	p.t.Helper()
	fm, _ = p.onboard(fmt.Sprintf("Fund %d", n), "fund_manager", fmt.Sprintf("fm%d@fund.cn", n))
	startup, _ := p.signUp(n, "growth")
	f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Fund I", "type": "vc", "committed_capital": "100000000.00"})
	fundID := f.body["fund_id"].(string)
	if m := p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fm, map[string]any{"stages": []string{"growth"}, "layers": []string{"technology"},
		"ticket_min": "5000000.00", "ticket_max": "40000000.00", "max_ownership": "0.20"}); m.status != 200 {
		p.t.Fatalf("mandate = %d %s", m.status, m.raw)
	}
	d := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"},
		"use_of_funds": "Training cluster", "valuation_ask": "150000000.00", "credit_data_consent": true})
	appID := d.body["application_id"].(string)
	if s := p.do("POST", "/api/v1/applications/"+appID+"/submit", startup, map[string]any{}); s.status != 200 {
		p.t.Fatalf("submit = %d %s", s.status, s.raw)
	}
	eventually(p.t, "the match", func() bool {
		r := p.do("GET", "/api/v1/funds/"+fundID+"/matches", fm, nil)
		items, _ := r.body["items"].([]any)
		return len(items) == 1
	})
	deal := p.do("POST", "/api/v1/deals", fm, map[string]any{"fund_id": fundID, "application_id": appID})
	if deal.status != 201 {
		p.t.Fatalf("source = %d %s", deal.status, deal.raw)
	}
	return fm, deal.body["deal_id"].(string)
}
