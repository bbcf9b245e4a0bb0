package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// uscc makes a valid unified social credit code from 16 digits.
func uscc(t *testing.T, digits string) string {
	first17 := "9" + digits
	check, ok := fundbridge.USCCCheck(first17)
	if !ok {
		t.Fatalf("no USCC from %s", first17)
	}
	return first17 + string(check)
}

// patentNumber makes a valid CN patent number from 12 digits.
func patentNumber(digits string) string {
	return "CN" + digits + "." + string(applicationsapi.PatentCheckDigit(digits))
}

const (
	managerEmail    = "lin@gobi.example"
	managerPassword = "copper lantern meadow trumpet"
	founderEmail    = "wang@zhiyuan.example"
	founderPassword = "quiet harbor saffron kettle"
)

// TestJourneyFromApplicationToDashboard: the operator onboards a fund
// manager; a startup signs up (a bad code first: the error is beside the
// field and what was typed stays), registers a patent and applies; the
// manager sees the match with its reasons, moves the card through the
// pipeline (a stale card is explained), issues a term sheet with the
// ownership computed as it types; the startup accepts; the manager
// closes; the operator's dashboard shows the funded amount at the
// startup's stage and its chart changed; switching language changes the
// labels and the amounts' format. axe-core checks every page on the way.
func TestJourneyFromApplicationToDashboard(t *testing.T) {
	p := startProduct(t)
	b := newBrowser(t, p.base)

	// The operator onboards the fund manager and notes the dashboard.
	b.signIn(p.opEmail, p.opPassword, "#filters-h")
	chartBefore := get(b, chromedp.OuterHTML(chromedp.CSS("#chart-funnel svg")))
	b.visit("/operator/orgs", "#onboard-submit")
	b.fill(map[string]string{"f-name": "Gobi Ventures", "f-role": "fund_manager", "f-user-name": "Lin Mei",
		"f-user-email": managerEmail, "f-user-password": managerPassword})
	b.submit("#onboard-submit", ".notice")
	b.signOut()

	// A startup signs up; a wrong check character is refused beside the
	// field, and everything typed but the password is still there.
	b.visit("/signup", "#signup-submit")
	good := uscc(t, "1110108MA01A2B3C")
	bad := good[:17] + map[bool]string{true: "1", false: "2"}[good[17] != '1']
	fields := map[string]string{"f-name": "Wang Fang", "f-email": founderEmail, "f-password": founderPassword,
		"f-company-name": "智元视觉", "f-company-uscc": bad, "f-company-city": "beijing", "f-company-layer": "technology",
		"f-company-sector": "computer_vision", "f-company-founded_on": "2023-04-01", "f-company-headcount": "35", "f-company-stage": "startup"}
	b.fill(fields)
	b.submit("#signup-submit", "#f-company-uscc-error")
	if got := b.text("#f-company-uscc-error"); !strings.Contains(got, "check character") {
		t.Errorf("the USCC's error says %q", got)
	}
	for id, want := range map[string]string{"f-company-name": "智元视觉", "f-company-uscc": bad, "f-email": founderEmail, "f-company-sector": "computer_vision", "f-company-headcount": "35"} {
		if got := b.value("#" + id); got != want {
			t.Errorf("after the refused sign-up, %s = %q, want what was typed, %q", id, got, want)
		}
	}
	if got := b.value("#f-password"); got != "" {
		t.Errorf("the password came back in the page")
	}
	b.fill(map[string]string{"f-company-uscc": good, "f-password": founderPassword})
	b.submit("#signup-submit", "#company-stage")
	if got := b.text("#company-stage"); got != "Startup" {
		t.Errorf("company stage shows %q", got)
	}

	// A patent, then an application in three steps.
	number := patentNumber("202310123456")
	b.fill(map[string]string{"f-number": number, "f-title": "视觉检测方法", "f-kind": "invention", "f-filed_on": "2023-01-10",
		"f-granted_on": "2024-03-01", "f-holding": "owner"})
	b.submit("#patent-submit", ".notice")
	if !strings.Contains(b.text("#patents table"), number) {
		t.Errorf("the patent %s is not listed", number)
	}
	b.submit("#apply-link", "#f-instruments-equity")
	b.submit("#apply-next", "#f-instruments-equity-error, #f-instruments + .error, .problem") // nothing chosen
	b.do(chromedp.Click(chromedp.CSS("#f-instruments-equity")))
	b.submit("#apply-next", "#f-amount_requested")
	// Use of funds is needed to submit, so the wizard asks for it.
	b.fill(map[string]string{"f-amount_requested": "2,000,000"})
	b.submit("#apply-next", "#f-use_of_funds-error")
	b.fill(map[string]string{"f-use_of_funds": "GPU cluster and two engineers"})
	b.submit("#apply-next", "dl.facts")
	if got := b.text("dl.facts"); !strings.Contains(got, "CN¥2,000,000.00") {
		t.Errorf("the review shows %q", got)
	}
	b.submit("#apply-next", "#submit-application")
	appPath := strings.SplitN(b.location(), "?", 2)[0]
	appID := appPath[strings.LastIndex(appPath, "/")+1:]
	b.submit("#submit-application", "#app-status")
	if got := b.text("#app-status"); got != "Submitted" && got != "Matched" {
		t.Errorf("the application is %q after submitting", got)
	}
	b.signOut()

	// The manager registers a fund, sets its mandate and sees the match.
	b.signIn(managerEmail, managerPassword, "#fund-submit")
	b.fill(map[string]string{"f-name": "Gobi AI Fund III", "f-type": "vc", "f-committed_capital": "100000000"})
	b.submit("#fund-submit", "#mandate-submit")
	fundPath := strings.TrimSuffix(strings.SplitN(b.location(), "?", 2)[0], "/mandate")
	fundID := fundPath[strings.LastIndex(fundPath, "/")+1:]
	b.do(chromedp.Click(chromedp.CSS("#f-stages-startup")), chromedp.Click(chromedp.CSS("#f-layers-technology")))
	b.fill(map[string]string{"f-ticket_min": "500000", "f-ticket_max": "5000000", "f-max_ownership": "25"})
	b.submit("#mandate-submit", "#board")
	b.eventually(fundPath, "#match-"+appID)
	b.check("match")
	if got := b.text("#match-" + appID); !strings.Contains(got, "Why it fits") || !strings.Contains(got, "stage startup is in mandate") {
		t.Errorf("the match shows no reasons: %q", got)
	}
	// In Chinese the reasons are written from their codes.
	b.submit("#lang-zh", "#lang-en")
	if got := b.text("#match-" + appID); !strings.Contains(got, "阶段“初创期”在投资授权内") || strings.Contains(got, "is in mandate") {
		t.Errorf("in Chinese the match's reasons read %q", got)
	}
	b.submit("#lang-en", "#lang-zh")
	b.submit("#source-"+appID, "#board .notice, .notice")
	dealID := fundID + "_" + appID

	// Through the pipeline; a stale card's move is explained.
	for _, next := range []string{"screening", "first_meeting", "due_diligence"} {
		b.submit("#move-"+dealID, ".notice")
		b.eventually(fundPath, fmt.Sprintf("#col-%s ~ #card-%s", next, dealID))
	}
	b.do(chromedp.SetValue(chromedp.CSS("#card-"+dealID+" input[name=version]"), "1"))
	b.submit("#move-"+dealID, "#form-problem")
	if got := b.text("#form-problem"); !strings.Contains(got, "Someone moved this deal") {
		t.Errorf("a stale card's move says %q", got)
	}
	// A pass without a reason is refused beside the reason, its box left open.
	b.do(chromedp.Click(chromedp.CSS("#pass-" + dealID + "-box summary")))
	b.submit("#pass-"+dealID, "#f-pass-"+dealID+"-reason-error")
	b.visit(fundPath, "#move-"+dealID)
	b.submit("#move-"+dealID, ".notice")
	b.eventually(fundPath, "#termsheet-"+dealID)
	b.submit("#termsheet-"+dealID, "#termsheet-submit")
	if got := b.text("p.company .name"); got != "智元视觉" {
		t.Errorf("the term sheet is for %q, want the company's name", got)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#f-amount"), "2000000"), chromedp.SendKeys(chromedp.CSS("#f-pre_money"), "8000000"))
	b.do(chromedp.WaitVisible(chromedp.CSS("#ownership-value")))
	if got := b.text("#ownership-value"); got != "20.00%" {
		t.Errorf("ownership as typed = %q, want 20.00%%", got)
	}
	b.submit("#termsheet-submit", ".notice")
	b.signOut()

	// The startup accepts.
	b.signIn(founderEmail, founderPassword, "#company-stage")
	b.visit(appPath, "#accept-"+dealID)
	if got := b.text("#termsheet-" + dealID + " .ownership"); got != "20.00%" {
		t.Errorf("the startup sees ownership %q", got)
	}
	b.submit("#accept-"+dealID, ".notice")
	b.signOut()

	// The manager closes; dry powder falls by the amount.
	b.signIn(managerEmail, managerPassword, "#fund-submit")
	b.visit(fundPath, "#close-"+dealID)
	b.submit("#close-"+dealID, ".notice")
	if got := b.text("#dry-powder"); got != "CN¥98,000,000.00" {
		t.Errorf("dry powder after closing = %q", got)
	}
	// The commitment names the company, not only its ID.
	if got := b.text("#commitments"); !strings.Contains(got, "智元视觉") {
		t.Errorf("the fund's commitments read %q", got)
	}
	b.signOut()

	// The operator's dashboard shows it at the startup stage.
	b.signIn(p.opEmail, p.opPassword, "#filters-h")
	b.eventually("/operator", "#stage-startup")
	if got := b.text("#stage-startup .amount-funded"); got != "CN¥2,000,000.00" {
		t.Errorf("funded at the startup stage = %q", got)
	}
	if chartAfter := get(b, chromedp.OuterHTML(chromedp.CSS("#chart-funnel svg"))); chartAfter == chartBefore {
		t.Error("the funnel chart did not change")
	}
	b.visit("/operator?layer=technology&period=quarter", "#chart-raised")
	b.visit("/operator/audit?stream_id=deal-"+dealID, "table")
	b.visit("/operator?layer=nonsense", "#f-layer-error")

	// Another language: labels and amount formats change, and stay.
	b.visit("/operator", "#lang-zh")
	b.submit("#lang-zh", "#lang-en")
	if got := b.text("main h1"); got != "按生命周期阶段的融资总览" {
		t.Errorf("the dashboard's title in Chinese is %q", got)
	}
	if got := b.text("#stage-startup .amount-funded"); got != "¥2,000,000.00" {
		t.Errorf("an amount in Chinese is written %q", got)
	}
	b.visit("/operator/orgs", "#onboard-submit")
	if got := b.text("label[for=f-name]"); !strings.Contains(got, "机构名称") {
		t.Errorf("the language was not remembered: label %q", got)
	}

	// A phone-sized screen.
	b.do(chromedp.EmulateViewport(375, 740))
	b.visit("/operator", "#chart-funnel")
}
