package events_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
)

// Three versions of one event, as a schema grows: v1 had a number of
// yuan, v2 an amount string, v3 a currency beside it.
type fundedV3 struct {
	CompanyID string       `json:"company_id"`
	Amount    money.Amount `json:"amount"`
	Currency  string       `json:"currency"`
}

func upcastingRegistry() *events.Registry {
	r := events.NewRegistry()
	events.Register[struct {
		CompanyID string `json:"company_id"`
		Yuan      int64  `json:"yuan"`
	}](r, "company.funded.v1")
	events.Register[struct {
		CompanyID string       `json:"company_id"`
		Amount    money.Amount `json:"amount"`
	}](r, "company.funded.v2")
	events.Register[fundedV3](r, "company.funded.v3")
	r.Upcast("company.funded.v1", "company.funded.v2", func(p json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			CompanyID string `json:"company_id"`
			Yuan      int64  `json:"yuan"`
		}
		if err := json.Unmarshal(p, &v1); err != nil {
			return nil, err
		}
		if v1.Yuan < 0 {
			return nil, fmt.Errorf("negative yuan %d", v1.Yuan)
		}
		return json.Marshal(map[string]any{"company_id": v1.CompanyID, "amount": money.Yuan(v1.Yuan)})
	})
	r.Upcast("company.funded.v2", "company.funded.v3", func(p json.RawMessage) (json.RawMessage, error) {
		var v2 map[string]json.RawMessage
		if err := json.Unmarshal(p, &v2); err != nil {
			return nil, err
		}
		if v2 == nil {
			v2 = map[string]json.RawMessage{}
		}
		v2["currency"] = json.RawMessage(`"CNY"`)
		return json.Marshal(v2)
	})
	return r
}

// FuzzDecodeUpcast: whatever the payload and whichever version it claims,
// decoding never panics, and what decodes is the newest version, whose
// payload decodes again to the same value, exactly as encoding/json reads
// it into the newest type.
func FuzzDecodeUpcast(f *testing.F) {
	for _, seed := range []struct{ typ, payload string }{
		{"company.funded.v1", `{"company_id":"c1","yuan":1250000}`},
		{"company.funded.v2", `{"company_id":"c1","amount":"1250000.00"}`},
		{"company.funded.v3", `{"company_id":"c1","amount":"0.01","currency":"CNY"}`},
		{"company.funded.v1", `{"yuan":-1}`},
		{"company.funded.v2", `{"amount":"1e3"}`},
		{"company.funded.v2", `null`},
		{"company.funded.v4", `{}`},
	} {
		f.Add(seed.typ, []byte(seed.payload))
	}
	r := upcastingRegistry()
	f.Fuzz(func(t *testing.T, typ string, payload []byte) {
		e, v, err := r.Decode(events.Event{Type: typ, StreamID: "company-c1", Version: 1, Payload: payload})
		if err != nil {
			return
		}
		if e.Type != "company.funded.v3" && typ != e.Type {
			t.Fatalf("%s decoded as %s", typ, e.Type)
		}
		if e.Type != "company.funded.v3" {
			return // another registered type read as itself
		}
		got, ok := v.(fundedV3)
		if !ok {
			t.Fatalf("decoded a %T", v)
		}
		var want fundedV3
		if err := json.Unmarshal(e.Payload, &want); err != nil || !same(got, want) {
			t.Fatalf("upcast payload %s reads as %+v (%v), Decode gave %+v", e.Payload, want, err, got)
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		_, v2, err := r.Decode(events.Event{Type: "company.funded.v3", Payload: again})
		if err != nil || !same(v2.(fundedV3), got) {
			t.Fatalf("%+v does not round-trip: %s → %+v %v", got, again, v2, err)
		}
	})
}

// same compares as the log would: by value, amounts by amount (a zero
// Amount and "0.00" are one sum held two ways).
func same(a, b fundedV3) bool {
	return a.CompanyID == b.CompanyID && a.Currency == b.Currency && a.Amount.Equal(b.Amount)
}
