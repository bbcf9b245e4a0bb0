package insuranceapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Fraction is a rate or factor in a rating table: a decimal, a string on
// the wire ("0.0150"), as amounts are. A JSON number is refused: a client
// that sends one has usually been through a float on the way.
type Fraction struct{ decimal.Decimal }

// MustFraction is a Fraction from a decimal string, for tables in code.
func MustFraction(s string) Fraction { return Fraction{decimal.RequireFromString(s)} }

// MarshalJSON writes the fraction as a decimal string.
func (f Fraction) MarshalJSON() ([]byte, error) { return json.Marshal(f.Decimal.String()) }

// UnmarshalJSON reads a plain decimal string: no number, sign, exponent
// or spaces.
func (f *Fraction) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a decimal string like \"0.0150\", not %s", b)
	}
	d, err := decimal.NewFromString(s)
	if err != nil || s == "" || strings.ContainsAny(s, "eE+- ") {
		return fmt.Errorf("must be a decimal string like \"0.0150\", not %q", s)
	}
	f.Decimal = d
	return nil
}
