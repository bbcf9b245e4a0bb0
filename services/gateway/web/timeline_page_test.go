package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestTimelineInChinese: a company's timeline page in Chinese writes each
// entry in Chinese from its code (names as they were typed, amounts and
// enum values the Chinese way), in English as the API's summary says it;
// the API gives each entry's code and params beside the summary.
func TestTimelineInChinese(t *testing.T) {
	p := startProduct(t)
	c := newClient(t, p.base)
	if resp, _ := c.post("/signup", founderForm(t)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up = %d", resp.StatusCode)
	}
	apply := url.Values{"step": {"3"}, "instruments": {"equity"}, "amount_requested": {"1000000"}, "use_of_funds": {"robots"}, "idempotency_key": {"apply-tl"}}
	resp, _ := c.post("/startup/apply", apply)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("drafting = %d", resp.StatusCode)
	}
	page := "/startup/timeline?after=" + after(resp.Header.Get("Location"))

	_, zh := c.get(page, "Accept-Language", "zh-CN,zh;q=0.9")
	for _, want := range []string{"注册企业 智元视觉（技术层/计算机视觉，北京），处于初创期", "起草融资申请 ¥1,000,000.00：股权融资"} {
		if !strings.Contains(zh, want) {
			t.Errorf("the Chinese timeline lacks %q:\n%s", want, zh)
		}
	}
	for _, english := range []string{"Registered ", "Drafted an application"} {
		if strings.Contains(zh, english) {
			t.Errorf("the Chinese timeline says %q in English", english)
		}
	}
	_, en := c.get(page, "Accept-Language", "en")
	for _, want := range []string{"Registered 智元视觉 (technology/computer_vision, beijing) at the startup stage", "Drafted an application for ¥1m: equity"} {
		if !strings.Contains(en, want) {
			t.Errorf("the English timeline lacks %q:\n%s", want, en)
		}
	}

	token := c.token(founderEmail, founderPassword)
	_, me := c.api("GET", "/api/v1/me", token, nil)
	companyID, _ := me["org"].(map[string]any)["org_id"].(string)
	_, tl := c.api("GET", "/api/v1/views/companies/"+companyID+"/timeline", token, nil)
	items, _ := tl["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("the API's timeline has %d entries, want 2: %v", len(items), tl)
	}
	drafted := items[1].(map[string]any)
	params, _ := drafted["summary_params"].([]any)
	if drafted["summary_code"] != "application.drafted" || drafted["summary"] != "Drafted an application for ¥1m: equity" || len(params) != 2 {
		t.Fatalf("the drafted entry = %v", drafted)
	}
	amount := params[0].(map[string]any)
	if amount["kind"] != "amount" || amount["values"].([]any)[0] != "1000000.00" {
		t.Errorf("the drafted entry's amount param = %v", amount)
	}
}
