package applications

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
)

// The view learns fund managers from the funds service's events even when
// the registry does not know them, and in whichever order they come.
func TestViewsLearnFundManagersInAnyOrder(t *testing.T) {
	reg := events.NewRegistry()
	applicationsapi.Register(reg) // not funds.Register: this instance may run without it
	v := newViews(reg, testNow)
	pos := uint64(0)
	feed := func(stream string, p events.Payload) {
		t.Helper()
		pos++
		data, _ := json.Marshal(p)
		e := events.Event{Type: p.EventType(), StreamID: stream, Version: 1, Position: pos, RecordedAt: testNow().Add(time.Duration(pos) * time.Second),
			Payload: data, LastInCommit: true}
		if err := v.apply(e); err != nil {
			t.Fatal(err)
		}
	}
	feed("company-acme", registered(t))
	for _, p := range []events.Payload{drafted(), submitted(), matched("f1", "f2")} {
		feed("application-app1", p)
	}
	feed("fund-f1", fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "seedcap"}) // after the match
	feed("fund-f9", fundsapi.MandateSet{FundID: "f9"})                            // unknown here: passes by
	feed("deal-d1", fundsapi.FundClosed{FundID: "f9"})

	fm := fundbridge.Actor{UserID: "fiona", Role: fundbridge.RoleFundManager, OrgID: "seedcap"}
	a, err := v.application(fm, "app1")
	if err != nil || asJSON(a.FundIDs) != `["f1"]` || !a.CreditDataShared {
		t.Fatalf("fund manager sees %+v, %v", a, err)
	}
	other := fundbridge.Actor{UserID: "frank", Role: fundbridge.RoleFundManager, OrgID: "othercap"}
	if _, err := v.application(other, "app1"); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Fatalf("another manager: %v", err)
	}
	if _, err := v.company(fm, "acme"); err != nil {
		t.Fatal(err)
	}
	page, err := v.listApplications(fm, applicationsapi.ListApplications{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("listed %+v, %v", page, err)
	}

	// The company changes and f1 no longer matches: once f1 reviews the
	// application its manager still sees it, without the match.
	feed("application-app1", underReview("f1"))
	feed("application-app1", applicationsapi.ApplicationUnmatched{ApplicationID: "app1", FundIDs: []string{"f1"}, Slice: seedSlice()})
	a, err = v.application(fm, "app1")
	if err != nil || asJSON(a.FundIDs) != `[]` || asJSON(a.ReviewedBy) != `["f1"]` {
		t.Fatalf("after the match went, the reviewing manager sees %+v, %v", a, err)
	}
}

func TestPaginateWalksEveryItemOnce(t *testing.T) {
	items := []string{"e", "b", "a", "d", "c", "b2", "a2"}
	key := func(s string) string { return s[:1] } // ties on "a" and "b": the ID breaks them
	id := func(s string) string { return s }
	for _, sortBy := range []string{"k", "-k"} {
		var got []string
		var after *cursor.Cursor
		for range 10 {
			page, next := paginate(append([]string(nil), items...), key, id, sortBy, sortBy, after, 2)
			got = append(got, page...)
			if next == "" {
				break
			}
			var err error
			if after, err = decodeCursor(next, sortBy); err != nil {
				t.Fatal(err)
			}
		}
		want := `["a","a2","b","b2","c","d","e"]`
		if sortBy == "-k" {
			want = `["e","d","c","b2","b","a2","a"]`
		}
		if asJSON(got) != want {
			t.Errorf("%s: %s, want %s", sortBy, asJSON(got), want)
		}
	}
}

// Walking the created-at index gives the pages sorting every item gives,
// whatever the filter, the order and where the cursor falls.
func TestWalkIndexAgreesWithPaginate(t *testing.T) {
	var index []keyed
	for i := range 40 {
		index = append(index, keyed{key: fmt.Sprintf("k%02d", i/3), id: fmt.Sprintf("id%02d", (i*7)%40)}) // ties on keys
	}
	slices.SortFunc(index, compareKeyed)
	filters := map[string]func(string) bool{
		"all":  func(string) bool { return true },
		"none": func(string) bool { return false },
		"odd":  func(id string) bool { return id[len(id)-1]%2 == 1 },
		"few":  func(id string) bool { return id == "id03" || id == "id17" || id == "id39" },
	}
	for name, keep := range filters {
		for _, sortBy := range []string{"created_at", "-created_at"} {
			for _, limit := range []int{1, 2, 7, 100} {
				var all []keyed
				for _, k := range index {
					if keep(k.id) {
						all = append(all, k)
					}
				}
				var got []keyed
				var after *cursor.Cursor
				for range 50 {
					page, next := paginateKeyed(slices.Clone(all), sortBy, sortBy, after, limit)
					wpage, wnext := walkIndex(index, sortBy, sortBy, after, limit, keep)
					if !slices.Equal(page, wpage) || next != wnext {
						t.Fatalf("%s %s limit %d after %+v: walked %v next %q, sorted %v next %q", name, sortBy, limit, after, wpage, wnext, page, next)
					}
					got = append(got, wpage...)
					if next == "" {
						break
					}
					var err error
					if after, err = decodeCursor(next, sortBy); err != nil {
						t.Fatal(err)
					}
				}
				if len(got) != len(all) {
					t.Errorf("%s %s limit %d: walked %d of %d", name, sortBy, limit, len(got), len(all))
				}
			}
		}
	}
}
