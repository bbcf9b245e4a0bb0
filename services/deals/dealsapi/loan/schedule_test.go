package loan

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
)

func rate(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// The check the issue gives, so anyone can verify the conventions.
func TestEqualInstallmentMatchesTheIssueCheck(t *testing.T) {
	s, err := New(Terms{Principal: money.MustParse("1000000"), AnnualRate: rate("0.0435"), Months: 36, Method: EqualInstallment})
	if err != nil {
		t.Fatal(err)
	}
	first, last := s.Periods[0], s.Periods[35]
	for _, c := range []struct{ name, got, want string }{
		{"first payment", first.Payment.String(), "29679.93"},
		{"first interest", first.Interest.String(), "3625.00"},
		{"first principal", first.Principal.String(), "26054.93"},
		{"first balance", first.Balance.String(), "973945.07"},
		{"last payment", last.Payment.String(), "29680.10"},
		{"last balance", last.Balance.String(), "0.00"},
		{"total interest", s.TotalInterest.String(), "68477.65"},
		{"total payment", s.TotalPayment.String(), "1068477.65"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	for _, p := range s.Periods[:35] {
		if p.Payment.String() != "29679.93" {
			t.Errorf("period %d pays %s, want the installment 29679.93", p.Number, p.Payment)
		}
	}
}

func TestEqualPrincipal(t *testing.T) {
	s, err := New(Terms{Principal: money.MustParse("1000000"), AnnualRate: rate("0.06"), Months: 3, Method: EqualPrincipal})
	if err != nil {
		t.Fatal(err)
	}
	// 1,000,000 / 3 = 333,333.33; interest 0.5% a month on what is left.
	want := []Period{
		{1, money.MustParse("338333.33"), money.MustParse("333333.33"), money.MustParse("5000"), money.MustParse("666666.67")},
		{2, money.MustParse("336666.66"), money.MustParse("333333.33"), money.MustParse("3333.33"), money.MustParse("333333.34")},
		{3, money.MustParse("335000.01"), money.MustParse("333333.34"), money.MustParse("1666.67"), money.Zero},
	}
	samePeriods(t, s.Periods, want)
}

func TestInterestOnlyThenBullet(t *testing.T) {
	s, err := New(Terms{Principal: money.MustParse("500000"), AnnualRate: rate("0.048"), Months: 3, Method: InterestOnlyBullet})
	if err != nil {
		t.Fatal(err)
	}
	want := []Period{
		{1, money.MustParse("2000"), money.Zero, money.MustParse("2000"), money.MustParse("500000")},
		{2, money.MustParse("2000"), money.Zero, money.MustParse("2000"), money.MustParse("500000")},
		{3, money.MustParse("502000"), money.MustParse("500000"), money.MustParse("2000"), money.Zero},
	}
	samePeriods(t, s.Periods, want)
}

// Interest-only months first: the installment is computed over the months
// that remain, here 1,000,000 over 2 months at 0.5%.
func TestInterestOnlyMonthsFirst(t *testing.T) {
	s, err := New(Terms{Principal: money.MustParse("1000000"), AnnualRate: rate("0.06"), Months: 4, Method: EqualInstallment, InterestOnlyMonths: 2})
	if err != nil {
		t.Fatal(err)
	}
	// 1e6·0.005·1.005² / (1.005² − 1) = 503,753.117… → 503,753.12
	want := []Period{
		{1, money.MustParse("5000"), money.Zero, money.MustParse("5000"), money.MustParse("1000000")},
		{2, money.MustParse("5000"), money.Zero, money.MustParse("5000"), money.MustParse("1000000")},
		{3, money.MustParse("503753.12"), money.MustParse("498753.12"), money.MustParse("5000"), money.MustParse("501246.88")},
		{4, money.MustParse("503753.11"), money.MustParse("501246.88"), money.MustParse("2506.23"), money.Zero},
	}
	samePeriods(t, s.Periods, want)
}

func samePeriods(t *testing.T, got, want []Period) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d periods, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Number != w.Number || !g.Payment.Equal(w.Payment) || !g.Principal.Equal(w.Principal) || !g.Interest.Equal(w.Interest) || !g.Balance.Equal(w.Balance) {
			t.Errorf("period %d = %+v, want %+v", i+1, g, w)
		}
	}
}

func TestTermsRefusedNameTheField(t *testing.T) {
	good := Terms{Principal: money.MustParse("1000000"), AnnualRate: rate("0.0435"), Months: 36, Method: EqualInstallment}
	for _, c := range []struct {
		name  string
		edit  func(*Terms)
		field string
	}{
		{"rate zero", func(t *Terms) { t.AnnualRate = decimal.Zero }, "annual_rate"},
		{"rate negative", func(t *Terms) { t.AnnualRate = rate("-0.01") }, "annual_rate"},
		{"rate above 24%", func(t *Terms) { t.AnnualRate = rate("0.2401") }, "annual_rate"},
		{"rate too fine", func(t *Terms) { t.AnnualRate = rate("0.0435001") }, "annual_rate"},
		{"tenor zero", func(t *Terms) { t.Months = 0 }, "months"},
		{"tenor 361", func(t *Terms) { t.Months = 361 }, "months"},
		{"no principal", func(t *Terms) { t.Principal = money.Zero }, "principal"},
		{"unknown method", func(t *Terms) { t.Method = "balloon" }, "method"},
		{"no method", func(t *Terms) { t.Method = "" }, "method"},
		{"interest-only as long as the loan", func(t *Terms) { t.InterestOnlyMonths = 36 }, "interest_only_months"},
		{"negative interest-only", func(t *Terms) { t.InterestOnlyMonths = -1 }, "interest_only_months"},
	} {
		terms := good
		c.edit(&terms)
		_, err := New(terms)
		f := fundbridge.ErrorFields(err)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(f) != 1 || f[0].Field != c.field {
			t.Errorf("%s: %v, want invalid naming only %s", c.name, err, c.field)
		}
	}
	for _, ok := range []Terms{
		{Principal: money.MustParse("0.01"), AnnualRate: rate("0.24"), Months: 1, Method: EqualPrincipal},
		{Principal: money.MustParse("10000000000000"), AnnualRate: rate("0.000001"), Months: 360, Method: EqualInstallment, InterestOnlyMonths: 359},
	} {
		if _, err := New(ok); err != nil {
			t.Errorf("%+v refused: %v", ok, err)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]string{"0.0435": "0.0435", "0.24": "0.24", "0.000001": "0.000001"} {
		if r, reason := ParseRate(in); reason != "" || r.String() != want {
			t.Errorf("%q = %s %q", in, r, reason)
		}
	}
	for _, bad := range []string{"", "4.35%", "-0.01", "0", "0.25", "1e-2", " 0.04", ".04", "0.", "0.0000001", "1000000000000000000"} {
		if _, reason := ParseRate(bad); reason == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every schedule, whatever its terms, repays exactly the principal, ends
// at 0.00, and has no negative figure and no payment that is not the sum
// of its parts.
func TestEverySchedulePaysOffExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 35))
	for range 1000 {
		terms := randomTerms(r)
		s, err := New(terms)
		if err != nil {
			t.Fatalf("%+v: %v", terms, err)
		}
		checkSchedule(t, terms, s, terms.Principal, 0)
		// Recompute from a random point with a random part prepaid.
		paid := r.IntN(terms.Months)
		before := terms.Principal
		if paid > 0 {
			before = s.Periods[paid-1].Balance
		}
		left := money.FromDecimal(before.Decimal().Mul(decimal.NewFromFloat(r.Float64()).Round(4)))
		rest, err := Remaining(terms, paid, left)
		if err != nil {
			t.Fatalf("%+v after %d with %s: %v", terms, paid, left, err)
		}
		checkSchedule(t, terms, rest, left, paid)
	}
}

func checkSchedule(t *testing.T, terms Terms, s Schedule, principal money.Amount, paid int) {
	t.Helper()
	if len(s.Periods) != terms.Months-paid {
		t.Fatalf("%+v: %d periods, want %d", terms, len(s.Periods), terms.Months-paid)
	}
	sum, pay, interest := money.Zero, money.Zero, money.Zero
	bal := principal
	for i, p := range s.Periods {
		if p.Number != paid+i+1 {
			t.Fatalf("%+v: period %d numbered %d", terms, paid+i+1, p.Number)
		}
		if p.Payment.IsNegative() || p.Principal.IsNegative() || p.Interest.IsNegative() || p.Balance.IsNegative() {
			t.Fatalf("%+v: negative period %+v", terms, p)
		}
		if !p.Principal.Add(p.Interest).Equal(p.Payment) {
			t.Fatalf("%+v: period %+v is not principal + interest", terms, p)
		}
		bal = bal.Sub(p.Principal)
		if !bal.Equal(p.Balance) {
			t.Fatalf("%+v: period %d balance %s, want %s", terms, p.Number, p.Balance, bal)
		}
		sum, pay, interest = sum.Add(p.Principal), pay.Add(p.Payment), interest.Add(p.Interest)
	}
	if len(s.Periods) > 0 && !s.Periods[len(s.Periods)-1].Balance.IsZero() {
		t.Fatalf("%+v: ends at %s", terms, s.Periods[len(s.Periods)-1].Balance)
	}
	if !sum.Equal(principal) || !pay.Equal(s.TotalPayment) || !interest.Equal(s.TotalInterest) {
		t.Fatalf("%+v: repays %s of %s; totals %s/%s, periods sum %s/%s", terms, sum, principal, s.TotalPayment, s.TotalInterest, pay, interest)
	}
}

func randomTerms(r *rand.Rand) Terms {
	months := 1 + r.IntN(MaxMonths)
	var principal money.Amount
	switch r.IntN(3) {
	case 0: // tiny, where rounding bites
		principal = money.FromDecimal(decimal.New(1+r.Int64N(1000), -2))
	case 1:
		principal = money.FromDecimal(decimal.New(1+r.Int64N(1_000_000_000_00), -2))
	default:
		principal = money.FromDecimal(decimal.New(1+r.Int64N(1_000_000_000_000_00), -2))
	}
	io := 0
	if r.IntN(3) == 0 {
		io = r.IntN(months)
	}
	return Terms{
		Principal:  principal,
		AnnualRate: decimal.New(1+r.Int64N(240_000), -6),
		Months:     months, Method: Methods[r.IntN(len(Methods))], InterestOnlyMonths: io,
	}
}

func TestRemainingRefusesImpossiblePoints(t *testing.T) {
	terms := Terms{Principal: money.MustParse("1000"), AnnualRate: rate("0.05"), Months: 12, Method: EqualInstallment}
	for _, c := range []struct {
		paid int
		left string
	}{{-1, "10"}, {13, "0"}, {12, "1"}, {3, "1000.01"}} {
		if _, err := Remaining(terms, c.paid, money.MustParse(c.left)); fundbridge.ErrorCode(err) != fundbridge.EINVALID {
			t.Errorf("after %d with %s left: %v", c.paid, c.left, err)
		}
	}
	s, err := Remaining(terms, 12, money.Zero)
	if err != nil || len(s.Periods) != 0 {
		t.Errorf("a repaid loan has %v, %v", s.Periods, err)
	}
}

func TestDueDateKeepsTheDayOrTheMonthsEnd(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		start time.Time
		n     int
		want  time.Time
	}{
		{day(2026, 1, 31), 1, day(2026, 2, 28)},
		{day(2028, 1, 31), 1, day(2028, 2, 29)},
		{day(2026, 1, 31), 2, day(2026, 3, 31)},
		{day(2026, 3, 15), 12, day(2027, 3, 15)},
		{day(2026, 11, 30), 3, day(2027, 2, 28)},
	} {
		if got := DueDate(c.start, c.n); !got.Equal(c.want) {
			t.Errorf("DueDate(%s, %d) = %s, want %s", c.start.Format(time.DateOnly), c.n, got.Format(time.DateOnly), c.want.Format(time.DateOnly))
		}
	}
}
