// Package loan computes repayment schedules: equal installment (等额本息),
// equal principal (等额本金) and interest-only then bullet (先息后本), with
// optional interest-only months first. The same code serves the deals
// service, the schedule preview and `fundbridge schedule`, so a startup and
// a bank see the same figures; it is part of the deals contract so that the
// gateway and the command may import it.
//
// Conventions, so that every figure can be checked by hand: the monthly
// rate is the annual rate / 12; the equal installment is
// P·r·(1+r)^n / ((1+r)^n − 1) rounded half-up to the fen; each period's
// interest is the outstanding principal × r rounded half-up to the fen;
// principal = installment − interest; equal principal is P / n rounded
// half-up; interest-only months pay interest only and the installment is
// computed over the months that remain; the last period takes whatever
// principal remains, so the balance ends at exactly 0.00.
package loan

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc/check"
)

// Method is how a loan is repaid.
type Method string

const (
	EqualInstallment   Method = "equal_installment"    // 等额本息: the same payment every month
	EqualPrincipal     Method = "equal_principal"      // 等额本金: the same principal every month
	InterestOnlyBullet Method = "interest_only_bullet" // 先息后本: interest monthly, principal at the end
)

// Methods lists every repayment method.
var Methods = []Method{EqualInstallment, EqualPrincipal, InterestOnlyBullet}

// Valid reports whether m is a known method.
func (m Method) Valid() bool { return slices.Contains(Methods, m) }

// Bounds of the terms a schedule is computed for.
const (
	MaxMonths     = 360
	MaxRatePlaces = 6 // "0.043500": finer than a hundredth of a basis point is noise
)

// MaxAnnualRate is the highest annual rate accepted: 24%, the line above
// which Chinese courts do not protect lending interest.
var MaxAnnualRate = decimal.RequireFromString("0.24")

// Terms are what a schedule is computed from.
type Terms struct {
	// The loan's principal.
	Principal  money.Amount    `json:"principal"`
	AnnualRate decimal.Decimal `json:"annual_rate"` // the annual interest rate, a fraction: "0.0435" for 4.35%
	// The loan's term in months.
	Months int `json:"months"`
	// How the loan is repaid.
	Method Method `json:"method"`
	// Months at the start in which only interest is paid.
	InterestOnlyMonths int `json:"interest_only_months,omitempty"`
}

// Period is one month of a schedule. Number counts from 1 over the whole
// loan, also in a schedule recomputed after an early repayment.
type Period struct {
	// The period's number, from 1 over the whole loan.
	Number int `json:"period"`
	// What falls due: principal plus interest.
	Payment money.Amount `json:"payment"`
	// The principal part of the payment.
	Principal money.Amount `json:"principal"`
	// The interest part of the payment.
	Interest money.Amount `json:"interest"`
	Balance  money.Amount `json:"balance"` // outstanding principal after the payment
}

// Schedule is the periods of a loan and their totals.
type Schedule struct {
	// The schedule's periods, one a month.
	Periods []Period `json:"periods"`
	// The payments of all periods.
	TotalPayment money.Amount `json:"total_payment"`
	// The interest of all periods.
	TotalInterest money.Amount `json:"total_interest"`
}

// Validate names every bad term, by its JSON name.
func (t Terms) Validate() error {
	var fe fundbridge.FieldErrors
	t.Check(&fe, "")
	return fe.Err("invalid loan terms")
}

// Check adds every bad term to fe, its field named prefix + JSON name, so
// a command holding terms reports them where they sit ("loan.months").
func (t Terms) Check(fe *fundbridge.FieldErrors, prefix string) {
	if reason := check.AmountProblem(t.Principal, money.FromDecimal(money.MaxAmount)); reason != "" {
		fe.Add(prefix+"principal", reason)
	}
	if reason := RateProblem(t.AnnualRate); reason != "" {
		fe.Add(prefix+"annual_rate", reason)
	}
	if t.Months < 1 || t.Months > MaxMonths {
		fe.Add(prefix+"months", fmt.Sprintf("%d is outside 1 to %d months", t.Months, MaxMonths))
	}
	switch {
	case t.Method == "":
		fe.Add(prefix+"method", "required: "+strings.Join(methodNames(), ", "))
	case !t.Method.Valid():
		fe.Add(prefix+"method", fundbridge.EnumError(t.Method, Methods))
	}
	switch {
	case t.InterestOnlyMonths < 0:
		fe.Add(prefix+"interest_only_months", "must not be negative")
	case t.InterestOnlyMonths > 0 && t.InterestOnlyMonths >= t.Months:
		fe.Add(prefix+"interest_only_months", fmt.Sprintf("%d must be fewer than the %d months of the loan", t.InterestOnlyMonths, t.Months))
	}
}

// RateProblem says what is wrong with an annual rate, or "" if nothing.
func RateProblem(r decimal.Decimal) string {
	switch {
	case r.Exponent() < -MaxRatePlaces:
		return fmt.Sprintf("has more than %d decimal places", MaxRatePlaces)
	case !r.IsPositive() || r.GreaterThan(MaxAnnualRate):
		return fmt.Sprintf("%s is outside (0, %s]: a fraction like \"0.0435\" for 4.35%%", r, MaxAnnualRate)
	}
	return ""
}

// ParseRate reads an annual rate as entered: a plain decimal fraction like
// "0.0435", without sign, exponent, spaces or leading zeros. The reason names no field;
// the caller knows it.
func ParseRate(s string) (decimal.Decimal, string) {
	notDigit := func(r rune) bool { return r < '0' || r > '9' }
	whole, places, point := strings.Cut(s, ".")
	if whole == "" || strings.ContainsFunc(whole, notDigit) || point && (places == "" || strings.ContainsFunc(places, notDigit)) {
		return decimal.Decimal{}, fmt.Sprintf("%q is not a decimal fraction like \"0.0435\" for 4.35%%", s)
	}
	if len(places) > MaxRatePlaces {
		return decimal.Decimal{}, fmt.Sprintf("has more than %d decimal places", MaxRatePlaces)
	}
	if len(whole) > 1 && whole[0] == '0' { // else "00000.0001" would be called out of range
		return decimal.Decimal{}, fmt.Sprintf("%q must not start with two zeros: a fraction like \"0.0435\" for 4.35%%", s)
	}
	if len(whole) > 3 {
		return decimal.Decimal{}, fmt.Sprintf("%s is outside (0, %s]: a fraction like \"0.0435\" for 4.35%%", s, MaxAnnualRate)
	}
	r := decimal.RequireFromString(s)
	if reason := RateProblem(r); reason != "" {
		return decimal.Decimal{}, reason
	}
	return r, ""
}

func methodNames() []string {
	names := make([]string, len(Methods))
	for i, m := range Methods {
		names[i] = strconv.Quote(string(m))
	}
	return names
}

// New computes the schedule of a loan from its first period.
func New(t Terms) (Schedule, error) {
	if err := t.Validate(); err != nil {
		return Schedule{}, err
	}
	return compute(t, 0, t.Principal), nil
}

// Remaining recomputes the schedule for what remains after paid periods,
// once an early repayment has left outstanding principal: the same method
// and end date, the interest-only months not yet passed, and the
// installment computed afresh over the months left. Periods keep their
// numbers in the whole loan.
func Remaining(t Terms, paid int, outstanding money.Amount) (Schedule, error) {
	if err := t.Validate(); err != nil {
		return Schedule{}, err
	}
	switch {
	case paid < 0 || paid > t.Months:
		return Schedule{}, fundbridge.Invalid("invalid recomputation", fundbridge.FieldError{Field: "paid", Reason: fmt.Sprintf("%d is outside 0 to %d periods", paid, t.Months)})
	case outstanding.IsNegative() || outstanding.GreaterThan(t.Principal):
		return Schedule{}, fundbridge.Invalid("invalid recomputation", fundbridge.FieldError{Field: "outstanding", Reason: fmt.Sprintf("%s is outside 0 to the principal %s", outstanding, t.Principal)})
	case paid == t.Months && !outstanding.IsZero():
		return Schedule{}, fundbridge.Invalid("invalid recomputation", fundbridge.FieldError{Field: "outstanding", Reason: "must be 0 once every period is paid"})
	}
	return compute(t, paid, outstanding), nil
}

var (
	one    = decimal.NewFromInt(1)
	twelve = decimal.NewFromInt(12)
)

// powPlaces is the precision of the monthly rate and of (1+r)^n. The
// installment is rounded to the fen once from these: with 34 places the
// error is below 10^-25 of the installment, so it could only change a
// rounding that sat within 10^-13 fen of a half fen.
const powPlaces = 34

// compute builds the periods after the first paid, for balance outstanding
// at that point. Terms are valid.
//
// The period loop works in whole fen (int64) with exact 128-bit products:
// a balance is at most 10^15 fen and a rate has at most 6 places, so
// balance × rate fits in 128 bits and half-up rounding of the quotient is
// exact, the same figures decimal gives at a fraction of the cost.
func compute(t Terms, paid int, balance money.Amount) Schedule {
	left := t.Months - paid
	interestOnly := max(t.InterestOnlyMonths-paid, 0)
	s := Schedule{Periods: make([]Period, 0, left)}
	if left == 0 {
		return s
	}
	bal := balance.Decimal().Shift(2).IntPart()
	rate := uint64(t.AnnualRate.Shift(MaxRatePlaces).IntPart()) // millionths
	// level is the installment (equal installment) or the principal part
	// (equal principal) of the amortizing months, in fen.
	var level int64
	switch amortizing := int64(left - interestOnly); t.Method {
	case EqualInstallment:
		level = installment(balance.Decimal(), t.AnnualRate, amortizing).Shift(2).IntPart()
	case EqualPrincipal:
		level = int64(divHalfUp(uint64(bal), 1, uint64(amortizing)))
	}
	var totalPay, totalInterest int64
	for k := 1; k <= left; k++ {
		interest := int64(divHalfUp(uint64(bal), rate, 12*1_000_000))
		var principal int64
		switch {
		case k == left:
			principal = bal
		case k <= interestOnly || t.Method == InterestOnlyBullet:
			principal = 0
		case t.Method == EqualInstallment:
			principal = level - interest
		default:
			principal = level
		}
		// Rounding up tiny loans could repay more than is owed before the
		// end; the balance never goes below zero.
		principal = max(0, min(principal, bal))
		bal -= principal
		totalPay, totalInterest = totalPay+principal+interest, totalInterest+interest
		s.Periods = append(s.Periods, Period{
			Number: paid + k, Payment: money.Fen(principal + interest), Principal: money.Fen(principal),
			Interest: money.Fen(interest), Balance: money.Fen(bal),
		})
	}
	s.TotalPayment, s.TotalInterest = money.Fen(totalPay), money.Fen(totalInterest)
	return s
}

// divHalfUp is a·b / c rounded half-up, exactly; the quotient must fit
// in 64 bits.
func divHalfUp(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, r := bits.Div64(hi, lo, c)
	if r >= c-r {
		q++
	}
	return q
}

// installment is P·r·(1+r)^n / ((1+r)^n − 1) rounded half-up to the fen.
func installment(p, annual decimal.Decimal, n int64) decimal.Decimal {
	r := annual.DivRound(twelve, powPlaces)
	f := pow(one.Add(r), n)
	return p.Mul(r).Mul(f).DivRound(f.Sub(one), 2)
}

// pow is x^n by squaring, truncated to powPlaces after each product so
// the digits stay bounded.
func pow(x decimal.Decimal, n int64) decimal.Decimal {
	result := one
	for n > 0 {
		if n&1 == 1 {
			result = result.Mul(x).Truncate(powPlaces)
		}
		x = x.Mul(x).Truncate(powPlaces)
		n >>= 1
	}
	return result
}

// Sums of a schedule's periods, for checks and views.
func (s Schedule) Principal() money.Amount {
	sum := money.Zero
	for _, p := range s.Periods {
		sum = sum.Add(p.Principal)
	}
	return sum
}
