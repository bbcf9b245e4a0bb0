package bankbook

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
)

// TestSplitFenIsMoneySplit: the book's integer split gives exactly what
// money.Split gives (what the deals service splits with), for random
// totals and weights, zero weights and ties included. Seed logged.
func TestSplitFenIsMoneySplit(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for range 5000 {
		n := 1 + r.IntN(5)
		weights := make([]uint64, n)
		decs := make([]decimal.Decimal, n)
		for i := range weights {
			switch r.IntN(4) {
			case 0:
				weights[i] = 0
			case 1:
				weights[i] = 100
			default:
				weights[i] = r.Uint64N(1e15)
			}
			decs[i] = decimal.New(int64(weights[i]), -2)
		}
		total := Fen(r.Int64N(1e15))
		got, err := splitFen(total, weights)
		if err != nil {
			t.Fatal(err)
		}
		allZero := true
		for _, w := range weights {
			allZero = allZero && w == 0
		}
		if allZero {
			for i := range decs {
				decs[i] = decimal.NewFromInt(1)
			}
		}
		want, err := money.Split(total.Amount(), decs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i].Amount().String() != want[i].String() {
				t.Fatalf("split %s by %v: %v, money.Split %v", total.Amount(), weights, got, want)
			}
		}
	}
}
