package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestJourneyBankCommits: the operator onboards two banks with their
// limits through the onboarding page; a lead bank proposes a loan plus
// equity deal and invites the other (over the API, which has no page for
// it yet); the invited bank sees the deal with its line, commits, and
// sees the commitment in its book.
func TestJourneyBankCommits(t *testing.T) {
	p := startProduct(t)
	b := newBrowser(t, p.base)
	c := newClient(t, p.base)

	b.signIn(p.opEmail, p.opPassword, "#filters-h")
	for _, bank := range []struct{ name, email string }{{"Bank of Beijing", "credit@bob.example"}, {"Bank of Ningbo", "credit@nbcb.example"}} {
		b.visit("/operator/orgs", "#onboard-submit")
		b.fill(map[string]string{"f-name": bank.name, "f-role": "bank", "f-user-name": "Credit Officer",
			"f-user-email": bank.email, "f-user-password": "granite otter lemon sail", "f-credit_limit": "500,000,000", "f-single_borrower_limit": "50000000"})
		b.submit("#onboard-submit", ".notice")
	}
	b.signOut()

	// The market around the deal, through the API.
	op := c.token(p.opEmail, p.opPassword)
	c.api("POST", "/api/v1/orgs", op, map[string]any{"name": "Qiming", "role": "fund_manager",
		"user": map[string]string{"email": "ir@qiming.example", "password": "walnut comet harbor drum", "name": "Ir"}})
	_, signup := c.api("POST", "/api/v1/auth/signup", "", map[string]any{"email": founderEmail, "password": founderPassword, "name": "Wang Fang",
		"company": map[string]any{"name": "智元视觉", "uscc": uscc(t, "1110108MA01A2B3C"), "city": "beijing", "layer": "technology",
			"sector": "computer_vision", "founded_on": "2023-04-01", "headcount": 35, "stage": "growth"}})
	companyID := signup["org_id"].(string)
	lead, fm, startup := c.token("credit@bob.example", "granite otter lemon sail"), c.token("ir@qiming.example", "walnut comet harbor drum"), c.token(founderEmail, founderPassword)
	_, me := c.api("GET", "/api/v1/me", lead, nil)
	leadID := me["org"].(map[string]any)["org_id"].(string)
	_, fund := c.api("POST", "/api/v1/funds", fm, map[string]any{"name": "Qiming Venture IX", "type": "vc", "committed_capital": "1000000000.00"})
	_, app := c.api("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "50000000.00", "instruments": []string{"loan_plus_equity"},
		"use_of_funds": "GPU cluster", "credit_data_consent": true})
	bankB := c.token("credit@nbcb.example", "granite otter lemon sail")
	_, meB := c.api("GET", "/api/v1/me", bankB, nil)
	bankBID := meB["org"].(map[string]any)["org_id"].(string)
	_, deal := c.api("POST", "/api/v1/loan-deals", lead, map[string]any{
		"borrower_id": companyID, "application_id": app["application_id"], "lead_bank_id": leadID,
		"loan":                 map[string]any{"principal": "30000000.00", "annual_rate": "0.0435", "months": 36, "method": "equal_installment"},
		"equity":               map[string]any{"fund_id": fund["fund_id"], "amount": "20000000.00", "pre_money": "180000000.00"},
		"sequence":             "together",
		"risk_sharing":         map[string]any{"banks": "0.5", "fund": "0.2", "risk_compensation_fund": "0.2", "insurer": "0.1"},
		"syndication_deadline": time.Now().UTC().Add(30 * 24 * time.Hour).Format(time.RFC3339),
	})
	dealID := deal["deal_id"].(string)
	_, invited := c.api("POST", "/api/v1/loan-deals/"+dealID+"/invitations", lead, map[string]any{"bank_id": bankBID})

	// The invited bank commits through its page.
	b.signIn("credit@nbcb.example", "granite otter lemon sail", "#book")
	b.fill(map[string]string{"f-name": "科技贷", "f-loan_min": "1,000,000", "f-loan_max": "500000", "f-max_months": "60"})
	b.do(chromedp.Click(chromedp.CSS("#f-stages-growth")))
	b.submit("#programme-submit", "#f-loan_max-error")
	if got := b.value("#f-name"); got != "科技贷" {
		t.Errorf("the refused programme's name came back as %q", got)
	}
	b.fill(map[string]string{"f-loan_max": "50,000,000"})
	b.submit("#programme-submit", ".notice")
	if got := b.text("#programmes-h + ul"); !strings.Contains(got, "科技贷") || !strings.Contains(got, "CN¥50,000,000.00") {
		t.Errorf("the programmes show %q", got)
	}
	b.visit("/bank?after="+jsonNumber(invited["position"]), "#deal-"+dealID)
	if got := b.text("#deal-" + dealID + " .my-status"); got != "Invited" {
		t.Errorf("the bank's line shows %q before it answers", got)
	}
	b.submit("#commit-"+dealID, "#f-amount-error") // nothing typed
	b.fill(map[string]string{"f-amount": "10,000,000"})
	b.submit("#commit-"+dealID, ".notice")
	if got := b.text("#deal-" + dealID + " .my-status"); got != "Committed" {
		t.Errorf("after committing the bank's line shows %q", got)
	}
	if got := b.text("#deal-" + dealID + " .my-share"); !strings.HasPrefix(got, "CN¥10,000,000.00") {
		t.Errorf("the bank's share shows %q", got)
	}
	if got := b.text("#exposure"); got != "CN¥10,000,000.00" {
		t.Errorf("the book's exposure is %q after committing 10m", got)
	}

	b.signOut()

	// The startup sees its deal, the banks' commitments summed.
	b.signIn(founderEmail, founderPassword, "#company-stage")
	b.visit("/startup/loans", "#ldeals-h")
	if got := b.text("#ldeals-h + div table"); !strings.Contains(got, "CN¥30,000,000.00") || !strings.Contains(got, "CN¥10,000,000.00") {
		t.Errorf("the startup's loan deals show %q", got)
	}
}

// jsonNumber writes a position decoded from JSON.
func jsonNumber(v any) string {
	f, _ := v.(float64)
	return fmt.Sprintf("%.0f", f)
}
