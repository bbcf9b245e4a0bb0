package contracttest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const doc = `{
  "openapi": "3.1.0",
  "info": {"title": "t", "version": "1"},
  "paths": {
    "/things/{id}": {
      "get": {
        "operationId": "thing.get",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "a thing", "content": {"application/json": {"schema": {
            "type": "object", "required": ["id"], "additionalProperties": false,
            "properties": {"id": {"type": "string"}}}}}}
        }
      }
    },
    "/things": {
      "post": {
        "operationId": "thing.make",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
        "responses": {"201": {"description": "made"}}
      }
    }
  }
}`

// The transport must catch each kind of disagreement, or the suite run
// through it proves nothing.
func TestViolationsAreCaught(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/things/good":
			_, _ = w.Write([]byte(`{"id":"good"}`))
		case r.URL.Path == "/things/bad":
			_, _ = w.Write([]byte(`{"id":"bad","extra":1}`))
		case r.URL.Path == "/things" && r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	tr, err := New(context.Background(), []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: tr}
	do := func(method, path, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	do(http.MethodGet, "/things/good", "")
	if v := tr.Violations(); len(v) != 0 {
		t.Fatalf("a conforming exchange: %v", v)
	}
	do(http.MethodGet, "/things/bad", "") // a reply with a field the contract does not have
	do(http.MethodPost, "/things", `{}`)  // accepted without the required name
	do(http.MethodGet, "/elsewhere", "")  // served, but not in the document
	v := tr.Violations()
	if len(v) != 3 || !strings.Contains(v[0], "response") || !strings.Contains(v[1], "accepted a request the contract refuses") || !strings.Contains(v[2], "not in the document") {
		t.Fatalf("violations: %q", v)
	}
	if tr.Checked() != 4 {
		t.Errorf("checked %d exchanges, want 4", tr.Checked())
	}
}
