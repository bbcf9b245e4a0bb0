package app_test

import (
	"fmt"
	"slices"
	"testing"
)

// The user's report, over HTTP: a company moved from growth to expansion
// after applying. Its application must leave the growth-only fund's board
// and its fund_ids, and join the boards of the five expansion funds it
// fits, with reasons that name its stage now.
func TestMatchingFollowsTheCompanyOverHTTP(t *testing.T) {
	p := start(t)
	fm, _ := p.onboard("Qiming", "fund_manager", "fm@qiming.cn")
	startup, companyID := p.signUp(31, "growth")

	fund := func(name string, stage string) string {
		t.Helper()
		f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": name, "type": "vc", "committed_capital": "500000000.00"})
		if f.status != 201 {
			t.Fatalf("register %s = %d %s", name, f.status, f.raw)
		}
		id := f.body["fund_id"].(string)
		m := p.do("PUT", "/api/v1/funds/"+id+"/mandate", fm, map[string]any{"stages": []string{stage}, "layers": []string{"technology"},
			"ticket_min": "5000000.00", "ticket_max": "80000000.00", "max_ownership": "0.25"})
		if m.status != 200 {
			t.Fatalf("mandate %s = %d %s", name, m.status, m.raw)
		}
		return id
	}
	growth := fund("Growth Only", "growth")
	var expansion []string
	for i := range 5 {
		expansion = append(expansion, fund(fmt.Sprintf("Expansion %d", i), "expansion"))
	}
	slices.Sort(expansion)

	d := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"},
		"use_of_funds": "Training cluster", "valuation_ask": "150000000.00", "credit_data_consent": true})
	appID := d.body["application_id"].(string)
	if s := p.do("POST", "/api/v1/applications/"+appID+"/submit", startup, map[string]any{}); s.status != 200 {
		t.Fatalf("submit = %d %s", s.status, s.raw)
	}
	fundIDs := func() []string {
		var out []string
		for _, f := range p.do("GET", "/api/v1/applications/"+appID, startup, nil).body["fund_ids"].([]any) {
			out = append(out, f.(string))
		}
		slices.Sort(out)
		return out
	}
	board := func(fundID string) []map[string]any {
		var out []map[string]any
		for _, it := range p.do("GET", "/api/v1/funds/"+fundID+"/matches", fm, nil).body["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	eventually(t, "the growth fund's match", func() bool { return slices.Equal(fundIDs(), []string{growth}) && len(board(growth)) == 1 })

	// The company moves to expansion.
	if r := p.do("POST", "/api/v1/companies/"+companyID+"/stage", startup, map[string]any{"stage": "expansion"}); r.status != 200 {
		t.Fatalf("change stage = %d %s", r.status, r.raw)
	}
	eventually(t, "fund_ids to follow the company", func() bool { return slices.Equal(fundIDs(), expansion) })
	if b := board(growth); len(b) != 0 {
		t.Errorf("the growth-only fund still lists %v", b)
	}
	for _, f := range expansion {
		b := board(f)
		if len(b) != 1 || b[0]["application_id"] != appID || !slices.Contains(b[0]["reasons_for"].([]any), any("stage expansion is in mandate")) {
			t.Errorf("fund %s board = %v", f, b)
		}
	}
	app := p.do("GET", "/api/v1/applications/"+appID, startup, nil)
	if app.body["stage"] != "expansion" || app.body["status"] != "matched" {
		t.Errorf("application = %s", app.raw)
	}
	m := p.do("GET", "/api/v1/applications/"+appID+"/matches", startup, nil)
	if items := m.body["items"].([]any); len(items) != 5 {
		t.Errorf("the startup sees %d matches, want 5: %s", len(items), m.raw)
	}

	// And back: the growth fund takes it again, the expansion funds let go.
	if r := p.do("POST", "/api/v1/companies/"+companyID+"/stage", startup, map[string]any{"stage": "growth"}); r.status != 200 {
		t.Fatalf("change stage back = %d %s", r.status, r.raw)
	}
	eventually(t, "fund_ids to follow the company back", func() bool { return slices.Equal(fundIDs(), []string{growth}) })
	for _, f := range expansion {
		if b := board(f); len(b) != 0 {
			t.Errorf("fund %s still lists %v", f, b)
		}
	}

	// A mandate change is followed the same way: the growth fund leaves
	// technology for the application layer, and the match goes.
	if r := p.do("PUT", "/api/v1/funds/"+growth+"/mandate", fm, map[string]any{"stages": []string{"growth"}, "layers": []string{"application"},
		"ticket_min": "5000000.00", "ticket_max": "80000000.00", "max_ownership": "0.25"}); r.status != 200 {
		t.Fatalf("mandate = %d %s", r.status, r.raw)
	}
	eventually(t, "fund_ids to follow the mandate", func() bool { return len(fundIDs()) == 0 })
	eventually(t, "the application back to submitted", func() bool {
		return p.do("GET", "/api/v1/applications/"+appID, startup, nil).body["status"] == "submitted"
	})
}
