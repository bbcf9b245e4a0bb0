package app_test

import (
	"encoding/csv"
	"strings"
	"testing"
)

func TestViewsOverHTTP(t *testing.T) {
	p := start(t)
	startup, companyID := p.signUp(51, "growth")
	other, _ := p.signUp(52, "seed")
	fm, _ := p.onboard("Qiming", "fund_manager", "fm@qiming.cn")
	fund := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Qiming VIII", "type": "vc", "committed_capital": "100000000.00"}).body["fund_id"].(string)
	d := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs"})
	appID := d.body["application_id"].(string)
	s := p.do("POST", "/api/v1/applications/"+appID+"/submit", startup, map[string]any{})
	pos := s.header.Get("Fundbridge-Position")

	// The operator's lifecycle view reflects the submission it waited for.
	r := p.do("GET", "/api/v1/views/lifecycle-stages?after="+pos, p.opToken, nil)
	if r.status != 200 {
		t.Fatalf("lifecycle = %d %s", r.status, r.raw)
	}
	if !strings.Contains(string(r.raw), `"growth"`) || !strings.Contains(string(r.raw), "30000000.00") {
		t.Errorf("lifecycle view lacks the growth-stage submission: %s", r.raw)
	}
	c := p.do("GET", "/api/v1/views/lifecycle-stages?format=csv&after="+pos, p.opToken, nil)
	rows, err := csv.NewReader(strings.NewReader(string(c.raw))).ReadAll()
	if c.status != 200 || err != nil || len(rows) < 6 {
		t.Errorf("lifecycle CSV = %d %v %q", c.status, err, c.raw)
	}
	// A company's timeline: its own, and operators'.
	if r := p.do("GET", "/api/v1/views/companies/"+companyID+"/timeline?after="+pos, startup, nil); r.status != 200 || !strings.Contains(string(r.raw), appID) {
		t.Errorf("own timeline = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("GET", "/api/v1/views/companies/"+companyID+"/timeline", other, nil), 404)
	if r := p.do("GET", "/api/v1/views/funds/"+fund+"/board", fm, nil); r.status != 200 {
		t.Errorf("own deal board = %d %s", r.status, r.raw)
	}
	for _, path := range []string{"/api/v1/views/lifecycle-stages", "/api/v1/views/market", "/api/v1/views/status"} {
		wantProblem(t, p.do("GET", path, startup, nil), 403)
		wantProblem(t, p.do("GET", path, fm, nil), 403)
		if r := p.do("GET", path, p.opToken, nil); r.status != 200 {
			t.Errorf("%s as operator = %d %s", path, r.status, r.raw)
		}
	}
	wantProblem(t, p.do("GET", "/api/v1/views/lifecycle-stages?period=fortnight", p.opToken, nil), 400, "period")
	// A parameter the read does not take is named, with those it does.
	r = p.do("GET", "/api/v1/views/lifecycle-stages?stage=seed", p.opToken, nil)
	wantProblem(t, r, 400, "stage")
	if !strings.Contains(string(r.raw), "is not a parameter of this read: use layer, sector, city, period, from, to, as_of or after") {
		t.Errorf("unknown parameter: %s", r.raw)
	}
	r = p.do("GET", "/api/v1/views/lifecycle-stages?after=-1", p.opToken, nil)
	wantProblem(t, r, 400, "after")
	if !strings.Contains(string(r.raw), "must not be negative") {
		t.Errorf("negative position: %s", r.raw)
	}
	// The path's own parameters are not offered as query parameters.
	r = p.do("GET", "/api/v1/views/companies/"+companyID+"/timeline?since=2026-01-01", startup, nil)
	wantProblem(t, r, 400, "since")
	if strings.Contains(string(r.raw), "company_id") {
		t.Errorf("the path's parameter offered in the query: %s", r.raw)
	}
}
