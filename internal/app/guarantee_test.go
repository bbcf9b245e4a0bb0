package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/services/insurance"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/process"
)

// A loan secured by an IP-pledge guarantee policy defaults: the policy
// process files the guarantee claim for the insurer's share of the loss,
// once (a restart files no second), with the bank's expected recovery;
// the insurer assesses and settles it, which records the recovery
// received.
func TestGuaranteeClaimFromADefaultedLoan(t *testing.T) {
	p := start(t)
	lead, leadID := p.onboard("Bank of Beijing", "bank", "credit@bob.cn")
	fm, _ := p.onboard("Qiming", "fund_manager", "ir@qiming.cn")
	ins, insID := p.onboard("PICC Property", "insurer", "ip@picc.cn")
	startup, companyID := p.signUp(51, "growth")
	other, _ := p.signUp(52, "growth")
	if r := p.do("POST", "/api/v1/banks", p.opToken, map[string]any{"bank_id": leadID, "name": "Bank of Beijing", "credit_limit": "500000000.00", "single_borrower_limit": "50000000.00"}); r.status != 201 {
		t.Fatalf("bank = %d %s", r.status, r.raw)
	}
	if r := p.do("POST", "/api/v1/insurers", p.opToken, map[string]any{"insurer_id": insID, "name": "PICC"}); r.status != 201 {
		t.Fatalf("insurer = %d %s", r.status, r.raw)
	}
	if r := p.do("PUT", "/api/v1/insurers/"+insID+"/rating-table", ins, map[string]any{"table": insuranceapi.SampleRatingTable(insID)}); r.status != 200 {
		t.Fatalf("table = %d %s", r.status, r.raw)
	}
	f := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Qiming Venture IX", "type": "vc", "committed_capital": "1000000000.00"})
	fundID := f.body["fund_id"].(string)
	a := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "15000000.00", "instruments": []string{"loan_plus_equity"},
		"use_of_funds": "GPU cluster", "credit_data_consent": true})
	today := time.Now().UTC()
	deal := map[string]any{
		"borrower_id": companyID, "application_id": a.body["application_id"], "lead_bank_id": leadID,
		"loan":                 map[string]any{"principal": "10000000.00", "annual_rate": "0.0435", "months": 24, "method": "equal_installment"},
		"equity":               map[string]any{"fund_id": fundID, "amount": "5000000.00", "pre_money": "95000000.00"},
		"sequence":             "together",
		"risk_sharing":         map[string]any{"banks": "0.5", "fund": "0.1", "risk_compensation_fund": "0.1", "insurer": "0.3"},
		"syndication_deadline": today.Add(30 * 24 * time.Hour).Format(time.RFC3339),
	}
	r := p.do("POST", "/api/v1/loan-deals", lead, deal)
	if r.status != 201 {
		t.Fatalf("deal = %d %s", r.status, r.raw)
	}
	dealID := r.body["deal_id"].(string)
	if r := p.do("POST", "/api/v1/loan-deals/"+dealID+"/commitments", lead, map[string]any{"amount": "10000000.00"}); r.status != 200 {
		t.Fatalf("commit = %d %s", r.status, r.raw)
	}
	if r := p.do("POST", "/api/v1/loan-deals/"+dealID+"/equity", fm, map[string]any{"fund_id": fundID, "amount": "5000000.00"}); r.status != 200 {
		t.Fatalf("equity = %d %s", r.status, r.raw)
	}
	loanPath := "/api/v1/loans/" + dealID
	if r := p.do("POST", loanPath+"/drawdowns", lead, map[string]any{"amount": "10000000.00"}); r.status != 200 {
		t.Fatalf("drawdown = %d %s", r.status, r.raw)
	}

	// The startup insures the loan with its pledged patent.
	pat := patentNo("202310765432")
	p.addPatent(startup, companyID, pat, "invention", "2023-03-01", "owner")
	req := map[string]any{"coverage": "pledge_guarantee", "patents": []string{pat}, "sum_insured": "3000000.00", "loan_deal_id": dealID, "insurers": []string{insID}}
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests", startup, map[string]any{"coverage": "pledge_guarantee", "patents": []string{pat}, "sum_insured": "10000000.01", "loan_deal_id": dealID, "insurers": []string{insID}}), 422, "sum_insured")
	wantProblem(t, p.do("POST", "/api/v1/insurance-requests", startup, map[string]any{"coverage": "pledge_guarantee", "patents": []string{pat}, "sum_insured": "1000.00", "loan_deal_id": "no-such-deal", "insurers": []string{insID}}), 422, "loan_deal_id")
	r = p.do("POST", "/api/v1/insurance-requests", startup, req)
	if r.status != 201 {
		t.Fatalf("request = %d %s", r.status, r.raw)
	}
	requestID := r.body["request_id"].(string)
	quoteID, _ := p.quoteAtTable(t, ins, requestID)
	r = p.do("POST", "/api/v1/insurance-requests/"+requestID+"/quotes/"+quoteID+"/accept", startup, map[string]any{})
	if r.status != 201 || !startsWith(r.body["policy_number"], "PG-") {
		t.Fatalf("accept = %d %s", r.status, r.raw)
	}
	policyID := r.body["policy_id"].(string)
	if r := p.do("POST", "/api/v1/policies/"+policyID+"/premium", startup, map[string]any{"amount": r.body["premium_due"]}); r.status != 200 {
		t.Fatalf("pay = %d %s", r.status, r.raw)
	}
	// Only the platform files a guarantee claim.
	wantProblem(t, p.do("POST", "/api/v1/policies/"+policyID+"/claims", startup, map[string]any{"incident_on": today.Format(time.DateOnly), "amount": "1.00", "description": "x"}), 422)

	// The default: the insurer's share is 30% of the loss.
	r = p.do("POST", loanPath+"/default", lead, map[string]any{"reason": "the borrower stopped paying"})
	if r.status != 200 {
		t.Fatalf("default = %d %s", r.status, r.raw)
	}
	def := r.body["default"].(map[string]any)
	insurerPart := def["allocation"].(map[string]any)["insurer"].(string)
	var claim map[string]any
	eventually(t, "the guarantee claim", func() bool {
		g := p.do("GET", "/api/v1/policies/"+policyID, ins, nil)
		if c := items(g, "claims"); len(c) > 0 {
			claim = c[0].(map[string]any)
			return true
		}
		return false
	})
	if claim["claimed"] != insurerPart || claim["expected_recovery"] != insurerPart || claim["loan_deal_id"] != dealID || claim["default_id"] == "" {
		t.Errorf("guarantee claim %v, want the insurer's part %s of loss %s", claim, insurerPart, def["loss"])
	}
	if !decimal.RequireFromString(insurerPart).Equal(decimal.RequireFromString(def["loss"].(string)).Mul(decimal.RequireFromString("0.3")).Round(2)) {
		t.Errorf("insurer's part %s of loss %s is not 30%%", insurerPart, def["loss"])
	}

	// The process keeps its checkpoint under its own key (its NATS user
	// may write no other); then exactly once, after a restart too.
	kv, err := jsFor(t, p.app).KeyValue(context.Background(), process.CheckpointBucket)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the policy process's checkpoint", func() bool {
		_, err := kv.Get(context.Background(), insurance.ProcessName)
		return err == nil
	})
	p.restart()
	time.Sleep(2 * time.Second)
	if g := p.do("GET", "/api/v1/policies/"+policyID, p.opToken, nil); len(items(g, "claims")) != 1 {
		t.Fatalf("claims after a restart = %s", g.raw)
	}
	wantProblem(t, p.do("GET", "/api/v1/policies/"+policyID, other, nil), 404)

	// The insurer pays what it owes up to the sum insured: received recovery.
	claimPath := "/api/v1/policies/" + policyID + "/claims/" + claim["claim_id"].(string)
	owed := decimal.Min(decimal.RequireFromString(insurerPart), decimal.RequireFromString("3000000")).StringFixed(2)
	if r := p.do("POST", claimPath+"/assessment", ins, map[string]any{"amount": owed}); r.status != 200 {
		t.Fatalf("assess = %d %s", r.status, r.raw)
	}
	r = p.do("POST", claimPath+"/settlements", ins, map[string]any{"amount": owed})
	if r.status != 200 || items(r, "claims")[0].(map[string]any)["paid"] != owed {
		t.Fatalf("settle = %d %s", r.status, r.raw)
	}
	// The bank's book at the deals service still shows the loss; the
	// recovery is the insurer's settlement (claim.settled.v1).
	if b := p.do("GET", "/api/v1/banks/"+leadID+"/book", lead, nil); b.status != 200 {
		t.Errorf("bank book = %d %s", b.status, b.raw)
	}
}

func startsWith(v any, prefix string) bool {
	s, ok := v.(string)
	return ok && len(s) >= len(prefix) && s[:len(prefix)] == prefix
}
