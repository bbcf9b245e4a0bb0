package app_test

import (
	"net/url"
	"testing"
	"time"
)

// eventually polls until ok or fails after a few seconds: matching runs
// asynchronously behind the events.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestMarketFromApplicationToFundedDeal(t *testing.T) {
	p := start(t)
	fm, _ := p.onboard("Qiming", "fund_manager", "fm@qiming.cn")
	other, _ := p.onboard("Matrix", "fund_manager", "fm@matrix.cn")
	startup, companyID := p.signUp(21, "growth")

	f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Qiming VIII", "type": "vc", "committed_capital": "100000000.00"})
	fundID := f.body["fund_id"].(string)
	m := p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fm, map[string]any{"stages": []string{"growth"}, "layers": []string{"technology"},
		"ticket_min": "5000000.00", "ticket_max": "40000000.00", "max_ownership": "0.20"})
	if m.status != 200 {
		t.Fatalf("mandate = %d %s", m.status, m.raw)
	}
	d := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"},
		"use_of_funds": "Training cluster", "valuation_ask": "150000000.00", "credit_data_consent": true})
	appID := d.body["application_id"].(string)
	s := p.do("POST", "/api/v1/applications/"+appID+"/submit", startup, map[string]any{})
	if s.status != 200 {
		t.Fatalf("submit = %d %s", s.status, s.raw)
	}

	// The match appears on the fund's board with reasons, and the application moves to matched.
	var match map[string]any
	eventually(t, "the match", func() bool {
		r := p.do("GET", "/api/v1/funds/"+fundID+"/matches", fm, nil)
		items, _ := r.body["items"].([]any)
		if len(items) == 1 {
			match = items[0].(map[string]any)
		}
		return len(items) == 1
	})
	if match["application_id"] != appID || len(match["reasons_for"].([]any)) == 0 {
		t.Errorf("match = %v", match)
	}
	eventually(t, "matched status", func() bool {
		return p.do("GET", "/api/v1/applications/"+appID, startup, nil).body["status"] == "matched"
	})
	// Now the fund manager may see the application; another manager may not.
	if r := p.do("GET", "/api/v1/applications/"+appID, fm, nil); r.status != 200 {
		t.Errorf("manager of a matched fund reading the application = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("GET", "/api/v1/applications/"+appID, other, nil), 404)
	wantProblem(t, p.do("GET", "/api/v1/funds/"+fundID+"/matches", other, nil), 404)
	if r := p.do("GET", "/api/v1/applications/"+appID+"/matches", startup, nil); r.status != 200 {
		t.Errorf("startup's matches = %d %s", r.status, r.raw)
	}

	// Through the pipeline.
	deal := p.do("POST", "/api/v1/deals", fm, map[string]any{"fund_id": fundID, "application_id": appID})
	if deal.status != 201 {
		t.Fatalf("source = %d %s", deal.status, deal.raw)
	}
	dealID := deal.body["deal_id"].(string)
	// The deal names its company, in the reply and when read.
	if deal.body["company_name"] != "深度视觉 21" {
		t.Errorf("sourced deal's company_name = %v", deal.body["company_name"])
	}
	wantProblem(t, p.do("POST", "/api/v1/deals", other, map[string]any{"fund_id": fundID, "application_id": appID}), 404)
	wantProblem(t, p.do("POST", "/api/v1/deals/"+dealID+"/advance", fm, map[string]any{"to": "due_diligence"}), 409) // no skipping
	for _, step := range []string{"screening", "first_meeting", "due_diligence", "ic_review"} {
		if r := p.do("POST", "/api/v1/deals/"+dealID+"/advance", fm, map[string]any{"to": step}); r.status != 200 {
			t.Fatalf("advance to %s = %d %s", step, r.status, r.raw)
		}
	}
	wantProblem(t, p.do("POST", "/api/v1/deals/"+dealID+"/advance", fm, map[string]any{"to": "screening"}), 409) // no going back
	// 30m on 90m pre-money is 25%: above the mandate's 20%.
	wantProblem(t, p.do("POST", "/api/v1/deals/"+dealID+"/term-sheet", fm, map[string]any{"amount": "30000000.00", "pre_money": "90000000.00"}), 422)
	ts := p.do("POST", "/api/v1/deals/"+dealID+"/term-sheet", fm, map[string]any{"amount": "30000000.00", "pre_money": "150000000.00"})
	if ts.status != 200 {
		t.Fatalf("term sheet = %d %s", ts.status, ts.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/deals/"+dealID+"/term-sheet/accept", fm, map[string]any{}), 403)
	if r := p.do("POST", "/api/v1/deals/"+dealID+"/term-sheet/accept", startup, map[string]any{}); r.status != 200 {
		t.Fatalf("accept = %d %s", r.status, r.raw)
	}
	closed := p.do("POST", "/api/v1/deals/"+dealID+"/close", fm, map[string]any{})
	if closed.status != 200 {
		t.Fatalf("close = %d %s", closed.status, closed.raw)
	}
	// The fund's dry powder dropped by exactly the amount; the application is funded.
	eventually(t, "the commitment", func() bool {
		return p.do("GET", "/api/v1/funds/"+fundID, fm, nil).body["dry_powder"] == "70000000.00"
	})
	eventually(t, "funded status", func() bool {
		return p.do("GET", "/api/v1/applications/"+appID, startup, nil).body["status"] == "funded"
	})
	// Deals are listed with counts per step for the manager, and the company sees its own.
	q := url.Values{"fund_id": {fundID}}
	if r := p.do("GET", "/api/v1/deals?"+q.Encode(), fm, nil); r.status != 200 || len(r.body["items"].([]any)) != 1 {
		t.Errorf("deal list = %d %s", r.status, r.raw)
	} else if name := r.body["items"].([]any)[0].(map[string]any)["company_name"]; name != "深度视觉 21" {
		t.Errorf("listed deal's company_name = %v", name)
	}
	if r := p.do("GET", "/api/v1/deals/"+dealID, startup, nil); r.status != 200 {
		t.Errorf("startup reading its deal = %d %s", r.status, r.raw)
	}
	_ = companyID
}

func TestClosingBeyondDryPowderLeavesTheDealOpen(t *testing.T) {
	p := start(t)
	fm, _ := p.onboard("Sinovation", "fund_manager", "fm@sinovation.cn")
	f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Sinovation Seed", "type": "seed", "committed_capital": "40000000.00"})
	fundID := f.body["fund_id"].(string)
	p.do("PUT", "/api/v1/funds/"+fundID+"/mandate", fm, map[string]any{"stages": []string{"seed"},
		"ticket_min": "1000000.00", "ticket_max": "30000000.00", "max_ownership": "0.30"})
	var deals []string
	for i := range 2 {
		tok, _ := p.signUp(30+i, "seed")
		d := p.do("POST", "/api/v1/applications", tok, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"}, "use_of_funds": "chips"})
		appID := d.body["application_id"].(string)
		p.do("POST", "/api/v1/applications/"+appID+"/submit", tok, map[string]any{})
		var dealID string
		eventually(t, "a sourceable match", func() bool {
			r := p.do("POST", "/api/v1/deals", fm, map[string]any{"fund_id": fundID, "application_id": appID}, "Idempotency-Key", "src-"+appID)
			if r.status == 201 {
				dealID = r.body["deal_id"].(string)
			}
			return r.status == 201
		})
		for _, step := range []string{"screening", "first_meeting", "due_diligence", "ic_review"} {
			p.do("POST", "/api/v1/deals/"+dealID+"/advance", fm, map[string]any{"to": step})
		}
		if r := p.do("POST", "/api/v1/deals/"+dealID+"/term-sheet", fm, map[string]any{"amount": "30000000.00", "pre_money": "90000000.00"}); r.status != 200 {
			t.Fatalf("term sheet = %d %s", r.status, r.raw)
		}
		if r := p.do("POST", "/api/v1/deals/"+dealID+"/term-sheet/accept", tok, map[string]any{}); r.status != 200 {
			t.Fatalf("accept = %d %s", r.status, r.raw)
		}
		deals = append(deals, dealID)
	}
	if r := p.do("POST", "/api/v1/deals/"+deals[0]+"/close", fm, map[string]any{}); r.status != 200 {
		t.Fatalf("first close = %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/deals/"+deals[1]+"/close", fm, map[string]any{}), 422)
	if r := p.do("GET", "/api/v1/deals/"+deals[1], fm, nil); r.body["step"] == "closed" {
		t.Errorf("the refused deal closed anyway: %s", r.raw)
	}
	if r := p.do("GET", "/api/v1/funds/"+fundID, fm, nil); r.body["dry_powder"] != "10000000.00" {
		t.Errorf("dry powder = %v, want 10000000.00", r.body["dry_powder"])
	}
}
