package views_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/sim"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

// The funnel is remembered per query between two events: the next event
// shows in the next answer, the same answer comes again while nothing
// happens, and a rebuild answers what the log says.
func TestFunnelFollowsTheLog(t *testing.T) {
	f := setUp(t)
	operator := actor("u-op", fundbridge.RoleOperator, "")
	submitted := func(after uint64) (int, uint64) {
		t.Helper()
		var life viewsapi.LifecycleResult
		if err := f.call(t, operator, "lifecycle_stages", map[string]any{"after": after}, &life); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range life.Items {
			n += r.Submitted
		}
		return n, life.Position
	}
	before, _ := submitted(f.head)
	if again, _ := submitted(f.head); again != before || before == 0 {
		t.Fatalf("asked twice: %d then %d submitted", before, again)
	}
	company := sim.CompanyID(2)
	payload, _ := json.Marshal(applicationsapi.ApplicationSubmitted{
		ApplicationID: "one-more", CompanyName: "One More AI",
		Slice:            applicationsapi.Slice{CompanyID: company, Stage: fundbridge.StageSeed, Layer: fundbridge.LayerApplication, Sector: "robotics", City: "hefei"},
		ApplicationTerms: applicationsapi.ApplicationTerms{AmountRequested: money.MustParse("100.00"), Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity}, UseOfFunds: "robots"},
	})
	res, err := f.env.Store.Append(context.Background(), events.AppendRequest{
		StreamID: "application-one-more", Expected: events.NoStream,
		Events: []events.NewEvent{{Type: applicationsapi.ApplicationSubmitted{}.EventType(), Payload: payload}},
		Meta:   events.Meta{Actor: actor("u-"+company, fundbridge.RoleStartup, company)},
	})
	if err != nil {
		t.Fatal(err)
	}
	after, pos := submitted(res.Position)
	if after != before+1 || pos < res.Position {
		t.Fatalf("after one more submission: %d submitted at position %d, want %d at >= %d", after, pos, before+1, res.Position)
	}
	if again, _ := submitted(res.Position); again != after {
		t.Fatalf("asked again: %d, want %d", again, after)
	}
	if err := f.svc.Rebuild(context.Background(), "lifecycle", nil); err != nil {
		t.Fatal(err)
	}
	if rebuilt, _ := submitted(res.Position); rebuilt != after {
		t.Fatalf("after a rebuild: %d, want %d", rebuilt, after)
	}
}
