package funds

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// The bus carries payloads inside a JSON envelope, so some of these cannot
// arrive over NATS today; decode refuses them anyway, for any transport.
func TestDecodeNamesEveryBadField(t *testing.T) {
	for _, tc := range []struct {
		name, payload string
		fields        []string
	}{
		{"malformed", `{"name": "x",`, []string{"body"}},
		{"trailing data", `{"name": "x"} {}`, []string{"body"}},
		{"not an object", `"name"`, []string{"body"}},
		{"unknown fields", `{"name":"x","colour":"red","size":1}`, []string{"colour", "size"}},
		{"wrong types", `{"name":1,"type":["vc"],"committed_capital":100}`, []string{"committed_capital", "name", "type"}},
		{"amount not a decimal", `{"committed_capital":"lots"}`, []string{"committed_capital"}},
	} {
		var cmd fundsapi.RegisterFund
		err := svc.Decode(json.RawMessage(tc.payload), &cmd)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID {
			t.Errorf("%s: %v, want invalid", tc.name, err)
			continue
		}
		var named []string
		for _, f := range fundbridge.ErrorFields(err) {
			named = append(named, f.Field)
		}
		if !slices.Equal(named, tc.fields) {
			t.Errorf("%s: %v names %v, want %v", tc.name, err, named, tc.fields)
		}
	}
	var m fundsapi.SetMandate
	err := svc.Decode(json.RawMessage(`{"stages":["seed",5,null,{}],"max_ownership":0.2}`), &m)
	var named []string
	for _, f := range fundbridge.ErrorFields(err) {
		named = append(named, f.Field)
	}
	if want := []string{"max_ownership", "stages[1]", "stages[3]"}; !slices.Equal(named, want) {
		t.Errorf("%v names %v, want %v", err, named, want)
	}
	// Keys match fields exactly: another case is another (unknown) name.
	var c fundsapi.CloseFund
	if err := svc.Decode(json.RawMessage(`{"FUND_ID":"f1","Reason":"done"}`), &c); fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fundbridge.ErrorFields(err)) != 2 {
		t.Errorf("keys in another case: %+v %v, want both refused", c, err)
	}
	if err := svc.Decode(nil, &c); err != nil {
		t.Errorf("an empty payload is an empty object: %v", err)
	}
}
