package svc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
)

type fuzzRequest struct {
	Name   string        `json:"name"`
	Amount *money.Amount `json:"amount"`
	Terms  struct {
		Rate  string         `json:"rate"`
		Items []money.Amount `json:"items"`
	} `json:"terms"`
	Tags    []string `json:"tags"`
	Count   int      `json:"count"`
	Consent bool     `json:"consent"`
}

// FuzzDecode: the strict request decoder never panics; it either fills the
// request or refuses with EINVALID naming each field at fault in words (no
// Go type names); and what it accepts encodes and decodes to the same.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `{"name":"x"`, `{"name":"x"} {}`,
		`{"name":"x","amount":"1.50","terms":{"rate":"0.2","items":["1","2.00"]},"tags":["a"],"count":2,"consent":true}`,
		`{"amount":1250000}`, `{"amount":"1e3"}`, `{"terms":{"items":["1",2,"+5"]}}`, `{"colour":"red"}`,
		`{"name":"a","name":"b"}`, `{"NAME":"x"}`, `{"count":1e400}`, `{"tags":[` + strings.Repeat("[", 100) + `]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var r fuzzRequest
		err := Decode(payload, &r)
		if err != nil {
			if fundbridge.ErrorCode(err) != fundbridge.EINVALID {
				t.Fatalf("%q: %v, want EINVALID", payload, err)
			}
			fields := fundbridge.ErrorFields(err)
			if len(fields) == 0 {
				t.Fatalf("%q: %v names no field", payload, err)
			}
			for _, fe := range fields {
				if fe.Field == "" || fe.Reason == "" || strings.Contains(fe.Reason, "Go struct") || strings.Contains(fe.Reason, "fuzzRequest") {
					t.Fatalf("%q: field error %+v is not written for a person", payload, fe)
				}
			}
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back fuzzRequest
		if err := Decode(again, &back); err != nil {
			t.Fatalf("%q decoded, but its own encoding %s is refused: %v", payload, again, err)
		}
		twice, _ := json.Marshal(back)
		if string(twice) != string(again) {
			t.Fatalf("%q: %s then %s", payload, again, twice)
		}
	})
}

// Found by FuzzDecode: a member with an empty name was refused naming no field.
func TestDecodeNamesAnEmptyMemberName(t *testing.T) {
	var r fuzzRequest
	fields := fundbridge.ErrorFields(Decode([]byte(`{"":true}`), &r))
	if len(fields) != 1 || fields[0].Field != `""` {
		t.Errorf("fields %+v", fields)
	}
}
