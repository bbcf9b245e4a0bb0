package insurance

import (
	"encoding/json"
	"testing"

	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// The repository caches states and shares them with readers, and saves
// them as snapshots: evolving must never change the state it was given,
// and a state must come back from JSON as it was.
func TestStatesArePureAndSnapshot(t *testing.T) {
	returned := api.SubsidyReturned{ProgrammeID: "sz-2026", PolicyID: "p1", CompanyID: "co-1", Year: 2026, Amount: amt("100.00"), BudgetLeft: amt("22600.00")}
	first := drawn("p1", "co-1", "15000.00", "7500.00", "7500.00", "22500.00")
	declined := api.InsuranceDeclined{RequestID: "r1", InsurerID: "ins-b", Reason: "no"}
	expired := api.QuoteExpired{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a"}
	purity(t, requestDecider(), []events.Payload{requested, quoted, declined}, expired)
	purity(t, requestDecider(), []events.Payload{requested, quoted}, accepted)
	purity(t, policyDecider(), []events.Payload{bound, paid, filed}, assessed)
	purity(t, policyDecider(), []events.Payload{bound, paid, filed, assessed}, partPaid)
	purity(t, policyDecider(), []events.Payload{bound, subsidy, halfPaid, filed}, cancelled)
	purity(t, programmeDecider(), []events.Payload{programme, first}, returned)
	purity(t, tableDecider(), []events.Payload{api.RatingTablePublished{InsurerID: "ins-a", Table: api.SampleRatingTable("ins-a")}},
		api.RatingTablePublished{InsurerID: "ins-a", Table: api.SampleRatingTable("ins-a")})
}

func purity[S any](t *testing.T, d svc.Decider[S], given []events.Payload, next events.Payload) {
	t.Helper()
	before := replay(t, d, given)
	frozen := mustJSON(t, before)
	after := replay(t, d, append(given[:len(given):len(given)], next))
	_ = d.Evolve(before, events.Event{Version: uint64(len(given) + 1)}, next)
	if mustJSON(t, before) != frozen {
		t.Errorf("%s: evolving with %s changed the state it was given", d.Type, next.EventType())
	}
	var back S
	if err := json.Unmarshal([]byte(mustJSON(t, after)), &back); err != nil {
		t.Fatalf("%s: snapshot: %v", d.Type, err)
	}
	if mustJSON(t, back) != mustJSON(t, after) {
		t.Errorf("%s: a snapshot does not come back as it was:\n  %s\n  %s", d.Type, mustJSON(t, back), mustJSON(t, after))
	}
}
