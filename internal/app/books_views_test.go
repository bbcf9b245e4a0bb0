package app_test

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// TestBooksOverHTTP: a whole loan-plus-equity deal, then the views: the
// bank's book agrees with the deals service's own figures, in JSON and
// CSV, each bank sees only its own; the lifecycle, market, timeline and
// fund board count the deal.
func TestBooksOverHTTP(t *testing.T) {
	p := start(t)
	lead, leadID := p.onboard("Bank of Hangzhou", "bank", "credit@hzbank.cn")
	bankB, bankBID := p.onboard("Bank of Jiangsu", "bank", "credit@jsbchina.cn")
	fm, _ := p.onboard("Lightspeed", "fund_manager", "ir@lsvp.cn")
	startup, companyID := p.signUp(41, "growth")
	for _, id := range []string{leadID, bankBID} {
		if r := p.do("POST", "/api/v1/banks", p.opToken, map[string]any{"bank_id": id, "name": "bank " + id, "credit_limit": "100000000.00", "single_borrower_limit": "40000000.00"}); r.status != 201 {
			t.Fatalf("onboard bank = %d %s", r.status, r.raw)
		}
	}
	fundID := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "LS China V", "type": "vc", "committed_capital": "500000000.00"}).body["fund_id"].(string)
	appID := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "40000000.00", "instruments": []string{"loan_plus_equity"},
		"use_of_funds": "robots", "credit_data_consent": true}).body["application_id"].(string)
	if r := p.do("POST", "/api/v1/applications/"+appID+"/submit", startup, map[string]any{}); r.status != 200 {
		t.Fatalf("submit = %d %s", r.status, r.raw)
	}
	r := p.do("POST", "/api/v1/loan-deals", lead, map[string]any{
		"borrower_id": companyID, "application_id": appID, "lead_bank_id": leadID,
		"loan":                 map[string]any{"principal": "30000000.00", "annual_rate": "0.0435", "months": 36, "method": "equal_installment"},
		"equity":               map[string]any{"fund_id": fundID, "amount": "10000000.00", "pre_money": "90000000.00"},
		"sequence":             "together",
		"risk_sharing":         map[string]any{"banks": "0.6", "fund": "0.1", "risk_compensation_fund": "0.2", "insurer": "0.1"},
		"syndication_deadline": time.Now().UTC().Add(30 * 24 * time.Hour).Format(time.RFC3339),
	})
	if r.status != 201 {
		t.Fatalf("propose = %d %s", r.status, r.raw)
	}
	dealID := r.body["deal_id"].(string)
	steps := []struct {
		path  string
		token string
		body  map[string]any
	}{
		{"/api/v1/loan-deals/" + dealID + "/invitations", lead, map[string]any{"bank_id": bankBID}},
		{"/api/v1/loan-deals/" + dealID + "/commitments", lead, map[string]any{"amount": "20000000.00"}},
		{"/api/v1/loan-deals/" + dealID + "/commitments", bankB, map[string]any{"amount": "10000000.00"}},
		{"/api/v1/loan-deals/" + dealID + "/equity", fm, map[string]any{"fund_id": fundID, "amount": "10000000.00"}},
		{"/api/v1/loans/" + dealID + "/drawdowns", lead, map[string]any{"amount": "30000000.00"}},
	}
	for _, s := range steps {
		if r = p.do("POST", s.path, s.token, s.body); r.status != 200 {
			t.Fatalf("%s = %d %s", s.path, r.status, r.raw)
		}
	}
	first := items(r, "schedule")[0].(map[string]any)
	if r = p.do("POST", "/api/v1/loans/"+dealID+"/repayments", startup, map[string]any{"amount": first["payment"]}); r.status != 200 {
		t.Fatalf("repay = %d %s", r.status, r.raw)
	}
	pos := r.header.Get("Fundbridge-Position")

	// The views' book agrees with the deals service's own.
	compare := func(when string) {
		t.Helper()
		for _, b := range []struct{ id, token string }{{leadID, lead}, {bankBID, bankB}} {
			own := p.do("GET", "/api/v1/banks/"+b.id+"/book?after="+pos, b.token, nil)
			view := p.do("GET", "/api/v1/views/banks/"+b.id+"/book?after="+pos, b.token, nil)
			if own.status != 200 || view.status != 200 {
				t.Fatalf("%s: books = %d %s / %d %s", when, own.status, own.raw, view.status, view.raw)
			}
			for _, k := range []string{"exposure", "disbursed", "outstanding", "losses", "credit_limit", "single_borrower_limit"} {
				if own.body[k] != view.body[k] {
					t.Errorf("%s: bank %s %s: deals %v, views %v", when, b.id, k, own.body[k], view.body[k])
				}
			}
		}
	}
	compare("in repayment")
	view := p.do("GET", "/api/v1/views/banks/"+bankBID+"/book?after="+pos, bankB, nil)
	if view.body["disbursed"] != "10000000.00" || len(items(view, "items")) != 1 {
		t.Errorf("bank B's book = %s", view.raw)
	}
	c := p.do("GET", "/api/v1/views/banks/"+bankBID+"/book?format=csv&after="+pos, bankB, nil)
	rows, err := csv.NewReader(strings.NewReader(string(c.raw))).ReadAll()
	if c.status != 200 || err != nil || len(rows) != 2 || rows[0][0] != "deal_id" || rows[1][0] != dealID || !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") {
		t.Errorf("bank B's book as CSV = %d %v %q", c.status, err, c.raw)
	}
	if c := p.do("GET", "/api/v1/views/banks/"+bankBID+"/book", bankB, nil, "Accept", "text/csv"); c.status != 200 || !strings.HasPrefix(string(c.raw), "deal_id,") {
		t.Errorf("Accept: text/csv = %d %q", c.status, c.raw)
	}
	wantProblem(t, p.do("GET", "/api/v1/views/banks/"+bankBID+"/book", lead, nil), 404)
	wantProblem(t, p.do("GET", "/api/v1/views/banks/"+bankBID+"/book", startup, nil), 403)
	wantProblem(t, p.do("GET", "/api/v1/views/banks/"+bankBID+"/book", fm, nil), 403)
	if r := p.do("GET", "/api/v1/views/banks/"+bankBID+"/book", p.opToken, nil); r.status != 200 {
		t.Errorf("the operator = %d %s", r.status, r.raw)
	}

	// A default: the losses agree, and the insurer's share is expected back.
	if r = p.do("POST", "/api/v1/loans/"+dealID+"/default", lead, map[string]any{"reason": "stopped paying"}); r.status != 200 {
		t.Fatalf("default = %d %s", r.status, r.raw)
	}
	pos = r.header.Get("Fundbridge-Position")
	compare("after the default")
	if v := p.do("GET", "/api/v1/views/banks/"+leadID+"/book?after="+pos, lead, nil); v.body["recovery_expected"] == "0.00" || v.body["outstanding_defaulted"] != v.body["outstanding"] {
		t.Errorf("lead's book after the default = %s", v.raw)
	}

	// The other views count the deal.
	life := p.do("GET", "/api/v1/views/lifecycle-stages?after="+pos, p.opToken, nil)
	growth := items(life, "items")[2].(map[string]any)
	if growth["stage"] != "growth" || growth["loan_deals_closed"] != float64(1) || growth["loans_raised"] != "30000000.00" {
		t.Errorf("lifecycle growth row = %v", growth)
	}
	mk := p.do("GET", "/api/v1/views/market?after="+pos, p.opToken, nil)
	if total := items(mk, "items")[0].(map[string]any); total["loan_deal_equity_raised"] != "10000000.00" {
		t.Errorf("market total = %v", total)
	}
	board := p.do("GET", "/api/v1/views/funds/"+fundID+"/board?after="+pos, fm, nil)
	if lpe := items(board, "instruments")[1].(map[string]any); lpe["funded"] != float64(1) || lpe["loans_alongside"] != "30000000.00" {
		t.Errorf("fund board = %s", board.raw)
	}
	tl := p.do("GET", "/api/v1/views/companies/"+companyID+"/timeline?after="+pos, startup, nil)
	for _, want := range []string{"loan_deal.proposed.v1", "loan_deal.closed.v1", "loan.drawn_down.v1", "loan.repayment_received.v1", "loan.defaulted.v1"} {
		if !strings.Contains(string(tl.raw), want) {
			t.Errorf("timeline lacks %s", want)
		}
	}
	if containsID(tl.raw, bankBID) {
		t.Errorf("the startup's timeline names bank B: %s", tl.raw)
	}
}
