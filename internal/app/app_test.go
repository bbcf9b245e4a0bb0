package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/contracttest"
)

// product is the whole product running for a test, and an HTTP client of it.
type product struct {
	t       *testing.T
	app     *app.App
	base    string
	opToken string
	rec     *recorder
	// client checks every exchange against the product's own OpenAPI
	// document (contracttest): the suite fails on any disagreement.
	client *http.Client
	opts   app.Options // to restart on the same data
}

func start(t *testing.T) *product {
	t.Helper()
	return startWith(t, func(*app.Options) {})
}

// startWith starts the product with options changed by opts. Everything
// it says is scanned for secrets when the test ends.
func startWith(t *testing.T, opts func(*app.Options)) *product {
	t.Helper()
	ctx := context.Background()
	rec, dataDir := newRecorder(), t.TempDir()
	t.Cleanup(func() { rec.check(t, dataDir) }) // after the product has stopped
	o := app.Options{
		DataDir: dataDir, NATSAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Fsync: true,
		Logger: slog.New(slog.NewTextHandler(rec, &slog.HandlerOptions{Level: slog.LevelDebug})), Version: "test", BcryptCost: 4,
	}
	opts(&o)
	a, err := app.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	p := &product{t: t, app: a, base: "http://" + a.HTTPAddr.String(), rec: rec, opts: o}
	p.client = contractClient(t, p.base)
	t.Cleanup(func() { p.app.Close() }) // the one running then (see restart)
	rec.request([]byte(`{"password":"` + operatorPassword + `"}`))
	if _, err := a.BootstrapOperator(ctx, "ops@fundbridge.test", operatorPassword, io.Discard); err != nil {
		t.Fatal(err)
	}
	p.opToken = p.signIn("ops@fundbridge.test", operatorPassword)
	return p
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r response) problemFields() []string {
	var out []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

// do sends a request; body may be a string (sent as is) or a value (JSON).
func (p *product) do(method, path, token string, body any, headers ...string) response {
	p.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			p.t.Fatal(err)
		}
		p.rec.request(data)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		p.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p.record(raw)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// contractClient is an HTTP client that validates each request and
// response against the OpenAPI document the gateway serves, and fails the
// test at its end with every violation.
func contractClient(t *testing.T, base string) *http.Client {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d %v", resp.StatusCode, err)
	}
	tr, err := contracttest.New(context.Background(), doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, v := range tr.Violations() {
			t.Errorf("contract violation: %s", v)
		}
	})
	return &http.Client{Transport: tr}
}

func (p *product) signIn(email, password string) string {
	p.t.Helper()
	var r response
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r = p.do("POST", "/api/v1/auth/token", "", map[string]string{"email": email, "password": password})
		if r.status != http.StatusServiceUnavailable {
			break
		}
	}
	if r.status != 200 {
		p.t.Fatalf("sign in %s: %d %s", email, r.status, r.raw)
	}
	return r.body["access_token"].(string)
}

// onboard creates an org of the role with one user and signs that user in.
func (p *product) onboard(name, role, email string) (token, orgID string) {
	p.t.Helper()
	r := p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": name, "role": role,
		"user": map[string]string{"email": email, "password": "quiet harbour " + role, "name": "User of " + name}})
	if r.status != 201 {
		p.t.Fatalf("onboard %s: %d %s", name, r.status, r.raw)
	}
	orgID = r.body["org"].(map[string]any)["org_id"].(string)
	if loc, want := r.header.Get("Location"), "/api/v1/orgs/"+orgID+"?after="+r.header.Get("Fundbridge-Position"); loc != want {
		p.t.Errorf("onboard %s: Location %q, want %s", name, loc, want)
	}
	return p.signIn(email, "quiet harbour "+role), orgID
}

func wantProblem(t *testing.T, r response, status int, fields ...string) {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s %s, want %d problem+json", r.status, r.header.Get("Content-Type"), r.raw, status)
	}
	if r.body["status"] != float64(status) || r.body["title"] == "" || r.body["type"] == "" {
		t.Errorf("problem body %s lacks status, title or type", r.raw)
	}
	named := map[string]bool{}
	for _, f := range r.problemFields() {
		named[f] = true
	}
	for _, f := range fields {
		if !named[f] {
			t.Errorf("problem %s does not name field %q", r.raw, f)
		}
	}
}

func TestAuthentication(t *testing.T) {
	p := start(t)
	for _, tc := range []struct{ name, header string }{
		{"no token", ""},
		{"not bearer", "Basic b3BzOnB3"},
		{"garbage", "Bearer not.a.token"},
	} {
		req, _ := http.NewRequest("GET", p.base+"/api/v1/me", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp, err := p.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d, want 401 with WWW-Authenticate", tc.name, resp.StatusCode)
		}
	}
	if r := p.do("POST", "/api/v1/auth/token", "", map[string]string{"email": "ops@fundbridge.test", "password": "wrong-password"}); r.status != 401 {
		t.Errorf("wrong password: %d", r.status)
	}
	if r := p.do("POST", "/api/v1/auth/token", "", map[string]string{"email": "nobody@fundbridge.test", "password": "wrong-password"}); r.status != 401 {
		t.Errorf("unknown email: %d", r.status)
	}
	r := p.do("GET", "/api/v1/me", p.opToken, nil)
	if r.status != 200 || r.body["user"].(map[string]any)["role"] != "operator" {
		t.Errorf("me = %d %s", r.status, r.raw)
	}
	// Health, readiness and the API document need no token.
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/openapi.json"} {
		if r := p.do("GET", path, "", nil); r.status != 200 {
			t.Errorf("%s: %d %s", path, r.status, r.raw)
		}
	}
}

func TestOnboardingOrgs(t *testing.T) {
	p := start(t)
	r := p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "Hillhouse", "role": "fund_manager",
		"user": map[string]string{"email": "zhang@hillhouse.cn", "password": "amber falcon orchard", "name": "Zhang"}}, "Idempotency-Key", "hh-1")
	if r.status != 201 || r.header.Get("Fundbridge-Position") == "" || r.body["position"] == nil {
		t.Fatalf("onboard = %d %v %s", r.status, r.header, r.raw)
	}
	again := p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "Hillhouse", "role": "fund_manager",
		"user": map[string]string{"email": "zhang@hillhouse.cn", "password": "amber falcon orchard", "name": "Zhang"}}, "Idempotency-Key", "hh-1")
	if again.status != 201 || again.body["org"].(map[string]any)["org_id"] != r.body["org"].(map[string]any)["org_id"] {
		t.Errorf("retry with the same key = %d %s, want the first result", again.status, again.raw)
	}
	dup := p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "Hillhouse 2", "role": "fund_manager",
		"user": map[string]string{"email": "zhang@hillhouse.cn", "password": "amber falcon orchard", "name": "Zhang"}})
	wantProblem(t, dup, 409)

	fm := p.signIn("zhang@hillhouse.cn", "amber falcon orchard")
	wantProblem(t, p.do("POST", "/api/v1/orgs", fm, map[string]any{"name": "x", "role": "bank",
		"user": map[string]string{"email": "x@x.cn", "password": "amber falcon orchard", "name": "x"}}), 403)
	me := p.do("GET", "/api/v1/me", fm, nil)
	if me.body["org"].(map[string]any)["name"] != "Hillhouse" {
		t.Errorf("me = %s", me.raw)
	}
}

func TestBadInputIsAProblemAndAppendsNothing(t *testing.T) {
	p := start(t)
	head, err := p.app.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	valid := func() map[string]any {
		return map[string]any{"name": "CICC Capital", "role": "fund_manager",
			"user": map[string]any{"email": "a@cicc.cn", "password": "amber falcon orchard", "name": "A"}}
	}
	with := func(k string, v any) map[string]any { m := valid(); m[k] = v; return m }
	cases := []struct {
		name   string
		body   any
		status int
		fields []string
	}{
		{"malformed JSON", `{"name": "x",`, 400, []string{"body"}},
		{"not an object", `[1,2]`, 400, []string{"body"}},
		{"two values", `{} {}`, 400, []string{"body"}},
		{"unknown field", with("headquarters", "Beijing"), 400, []string{"headquarters"}},
		{"wrong type", with("name", 42), 400, []string{"name"}},
		{"missing fields", map[string]any{"role": "bank"}, 400, []string{"name", "user.email", "user.password", "user.name"}},
		{"bad enum", with("role", "astronaut"), 400, []string{"role"}},
		{"over the size limit", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, p.do("POST", "/api/v1/orgs", p.opToken, tc.body), tc.status, tc.fields...)
		})
	}
	wantProblem(t, p.do("POST", "/api/v1/orgs", p.opToken, valid(), "Content-Type", "text/plain"), 400, "Content-Type")
	wantProblem(t, p.do("POST", "/api/v1/orgs", p.opToken, valid(), "If-Match", "yesterday"), 400, "If-Match")
	wantProblem(t, p.do("GET", "/api/v1/nowhere", p.opToken, nil), 404)
	wantProblem(t, p.do("DELETE", "/api/v1/orgs", p.opToken, nil), 405)
	if after, _ := p.app.Store.Head(context.Background()); after != head {
		t.Errorf("bad input appended: head %d → %d", head, after)
	}
}
