package money

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// ScaleBack scales an oversubscribed book back to exactly total: each
// commitment gets its pro-rata share, rounded down to the fen, and the fen
// left over go to the largest remainders, ties to the earlier commitment.
// No part is more than its commitment: a share of at most the whole is at
// most the commitment, and a commitment whose share is whole fen already
// never gets a fen more. The commitments must sum to at least total.
func ScaleBack(total Amount, commitments []Amount) ([]Amount, error) {
	sum := Zero
	weights := make([]decimal.Decimal, len(commitments))
	for i, c := range commitments {
		if c.IsNegative() {
			return nil, fmt.Errorf("scale back to %s: commitment %d is negative", total, i)
		}
		sum = sum.Add(c)
		weights[i] = c.d
	}
	if sum.LessThan(total) {
		return nil, fmt.Errorf("scale back to %s: commitments sum to only %s", total, sum)
	}
	parts, err := Split(total, weights)
	if err != nil {
		return nil, fmt.Errorf("scale back: %w", err)
	}
	for i, p := range parts {
		if p.GreaterThan(commitments[i]) {
			return nil, fmt.Errorf("scale back to %s: part %d is %s, above its commitment %s", total, i, p, commitments[i])
		}
	}
	return parts, nil
}

// Sum adds amounts.
func Sum(amounts []Amount) Amount {
	s := Zero
	for _, a := range amounts {
		s = s.Add(a)
	}
	return s
}

// Fen is n fen: Fen(2967993) is ¥29,679.93.
func Fen(n int64) Amount { return Amount{decimal.New(n, -2)} }
