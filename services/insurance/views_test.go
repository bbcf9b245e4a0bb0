package insurance

import (
	"fmt"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// Pages of a list, newest first with ties by ID, walk every item once in
// order, whatever the page size; a cursor given back with other filters
// is refused naming the cursor.
func TestPagesWalkEveryItemOnce(t *testing.T) {
	type item struct {
		at time.Time
		id string
	}
	base := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	var all []item
	for i := range 23 {
		all = append(all, item{base.Add(time.Duration(i%7) * time.Second), fmt.Sprintf("r%02d", i)})
	}
	at := func(x item) (time.Time, string) { return x.at, x.id }
	want, _, err := newestFirst(append([]item(nil), all...), at, "q", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for size := 1; size <= 24; size++ {
		var got []item
		next := ""
		for {
			page, n, err := newestFirst(append([]item(nil), all...), at, "q", next, size)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if n == "" {
				break
			}
			next = n
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pages of %d: %v, want %v", size, got, want)
		}
	}
	_, next, _ := newestFirst(append([]item(nil), all...), at, "q", "", 5)
	if _, _, err := newestFirst(all, at, "other", next, 5); fundbridge.ErrorCode(err) != fundbridge.EINVALID || !namesField(err, "cursor") {
		t.Errorf("a cursor for other filters: %v", err)
	}
}

// A quote left open on a request that took another quote, or was
// withdrawn, shows as closed: it can no longer be accepted.
func TestAQuoteOnAClosedRequestShowsClosed(t *testing.T) {
	other := quoted
	other.QuoteID, other.InsurerID = "r1-q2", "ins-b"
	accepted := api.QuoteAccepted{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a", PolicyID: PolicyID("r1-q1")}
	for name, history := range map[string][]events.Payload{
		"accepted with another": {requested, quoted, other, accepted},
		"withdrawn":             {requested, other, api.InsuranceWithdrawn{RequestID: "r1", Reason: "found cover"}},
	} {
		v := requestView(replay(t, requestDecider(), history), operator, nameless{})
		for _, q := range v.Quotes {
			if q.QuoteID == "r1-q2" && q.Status != QuoteClosed {
				t.Errorf("%s: the other quote shows %q, want %q", name, q.Status, QuoteClosed)
			}
		}
	}
	open := requestView(replay(t, requestDecider(), []events.Payload{requested, other}), operator, nameless{})
	if open.Quotes[0].Status != QuoteOpen {
		t.Errorf("on an open request the quote shows %q", open.Quotes[0].Status)
	}
}
