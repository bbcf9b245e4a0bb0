package gateway

import (
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
)

// The OpenAPI document and the router must name the same routes: a test
// fails when a route is missing from the document or the document names a
// route that does not exist.
func TestOpenAPIMatchesTheRouter(t *testing.T) {
	tokens, _ := NewTokens(make([]byte, 32), time.Hour)
	g := New(nil, WithTokens(tokens), WithVersion("test"))
	served := map[string]bool{}
	err := chi.Walk(g.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route == "/healthz" || route == "/readyz" || strings.HasPrefix(route, "/api/") { // the rest are the web pages
			served[strings.ToLower(method)+" "+route] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	doc := g.OpenAPI()
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	for path, ops := range doc["paths"].(map[string]map[string]any) {
		for method, op := range ops {
			documented[method+" "+path] = true
			o := op.(map[string]any)
			if o["operationId"] == "" || o["summary"] == "" {
				t.Errorf("%s %s lacks an operationId or summary", method, path)
			}
		}
	}
	var missing, phantom []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			phantom = append(phantom, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(phantom)
	if len(missing) > 0 {
		t.Errorf("served but not in the OpenAPI document: %v", missing)
	}
	if len(phantom) > 0 {
		t.Errorf("in the OpenAPI document but not served: %v", phantom)
	}
	if len(served) < 30 {
		t.Errorf("only %d routes served; the route table went missing", len(served))
	}
}

func TestTokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tokens, err := NewTokens(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tokens.now = func() time.Time { return now }
	a := fundbridge.Actor{UserID: "u1", Role: fundbridge.RoleFundManager, OrgID: "org1"}
	tok, exp, err := tokens.Issue(a)
	if err != nil || !exp.Equal(now.Add(time.Hour)) {
		t.Fatal(exp, err)
	}
	if got, err := tokens.Verify(tok); err != nil || got != a {
		t.Fatalf("verify = %+v %v", got, err)
	}
	other, _ := NewTokens([]byte("another key that is 32 bytes lon"), time.Hour)
	if _, err := other.Verify(tok); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
		t.Errorf("token from another key accepted: %v", err)
	}
	tampered := tok[:len(tok)-2] + "xx"
	if _, err := tokens.Verify(tampered); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
		t.Errorf("tampered token accepted")
	}
	unsigned := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(tok, ".")[1] + "."
	if _, err := tokens.Verify(unsigned); err == nil {
		t.Errorf("alg none accepted")
	}
	tokens.now = func() time.Time { return now.Add(2 * time.Hour) }
	if _, err := tokens.Verify(tok); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
		t.Errorf("expired token accepted")
	}
	sys, _, _ := tokens.Issue(fundbridge.Actor{UserID: "x", Role: fundbridge.RoleSystem})
	if _, err := tokens.Verify(sys); err == nil {
		t.Errorf("a token for the system role was accepted")
	}
	if _, err := NewTokens([]byte("short"), 0); err == nil {
		t.Error("short key accepted")
	}
}

// Every command documents the Idempotency-Key header with its semantics,
// and every query parameter has the type the server accepts.
func TestOpenAPIDescribesIdempotencyKeysAndQueryTypes(t *testing.T) {
	g := New(nil, WithVersion("test"))
	doc := g.OpenAPI()
	from := ""
	for path, ops := range doc["paths"].(map[string]map[string]any) {
		for method, op := range ops {
			params, _ := op.(map[string]any)["parameters"].([]any)
			keyed := false
			for _, param := range params {
				p, _ := param.(map[string]any)
				if p["name"] == "Idempotency-Key" && strings.Contains(p["description"].(string), ProblemKeyReused) {
					keyed = true
				}
				if p["name"] == "from" && strings.HasSuffix(path, "/events") {
					from, _ = p["schema"].(map[string]any)["type"].(string)
				}
			}
			if (method == "post" || method == "put" || method == "patch") && strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/auth/token" && !keyed {
				t.Errorf("%s %s does not describe Idempotency-Key", method, path)
			}
		}
	}
	if from != "integer" {
		t.Errorf("the audit trail's from is documented as %q, want integer", from)
	}
}
