package loan

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
)

// benchLoans are 10,000 loans of 360 months with random principal, rate
// and method, the same for every run.
func benchLoans() []Terms {
	r := rand.New(rand.NewPCG(360, 10_000))
	loans := make([]Terms, 10_000)
	for i := range loans {
		loans[i] = Terms{
			Principal:  money.FromDecimal(decimal.New(100_000_00+r.Int64N(100_000_000_00), -2)),
			AnnualRate: decimal.New(20_000+r.Int64N(100_000), -6), // 2% to 12%
			Months:     360, Method: Methods[r.IntN(len(Methods))], InterestOnlyMonths: r.IntN(12),
		}
	}
	return loans
}

// rawPeriod and rawSchedule are the baseline: the same conventions in
// float64 with rounding to the fen, as a shortcut implementation would
// compute them (and drift by fen on large loans, which is why we do not).
type rawPeriod struct{ payment, principal, interest, balance float64 }

func rawSchedule(t Terms) []rawPeriod {
	p, _ := t.Principal.Decimal().Float64()
	annual, _ := t.AnnualRate.Float64()
	r, n, io := annual/12, t.Months, t.InterestOnlyMonths
	fen := func(x float64) float64 { return math.Round(x*100) / 100 }
	var level float64
	switch f := math.Pow(1+r, float64(n-io)); t.Method {
	case EqualInstallment:
		level = fen(p * r * f / (f - 1))
	case EqualPrincipal:
		level = fen(p / float64(n-io))
	}
	out := make([]rawPeriod, n)
	bal := p
	for k := 1; k <= n; k++ {
		interest := fen(bal * r)
		var principal float64
		switch {
		case k == n:
			principal = bal
		case k <= io || t.Method == InterestOnlyBullet:
		case t.Method == EqualInstallment:
			principal = level - interest
		default:
			principal = level
		}
		principal = math.Max(0, math.Min(principal, bal))
		bal = fen(bal - principal)
		out[k-1] = rawPeriod{principal + interest, principal, interest, bal}
	}
	return out
}

// BenchmarkSchedules10kLoans360Months generates the schedules of 10,000
// loans of 360 months, raw (float64) and ours (decimal) interleaved in
// every round, and reports each pass's time, ours's allocations and the
// heap the 10,000 schedules hold, with the median ratio ours/raw.
//
//	go test -run '^$' -bench Schedules10k -benchtime 5x ./services/deals/dealsapi/loan/
func BenchmarkSchedules10kLoans360Months(b *testing.B) {
	loans := benchLoans()
	var ratios, ours, raws []float64
	var allocs, bytes, retained uint64
	var ms runtime.MemStats
	for b.Loop() {
		runtime.GC() // the last round's schedules are not collected on raw's time
		start := time.Now()
		var sink float64
		for _, t := range loans {
			sink += rawSchedule(t)[359].payment
		}
		raw := time.Since(start)
		_ = sink

		runtime.GC()
		runtime.ReadMemStats(&ms)
		mallocs, total, before := ms.Mallocs, ms.TotalAlloc, ms.HeapAlloc
		start = time.Now()
		held := make([]Schedule, len(loans))
		for i, t := range loans {
			s, err := New(t)
			if err != nil {
				b.Fatal(err)
			}
			held[i] = s
		}
		took := time.Since(start)
		runtime.ReadMemStats(&ms)
		allocs, bytes = ms.Mallocs-mallocs, ms.TotalAlloc-total
		runtime.GC()
		runtime.ReadMemStats(&ms)
		retained = ms.HeapAlloc - before
		runtime.KeepAlive(held)

		raws, ours = append(raws, raw.Seconds()), append(ours, took.Seconds())
		ratios = append(ratios, took.Seconds()/raw.Seconds())
	}
	b.ReportMetric(median(raws)*1000, "raw-ms/10k-loans")
	b.ReportMetric(median(ours)*1000, "ours-ms/10k-loans")
	b.ReportMetric(median(ratios), "ours/raw-median")
	b.ReportMetric(float64(allocs), "ours-allocs/10k-loans")
	b.ReportMetric(float64(bytes)/1e6, "ours-MB-allocated/10k-loans")
	b.ReportMetric(float64(retained)/1e6, "ours-MB-held/10k-loans")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "MB-peak-RSS")
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
