package money

import "github.com/fundbridge/fundbridge"

// Check adds to fe what is wrong with a decoded amount that must be
// positive, by the rules Parse applies to what people enter, and reports
// whether it is fine. The exponent is checked before any comparison,
// which would first expand "1e9999" to ten thousand digits.
func Check(fe *fundbridge.FieldErrors, field string, a Amount) bool {
	d := a.d
	switch {
	case d.IsNegative():
		fe.Add(field, "must not be negative")
	case d.Exponent() < -2:
		fe.Add(field, "has more than 2 decimal places")
	case d.Exponent() > 14 || d.GreaterThan(MaxAmount):
		fe.Add(field, "is larger than ¥"+MaxAmount.String())
	case d.IsZero():
		fe.Add(field, "required, and must be greater than 0")
	default:
		return true
	}
	return false
}
