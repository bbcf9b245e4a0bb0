package app_test

import (
	"fmt"
	"testing"

	"github.com/fundbridge/fundbridge"
)

// validUSCC makes a well-formed code with the right check character.
func validUSCC(n int) string {
	body := fmt.Sprintf("9111010%010d", n)
	check, _ := fundbridge.USCCCheck(body)
	return body + string(check)
}

func company(n int, stage string) map[string]any {
	return map[string]any{"name": fmt.Sprintf("深度视觉 %d", n), "uscc": validUSCC(n), "city": "shenzhen", "layer": "technology",
		"sector": "computer_vision", "founded_on": "2022-03-01", "headcount": 40, "stage": stage}
}

// signUp signs a startup up and in; it returns the token and company ID.
func (p *product) signUp(n int, stage string) (string, string) {
	p.t.Helper()
	email := fmt.Sprintf("founder%d@startup.cn", n)
	r := p.do("POST", "/api/v1/auth/signup", "", map[string]any{"email": email, "password": "river stone lantern", "name": "Founder", "company": company(n, stage)})
	if r.status != 201 {
		p.t.Fatalf("sign up: %d %s", r.status, r.raw)
	}
	return p.signIn(email, "river stone lantern"), r.body["org_id"].(string)
}

func TestStartupsOverHTTP(t *testing.T) {
	p := start(t)
	tokA, companyA := p.signUp(1, "growth")
	tokB, _ := p.signUp(2, "seed")
	fm, _ := p.onboard("Qiming", "fund_manager", "fm@qiming.cn")

	// The company is there, with its own patents.
	c := p.do("GET", "/api/v1/companies/"+companyA, tokA, nil)
	if c.status != 200 || c.body["uscc"] != validUSCC(1) || c.header.Get("ETag") == "" {
		t.Fatalf("company = %d %s", c.status, c.raw)
	}
	pat := p.do("POST", "/api/v1/companies/"+companyA+"/patents", tokA, map[string]any{"number": "CN202310123456.6", "kind": "invention",
		"title": "一种图像识别方法", "filed_on": "2023-02-01", "granted_on": "2024-08-01", "holding": "owner"})
	if pat.status != 201 {
		t.Fatalf("patent = %d %s", pat.status, pat.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/companies/"+companyA+"/patents", tokA, map[string]any{"number": "CN202310123456.6", "kind": "invention",
		"title": "again", "filed_on": "2023-02-01", "holding": "owner"}), 409)
	wantProblem(t, p.do("GET", "/api/v1/companies/"+companyA, tokB, nil), 404)
	wantProblem(t, p.do("PATCH", "/api/v1/companies/"+companyA, tokB, map[string]any{"headcount": 1}), 404)

	// A draft, submitted; the position lets the startup read its own write.
	d := p.do("POST", "/api/v1/applications", tokA, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity", "venture_loan"},
		"use_of_funds": "GPU cluster and hiring", "credit_data_consent": true}, "Idempotency-Key", "draft-1")
	if d.status != 201 {
		t.Fatalf("draft = %d %s", d.status, d.raw)
	}
	appID := d.body["application_id"].(string)
	if again := p.do("POST", "/api/v1/applications", tokA, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity", "venture_loan"},
		"use_of_funds": "GPU cluster and hiring", "credit_data_consent": true}, "Idempotency-Key", "draft-1"); again.body["application_id"] != appID {
		t.Errorf("retried draft = %s, want the same application", again.raw)
	}
	s := p.do("POST", "/api/v1/applications/"+appID+"/submit", tokA, map[string]any{})
	if s.status != 200 {
		t.Fatalf("submit = %d %s", s.status, s.raw)
	}
	pos := s.header.Get("Fundbridge-Position")
	if got := p.do("GET", "/api/v1/applications/"+appID+"?after="+pos, tokA, nil); got.body["status"] == "draft" || got.body["stage"] != "growth" {
		t.Errorf("after submit = %s", got.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/applications/"+appID+"/submit", tokA, map[string]any{}), 409)
	wantProblem(t, p.do("GET", "/api/v1/applications/"+appID, tokB, nil), 404)
	wantProblem(t, p.do("POST", "/api/v1/applications/"+appID+"/withdraw", tokB, map[string]any{}), 404)
	wantProblem(t, p.do("GET", "/api/v1/applications/"+appID, fm, nil), 404) // not matched to its funds
	wantProblem(t, p.do("POST", "/api/v1/applications/"+appID+"/reject", tokA, map[string]any{"reason": "x"}), 403)

	l := p.do("GET", "/api/v1/applications?stage=growth&limit=10&after="+pos, p.opToken, nil)
	if l.status != 200 || len(l.body["items"].([]any)) != 1 {
		t.Errorf("operator's list = %d %s", l.status, l.raw)
	}
	// A query parameter given twice, or a format not offered, is refused
	// rather than half read.
	for _, q := range []string{"?limit=5&limit=6", "?stage=growth&stage=seed", "?format=xml"} {
		if r := p.do("GET", "/api/v1/applications"+q, p.opToken, nil); r.status != 400 {
			t.Errorf("GET /api/v1/applications%s = %d %s, want 400", q, r.status, r.raw)
		}
	}
	if mine := p.do("GET", "/api/v1/applications", tokB, nil); len(mine.body["items"].([]any)) != 0 {
		t.Errorf("B sees A's applications: %s", mine.raw)
	}
	w := p.do("POST", "/api/v1/applications/"+appID+"/withdraw", tokA, map[string]any{"reason": "raised elsewhere"})
	if w.status != 200 || w.body["status"] != "withdrawn" {
		t.Errorf("withdraw = %d %s", w.status, w.raw)
	}
}

func TestStartupBadInputAppendsNothing(t *testing.T) {
	p := start(t)
	tok, _ := p.signUp(10, "startup")
	head := func() uint64 {
		h, err := p.app.Store.Head(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	before := head()
	draft := func(k string, v any) map[string]any {
		m := map[string]any{"amount_requested": "5000000.00", "instruments": []string{"equity"}, "use_of_funds": "hiring", "credit_data_consent": false}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"amount as a number", draft("amount_requested", 5000000), "amount_requested"},
		{"negative amount", draft("amount_requested", "-5.00"), "amount_requested"},
		{"zero amount", draft("amount_requested", "0.00"), "amount_requested"},
		{"too precise", draft("amount_requested", "5.001"), "amount_requested"},
		{"overflowing", draft("amount_requested", "99999999999999999999"), "amount_requested"},
		{"unknown instrument", draft("instruments", []string{"crypto"}), "instruments[0]"},
		{"instruments not a list", draft("instruments", "equity"), "instruments"},
		{"unknown field", draft("color", "red"), "color"},
		{"consent not a bool", draft("credit_data_consent", "yes"), "credit_data_consent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, p.do("POST", "/api/v1/applications", tok, tc.body), 400, tc.field)
		})
	}
	signup := func(k string, v any) map[string]any {
		c := company(11, "seed")
		c[k] = v
		return map[string]any{"email": "x@startup.cn", "password": "river stone lantern", "name": "X", "company": c}
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"bad USCC check", signup("uscc", validUSCC(11)[:17]+"0"), "company.uscc"},
		{"bad stage", signup("stage", "teenage"), "company.stage"},
		{"sector of another layer", signup("sector", "robotics"), "company.sector"},
		{"bad city", signup("city", "atlantis"), "company.city"},
		{"future founding", signup("founded_on", "2999-01-01"), "company.founded_on"},
		{"headcount as a string", signup("headcount", "forty"), "company.headcount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, p.do("POST", "/api/v1/auth/signup", "", tc.body), 400, tc.field)
		})
	}
	if after := head(); after != before {
		t.Errorf("bad input appended: head %d → %d", before, after)
	}
}

// A 201 says where what it made is read (Location), and a retry with the
// same Idempotency-Key says the same; the place answers with the thing.
func TestCreatedSaysWhere(t *testing.T) {
	p := start(t)
	r := p.do("POST", "/api/v1/auth/signup", "", map[string]any{"email": "where@startup.cn", "password": "river stone lantern", "name": "Founder", "company": company(91, "seed")})
	if r.status != 201 {
		t.Fatalf("sign up: %d %s", r.status, r.raw)
	}
	// The place, and the write's position: read there, it waits for it.
	if loc, want := r.header.Get("Location"), "/api/v1/users/"+r.body["user_id"].(string)+"?after="+r.header.Get("Fundbridge-Position"); loc != want {
		t.Errorf("sign-up Location %q, want %q", loc, want)
	}
	token := p.signIn("where@startup.cn", "river stone lantern")
	draft := map[string]any{"amount_requested": "3000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs"}
	for _, key := range []string{"", "where-1"} {
		var header []string
		if key != "" {
			header = []string{"Idempotency-Key", key}
		}
		first := p.do("POST", "/api/v1/applications", token, draft, header...)
		again := first
		if key != "" {
			again = p.do("POST", "/api/v1/applications", token, draft, header...)
		}
		loc := first.header.Get("Location")
		if first.status != 201 || loc != "/api/v1/applications/"+first.body["application_id"].(string)+"?after="+first.header.Get("Fundbridge-Position") || again.header.Get("Location") != loc {
			t.Fatalf("draft (key %q): %d Location %q, retried %q", key, first.status, loc, again.header.Get("Location"))
		}
		if got := p.do("GET", loc, token, nil); got.status != 200 || got.body["application_id"] != first.body["application_id"] {
			t.Errorf("GET %s: %d %s", loc, got.status, got.raw)
		}
	}
	if r := p.do("GET", "/api/v1/applications", token, nil); r.header.Get("Location") != "" {
		t.Errorf("a read says Location %q", r.header.Get("Location"))
	}
}
