package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestApplyBackAndReload: after drafting, Back shows the review again
// (not Chrome's "Confirm Form Resubmission" page), a reload there shows
// it again (a reload from the resubmission page was sent as a cross-site
// POST with Origin: null and refused), and saving the review a second
// time opens the same application: the form's key came back with it.
func TestApplyBackAndReload(t *testing.T) {
	p := startProduct(t)
	b := newBrowser(t, p.base)
	b.visit("/signup", "#signup-submit")
	b.fill(map[string]string{"f-name": "Wang Fang", "f-email": founderEmail, "f-password": founderPassword,
		"f-company-name": "智元视觉", "f-company-uscc": uscc(t, "1110108MA01A2B3C"), "f-company-city": "beijing", "f-company-layer": "technology",
		"f-company-sector": "computer_vision", "f-company-founded_on": "2023-04-01", "f-company-headcount": "35", "f-company-stage": "startup"})
	b.submit("#signup-submit", "#company-stage")

	b.submit("#apply-link", "#f-instruments-equity")
	b.do(chromedp.Click(chromedp.CSS("#f-instruments-equity")))
	b.submit("#apply-next", "#f-amount_requested")
	b.fill(map[string]string{"f-amount_requested": "2,000,000", "f-use_of_funds": "GPU cluster"})
	b.submit("#apply-next", "dl.facts")
	b.submit("#apply-next", "#submit-application")
	first := applicationID(b.location())

	// Back: the page may come from the back/forward cache (no load) or
	// be an error page, so wait for the address to change.
	get(b, chromedp.Evaluate[bool]("history.back(); true"))
	b.waitLeave("/startup/applications/") // the review's address holds the same ID
	b.reviewShown("after Back")
	// A reload from inside the page, as the resubmission page's own
	// reload is sent (renderer-initiated).
	get(b, chromedp.Evaluate[bool]("window.__fbBefore = true; location.reload(); true"))
	b.waitNewPage()
	b.reviewShown("after Back and reload")

	b.submit("#apply-next", "#submit-application")
	if again := applicationID(b.location()); again != first {
		t.Errorf("saving the review again drafted %s; want the same application %s", again, first)
	}

	// Back to the review, its Back button to the amounts (filled in from
	// the draft), an edit: the same draft takes it.
	get(b, chromedp.Evaluate[bool]("history.back(); true"))
	b.waitLeave("/startup/applications/") // the review's address holds the same ID
	b.reviewShown("after Back again")
	// Clicked by script: chromedp's queries wait for DOM events that a
	// page restored from the back/forward cache does not send.
	get(b, chromedp.Evaluate[bool](`window.__fbBefore = true; document.querySelector("#apply-back").click(); true`))
	b.waitNewPage()
	b.do(chromedp.WaitVisible(chromedp.CSS("#f-amount_requested")))
	if got := b.value("#f-amount_requested"); got != "2000000.00" {
		t.Errorf("the draft's amount comes back as %q", got)
	}
	b.fill(map[string]string{"f-amount_requested": "2,400,000"})
	b.submit("#apply-next", "dl.facts")
	if got := b.text("dl.facts"); !strings.Contains(got, "CN¥2,400,000.00") {
		t.Errorf("after the edit the review shows %q", got)
	}
	b.submit("#apply-next", "#submit-application")
	if again := applicationID(b.location()); again != first {
		t.Errorf("saving the edit went to %s; want the same application %s", again, first)
	}
	if got := b.text("#app-amount"); got != "CN¥2,400,000.00" {
		t.Errorf("the draft's amount is %q after the edit", got)
	}

	b.visit("/startup", "#company-stage")
	if n := get(b, chromedp.Evaluate[int](`document.querySelectorAll('a[href^="/startup/applications/"]').length`)); n != 1 {
		t.Errorf("the company lists %d applications, want 1", n)
	}
	// Nothing typed is in the browser's history: each step posted, and the
	// pages it was sent to hold at most the draft's ID.
	for _, u := range b.history() {
		for _, typed := range []string{"GPU", "2000000", "2,000,000", "2%2C000%2C000", "2400000", "amount", "use_of_funds", "instruments", "equity", "idempotency_key"} {
			if strings.Contains(u, typed) {
				t.Errorf("the browser's history holds %s, with %q", u, typed)
			}
		}
	}
}

// history is every address in the tab's history, oldest first.
func (b *browser) history() []string {
	b.t.Helper()
	return get(b, chromedp.Action[[]string](func(ctx context.Context, t *chromedp.Target) ([]string, error) {
		h, err := cdp.Call(ctx, t, page.GetNavigationHistory, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		urls := make([]string, len(h.Entries))
		for i, e := range h.Entries {
			urls[i] = e.URL
		}
		return urls, nil
	}))
}

// waitLeave waits until the browser's address no longer contains s.
func (b *browser) waitLeave(s string) {
	b.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		loc, err := chromedp.Run(b.ctx, chromedp.Location())
		if err == nil && !strings.Contains(loc, s) {
			return
		}
	}
	b.t.Fatalf("the browser never left %s", s)
}

// reviewShown checks that the page is the wizard's review step.
func (b *browser) reviewShown(what string) {
	b.t.Helper()
	loc := get(b, chromedp.Location())
	if !strings.HasPrefix(loc, b.base+"/startup/apply") {
		b.shot(what)
		b.t.Fatalf("%s the browser is at %s: %q", what, loc, get(b, chromedp.Evaluate[string]("document.body.innerText")))
	}
	// Read by script: a page restored from the back/forward cache sends
	// none of the DOM events chromedp's queries wait for.
	got := get(b, chromedp.Evaluate[string](`(document.querySelector("dl.facts") || {innerText: ""}).innerText`))
	if !strings.Contains(got, "CN¥2,000,000.00") || !strings.Contains(got, "GPU cluster") {
		b.t.Errorf("%s the review shows %q", what, got)
	}
	b.check(what)
}

func applicationID(loc string) string {
	path := strings.SplitN(loc, "?", 2)[0]
	return path[strings.LastIndex(path, "/")+1:]
}
