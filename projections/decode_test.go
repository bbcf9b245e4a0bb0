package projections_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/sim"
)

// same decodes e with the registry and the runner's decoder and fails
// unless both give the same payload, or both an error.
func same(t *testing.T, reg *events.Registry, fast func(events.Event) (any, bool, error), e events.Event) bool {
	t.Helper()
	_, want, wantErr := reg.Decode(e)
	got, took, err := fast(e)
	if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
		t.Errorf("%s %s:\n fast %#v (%v)\n registry %#v (%v)", e.Type, e.Payload, got, err, want, wantErr)
	}
	return took
}

// TestFastDecodeMatchesRegistry decodes every event of a history both
// ways: the fast path must be taken and agree.
func TestFastDecodeMatchesRegistry(t *testing.T) {
	reg := readerRegistry()
	env := testenv.Start(t, reg)
	ctx := context.Background()
	if _, err := sim.Write(ctx, env.Store, sim.Config{Seed: 9, Companies: 25}); err != nil {
		t.Fatal(err)
	}
	log, err := env.Store.ReadAll(ctx, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	fast := projections.FastDecode(reg)
	slow := map[string]int{}
	for _, e := range log {
		same(t, reg, fast, e) // teaches the type
		if !same(t, reg, fast, e) {
			slow[e.Type]++
		}
	}
	if len(slow) > 0 {
		t.Errorf("payloads not read by the fast path: %v", slow)
	}
}

// TestFastDecodeEdges: whatever is not plain, or not valid, decodes as
// the registry decodes it.
func TestFastDecodeEdges(t *testing.T) {
	reg := readerRegistry()
	const typ = "application.submitted.v1"
	base := `{"application_id":"a1","company_name":"Deep AI","company_id":"c1","stage":"seed","layer":"technology","sector":"nlp","city":"beijing","amount_requested":"5000000.00","instruments":["equity","venture_loan"],"use_of_funds":"gpus","valuation_ask":"90000000.00","credit_data_consent":true}`
	cases := map[string]bool{ // payload → whether the fast path may take it
		base: true,
		` { "application_id" : "a1" , "instruments" : [ ] } `:             true,
		`{"application_id":"a1","unknown":{"x":[1,2.5e3,"\u00e9",null]}}`: true,
		`{"application_id":"a1","application_id":"a2"}`:                   true,
		`{"company_name":"深度智能"}`:                                         true,
		`{"amount_requested":"5000000"}`:                                  true,
		`{"amount_requested":"5000000.000"}`:                              false,
		`{"amount_requested":"1e-2"}`:                                     false,
		`{}`:                                                              true,
		`{"Application_ID":"a1"}`:                                         false,
		`{"APPLICATION_ID":"a1"}`:                                         false,
		`{"application_id":"a\"1"}`:                                       false,
		`{"application_id":"a\u00e91"}`:                                   false,
		`{"application_id":null}`:                                         false,
		`{"valuation_ask":null}`:                                          false,
		`{"instruments":null}`:                                            false,
		`{"amount_requested":5000000}`:                                    false,
		`{"amount_requested":"abc"}`:                                      false,
		`{"credit_data_consent":"yes"}`:                                   false,
		`{"application_id":1}`:                                            false,
		`{"application_id":"a1",}`:                                        false,
		`{"application_id":"a1"} x`:                                       false,
		`{"application_id":"a1"`:                                          false,
		`{"unknown":01}`:                                                  false,
		`{"unknown":"\x01"}`:                                              false,
		"{\"company_name\":\"\xff\"}":                                     false,
		`[]`:                                                              false,
		`null`:                                                            false,
		``:                                                                false,
	}
	fast := projections.FastDecode(reg)
	same(t, reg, fast, events.Event{Type: typ, Payload: []byte(base)}) // teach it
	for payload, plain := range cases {
		took := same(t, reg, fast, events.Event{Type: typ, Payload: []byte(payload)})
		if took && !plain {
			t.Errorf("the fast path took %s", payload)
		}
		if !took && plain {
			t.Errorf("the fast path refused plain %s", payload)
		}
	}
	// Integers: the deal's score.
	const sourced = "deal.sourced.v1"
	same(t, reg, fast, events.Event{Type: sourced, Payload: []byte(`{"deal_id":"d","score":70}`)})
	for payload, plain := range map[string]bool{
		`{"score":-7}`: true, `{"score":0}`: true, `{"score":7.0}`: false, `{"score":7e1}`: false, `{"score":"7"}`: false,
		`{"score":99999999999999999999}`: false, `{"score":-}`: false, `{"score":007}`: false,
	} {
		if took := same(t, reg, fast, events.Event{Type: sourced, Payload: []byte(payload)}); took != plain {
			t.Errorf("%s: fast path %v, want %v", payload, took, plain)
		}
	}
}

// FuzzFastDecode: on any input the runner's decoder agrees with the registry.
func FuzzFastDecode(f *testing.F) {
	for _, seed := range []string{
		`{"application_id":"a1","company_id":"c1","stage":"seed","amount_requested":"1.00","instruments":["equity"]}`,
		`{"deal_id":"d","score":70,"stage":"growth"}`,
		`{"fund_id":"f","stages":["seed"],"ticket_min":"1.00","max_ownership":"0.2"}`,
		`{"deal_id":"d","amount":"1.00","pre_money":"2.00","post_money":"3.00","ownership":"0.3333333333"}`,
	} {
		f.Add(seed)
	}
	reg := readerRegistry()
	types := []string{"application.submitted.v1", "deal.sourced.v1", "fund.mandate_set.v1", "deal.term_sheet_issued.v1"}
	f.Fuzz(func(t *testing.T, payload string) {
		for _, typ := range types {
			fast := projections.FastDecode(reg)
			same(t, reg, fast, events.Event{Type: typ, Payload: []byte(`{}`)}) // teach it
			same(t, reg, fast, events.Event{Type: typ, Payload: []byte(payload)})
		}
	})
}
