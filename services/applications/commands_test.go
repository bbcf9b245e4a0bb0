package applications

import (
	"encoding/json"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

func TestDecodePayloadNamesTheField(t *testing.T) {
	for in, field := range map[string]string{
		`{"amount_requested": "100"`:     "body",
		`{"amount_requested": "100"} {}`: "body",
		`"draft"`:                        "body",
		`[1]`:                            "body",
		`{"amount_requested": 100}`:      "amount_requested",
		`{"amount_requested": "1", "valuation_ask": 5}`: "valuation_ask",
		`{"amount_requested": "1", "instruments": 5}`:   "instruments",
		`{"amount_requested": "1", "instrument": []}`:   "instrument",
		`{"company_id": 7}`:                             "company_id",
	} {
		_, err := decodePayload[applicationsapi.DraftApplication](json.RawMessage(in))
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID || !namesField(err, field) {
			t.Errorf("%s: %v, want invalid naming %s", in, err, field)
		}
	}
	for _, in := range []string{``, `null`, ` {} `, `{"amount_requested": "1", "valuation_ask": null}`} {
		if _, err := decodePayload[applicationsapi.DraftApplication](json.RawMessage(in)); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
	// A partial update tells a null from a field left out.
	upd, err := decodePayload[applicationsapi.UpdateApplication](json.RawMessage(`{"application_id": "a", "valuation_ask": null}`))
	if err != nil || !upd.ValuationAsk.Set || upd.ValuationAsk.Value != nil {
		t.Fatalf("null valuation: %+v %v", upd, err)
	}
	upd, err = decodePayload[applicationsapi.UpdateApplication](json.RawMessage(`{"application_id": "a"}`))
	if err != nil || upd.ValuationAsk.Set {
		t.Fatalf("no valuation: %+v %v", upd, err)
	}
	if _, err := decodePayload[applicationsapi.UpdateApplication](json.RawMessage(`{"application_id": "a", "valuation_ask": 5}`)); !namesField(err, "valuation_ask") {
		t.Fatalf("number valuation: %v", err)
	}
}
