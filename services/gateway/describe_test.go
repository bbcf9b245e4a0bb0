package gateway

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/internal/gocomments"
)

// Every parameter and every schema property of the document says, for a
// reader, what it is: a field without a doc comment in its contract (or a
// parameter without a description) fails here with its place named.
func TestOpenAPIDescribesEveryParameterAndField(t *testing.T) {
	tokens, _ := NewTokens(make([]byte, 32), time.Hour)
	doc := New(nil, WithTokens(tokens), WithVersion("test")).OpenAPI()
	var missing []string
	for path, ops := range doc["paths"].(map[string]map[string]any) {
		for method, op := range ops {
			where := strings.ToUpper(method) + " " + path
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, p := range params {
				p := p.(map[string]any)
				if d, _ := p["description"].(string); strings.TrimSpace(d) == "" {
					missing = append(missing, fmt.Sprintf("%s: parameter %v", where, p["name"]))
				}
			}
			walkProperties(op, where, &missing)
		}
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		walkProperties(schemas[name], "schema "+name, &missing)
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Error("no description: " + m)
	}
	if len(missing) > 0 {
		t.Logf("%d without a description", len(missing))
	}
}

// walkProperties notes every property under v, at any depth, that has no
// description of its own.
func walkProperties(v any, where string, missing *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if props, ok := v["properties"].(map[string]any); ok {
			for _, name := range slices.Sorted(maps.Keys(props)) {
				p, _ := props[name].(map[string]any)
				if d, _ := p["description"].(string); strings.TrimSpace(d) == "" {
					*missing = append(*missing, where+"."+name)
				}
			}
		}
		for k, x := range v {
			walkProperties(x, where+ifKey(k), missing)
		}
	case []any:
		for _, x := range v {
			walkProperties(x, where, missing)
		}
	}
}

func ifKey(k string) string {
	switch k {
	case "properties", "items", "anyOf", "oneOf", "allOf", "schema", "content", "requestBody", "responses", "application/json", "text/csv", "additionalProperties":
		return ""
	}
	if strings.HasPrefix(k, "application/") || len(k) == 3 && k[0] >= '1' && k[0] <= '5' {
		return ""
	}
	return "." + k
}

// The committed comments are those the source holds now: after changing
// a contract's comments, run go generate ./services/gateway.
func TestDocCommentsAreCurrent(t *testing.T) {
	root, err := gocomments.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	all, err := gocomments.Extract(root)
	if err != nil {
		t.Fatal(err)
	}
	want := UsedComments(all)
	got := docComments()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s holds %q, the source says %q", k, CommentsFile, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: in %s, no longer in the source or not used", k, CommentsFile)
		}
	}
	if t.Failed() {
		t.Log("run go generate ./services/gateway")
	}
}
