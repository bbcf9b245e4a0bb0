package cursor

import (
	"testing"

	"github.com/fundbridge/fundbridge"
)

func TestRoundTripAndRefusals(t *testing.T) {
	c := Cursor{Query: "-amount", Key: "5000000.00", ID: "a-1"}
	got, err := Parse(c.String(), "-amount")
	if err != nil || got != c {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for name, tc := range map[string]struct{ s, query string }{
		"other sort":  {c.String(), "name"},
		"not base64":  {"%%%", "-amount"},
		"not a JSON":  {"bm90IGpzb24", "-amount"},
		"without ID":  {Cursor{Query: "-amount", Key: "1"}.String(), "-amount"},
		"empty input": {"", "-amount"},
	} {
		_, err := Parse(tc.s, tc.query)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fundbridge.ErrorFields(err)) != 1 || fundbridge.ErrorFields(err)[0].Field != "cursor" {
			t.Errorf("%s: %v, want an invalid cursor", name, err)
		}
	}
	if WellFormed(c.String()) != nil || WellFormed("x") == nil {
		t.Error("WellFormed does not tell a cursor from garbage")
	}
}
