package svc

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
)

type person struct {
	Name string `json:"name"`
}

type request struct {
	person
	Amount  money.Amount `json:"amount"`
	Tags    []string     `json:"tags"`
	Count   int          `json:"count"`
	Consent bool         `json:"consent"`
	Loan    *loanTerms   `json:"loan"`
}

type loanTerms struct {
	Principal money.Amount `json:"principal"`
	Months    int          `json:"months"`
}

func TestDecodeNamesEveryBadField(t *testing.T) {
	for _, tc := range []struct {
		payload string
		fields  []string
	}{
		{``, nil},
		{`null`, nil},
		{`{"name":"x","amount":"1.50","tags":["a"],"count":2,"consent":true}`, nil},
		{`{"name":"x"`, []string{"body"}},
		{`{"name":"x"} {}`, []string{"body"}},
		{`[1]`, []string{"body"}},
		{`{"colour":"red"}`, []string{"colour"}},
		{`{"name":1,"amount":150,"count":"two","consent":"yes"}`, []string{"amount", "consent", "count", "name"}},
		{`{"tags":["a",2,"c",{}]}`, []string{"tags[1]", "tags[3]"}},
		{`{"amount":"lots"}`, []string{"amount"}},
		{`{"loan":{"principal":1000,"months":"36","rate":"0.04"}}`, []string{"loan.months", "loan.principal", "loan.rate"}},
		{`{"loan":7}`, []string{"loan"}},
	} {
		var r request
		err := Decode(json.RawMessage(tc.payload), &r)
		if tc.fields == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.payload, err)
			}
			continue
		}
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID {
			t.Errorf("%s: %v, want invalid", tc.payload, err)
			continue
		}
		var named []string
		for _, f := range fundbridge.ErrorFields(err) {
			named = append(named, f.Field)
		}
		if !slices.Equal(named, tc.fields) {
			t.Errorf("%s: names %v, want %v (%v)", tc.payload, named, tc.fields, err)
		}
	}
}
