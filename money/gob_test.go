package money

import (
	"bytes"
	"encoding/gob"
	"testing"
)

// Amounts survive a gob round trip exactly, the zero amount included.
func TestAmountGobRoundTrip(t *testing.T) {
	for _, a := range []Amount{{}, MustParse("0"), MustParse("12.30"), MustParse("9999999999999.99")} {
		var buf bytes.Buffer
		in := struct {
			A Amount
			P *Amount
		}{a, &a}
		if err := gob.NewEncoder(&buf).Encode(in); err != nil {
			t.Fatal(err)
		}
		var out struct {
			A Amount
			P *Amount
		}
		if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
			t.Fatal(err)
		}
		if !out.A.Equal(a) || out.A.String() != a.String() || out.P == nil || !out.P.Equal(a) {
			t.Errorf("%s came back as %s, %v", a, out.A, out.P)
		}
	}
}
