package projections

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
)

// Fen is an amount of CNY in whole fen (0.01 yuan), as the read models
// keep money: exact like money.Amount (never a float), but a plain
// integer, so folding adds without allocating and a state encodes to the
// same bytes however it was reached. Amounts come in as money.Amount and
// go out as money.Amount; no single amount passes money.MaxAmount (10^15
// fen), so only sums of thousands of the largest amounts could overflow,
// and those are refused, never wrapped.
type Fen int64

// ErrOverflow is matched by sums too large for a Fen.
var ErrOverflow = errors.New("amount overflows")

// ToFen converts an amount from the log, checking the invariant every
// amount keeps: not negative, at most two decimal places, at most
// money.MaxAmount. what names the amount in errors.
func ToFen(what string, a money.Amount) (Fen, error) {
	d := a.Decimal()
	if d.Sign() < 0 {
		return 0, fmt.Errorf("%s %s is negative", what, d)
	}
	if d.GreaterThan(money.MaxAmount) {
		return 0, fmt.Errorf("%s %s is larger than ¥%s", what, d, money.MaxAmount)
	}
	fen := d.Shift(2)
	if !fen.IsInteger() {
		return 0, fmt.Errorf("%s %s has more than 2 decimal places", what, d)
	}
	return Fen(fen.IntPart()), nil
}

// Amount is f as money.
func (f Fen) Amount() money.Amount { return money.FromDecimal(decimal.New(int64(f), -2)) }

// Add returns f+g, or ErrOverflow.
func (f Fen) Add(g Fen) (Fen, error) {
	s := f + g
	if (s > f) != (g > 0) {
		return 0, fmt.Errorf("%w: %s + %s", ErrOverflow, f.Amount(), g.Amount())
	}
	return s, nil
}

// Total sums amounts of any size: in fen while they fit, in decimal past
// that. For sums made at query time, which must never fail.
type Total struct {
	fen   int64
	spill decimal.Decimal
}

// Add adds f to the total.
func (t *Total) Add(f Fen) {
	sum, carry := bits.Add64(uint64(t.fen), uint64(f), 0)
	if carry == 0 && int64(sum) >= 0 {
		t.fen = int64(sum)
		return
	}
	t.spill = t.spill.Add(decimal.NewFromInt(t.fen)).Add(decimal.NewFromInt(int64(f)))
	t.fen = 0
}

// Amount is the total as money.
func (t Total) Amount() money.Amount {
	return money.FromDecimal(t.spill.Add(decimal.NewFromInt(t.fen)).Shift(-2))
}

// Ratio is num/den as a decimal fraction with 4 places, "0" when den is 0.
func Ratio(num, den int) string {
	if den == 0 {
		return "0"
	}
	return decimal.NewFromInt(int64(num)).DivRound(decimal.NewFromInt(int64(den)), 4).StringFixed(4)
}

// Human writes an amount for a sentence as every sentence does
// (money.Amount.Human): "¥5m", "¥1.25bn", "¥800k", exact where short
// would round.
func Human(a money.Amount) string { return a.Human() }

// AmountRatio is num/den as a decimal fraction with 4 places, "0" when
// den is 0.
func AmountRatio(num, den money.Amount) string {
	if den.Decimal().IsZero() {
		return "0"
	}
	return num.Decimal().DivRound(den.Decimal(), 4).StringFixed(4)
}
