package web_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// client is a person's browser without the browser: a cookie jar that
// does not follow redirects, speaking to the real product over HTTP.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// post sends a form as a same-origin browser does.
func (c *client) post(path string, form url.Values, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Accept-Language", "en")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func (c *client) get(path string, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	req.Header.Set("Accept-Language", "en")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func founderForm(t *testing.T) url.Values {
	return url.Values{"name": {"Wang Fang"}, "email": {founderEmail}, "password": {founderPassword},
		"company.name": {"智元视觉"}, "company.uscc": {uscc(t, "1110108MA01A2B3C")}, "company.city": {"beijing"},
		"company.layer": {"technology"}, "company.sector": {"computer_vision"}, "company.founded_on": {"2023-04-01"},
		"company.headcount": {"35"}, "company.stage": {"startup"}, "idempotency_key": {"signup-1"}}
}

// TestFormsAreGuarded: the session cookie's flags, a cross-site post
// refused, a double click doing one thing, and the language taken from
// Accept-Language, then remembered.
func TestFormsAreGuarded(t *testing.T) {
	p := startProduct(t)
	c := newClient(t, p.base)

	resp, _ := c.post("/signup", founderForm(t))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/startup?done=notice.welcome" {
		t.Fatalf("sign-up = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "fb_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure || session.Path != "/" {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/ (not Secure over plain HTTP)", session)
	}

	// A post from another site is refused and changes nothing.
	apply := url.Values{"step": {"3"}, "instruments": {"equity"}, "amount_requested": {"1000000"}, "use_of_funds": {"robots"}, "idempotency_key": {"apply-1"}}
	if resp, body := c.post("/startup/apply", apply, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "another site") {
		t.Errorf("a cross-site post = %d", resp.StatusCode)
	}
	if resp, _ := c.post("/startup/apply", apply, "Sec-Fetch-Site", "", "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a post with a foreign Origin = %d", resp.StatusCode)
	}

	// The same form posted twice (a double click) drafts one application.
	first, _ := c.post("/startup/apply", apply)
	second, _ := c.post("/startup/apply", apply)
	loc1, loc2 := first.Header.Get("Location"), second.Header.Get("Location")
	id := func(loc string) string {
		return strings.SplitN(strings.TrimPrefix(loc, "/startup/applications/"), "?", 2)[0]
	}
	if first.StatusCode != http.StatusSeeOther || id(loc1) == "" || id(loc1) != id(loc2) {
		t.Errorf("a double post went to %q and %q; want the same application", loc1, loc2)
	}
	_, home := c.get("/startup?after=" + after(loc2))
	if n := strings.Count(home, `href="/startup/applications/`); n != 1 {
		t.Errorf("after a double post the company lists %d applications, want 1", n)
	}
	// Another key is another application.
	apply.Set("idempotency_key", "apply-2")
	third, _ := c.post("/startup/apply", apply)
	if id(third.Header.Get("Location")) == id(loc1) {
		t.Error("a new form's key replayed the first application")
	}

	// Language: Accept-Language first, then the choice, remembered.
	if _, body := c.get("/startup", "Accept-Language", "zh-CN,zh;q=0.9"); !strings.Contains(body, "<h1>我的企业</h1>") || !strings.Contains(body, "¥1,000,000.00") {
		t.Error("a Chinese browser does not get the page in Chinese with ¥ amounts")
	}
	if resp, _ := c.get("/lang?to=en&back=/startup"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/startup" {
		t.Errorf("switching language = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := c.get("/startup", "Accept-Language", "zh-CN"); !strings.Contains(body, "<h1>My company</h1>") || !strings.Contains(body, "CN¥1,000,000.00") {
		t.Error("the chosen language was not remembered over Accept-Language")
	}
	if resp, _ := c.get("/lang?to=zh&back=//evil.example/"); resp.Header.Get("Location") != "/" {
		t.Errorf("the language switch redirects off the site: %q", resp.Header.Get("Location"))
	}

	// Pages need a session; the API's answers stay JSON.
	anon := newClient(t, p.base)
	if resp, _ := anon.get("/startup"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Errorf("a stranger at /startup = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := anon.get("/api/v1/nowhere"); resp.StatusCode != http.StatusNotFound || !json.Valid([]byte(body)) {
		t.Errorf("an unknown API path = %d %s", resp.StatusCode, body)
	}
	if resp, _ := c.get("/operator"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a startup at the operator's dashboard = %d", resp.StatusCode)
	}
}

func after(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	return u.Query().Get("after")
}

// api calls the HTTP API as a client program does; the status and the
// decoded body come back.
func (c *client) api(method, path, token string, body any) (int, map[string]any) {
	c.t.Helper()
	data, _ := json.Marshal(body)
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(data))
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, raw := c.do(req)
	var out map[string]any
	_ = json.Unmarshal([]byte(raw), &out)
	if resp.StatusCode >= 300 {
		c.t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func (c *client) token(email, password string) string {
	c.t.Helper()
	_, out := c.api("POST", "/api/v1/auth/token", "", map[string]string{"email": email, "password": password})
	return out["access_token"].(string)
}

// TestApplyPostRedirectGet: each step of the wizard is a post answered
// with 303 See Other to the next step's page, whose address holds at most
// the draft's ID, never what was typed nor the form's key; the server
// keeps what was typed (the draft from step 2 on). The same step posted
// twice is one application, and an edit after Back updates the draft,
// from the draft's own pages or from a page of before it was drafted.
func TestApplyPostRedirectGet(t *testing.T) {
	p := startProduct(t)
	c := newClient(t, p.base)
	if resp, _ := c.post("/signup", founderForm(t)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up = %d", resp.StatusCode)
	}
	var seen []string // every address the journey is sent to
	follow := func(what string, resp *http.Response, want *regexp.Regexp) string {
		t.Helper()
		loc := resp.Header.Get("Location")
		seen = append(seen, loc)
		if resp.StatusCode != http.StatusSeeOther || !want.MatchString(loc) {
			t.Fatalf("%s = %d to %q; want 303 to %s", what, resp.StatusCode, loc, want)
		}
		return loc
	}
	if _, body := c.get("/startup/apply"); !strings.Contains(body, `method="post" action="/startup/apply"`) {
		t.Fatalf("step 1 does not post:\n%s", body)
	}
	step1 := url.Values{"step": {"1"}, "instruments": {"equity"}, "idempotency_key": {"apply-prg"}}
	loc := follow("posting step 1", first(c.post("/startup/apply", step1)), regexp.MustCompile(`^/startup/apply\?w=[a-z0-9]{26}&step=2$`))
	step2 := loc
	resp, body := c.get(loc)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `value="apply-prg"`) || !strings.Contains(body, `name="instruments" value="equity"`) ||
		!strings.Contains(body, `id="f-amount_requested"`) {
		t.Fatalf("step 2 = %d; want the amount asked, the key and the instruments kept:\n%s", resp.StatusCode, body)
	}

	draft := url.Values{"step": {"2"}, "instruments": {"equity"}, "amount_requested": {"1,000,000"}, "use_of_funds": {""}, "idempotency_key": {"apply-prg"}}
	if resp, body := c.post("/startup/apply", draft); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-use_of_funds-error"`) {
		t.Errorf("step 2 without use of funds = %d; want 400 with the reason beside the field", resp.StatusCode)
	}
	draft.Set("use_of_funds", "robots")
	review := regexp.MustCompile(`^/startup/apply/[A-Za-z0-9_-]+\?after=\d+$`)
	reviewLoc := follow("posting step 2", first(c.post("/startup/apply", draft)), review)
	again := follow("posting step 2 again", first(c.post("/startup/apply", draft)), review)
	appPath := strings.SplitN(reviewLoc, "?", 2)[0]
	if strings.SplitN(again, "?", 2)[0] != appPath {
		t.Errorf("step 2 posted twice went to %q and %q; want one application", reviewLoc, again)
	}
	if resp, body := c.get(reviewLoc); resp.StatusCode != http.StatusOK || !strings.Contains(body, `<dl class="facts">`) ||
		!strings.Contains(body, "CN¥1,000,000.00") || !strings.Contains(body, "robots") {
		t.Fatalf("the review = %d:\n%s", resp.StatusCode, body)
	}

	// Back from the review reaches step 2 of before the draft; it sends
	// on to the draft's step 2, filled in from the draft.
	loc = follow("step 2 after drafting", first(c.get(step2)), regexp.MustCompile(`^`+appPath+`\?step=2$`))
	if _, body := c.get(loc); !strings.Contains(body, `value="1000000.00"`) || !strings.Contains(body, ">robots</textarea>") {
		t.Errorf("the draft's step 2 is not filled in from the draft:\n%s", body)
	}
	// An edit there updates the draft.
	edit := url.Values{"step": {"2"}, "instruments": {"equity"}, "amount_requested": {"2,500,000"}, "use_of_funds": {"robots"}, "idempotency_key": {"other"}}
	loc = follow("the edited step 2", first(c.post(appPath, edit)), regexp.MustCompile(`^`+appPath+`\?after=\d+$`))
	if _, body := c.get(loc); !strings.Contains(body, "CN¥2,500,000.00") {
		t.Errorf("the review after the edit does not show the new amount:\n%s", body)
	}
	// So does an edit posted from a page of before the draft (opened by
	// Back before the redirect above existed): its key finds the draft.
	draft.Set("amount_requested", "3,000,000")
	edited := follow("step 2 edited from an old page", first(c.post("/startup/apply", draft)), regexp.MustCompile(`^`+appPath+`\?after=\d+$`))

	// Back from the review, then saving it: the application's page.
	follow("Back from the review", first(c.post(appPath, url.Values{"step": {"3"}, "back": {"1"}})), regexp.MustCompile(`^`+appPath+`\?step=2$`))
	_, body = c.get(edited)
	saved := follow("saving the review", first(c.post(appPath, formOf(t, body))), regexp.MustCompile(`^/startup/applications/[A-Za-z0-9_-]+\?`))
	if _, body := c.get(saved); !strings.Contains(body, "3,000,000") {
		t.Errorf("the saved draft does not show the last edit:\n%s", body)
	}
	if _, home := c.get("/startup?after=" + after(saved)); strings.Count(home, `href="/startup/applications/`) != 1 {
		t.Errorf("the company lists %d applications, want 1", strings.Count(home, `href="/startup/applications/`))
	}
	for _, loc := range seen {
		for _, typed := range []string{"equity", "1000000", "1,000,000", "2500000", "3,000,000", "robots", "apply-prg", "amount", "use_of_funds", "idempotency_key"} {
			if strings.Contains(loc, typed) || strings.Contains(loc, url.QueryEscape(typed)) {
				t.Errorf("the wizard was sent to %q, which holds %q", loc, typed)
			}
		}
	}
}

// TestApplyInTwoTabs: two tabs each start the wizard, and each keeps its
// own choice and key through a reload of its step 2, so each drafts its
// own application (with one wizard's place in the cookie, the first tab's
// reload showed the second's key, and its draft was then overwritten by
// the second's).
func TestApplyInTwoTabs(t *testing.T) {
	p := startProduct(t)
	c := newClient(t, p.base)
	if resp, _ := c.post("/signup", founderForm(t)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up = %d", resp.StatusCode)
	}
	tabs := []struct{ key, instrument, amount, use string }{
		{"tab-a-key", "equity", "1,000,000", "robots"},
		{"tab-b-key", "venture_loan", "2,000,000", "servers"},
	}
	step2 := make([]string, len(tabs))
	for i, tab := range tabs {
		resp, _ := c.post("/startup/apply", url.Values{"step": {"1"}, "instruments": {tab.instrument}, "idempotency_key": {tab.key}})
		if step2[i] = resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("tab %d's step 1 = %d", i, resp.StatusCode)
		}
	}
	var drafted []string
	for i, tab := range tabs { // each tab reloads its step 2, then posts it
		_, body := c.get(step2[i])
		f := formOf(t, body)
		if f.Get("idempotency_key") != tab.key || f.Get("instruments") != tab.instrument {
			t.Fatalf("tab %d's step 2 holds key %q and %q; want its own, %q and %q", i, f.Get("idempotency_key"), f.Get("instruments"), tab.key, tab.instrument)
		}
		f.Set("amount_requested", tab.amount)
		f.Set("use_of_funds", tab.use)
		resp, _ := c.post("/startup/apply", f)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("tab %d's step 2 = %d", i, resp.StatusCode)
		}
		drafted = append(drafted, resp.Header.Get("Location"))
	}
	for i, tab := range tabs {
		if _, body := c.get(drafted[i]); !strings.Contains(body, "CN¥"+tab.amount+".00") || !strings.Contains(body, tab.use) {
			t.Errorf("tab %d's review (%s) does not show its own terms, %s for %s:\n%s", i, drafted[i], tab.amount, tab.use, body)
		}
	}
	if strings.SplitN(drafted[0], "?", 2)[0] == strings.SplitN(drafted[1], "?", 2)[0] {
		t.Errorf("both tabs drafted %s; want an application each", drafted[0])
	}
}

func first(resp *http.Response, _ string) *http.Response { return resp }

// formOf is what the page's wizard form posts: its inputs and text areas
// (hidden ones included) and its checked boxes.
func formOf(t *testing.T, body string) url.Values {
	t.Helper()
	start := strings.Index(body, `<form method="post" action="/startup/apply`)
	if start < 0 {
		t.Fatalf("no wizard form in:\n%s", body)
	}
	body = body[start:]
	body = body[:strings.Index(body, "</form>")]
	v := url.Values{}
	for _, m := range regexp.MustCompile(`<input([^>]*)>`).FindAllStringSubmatch(body, -1) {
		attr := func(name string) string {
			a := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(m[1])
			if a == nil {
				return ""
			}
			return html.UnescapeString(a[1])
		}
		if attr("name") == "" || attr("type") == "checkbox" && !strings.Contains(m[1], " checked") {
			continue
		}
		v.Add(attr("name"), attr("value"))
	}
	return v
}
