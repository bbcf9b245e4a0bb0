package app_test

import (
	"slices"
	"testing"
	"time"
)

// A loan-plus-equity application over HTTP: matched with a bank's
// programme and a fund, offered as a pair, and the bank opens the deal
// from the pair in one request.
func TestProgrammeMatchesAndPairsOverHTTP(t *testing.T) {
	p := start(t)
	bank, bankID := p.onboard("Bank of Beijing", "bank", "credit@bob.cn")
	other, otherID := p.onboard("Bank of Ningbo", "bank", "credit@nbcb.cn")
	fm, _ := p.onboard("Qiming", "fund_manager", "ir@qiming.cn")
	otherFM, _ := p.onboard("Matrix", "fund_manager", "ir@matrix.cn")
	startup, companyID := p.signUp(41, "growth")

	for _, id := range []string{bankID, otherID} {
		if r := p.do("POST", "/api/v1/banks", p.opToken, map[string]any{"bank_id": id, "name": "bank " + id, "credit_limit": "500000000.00", "single_borrower_limit": "50000000.00"}); r.status != 201 {
			t.Fatalf("onboard bank = %d %s", r.status, r.raw)
		}
	}
	prog := map[string]any{"name": "科技贷", "stages": []string{"growth", "expansion"}, "layers": []string{"technology"}, "loan_min": "1000000.00",
		"loan_max": "50000000.00", "max_months": 60, "requires_equity_partner": true, "needs_credit_consent": true}
	if r := p.do("PUT", "/api/v1/banks/"+bankID+"/programmes/tech-loan", bank, prog); r.status != 200 {
		t.Fatalf("publish programme = %d %s", r.status, r.raw)
	}
	// The other bank lends to seed companies only: no match.
	if r := p.do("PUT", "/api/v1/banks/"+otherID+"/programmes/seed-loan", other, map[string]any{"name": "种子贷", "stages": []string{"seed"},
		"loan_min": "100000.00", "loan_max": "5000000.00", "max_months": 36}); r.status != 200 {
		t.Fatalf("publish programme = %d %s", r.status, r.raw)
	}
	f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Qiming Venture IX", "type": "vc", "committed_capital": "1000000000.00"})
	fundID := f.body["fund_id"].(string)
	if r := p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fm, map[string]any{"stages": []string{"growth"}, "layers": []string{"technology"},
		"ticket_min": "5000000.00", "ticket_max": "80000000.00", "max_ownership": "0.25"}); r.status != 200 {
		t.Fatalf("mandate = %d %s", r.status, r.raw)
	}
	a := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"loan_plus_equity"},
		"use_of_funds": "GPU cluster", "valuation_ask": "170000000.00", "credit_data_consent": true})
	appID := a.body["application_id"].(string)
	if s := p.do("POST", "/api/v1/applications/"+appID+"/submit", startup, map[string]any{}); s.status != 200 {
		t.Fatalf("submit = %d %s", s.status, s.raw)
	}

	// The startup sees the pair: its fund and the bank's programme.
	var pair map[string]any
	eventually(t, "the pair", func() bool {
		r := p.do("GET", "/api/v1/applications/"+appID+"/pairs", startup, nil)
		if list := items(r, "items"); len(list) == 1 {
			pair = list[0].(map[string]any)
		}
		return pair != nil
	})
	if pair["fund_id"] != fundID || pair["bank_id"] != bankID || pair["programme_id"] != "tech-loan" || pair["programme_name"] != "科技贷" {
		t.Errorf("pair = %v", pair)
	}
	// The application's matches list the programme with its reasons.
	m := p.do("GET", "/api/v1/applications/"+appID+"/matches", startup, nil)
	progs := items(m, "programmes")
	if len(progs) != 1 || len(items(m, "items")) != 1 {
		t.Fatalf("matches = %s", m.raw)
	}
	if why := progs[0].(map[string]any)["reasons_for"].([]any); !slices.Contains(why, any("wants a loan plus equity, as the programme requires an equity partner")) {
		t.Errorf("programme reasons = %v", why)
	}
	// The bank sees its programme's board; another bank, neither that board nor the pairs.
	b := p.do("GET", "/api/v1/banks/"+bankID+"/programmes/tech-loan/matches", bank, nil)
	if list := items(b, "items"); len(list) != 1 || list[0].(map[string]any)["application_id"] != appID {
		t.Errorf("programme board = %d %s", b.status, b.raw)
	}
	wantProblem(t, p.do("GET", "/api/v1/banks/"+bankID+"/programmes/tech-loan/matches", other, nil), 404)
	wantProblem(t, p.do("GET", "/api/v1/banks/"+bankID+"/programmes/tech-loan/matches", fm, nil), 403)
	wantProblem(t, p.do("GET", "/api/v1/applications/"+appID+"/pairs", other, nil), 404)
	wantProblem(t, p.do("GET", "/api/v1/applications/"+appID+"/pairs", otherFM, nil), 404)
	if r := p.do("GET", "/api/v1/applications/"+appID+"/pairs", fm, nil); len(items(r, "items")) != 1 {
		t.Errorf("the fund's manager sees pairs %d %s", r.status, r.raw)
	}
	if r := p.do("GET", "/api/v1/banks/"+otherID+"/programmes/seed-loan/matches", other, nil); r.status != 200 || len(items(r, "items")) != 0 {
		t.Errorf("seed programme board = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("GET", "/api/v1/applications/"+appID+"/pairs?limit=1000", startup, nil), 400, "limit")

	// The bank opens the deal from the pair in one request: the pair's
	// parties with its terms.
	deal := pair["propose"].(map[string]any)
	if deal["borrower_id"] != companyID || deal["lead_bank_id"] != bankID || deal["equity"].(map[string]any)["fund_id"] != fundID {
		t.Fatalf("proposal = %v", deal)
	}
	deal["loan"] = map[string]any{"principal": "20000000.00", "annual_rate": "0.0435", "months": 36, "method": "equal_installment"}
	deal["equity"].(map[string]any)["amount"], deal["equity"].(map[string]any)["pre_money"] = "10000000.00", "170000000.00"
	deal["sequence"] = "equity_first"
	deal["risk_sharing"] = map[string]any{"banks": "0.6", "fund": "0.2", "risk_compensation_fund": "0.2", "insurer": "0"}
	deal["syndication_deadline"] = time.Now().UTC().Add(30 * 24 * time.Hour).Format(time.RFC3339)
	if r := p.do("POST", "/api/v1/loan-deals", bank, deal); r.status != 201 {
		t.Errorf("propose from the pair = %d %s", r.status, r.raw)
	}
}
