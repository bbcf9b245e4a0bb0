package money

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

func fenOf(n int64) decimal.Decimal { return decimal.New(n, -2) }

func TestScaleBackToExactlyTheLoan(t *testing.T) {
	// ¥10m asked, ¥12m committed: each keeps 10/12; the fen left over go
	// to the largest remainders, and equal ones to the earlier commitment.
	parts, err := ScaleBack(MustParse("10000000"), []Amount{MustParse("4000000"), MustParse("4000000"), MustParse("4000000")})
	if err != nil {
		t.Fatal(err)
	}
	if got := [3]string{parts[0].String(), parts[1].String(), parts[2].String()}; got != [3]string{"3333333.34", "3333333.33", "3333333.33"} {
		t.Errorf("scaled back to %v", got)
	}
	parts, err = ScaleBack(MustParse("100"), []Amount{MustParse("50"), MustParse("100"), MustParse("0.01")})
	if err != nil {
		t.Fatal(err)
	}
	// exact shares 33.331…, 66.662…, 0.0066…: the one fen left over goes
	// to the largest remainder, the smallest commitment's.
	if got := [3]string{parts[0].String(), parts[1].String(), parts[2].String()}; got != [3]string{"33.33", "66.66", "0.01"} {
		t.Errorf("scaled back to %v", got)
	}
	if _, err := ScaleBack(MustParse("100"), []Amount{MustParse("50"), MustParse("49.99")}); err == nil {
		t.Error("scaled an undersubscribed book up")
	}
}

// Scaling back never gives a commitment more than it committed, and the
// parts always sum to exactly the loan.
func TestScaleBackNeverGivesMoreThanCommitted(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for range 5000 {
		commitments := make([]Amount, 1+r.IntN(12))
		sum := Zero
		for i := range commitments {
			switch r.IntN(4) {
			case 0:
				commitments[i] = Amount{fenOf(1 + r.Int64N(100))}
			case 1: // many equal commitments, where ties decide
				commitments[i] = Yuan(1_000_000)
			default:
				commitments[i] = Amount{fenOf(1 + r.Int64N(50_000_000_00))}
			}
			sum = sum.Add(commitments[i])
		}
		total := Amount{fenOf(1 + r.Int64N(sum.d.Shift(2).IntPart()))}
		parts, err := ScaleBack(total, commitments)
		if err != nil {
			t.Fatal(err)
		}
		if !Sum(parts).Equal(total) {
			t.Fatalf("%v scaled to %s sums to %s", commitments, total, Sum(parts))
		}
		for i, p := range parts {
			if p.GreaterThan(commitments[i]) || p.IsNegative() {
				t.Fatalf("%v scaled to %s: part %d is %s", commitments, total, i, p)
			}
		}
		if total.Equal(sum) {
			for i := range parts {
				if !parts[i].Equal(commitments[i]) {
					t.Fatalf("a book exactly full was changed: %v → %v", commitments, parts)
				}
			}
		}
	}
}
