package gateway

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
)

// decodedJoin is what the gateway did before spliceBody: the body decoded
// into members, the path's joined, the whole encoded again.
func decodedJoin(t *testing.T, body string, params []member) (map[string]any, string, bool) {
	t.Helper()
	obj, err := svc.DecodeObject([]byte(body))
	if err != nil {
		return nil, "", false
	}
	out := map[string]any{}
	for k, v := range obj {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatal(err)
		}
		out[k] = x
	}
	for _, p := range params {
		if prev, ok := obj[p.name]; ok && !bytes.Equal(prev, p.value) {
			return nil, p.name, true
		}
		var x any
		_ = json.Unmarshal(p.value, &x)
		out[p.name] = x
	}
	return out, "", true
}

func TestSpliceBodyAcceptsAndRefusesWhatDecodingDoes(t *testing.T) {
	id := []member{{name: "fund_id", value: []byte(`"F1"`)}}
	two := []member{{name: "fund_id", value: []byte(`"F1"`)}, {name: "step", value: []byte(`"screening"`)}}
	for _, tc := range []struct {
		body   string
		params []member
	}{
		{`{"amount":"1.00","tags":["a","b"],"nested":{"x":{"y":null}}}`, nil},
		{`  {"amount":"1.00"}  ` + "\n", nil},
		{`{}`, nil},
		{`{ }`, id},
		{`{"amount":"1.00"}`, id},
		{`{"fund_id":"F1","amount":"1.00"}`, id},
		{`{"fund_id":"F2","amount":"1.00"}`, id},
		{`{"amount":"1.00","fund_id":"F1"}`, two},
		{`{"table":{"fund_id":"F9"}}`, id}, // only top-level names are the path's
		{`{"名字":"智元视觉 <&>"}`, id},
		// refused, as DecodeObject refuses them
		{`[1,2]`, nil},
		{`[1,2]`, id},
		{`null`, nil},
		{`"text"`, id},
		{`{"a":1}{"b":2}`, nil},
		{`{"a":1}{"b":2}`, id},
		{`{"a":1,"a":2}`, nil},
		{`{"a":1,"a":2}`, id},
		{`{"a":{"b":1,"b":2}}`, nil},
		{"{\"a\":\"\xff\"}", nil},
		{"{\"a\":\"\xff\"}", id},
		{`{"a":1,}`, id},
		{`{"a":1`, nil},
		{`{"a":1`, id},
	} {
		want, wantConflict, wantOK := decodedJoin(t, tc.body, tc.params)
		out, conflict, ok := spliceBody([]byte(tc.body), tc.params)
		if ok != wantOK || conflict != wantConflict {
			t.Errorf("%s with %v: ok %v conflict %q, want ok %v conflict %q", tc.body, tc.params, ok, conflict, wantOK, wantConflict)
			continue
		}
		if !ok || conflict != "" {
			continue
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Errorf("%s: spliced %s is not JSON: %v", tc.body, out, err)
			continue
		}
		if _, err := svc.DecodeObject(out); err != nil {
			t.Errorf("%s: spliced %s is refused: %v", tc.body, out, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s with %v: %s, want the members %v", tc.body, tc.params, out, want)
		}
	}
}

func TestEncodeMembers(t *testing.T) {
	if got := string(encodeMembers(nil)); got != `{}` {
		t.Errorf("no members: %s", got)
	}
	got := string(encodeMembers([]member{{name: "company_id", value: []byte(`"C1"`)}, {name: "limit", value: []byte(`20`)}}))
	if got != `{"company_id":"C1","limit":20}` {
		t.Errorf("members: %s", got)
	}
}

func TestWithPosition(t *testing.T) {
	for body, want := range map[string]string{
		`{"application_id":"A1","version":1}`: `{"application_id":"A1","version":1,"position":42}`,
		`{}`:                                  `{"position":42}`,
		` { } ` + "\n":                        `{ "position":42}`,
		`[1,2]`:                               `[1,2]`,
		`null`:                                `null`,
		``:                                    ``,
	} {
		if got := string(withPosition([]byte(body), 42)); got != want {
			t.Errorf("withPosition(%q) = %s, want %s", body, got, want)
		}
	}
}

func TestReplacePositionForReplyTypesThatHaveOne(t *testing.T) {
	type withOwn struct {
		Position uint64 `json:"position"`
	}
	if !mayCarryPosition(reflect.TypeFor[withOwn]()) || mayCarryPosition(reflect.TypeFor[struct{ ID string }]()) || !mayCarryPosition(nil) {
		t.Fatal("mayCarryPosition is wrong")
	}
	var got map[string]any
	replaced, _ := replacePosition([]byte(`{"position":7,"a":"b"}`), 42)
	if err := json.Unmarshal(replaced, &got); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"position": 42.0, "a": "b"}; !maps.Equal(got, want) {
		t.Errorf("replaced: %v, want %v", got, want)
	}
}

func TestAMalformedBodyIsNamedAsBefore(t *testing.T) {
	_, err := (&Gateway{}).payload(draftRoute(), jsonRequest(t, `{"amount_requested":"1.00",}`))
	if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fundbridge.ErrorFields(err)) == 0 {
		t.Fatalf("a malformed body: %v", err)
	}
	_, want := svc.DecodeObject([]byte(`{"amount_requested":"1.00",}`))
	if !reflect.DeepEqual(fundbridge.ErrorFields(err), fundbridge.ErrorFields(want)) {
		t.Errorf("fields %v, want %v", fundbridge.ErrorFields(err), fundbridge.ErrorFields(want))
	}
}
