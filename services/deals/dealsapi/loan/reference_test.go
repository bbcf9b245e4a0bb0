package loan

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
)

// reference computes a schedule the plain way, in decimal throughout,
// to check the fen arithmetic of compute against.
func reference(t Terms, paid int, balance money.Amount) []Period {
	left := t.Months - paid
	interestOnly := max(t.InterestOnlyMonths-paid, 0)
	bal := balance.Decimal()
	var level decimal.Decimal
	switch amortizing := int64(left - interestOnly); t.Method {
	case EqualInstallment:
		level = installment(bal, t.AnnualRate, amortizing)
	case EqualPrincipal:
		level = bal.DivRound(decimal.NewFromInt(amortizing), 2)
	}
	var out []Period
	for k := 1; k <= left; k++ {
		interest := bal.Mul(t.AnnualRate).DivRound(decimal.NewFromInt(12), 2)
		var principal decimal.Decimal
		switch {
		case k == left:
			principal = bal
		case k <= interestOnly || t.Method == InterestOnlyBullet:
			principal = decimal.Zero
		case t.Method == EqualInstallment:
			principal = level.Sub(interest)
		default:
			principal = level
		}
		principal = decimal.Max(decimal.Zero, decimal.Min(principal, bal))
		bal = bal.Sub(principal)
		out = append(out, Period{Number: paid + k, Payment: money.FromDecimal(principal.Add(interest)),
			Principal: money.FromDecimal(principal), Interest: money.FromDecimal(interest), Balance: money.FromDecimal(bal)})
	}
	return out
}

func TestFenArithmeticMatchesDecimal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 14))
	for range 300 {
		terms := randomTerms(r)
		if r.IntN(4) == 0 { // the largest amounts and rates, where products need 128 bits
			terms.Principal, terms.AnnualRate = money.FromDecimal(money.MaxAmount), decimal.RequireFromString("0.239999")
		}
		paid := r.IntN(terms.Months)
		left := money.FromDecimal(terms.Principal.Decimal().Mul(decimal.New(r.Int64N(10_001), -4)))
		for _, c := range []struct {
			paid int
			bal  money.Amount
		}{{0, terms.Principal}, {paid, left}} {
			got, err := Remaining(terms, c.paid, c.bal)
			if err != nil {
				t.Fatal(err)
			}
			want := reference(terms, c.paid, c.bal)
			for i := range want {
				g, w := got.Periods[i], want[i]
				if g.Number != w.Number || !g.Payment.Equal(w.Payment) || !g.Principal.Equal(w.Principal) || !g.Interest.Equal(w.Interest) || !g.Balance.Equal(w.Balance) {
					t.Fatalf("%+v from %d at %s: period %+v, decimal gives %+v", terms, c.paid, c.bal, g, w)
				}
			}
		}
	}
}
