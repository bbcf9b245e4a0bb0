package app_test

import (
	"strings"
	"testing"
)

func TestFundsOverHTTP(t *testing.T) {
	p := start(t)
	fmA, orgA := p.onboard("Qiming", "fund_manager", "a@qiming.cn")
	fmB, _ := p.onboard("Matrix", "fund_manager", "b@matrix.cn")
	bank, _ := p.onboard("Bank of Beijing", "bank", "c@bob.cn")

	r := p.do("POST", "/api/v1/funds", fmA, map[string]any{"name": "Qiming Venture VIII", "type": "vc", "committed_capital": "1500000000.00"}, "Idempotency-Key", "qm8")
	if r.status != 201 {
		t.Fatalf("register = %d %s", r.status, r.raw)
	}
	fundID := r.body["fund_id"].(string)
	if r.body["manager_org"] != orgA || r.body["dry_powder"] != "1500000000.00" {
		t.Errorf("fund = %s", r.raw)
	}
	if again := p.do("POST", "/api/v1/funds", fmA, map[string]any{"name": "Qiming Venture VIII", "type": "vc", "committed_capital": "1500000000.00"}, "Idempotency-Key", "qm8"); again.body["fund_id"] != fundID {
		t.Errorf("retry = %s, want the same fund", again.raw)
	}
	mandate := map[string]any{"stages": []string{"startup", "growth"}, "layers": []string{"technology"}, "ticket_min": "5000000.00", "ticket_max": "80000000.00", "max_ownership": "0.20"}
	set := p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fmA, mandate)
	if set.status != 200 || set.header.Get("Fundbridge-Position") == "" {
		t.Fatalf("set mandate = %d %s", set.status, set.raw)
	}
	// Read your write: the detail waits for the position.
	got := p.do("GET", "/api/v1/funds/"+fundID+"?after="+set.header.Get("Fundbridge-Position"), fmA, nil)
	if got.status != 200 || got.body["mandate"] == nil || got.header.Get("ETag") == "" {
		t.Fatalf("get = %d %v %s", got.status, got.header, got.raw)
	}
	// If-Match with a stale ETag is a conflict.
	wantProblem(t, p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fmA, mandate, "If-Match", `"1"`), 409)
	if ok := p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fmA, mandate, "If-Match", got.header.Get("ETag")); ok.status != 200 {
		t.Errorf("If-Match with the current ETag = %d %s", ok.status, ok.raw)
	}

	// Who sees what.
	wantProblem(t, p.do("GET", "/api/v1/funds/"+fundID, fmB, nil), 404)
	wantProblem(t, p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fmB, mandate), 404)
	wantProblem(t, p.do("GET", "/api/v1/funds", bank, nil), 403)
	if l := p.do("GET", "/api/v1/funds", fmB, nil); l.status != 200 || len(l.body["items"].([]any)) != 0 {
		t.Errorf("another manager's list = %d %s", l.status, l.raw)
	}
	if l := p.do("GET", "/api/v1/funds?type=vc", p.opToken, nil); l.status != 200 || len(l.body["items"].([]any)) != 1 {
		t.Errorf("operator's list = %d %s", l.status, l.raw)
	}
	csv := p.do("GET", "/api/v1/funds?format=csv", p.opToken, nil)
	if csv.status != 200 || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csv.raw), "Qiming Venture VIII") {
		t.Errorf("CSV = %d %s %s", csv.status, csv.header.Get("Content-Type"), csv.raw)
	}

	// Money on the wire: strings with at most two places, never numbers.
	for _, bad := range []struct {
		name  string
		value any
	}{
		{"number", 1500000},
		{"negative", "-1.00"},
		{"zero", "0"},
		{"three places", "1.001"},
		{"overflow", "100000000000000000"},
		{"not a number", "lots"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			wantProblem(t, p.do("POST", "/api/v1/funds", fmA, map[string]any{"name": "X", "type": "vc", "committed_capital": bad.value}), 400, "committed_capital")
		})
	}
	wantProblem(t, p.do("POST", "/api/v1/funds", fmA, map[string]any{"name": "X", "type": "hedge", "committed_capital": "1.00"}), 400, "type")
	wantProblem(t, p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fmA, map[string]any{"stages": []string{"seed", "teen"}, "ticket_min": "1.00", "ticket_max": "2.00", "max_ownership": "1.5"}), 400, "stages[1]", "max_ownership")
	wantProblem(t, p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fmA, map[string]any{"stages": []string{"seed"}, "ticket_min": "1.00", "ticket_max": "2.00", "max_ownership": 0.2}), 400, "max_ownership")
	wantProblem(t, p.do("POST", "/api/v1/funds", bank, map[string]any{"name": "X", "type": "vc", "committed_capital": "1.00"}), 403)
}
