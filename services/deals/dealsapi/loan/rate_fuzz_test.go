package loan

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// FuzzParseRate: a rate is accepted only as a plain decimal fraction of at
// most MaxRatePlaces places in (0, MaxAnnualRate], read exactly; anything
// else is refused with a reason.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"0.0435", "0.1", "1", "0", "-0.04", "+0.04", ".04", "0.", "4e-2", "0.04350001", "00.04", " 0.04", "０.04", "1000", ""} {
		f.Add(s)
	}
	shape := regexp.MustCompile(fmt.Sprintf(`^(0|[1-9][0-9]*)(\.[0-9]{1,%d})?$`, MaxRatePlaces))
	f.Fuzz(func(t *testing.T, s string) {
		r, reason := ParseRate(s)
		inRange := func(d decimal.Decimal) bool { return d.IsPositive() && !d.GreaterThan(MaxAnnualRate) }
		if reason == "" {
			if !shape.MatchString(s) || !inRange(r) || !r.Equal(decimal.RequireFromString(s)) {
				t.Fatalf("%q accepted as %s", s, r)
			}
			return
		}
		if shape.MatchString(s) && inRange(decimal.RequireFromString(s)) {
			t.Fatalf("%q refused: %s", s, reason)
		}
	})
}

// Found by FuzzParseRate: a rate with leading zeros was refused as out of
// range though its value was in range.
func TestParseRateRefusesLeadingZerosSayingSo(t *testing.T) {
	for _, s := range []string{"00.04", "00000000000.0001"} {
		if _, reason := ParseRate(s); !strings.Contains(reason, "two zeros") {
			t.Errorf("%q: %q", s, reason)
		}
	}
}
