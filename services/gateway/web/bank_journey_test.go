package web_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestJourneyBankCommits: the operator onboards two banks with their
// limits through the onboarding page; the lead bank publishes a lending
// programme, finds the startup's loan-plus-equity application on its
// propose page with the fund the match engine paired with it, proposes
// the deal (loss shares that do not sum to 1 refused beside them, what
// was typed kept) and invites the other bank from its deal card; the
// invited bank sees the deal with its line, commits, and sees the
// commitment in its book.
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

	// The market around the deal, through the API: a fund whose mandate
	// fits the startup, and its loan-plus-equity application.
	op := c.token(p.opEmail, p.opPassword)
	c.api("POST", "/api/v1/orgs", op, map[string]any{"name": "Qiming", "role": "fund_manager",
		"user": map[string]string{"email": "ir@qiming.example", "password": "walnut comet harbor drum", "name": "Ir"}})
	_, signup := c.api("POST", "/api/v1/auth/signup", "", map[string]any{"email": founderEmail, "password": founderPassword, "name": "Wang Fang",
		"company": map[string]any{"name": "智元视觉", "uscc": uscc(t, "1110108MA01A2B3C"), "city": "beijing", "layer": "technology",
			"sector": "computer_vision", "founded_on": "2023-04-01", "headcount": 35, "stage": "growth"}})
	if signup["org_id"] == nil {
		t.Fatalf("signup answered %v", signup)
	}
	fm, startup := c.token("ir@qiming.example", "walnut comet harbor drum"), c.token(founderEmail, founderPassword)
	_, fund := c.api("POST", "/api/v1/funds", fm, map[string]any{"name": "Qiming Venture IX", "type": "vc", "committed_capital": "1000000000.00"})
	fundID, _ := fund["fund_id"].(string)
	if st, body := c.api("PUT", "/api/v1/funds/"+fundID+"/mandate", fm, map[string]any{"stages": []string{"growth"}, "layers": []string{"technology"},
		"ticket_min": "1000000.00", "ticket_max": "100000000.00", "max_ownership": "0.20"}); st >= 300 {
		t.Fatalf("setting the mandate = %d %v", st, body)
	}
	_, app := c.api("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "50000000.00", "instruments": []string{"loan_plus_equity"},
		"use_of_funds": "GPU cluster", "credit_data_consent": true})
	appID, _ := app["application_id"].(string)
	if appID == "" {
		t.Fatalf("applying answered %v", app)
	}
	if st, body := c.api("POST", "/api/v1/applications/"+appID+"/submit", startup, nil); st >= 300 {
		t.Fatalf("submitting = %d %v", st, body)
	}
	bankB := c.token("credit@nbcb.example", "granite otter lemon sail")
	_, meB := c.api("GET", "/api/v1/me", bankB, nil)
	bankBID := meB["org"].(map[string]any)["org_id"].(string)
	// A bank reads the other banks by ID and name, and nothing more; a
	// startup does not read them at all.
	req, _ := http.NewRequest("GET", p.base+"/api/v1/banks", nil)
	req.Header.Set("Authorization", "Bearer "+startup)
	if resp, _ := c.do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a startup reading the banks' directory = %d, want 403", resp.StatusCode)
	}
	_, dir := c.api("GET", "/api/v1/banks", bankB, nil)
	if items, _ := dir["items"].([]any); len(items) != 2 {
		t.Errorf("the banks' directory reads %v, want the two banks", dir)
	} else {
		for _, it := range items {
			if b, _ := it.(map[string]any); len(b) != 2 || b["bank_id"] == nil || b["name"] == nil {
				t.Errorf("the banks' directory gives %v, want a bank's ID and name only", it)
			}
		}
	}

	// The lead bank publishes a programme, finds the application on its
	// propose page and proposes the deal with the paired fund.
	b.signIn("credit@bob.example", "granite otter lemon sail", "#book")
	b.fill(map[string]string{"f-name": "投贷联动", "f-loan_min": "1,000,000", "f-loan_max": "50,000,000", "f-max_months": "60"})
	b.do(chromedp.Click(chromedp.CSS("#f-stages-growth")))
	b.submit("#programme-submit", ".notice")
	b.eventually("/bank/propose", "#choose-"+appID)
	b.check("/bank/propose")
	b.submit("#choose-"+appID, "#propose-submit")
	if got := b.value("#f-loan-principal"); got != "50000000.00" {
		t.Errorf("the loan's principal is offered as %q (the amount asked for)", got)
	}
	if got := get(b, chromedp.Evaluate[string](`document.querySelector("#f-equity-fund_id").selectedOptions[0].textContent`)); !strings.Contains(got, "Qiming Venture IX") {
		t.Errorf("the paired fund is offered as %q", got)
	}
	deadline := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 30).Format(time.DateOnly)
	b.fill(map[string]string{"f-loan-principal": "30,000,000", "f-loan-annual_rate": "0.0435", "f-loan-months": "36", "f-loan-method": "equal_installment",
		"f-equity-amount": "20,000,000", "f-equity-pre_money": "180,000,000", "f-sequence": "together",
		"f-risk_sharing-banks": "0.5", "f-risk_sharing-fund": "0.3", "f-risk_sharing-risk_compensation_fund": "0.2", "f-risk_sharing-insurer": "0.1",
		"f-syndication_deadline": deadline, "f-warrant-coverage": "0.10", "f-warrant-strike_valuation": "200,000,000",
		"f-warrant-exercise_from": time.Now().AddDate(1, 0, 0).Format(time.DateOnly), "f-warrant-exercise_until": time.Now().AddDate(3, 0, 0).Format(time.DateOnly),
		"f-warrant-holder_id": fundID})
	b.submit("#propose-submit", "#risk-sharing-error")
	if got := b.text("#risk-sharing-error"); !strings.Contains(got, "1.1") {
		t.Errorf("the loss shares' error reads %q", got)
	}
	if got := b.value("#f-equity-pre_money"); got != "180,000,000" {
		t.Errorf("the refused deal's valuation came back as %q", got)
	}
	if got := b.value("#f-warrant-strike_valuation"); got != "200,000,000" {
		t.Errorf("the refused deal's warrant strike came back as %q", got)
	}
	b.fill(map[string]string{"f-risk_sharing-fund": "0.2"})
	posted := get(b, chromedp.Evaluate[string](`new URLSearchParams(new FormData(document.querySelector("#propose-form"))).toString()`))
	b.submit("#propose-submit", ".notice")
	dealID := get(b, chromedp.Evaluate[string](`document.querySelector("article[id^='deal-']").id.slice(5)`))
	// The same form posted again (a double click) proposes nothing more.
	again := get(b, chromedp.Evaluate[int](`fetch("/bank/propose", {method: "POST", body: `+strconv.Quote(posted)+`,
		headers: {"Content-Type": "application/x-www-form-urlencoded"}}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if again != 200 { // the redirect followed to the bank's page
		t.Errorf("posting the proposal again = %d", again)
	}
	if st, deal := c.api("GET", "/api/v1/loan-deals/"+dealID, c.token("credit@bob.example", "granite otter lemon sail"), nil); st != 200 || deal["warrant"] == nil {
		t.Errorf("the proposed deal = %d, warrant %v", st, deal["warrant"])
	}
	b.visit("/bank", "#deal-"+dealID)
	if n := get(b, chromedp.Evaluate[int](`document.querySelectorAll("article[id^='deal-']").length`)); n != 1 {
		t.Errorf("after posting the proposal twice the bank has %d deals, want 1", n)
	}
	if got := b.text("#deal-" + dealID + " dl"); !strings.Contains(got, "CN¥30,000,000.00") || !strings.Contains(got, "4.35%") {
		t.Errorf("the proposed deal shows %q", got)
	}
	// The deal's card is headed by the borrower's name, its ID small beside it.
	startupID, _ := signup["org_id"].(string)
	if got := b.text("#deal-" + dealID + " h3.borrower .name"); got != "智元视觉" {
		t.Errorf("the deal is headed %q, want the borrower's name", got)
	}
	if got := b.text("#deal-" + dealID + " h3.borrower .id"); !strings.HasSuffix(got, startupID) {
		t.Errorf("the deal's borrower ID shows as %q, want %s", got, startupID)
	}

	// The lead invites the other bank from the deal's card, choosing it
	// by name: the banks on the platform, not the lead itself.
	invite := "#f-invite-" + dealID + "-bank_id"
	b.submit("#invite-"+dealID+"-submit", invite+"-error") // nothing chosen
	offered := get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("`+invite+` option")].map(o => o.textContent)`))
	if !slices.Contains(offered, "Bank of Ningbo") || slices.Contains(offered, "Bank of Beijing") {
		t.Errorf("the lead is offered %q to invite; want Bank of Ningbo and not itself", offered)
	}
	// A bank ID posted by hand that the page does not offer is refused
	// beside the field, and invites no one.
	form := `new URLSearchParams(new FormData(document.querySelector("` + invite + `").form))`
	refused := get(b, chromedp.Evaluate[string](`(() => { const f = `+form+`; f.set("bank_id", "bank-nobody");
		return fetch("/bank/deals/`+dealID+`/invite", {method: "POST", body: f.toString(),
		  headers: {"Content-Type": "application/x-www-form-urlencoded"}}).then(async r => r.status + " " + await r.text()) })()`, chromedp.EvalAwaitPromise))
	if !strings.HasPrefix(refused, "400 ") || !strings.Contains(refused, "Not a bank you can invite") {
		t.Errorf("inviting an unknown bank ID answered %.300q", refused)
	}
	chosen := get(b, chromedp.Evaluate[string](`(() => { const s = document.querySelector("`+invite+`");
		const o = [...s.options].find(o => o.textContent === "Bank of Ningbo"); s.value = o.value; return o.value })()`))
	if chosen != bankBID {
		t.Errorf("Bank of Ningbo is offered as %q, want its ID %s", chosen, bankBID)
	}
	b.submit("#invite-"+dealID+"-submit", ".notice")
	if got := b.text("#deal-" + dealID + " .syndicate tbody"); !strings.Contains(got, bankBID) || !strings.Contains(got, "Invited") ||
		!strings.Contains(got, "Bank of Ningbo") || !strings.Contains(got, "Bank of Beijing") {
		t.Errorf("the syndicate shows %q after inviting, want the banks by name", got)
	}
	// Every bank is now in the deal: none is left to offer.
	if b.exists(invite) || !strings.Contains(b.text("#deal-"+dealID+" .none-to-invite"), "already in this deal") {
		t.Errorf("after inviting the only other bank the card still offers one")
	}
	b.submit("#lang-zh", "#lang-en")
	if got := b.text("#deal-" + dealID + " .none-to-invite"); !strings.Contains(got, "均已加入") {
		t.Errorf("in Chinese the card reads %q", got)
	}
	b.submit("#lang-en", "#lang-zh")
	b.signOut()

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
	if got := b.text("#programmes-h + ul"); !strings.Contains(got, "科技贷") || !strings.Contains(got, "CN¥50,000,000.00") || !strings.Contains(got, "up to 60 months") {
		t.Errorf("the programmes show %q", got)
	}
	b.eventually("/bank", "#deal-"+dealID)
	if got := b.text("#deal-" + dealID + " .my-status"); got != "Invited" {
		t.Errorf("the bank's line shows %q before it answers", got)
	}
	b.submit("#commit-"+dealID, "#f-commit-"+dealID+"-amount-error") // nothing typed
	b.fill(map[string]string{"f-commit-" + dealID + "-amount": "10,000,000"})
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
	// The invited bank, too, reads the borrower by name: on the deal and
	// in its book's exposure by borrower, in either language.
	if got := b.text("#deal-" + dealID + " h3.borrower .name"); got != "智元视觉" {
		t.Errorf("the invited bank's deal is headed %q", got)
	}
	if got := b.text("#book table tbody"); !strings.Contains(got, "智元视觉") || !strings.Contains(got, startupID) {
		t.Errorf("the book's borrowers read %q", got)
	}
	b.submit("#lang-zh", "#lang-en")
	if got := b.text("#book table"); !strings.Contains(got, "借款企业") || !strings.Contains(got, "智元视觉") {
		t.Errorf("in Chinese the book's borrowers read %q", got)
	}
	b.submit("#lang-en", "#lang-zh")

	b.signOut()

	// The startup sees its deal, the banks' commitments summed.
	b.signIn(founderEmail, founderPassword, "#company-stage")
	b.visit("/startup/loans", "#ldeals-h")
	if got := b.text("#ldeals-h + div table"); !strings.Contains(got, "CN¥30,000,000.00") || !strings.Contains(got, "CN¥10,000,000.00") {
		t.Errorf("the startup's loan deals show %q", got)
	}
	b.signOut()

	// The lead commits ¥25m: the book is oversubscribed (¥35m for ¥30m)
	// and closes, each commitment scaled back by 30/35. The invited
	// bank's share is then its allocation, ¥8,571,428.57, no longer the
	// ¥10m it committed.
	lead := c.token("credit@bob.example", "granite otter lemon sail")
	if st, body := c.api("POST", "/api/v1/loan-deals/"+dealID+"/commitments", lead, map[string]any{"amount": "25000000.00"}); st != 200 {
		t.Fatalf("the lead committing = %d %v", st, body)
	}
	b.signIn("credit@nbcb.example", "granite otter lemon sail", "#book")
	b.visit("/bank", "#deal-"+dealID)
	if got := b.text("#deal-" + dealID + " .my-status"); got != "Allocated" {
		t.Errorf("after the book closed the bank's line shows %q", got)
	}
	if got := b.text("#deal-" + dealID + " .my-share"); got != "CN¥8,571,428.57 · 28.57%" {
		t.Errorf("after the book closed, scaled back, the bank's share shows %q, want its allocation CN¥8,571,428.57 · 28.57%%", got)
	}
	b.submit("#lang-zh", "#lang-en")
	if got := b.text("#deal-" + dealID + " .my-share"); got != "¥8,571,428.57 · 28.57%" {
		t.Errorf("in Chinese the bank's share shows %q, want ¥8,571,428.57 · 28.57%%", got)
	}
	b.submit("#lang-en", "#lang-zh")
	b.signOut()

	// The fund's tranche closes the deal and the loan opens, awaiting its
	// drawdown: the startup reads its status in words, in either language,
	// and is offered no repayment before anything is owed.
	if st, body := c.api("POST", "/api/v1/loan-deals/"+dealID+"/equity", fm, map[string]any{"fund_id": fundID, "amount": "20000000.00"}); st != 200 {
		t.Fatalf("the fund's tranche = %d %v", st, body)
	}
	b.signIn(founderEmail, founderPassword, "#company-stage")
	b.eventually("/startup/loans", "#loan-"+dealID)
	if got := b.text("#loan-" + dealID + "-h .loan-status"); got != "Awaiting drawdown" {
		t.Errorf("the startup's loan reads %q, want Awaiting drawdown", got)
	}
	if b.exists("#repay-" + dealID) {
		t.Error("a loan awaiting its drawdown offers a repayment")
	}
	b.submit("#lang-zh", "#lang-en")
	if got := b.text("#loan-" + dealID + "-h .loan-status"); got != "待放款" {
		t.Errorf("in Chinese the startup's loan reads %q, want 待放款", got)
	}
	b.submit("#lang-en", "#lang-zh")
}
