package insurance

import (
	"fmt"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
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
