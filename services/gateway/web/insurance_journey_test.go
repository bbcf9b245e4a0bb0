package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// TestJourneyInsurerQuotesStartupBinds: the operator opens a premium
// subsidy programme through its page; an insurer (onboarded with the
// sample rating table over the API) edits its table through its page,
// sees a startup's request with the premium its table gives, is refused
// a quote that does not read (the error beside the field, the note
// kept), quotes; the startup accepts
// the quote, sees its policy bound at that premium and pays what the
// subsidy left due through its page.
func TestJourneyInsurerQuotesStartupBinds(t *testing.T) {
	p := startProduct(t)
	b := newBrowser(t, p.base)
	c := newClient(t, p.base)

	op := c.token(p.opEmail, p.opPassword)
	const insEmail, insPassword = "ip@picc.example", "copper meadow violin tide"
	_, org := c.api("POST", "/api/v1/orgs", op, map[string]any{"name": "PICC Property", "role": "insurer",
		"user": map[string]string{"email": insEmail, "password": insPassword, "name": "Underwriter"}})
	orgView, _ := org["org"].(map[string]any)
	insurerID, _ := orgView["org_id"].(string)
	if insurerID == "" {
		t.Fatalf("onboarding the insurer org answered %v", org)
	}
	if st, body := c.api("POST", "/api/v1/insurers", op, map[string]any{"insurer_id": insurerID, "name": "PICC Property"}); st != 201 {
		t.Fatalf("onboard insurer = %d %v", st, body)
	}
	ins := c.token(insEmail, insPassword)
	if st, body := c.api("PUT", "/api/v1/insurers/"+insurerID+"/rating-table", ins, map[string]any{"table": insuranceapi.SampleRatingTable(insurerID)}); st != 200 {
		t.Fatalf("publish table = %d %v", st, body)
	}
	_, signup := c.api("POST", "/api/v1/auth/signup", "", map[string]any{"email": founderEmail, "password": founderPassword, "name": "Wang Fang",
		"company": map[string]any{"name": "智元视觉", "uscc": uscc(t, "1110108MA01A2B3C"), "city": "beijing", "layer": "technology",
			"sector": "computer_vision", "founded_on": "2023-04-01", "headcount": 35, "stage": "growth"}})
	if signup["org_id"] == nil {
		t.Fatalf("signup answered %v", signup)
	}

	// The operator opens a subsidy programme.
	b.signIn(p.opEmail, p.opPassword, "#filters-h")
	b.visit("/operator/subsidies", "#subsidy-submit")
	b.fill(map[string]string{"f-name": "北京知识产权保险补贴", "f-sponsor": "Beijing IP Office", "f-share": "0.5",
		"f-cap_per_company_per_year": "100,000", "f-budget": "abc"})
	b.do(chromedp.Click(chromedp.CSS("#f-coverages-enforcement")))
	b.submit("#subsidy-submit", "#f-budget-error")
	if got := b.value("#f-sponsor"); got != "Beijing IP Office" {
		t.Errorf("the refused programme's sponsor came back as %q", got)
	}
	b.fill(map[string]string{"f-budget": "1,000,000"})
	b.submit("#subsidy-submit", ".notice")
	if got := b.text("#programmes"); !strings.Contains(got, "北京知识产权保险补贴") || !strings.Contains(got, "CN¥1,000,000.00") {
		t.Errorf("the programmes show %q", got)
	}
	b.signOut()

	// The startup registers a patent and asks the insurer to quote.
	b.signIn(founderEmail, founderPassword, "#company-stage")
	number := patentNumber("202310123456")
	b.fill(map[string]string{"f-number": number, "f-title": "视觉检测方法", "f-kind": "invention", "f-filed_on": "2023-01-10",
		"f-granted_on": "2024-03-01", "f-holding": "owner"})
	b.submit("#patent-submit", ".notice")
	b.visit("/startup/insurance", "#request-submit")
	b.fill(map[string]string{"f-coverage": "enforcement", "f-sum_insured": "5,000,000"})
	b.do(chromedp.Click(chromedp.CSS("[id='f-patents-"+number+"']")), chromedp.Click(chromedp.CSS("[id='f-insurers-"+insurerID+"']")))
	b.submit("#request-submit", ".notice")
	b.signOut()

	// The insurer edits its rating table: a rate that does not read is
	// refused beside its cell, the rest as typed; then a new rate for
	// young patents and a higher minimum premium are published.
	b.signIn(insEmail, insPassword, "#requests-h")
	b.submit("#edit-table", "#table-submit")
	if got := b.value("#f-table-minimum_premium"); got != "3000.00" {
		t.Errorf("the editor shows the minimum premium as %q", got)
	}
	if got := b.value("#rt-age_bands-3-name"); got != "12+" {
		t.Errorf("the editor shows the fourth age band as %q", got)
	}
	b.fill(map[string]string{"rt-rates-0-rate": "1.5%", "f-table-minimum_premium": "3,500"})
	b.submit("#table-submit", "#rt-rates-0-rate-error")
	if got := b.value("#f-table-minimum_premium"); got != "3,500" {
		t.Errorf("the refused table's minimum premium came back as %q", got)
	}
	if got := b.value("#rt-rates-0-rate"); got != "1.5%" {
		t.Errorf("the refused rate came back as %q", got)
	}
	b.fill(map[string]string{"rt-rates-0-rate": "0.0200"})
	b.submit("#table-submit", ".notice")
	if got := b.value("#f-table-minimum_premium"); got != "3500.00" {
		t.Errorf("after publishing, the minimum premium reads %q", got)
	}
	if got := b.value("#rt-rates-0-rate"); got != "0.02" {
		t.Errorf("after publishing, the first rate reads %q", got)
	}
	if st, table := c.api("GET", "/api/v1/insurers/"+insurerID+"/rating-table", ins, nil); st != 200 || table["table"].(map[string]any)["minimum_premium"] != "3500.00" {
		t.Errorf("the published table = %d %v", st, table["table"].(map[string]any)["minimum_premium"])
	}

	// The insurer sees the request with its table's premium and quotes.
	b.visit("/insurer", "#requests-h")
	b.eventually("/insurer", "article[id^='req-'] .suggested")
	b.check("/insurer")
	if got := b.text("article[id^='req-'] .suggested"); got != "CN¥75,000.00" {
		t.Errorf("the suggested premium shows %q", got)
	}
	if got := b.text("article[id^='req-'] .band"); got != "CN¥60,000.00 – CN¥90,000.00" {
		t.Errorf("the quote band shows %q", got)
	}
	// The underwriter reads whose request it is by the company's name; the
	// ID stays beside it, small.
	companyID, _ := signup["org_id"].(string)
	if got := b.text("article[id^='req-'] h3.company .name"); got != "智元视觉" {
		t.Errorf("the request is headed %q, want the company's name", got)
	}
	if got := b.text("article[id^='req-'] h3.company .id"); !strings.HasSuffix(got, companyID) {
		t.Errorf("the request's company ID shows as %q, want %s", got, companyID)
	}
	// Each request's forms are its own: their inputs are named by it.
	quote := "f-quote-" + get(b, chromedp.Evaluate[string](`document.querySelector("article[id^='req-']").id.slice(4)`)) + "-"
	b.fill(map[string]string{quote + "premium": "seventy thousand", quote + "note": "含诉讼费"})
	b.submit("button[id^='quote-']", "#"+quote+"premium-error")
	if got := b.value("#" + quote + "note"); got != "含诉讼费" {
		t.Errorf("the refused quote's note came back as %q", got)
	}
	b.fill(map[string]string{quote + "premium": "80,000"})
	b.submit("button[id^='quote-']", ".notice")
	if got := b.text("article[id^='req-'] .my-quote"); !strings.HasPrefix(got, "CN¥80,000.00") {
		t.Errorf("the insurer's quote shows %q", got)
	}
	b.signOut()

	// The startup accepts the quote: the policy is bound.
	b.signIn(founderEmail, founderPassword, "#company-stage")
	b.visit("/startup/insurance", "#requests-h")
	if got := b.text("tr[id^='quote-'] .premium"); got != "CN¥80,000.00" {
		t.Errorf("the startup sees the quote as %q", got)
	}
	b.submit("button[id^='accept-']", ".notice")
	b.eventually("/startup/insurance", "article[id^='pol-']")
	b.check("/startup/insurance policies")
	if got := b.text("article[id^='pol-'] .premium"); got != "CN¥80,000.00" {
		t.Errorf("the policy's premium shows %q", got)
	}
	if got := b.text("article[id^='pol-'] .status"); got != "Bound, awaiting premium" {
		t.Errorf("the policy's status shows %q", got)
	}
	if got := b.text("article[id^='pol-'] .subsidy"); got != "CN¥40,000.00" {
		t.Errorf("the policy's subsidy (half the premium, from the programme) shows %q", got)
	}
	b.submit("#lang-zh", "#lang-en")
	if got := b.text("article[id^='pol-'] .status"); got != "已承保，待缴保费" {
		t.Errorf("in Chinese the policy's status shows %q", got)
	}
	if got := b.text("article[id^='pol-'] .premium"); got != "¥80,000.00" {
		t.Errorf("in Chinese the policy's premium shows %q", got)
	}
	b.submit("#lang-en", "#lang-zh")

	// Cover begins once the premium due is paid: the form offers what is
	// due (the premium less the subsidy); an amount that does not read is
	// refused beside the field, what was typed kept.
	policyID := get(b, chromedp.Evaluate[string](`document.querySelector("article[id^='pol-']").id.slice(4)`))
	pay := "#f-pay-" + policyID + "-amount"
	if got := b.value(pay); got != "40000.00" {
		t.Errorf("the premium form offers %q to pay", got)
	}
	b.fill(map[string]string{pay[1:]: "forty thousand"})
	b.submit("#pay-"+policyID+"-submit", pay+"-error")
	if got := b.value(pay); got != "forty thousand" {
		t.Errorf("the refused payment came back as %q", got)
	}
	if b.exists("#f-claim-" + policyID + "-amount-error") {
		t.Error("the refused payment's error shows beside the claim form too")
	}
	b.fill(map[string]string{pay[1:]: "40,000"})
	b.submit("#pay-"+policyID+"-submit", ".notice")
	b.eventually("/startup/insurance", "#pol-"+policyID+" .status")
	if got := b.text("#pol-" + policyID + " .status"); got != "In force" {
		t.Errorf("after paying the premium the policy shows %q", got)
	}
	if b.exists(pay) {
		t.Error("the premium form is still offered once paid")
	}

	// The startup files a claim, the insurer assesses and pays it.
	b.visit("/startup/insurance", "#claim-"+policyID+"-submit")
	claim := "f-claim-" + policyID + "-"
	b.fill(map[string]string{claim + "incident_on": time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly) /* cover is in China days */, claim + "amount": "150,000", claim + "description": "诉讼维权费用"})
	b.submit("#claim-"+policyID+"-submit", ".notice")
	b.signOut()
	b.signIn(insEmail, insPassword, "#requests-h")
	b.eventually("/insurer", "button[id^='assess-']")
	b.check("/insurer claims")
	if got := b.text("article[id^='pol-'] h3.company"); !strings.Contains(got, "智元视觉") {
		t.Errorf("the policy is headed %q, want the company's name", got)
	}
	b.submit("#lang-zh", "#lang-en")
	if got := b.text("article[id^='pol-'] h3.company"); !strings.Contains(got, "智元视觉") || !strings.Contains(got, "编号") {
		t.Errorf("in Chinese the policy is headed %q", got)
	}
	b.submit("#lang-en", "#lang-zh")
	// A denial without a reason is refused beside the claim's reason field.
	claimID := get(b, chromedp.Evaluate[string](`document.querySelector("button[id^='assess-']").id.slice(7)`))
	b.submit("#deny-"+claimID, "#f-deny-"+claimID+"-reason-error")
	b.fill(map[string]string{"f-assess-" + claimID + "-amount": "120,000"})
	b.submit("#assess-"+claimID, ".notice")
	b.fill(map[string]string{"f-settle-" + claimID + "-amount": "120,000"})
	b.submit("#settle-"+claimID, ".notice")
	if got := b.text("[id^='claim-'] .badge"); got != "Settled" {
		t.Errorf("after paying the assessed amount the claim shows %q", got)
	}

	// A second request the insurer declines through its page: the card
	// says so, with the reason, where the quote form was; and the period
	// of cover reads as a number of months in either language.
	st, second := c.api("POST", "/api/v1/insurance-requests", c.token(founderEmail, founderPassword), map[string]any{"coverage": "enforcement",
		"patents": []string{number}, "sum_insured": "1000000.00", "months": 12, "insurers": []string{insurerID}})
	requestID, _ := second["request_id"].(string)
	if st != 201 || requestID == "" {
		t.Fatalf("the second request = %d %v", st, second)
	}
	card := "#req-" + requestID
	b.eventually("/insurer", "#decline-"+requestID)
	b.fill(map[string]string{"f-decline-" + requestID + "-reason": "outside our appetite"})
	b.submit("#decline-"+requestID, ".notice")
	if got := b.text(card + " .my-decline"); got != "outside our appetite" {
		t.Errorf("after declining, the request's card shows the decline as %q", got)
	}
	if b.exists("#quote-" + requestID) {
		t.Error("the declined request still offers the quote form")
	}
	if got := b.text(card + " dl"); !strings.Contains(got, "You declined") || !strings.Contains(got, "(12 months)") {
		t.Errorf("the declined request reads %q, want 'You declined' and '(12 months)'", got)
	}
	b.submit("#lang-zh", "#lang-en")
	if got := b.text(card + " dl"); !strings.Contains(got, "您已拒绝报价") || !strings.Contains(got, "(12 个月)") || strings.Contains(got, "期限（月）") {
		t.Errorf("in Chinese the declined request reads %q, want 您已拒绝报价 and (12 个月)", got)
	}
	b.submit("#lang-en", "#lang-zh")
}
