package app_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/services/gateway"
)

// The product's gateway answers queries in its own process; a gateway
// reaching the services over NATS only (as `fundbridge serve gateway`
// does) must give the same answers: status, body and ETag, for reads that
// succeed, reads of what the caller may not see, refused roles and bad
// parameters.
func TestQueriesInProcessAnswerAsOverNATS(t *testing.T) {
	p := start(t)
	startup, companyID := p.signUp(61, "growth")
	other, _ := p.signUp(62, "seed")
	fm, _ := p.onboard("Hillhouse", "fund_manager", "fm@hillhouse.cn")
	d := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "12000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs"})
	appID, _ := d.body["application_id"].(string)
	s := p.do("POST", "/api/v1/applications/"+appID+"/submit", startup, map[string]any{})
	pos := s.header.Get("Fundbridge-Position")
	if appID == "" || pos == "" {
		t.Fatalf("draft %d %s, submit %d %s", d.status, d.raw, s.status, s.raw)
	}

	nc, err := app.ConnectAs(p.app.NATSURL, p.app.Credentials, natsauth.Gateway, natsauth.TLSFiles{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	key, err := gateway.LoadOrCreateKey(filepath.Join(p.opts.DataDir, "gateway", "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := gateway.NewTokens(key, 0)
	if err != nil {
		t.Fatal(err)
	}
	overNATS := httptest.NewServer(gateway.New(nc, gateway.WithTokens(tokens), gateway.WithLogger(slog.New(slog.DiscardHandler))).Handler())
	defer overNATS.Close()

	get := func(base, path, token string) (int, string, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("ETag"), string(body)
	}
	for _, c := range []struct{ path, token string }{
		{"/api/v1/companies/" + companyID + "?after=" + pos, startup},
		{"/api/v1/companies/" + companyID, other},                    // not theirs: 404
		{"/api/v1/applications/" + appID + "?after=" + pos, startup}, // with its ETag
		{"/api/v1/applications?limit=1&after=" + pos, p.opToken},
		{"/api/v1/applications?sort=-amount_requested", startup},
		{"/api/v1/applications?limit=0", p.opToken}, // bad parameter: 400
		{"/api/v1/applications?cursor=nonsense", p.opToken},
		{"/api/v1/views/lifecycle-stages?after=" + pos, p.opToken},
		{"/api/v1/views/lifecycle-stages?period=month", p.opToken},
		{"/api/v1/views/lifecycle-stages", fm}, // refused role: 403
		{"/api/v1/views/lifecycle-stages?period=fortnight", p.opToken},
		{"/api/v1/views/companies/" + companyID + "/timeline", startup},
		{"/api/v1/views/market?format=csv", p.opToken},
	} {
		ls, letag, lbody := get(p.base, c.path, c.token)
		ns, netag, nbody := get(overNATS.URL, c.path, c.token)
		if ls != ns || letag != netag || lbody != nbody {
			t.Errorf("GET %s\n in process: %d %q %s\n over NATS:  %d %q %s", c.path, ls, letag, lbody, ns, netag, nbody)
		}
		if ls == 0 {
			t.Errorf("GET %s: no answer", c.path)
		}
	}
}
