package fundsapi

import (
	"regexp"
	"testing"

	"github.com/shopspring/decimal"
)

var fractionShape = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,4})?$`)

// FuzzFraction: a share is accepted only as a plain decimal of at most
// four places in (0, 1], read exactly; anything else names the field.
func FuzzFraction(f *testing.F) {
	for _, s := range []string{"0.20", "1", "1.0000", "0.00001", "0", "1.0001", "2", "-0.2", "+0.2", ".2", "0.", "2e-1", "0.2 ", "０.2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fe fieldErrors
		d := fe.fraction("max_ownership", s)
		err := fe.Err("invalid")
		if err == nil {
			if !fractionShape.MatchString(s) || !d.IsPositive() || d.GreaterThan(decimal.NewFromInt(1)) {
				t.Fatalf("%q accepted as %s", s, d)
			}
			if !d.Equal(decimal.RequireFromString(s)) {
				t.Fatalf("%q read as %s", s, d)
			}
			return
		}
		if fields := fe.Fields.FieldErrors; len(fields) == 0 || fields[0].Field != "max_ownership" || fields[0].Reason == "" {
			t.Fatalf("%q refused without naming the field: %v", s, err)
		}
		if fractionShape.MatchString(s) {
			if v := decimal.RequireFromString(s); v.IsPositive() && !v.GreaterThan(decimal.NewFromInt(1)) {
				t.Fatalf("%q refused: %v", s, err)
			}
		}
	})
}
