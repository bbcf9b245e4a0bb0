package viewsapi

import (
	"encoding/json"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
)

// An answer encoded once reads as the same answer encoded field by field,
// and one decoded (holding no encoding) encodes its own fields.
func TestLifecycleResultEncodedOnce(t *testing.T) {
	r := LifecycleResult{Position: 42, Items: []lifecycle.Row{{Stage: fundbridge.StageSeed, Submitted: 2, AmountRequested: money.MustParse("1234.50"), MatchedOfSubmitted: "0.5000"}}}
	plain, err := json.Marshal(lifecycleJSON(r))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := r.Encoded()
	if err != nil {
		t.Fatal(err)
	}
	once, err := json.Marshal(enc)
	if err != nil || string(once) != string(plain) {
		t.Fatalf("encoded once:\n%s\nfield by field:\n%s (%v)", once, plain, err)
	}
	var back LifecycleResult
	if err := json.Unmarshal(once, &back); err != nil || back.Position != 42 || len(back.Items) != 1 || back.encoded != nil {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	back.Position = 43 // a decoded answer changed: its own fields, not an old encoding
	again, err := json.Marshal(back)
	if err != nil || string(again) == string(once) {
		t.Fatalf("re-encoded %s, %v", again, err)
	}
}
