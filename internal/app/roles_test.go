package app_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// TestEveryRoleAgainstEveryEndpoint calls each route of the API as each
// kind of caller, on its own org's resources and on another's, and checks
// the answer's class: 2xx, 401, 403 (may never), 404 (not yours, or not
// visible to you). Commands that would change the fixture are sent only by
// callers who must be refused; their owners' happy paths are in the flow tests.
func TestEveryRoleAgainstEveryEndpoint(t *testing.T) {
	p := start(t)
	startupA, companyA := p.signUp(41, "growth")
	startupB, _ := p.signUp(42, "growth")
	fm, _ := p.onboard("Qiming", "fund_manager", "fm@q.cn")
	fmOther, _ := p.onboard("Matrix", "fund_manager", "fm@m.cn")
	bank, _ := p.onboard("ICBC", "bank", "credit@icbc.cn")
	insurer, _ := p.onboard("PICC", "insurer", "ip@picc.cn")

	fund := p.do("POST", "/api/v1/funds", fm, map[string]any{"name": "Qiming VIII", "type": "vc", "committed_capital": "100000000.00"}).body["fund_id"].(string)
	p.do("PUT", "/api/v1/funds/"+fund+"/mandate", fm, map[string]any{"stages": []string{"growth"}, "ticket_min": "1000000.00", "ticket_max": "50000000.00", "max_ownership": "0.25"})
	app := p.do("POST", "/api/v1/applications", startupA, map[string]any{"amount_requested": "20000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs"}).body["application_id"].(string)
	p.do("POST", "/api/v1/applications/"+app+"/submit", startupA, map[string]any{})
	var deal string
	eventually(t, "a deal", func() bool {
		r := p.do("POST", "/api/v1/deals", fm, map[string]any{"fund_id": fund, "application_id": app}, "Idempotency-Key", "d1")
		if r.status == 201 {
			deal = r.body["deal_id"].(string)
		}
		return r.status == 201
	})
	eventually(t, "the application matched", func() bool {
		return p.do("GET", "/api/v1/applications/"+app, fm, nil).status == 200
	})

	tokens := map[string]string{
		"anonymous": "", "startup": startupA, "other startup": startupB, "fund manager": fm,
		"other fund manager": fmOther, "bank": bank, "insurer": insurer, "operator": p.opToken,
	}
	// ok lists who gets a 2xx; forbidden who gets a 403; everyone else
	// signed in gets a 404, and anonymous callers a 401.
	type access struct {
		method, path string
		body         any
		ok           []string
		forbidden    []string
	}
	all := []string{"startup", "other startup", "fund manager", "other fund manager", "bank", "insurer", "operator"}
	cases := []access{
		{"GET", "/api/v1/me", nil, all, nil},
		{"GET", "/api/v1/companies", nil, []string{"startup", "other startup", "fund manager", "other fund manager", "operator"}, []string{"bank", "insurer"}},
		{"GET", "/api/v1/companies/" + companyA, nil, []string{"startup", "fund manager", "operator"}, nil},
		{"GET", "/api/v1/applications", nil, []string{"startup", "other startup", "fund manager", "other fund manager", "operator"}, []string{"bank", "insurer"}},
		{"GET", "/api/v1/applications/" + app, nil, []string{"startup", "fund manager", "operator"}, nil},
		{"GET", "/api/v1/applications/" + app + "/matches", nil, []string{"startup", "operator"}, []string{"fund manager", "other fund manager", "bank", "insurer"}},
		{"GET", "/api/v1/funds", nil, []string{"fund manager", "other fund manager", "operator"}, []string{"startup", "other startup", "bank", "insurer"}},
		{"GET", "/api/v1/funds/" + fund, nil, []string{"fund manager", "operator"}, nil},
		{"GET", "/api/v1/funds/" + fund + "/matches", nil, []string{"fund manager", "operator"}, []string{"startup", "other startup", "bank", "insurer"}},
		{"GET", "/api/v1/applications/" + app + "/pairs", nil, []string{"startup", "operator"}, []string{"insurer"}},
		{"GET", "/api/v1/banks/no-bank/programmes/none/matches", nil, nil, []string{"startup", "other startup", "fund manager", "other fund manager", "insurer"}},
		{"GET", "/api/v1/deals", nil, []string{"startup", "other startup", "fund manager", "other fund manager", "operator"}, []string{"bank", "insurer"}},
		{"GET", "/api/v1/deals/" + deal, nil, []string{"startup", "fund manager", "operator"}, []string{"bank", "insurer"}},
		{"GET", "/api/v1/streams/application-" + app + "/events", nil, []string{"startup", "operator"}, []string{"bank", "insurer"}},
		{"GET", "/api/v1/streams/fund-" + fund + "/events", nil, []string{"fund manager", "operator"}, []string{"bank", "insurer"}},
		{"GET", "/api/v1/streams/deal-" + deal + "/events", nil, []string{"startup", "fund manager", "operator"}, []string{"bank", "insurer"}},
		// Commands, by those who must be refused.
		{"POST", "/api/v1/orgs", map[string]any{"name": "x", "role": "bank", "user": map[string]string{"email": "x@x.cn", "password": "amber falcon orchard", "name": "x"}},
			nil, []string{"startup", "fund manager", "bank", "insurer"}},
		{"PATCH", "/api/v1/companies/" + companyA, map[string]any{"headcount": 99}, nil, []string{"fund manager", "bank", "insurer"}},
		{"POST", "/api/v1/companies/" + companyA + "/stage", map[string]any{"stage": "expansion"}, nil, []string{"fund manager", "bank", "insurer"}},
		{"POST", "/api/v1/applications/" + app + "/withdraw", map[string]any{}, nil, []string{"fund manager", "bank", "insurer", "operator"}},
		{"POST", "/api/v1/applications/" + app + "/reject", map[string]any{"reason": "x"}, nil, []string{"startup", "other startup", "fund manager", "bank", "insurer"}},
		{"PUT", "/api/v1/funds/" + fund + "/mandate", map[string]any{"stages": []string{"seed"}, "ticket_min": "1.00", "ticket_max": "2.00", "max_ownership": "0.1"},
			nil, []string{"startup", "other startup", "bank", "insurer"}},
		{"POST", "/api/v1/funds/" + fund + "/close", map[string]any{}, nil, []string{"startup", "other startup", "bank", "insurer"}},
		{"POST", "/api/v1/deals/" + deal + "/advance", map[string]any{"to": "screening"}, nil, []string{"startup", "other startup", "bank", "insurer"}},
		{"POST", "/api/v1/deals/" + deal + "/pass", map[string]any{"reason": "x"}, nil, []string{"startup", "other startup", "bank", "insurer"}},
		{"POST", "/api/v1/deals/" + deal + "/term-sheet/accept", map[string]any{}, nil, []string{"fund manager", "other fund manager", "bank", "insurer"}},
		{"POST", "/api/v1/deals/" + deal + "/close", map[string]any{}, nil, []string{"startup", "other startup", "bank", "insurer"}},
	}
	callers := make([]string, 0, len(tokens))
	for c := range tokens {
		callers = append(callers, c)
	}
	sort.Strings(callers)
	var wrong []string
	for _, tc := range cases {
		for _, caller := range callers {
			if tc.method != "GET" && contains(tc.ok, caller) {
				continue
			}
			want := http.StatusNotFound
			switch {
			case caller == "anonymous":
				want = http.StatusUnauthorized
			case contains(tc.ok, caller):
				want = http.StatusOK
			case contains(tc.forbidden, caller):
				want = http.StatusForbidden
			case tc.method != "GET" && !contains(tc.forbidden, caller):
				continue // an owner's command: see the flow tests
			}
			r := p.do(tc.method, tc.path, tokens[caller], tc.body)
			got := r.status
			if got/100 == 2 {
				got = http.StatusOK
			}
			if got != want {
				wrong = append(wrong, fmt.Sprintf("%s %s as %s: %d, want %d (%s)", tc.method, tc.path, caller, r.status, want, strings.TrimSpace(string(r.raw))))
			}
		}
	}
	for _, w := range wrong {
		t.Error(w)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
