package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// Field names match exactly and once; nothing is appended for a refusal;
// every reason is written for a person.
func TestRequestNamesAreStrict(t *testing.T) {
	p := start(t)
	tok, _ := p.signUp(951, "growth")
	head, _ := p.app.Store.Head(context.Background())
	for _, tc := range []struct {
		name, body, field string
	}{
		{"upper case", `{"AMOUNT_REQUESTED":"30000000.00","instruments":["equity"],"use_of_funds":"GPUs","credit_data_consent":true}`, "AMOUNT_REQUESTED"},
		{"another case", `{"Amount_Requested":"30000000.00","instruments":["equity"],"use_of_funds":"GPUs","credit_data_consent":true}`, "Amount_Requested"},
		{"given twice", `{"amount_requested":"1.00","amount_requested":"30000000.00","instruments":["equity"],"use_of_funds":"GPUs","credit_data_consent":true}`, "amount_requested"},
		{"wrong type", `{"amount_requested":"30000000.00","instruments":["equity"],"use_of_funds":"GPUs","credit_data_consent":"yes"}`, "credit_data_consent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.do("POST", "/api/v1/applications", tok, tc.body)
			wantProblem(t, r, http.StatusBadRequest, tc.field)
			for _, leak := range []string{"json:", "jsontext", "Go struct", "unmarshal", "applicationsapi."} {
				if strings.Contains(string(r.raw), leak) {
					t.Errorf("problem %s shows the library's words (%q)", r.raw, leak)
				}
			}
		})
	}
	if after, _ := p.app.Store.Head(context.Background()); after != head {
		t.Errorf("refused requests appended: head %d → %d", head, after)
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	p := start(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		if r := p.do("GET", "/api/v1/me", "", nil, "Authorization", scheme+" "+p.opToken); r.status != 200 {
			t.Errorf("%s: %d %s", scheme, r.status, r.raw)
		}
	}
	wantProblem(t, p.do("GET", "/api/v1/me", "", nil, "Authorization", "Bearer"), 401)
}

func TestCSVOfAnEmptyListHasItsHeader(t *testing.T) {
	p := start(t)
	r := p.do("GET", "/api/v1/applications?format=csv", p.opToken, nil)
	header, _, _ := strings.Cut(string(r.raw), "\n")
	if r.status != 200 || !strings.Contains(header, "application_id") || !strings.Contains(header, "created_at") {
		t.Errorf("empty list as CSV = %d %q, want a header row", r.status, r.raw)
	}
}

// A command's created_at is its event's recorded_at; the audit trail
// reads from a version.
func TestCreatedAtIsTheEventsTimeAndTheAuditTrailReadsFrom(t *testing.T) {
	p := start(t)
	tok, _ := p.signUp(961, "growth")
	d := p.do("POST", "/api/v1/applications", tok, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"},
		"use_of_funds": "GPUs", "credit_data_consent": true})
	if d.status != 201 {
		t.Fatalf("draft = %d %s", d.status, d.raw)
	}
	appID := d.body["application_id"].(string)
	if s := p.do("POST", "/api/v1/applications/"+appID+"/submit", tok, map[string]any{}); s.status != 200 {
		t.Fatalf("submit = %d %s", s.status, s.raw)
	}
	all := p.do("GET", "/api/v1/streams/application-"+appID+"/events", p.opToken, nil)
	evs, _ := all.body["events"].([]any)
	if all.status != 200 || len(evs) != 2 {
		t.Fatalf("audit trail = %d %s", all.status, all.raw)
	}
	if got := evs[0].(map[string]any)["recorded_at"]; got != d.body["created_at"] {
		t.Errorf("created_at %v, event recorded_at %v", d.body["created_at"], got)
	}
	from := p.do("GET", "/api/v1/streams/application-"+appID+"/events?from=2", p.opToken, nil)
	if evs, _ := from.body["events"].([]any); from.status != 200 || len(evs) != 1 {
		t.Errorf("from=2 = %d %s, want the second event", from.status, from.raw)
	}
	bad := p.do("GET", "/api/v1/streams/application-"+appID+"/events?from=second", p.opToken, nil)
	wantProblem(t, bad, 400, "from")
	if strings.Contains(string(bad.raw), "uint64") || strings.Contains(string(bad.raw), "unmarshal") {
		t.Errorf("problem %s shows Go's words", bad.raw)
	}
}
