package deals

import (
	"encoding/json"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

const (
	benchLoans       = 10_000
	benchRepayments  = 100_000
	repaymentsByLoan = benchRepayments / benchLoans
)

// benchOpened are 10,000 loans of 360 months with two or three banks,
// the same for every run.
func benchOpened() []dealsapi.LoanOpened { return BenchLoansOpened(benchLoans) }

// BenchmarkServicing10kLoans: each round opens 10,000 loans of 360
// months, draws each in full (which computes and fixes its schedule, and
// encodes the event as it would be appended), then applies 100,000
// repayments, ten installments a loan, each decided and folded. The
// repayments run interleaved with a raw baseline (the same waterfall and
// split in int64 fen on plain slices); figures are medians over rounds.
//
//	go test -run '^$' -bench Servicing10k -benchtime 3x ./services/deals/
func BenchmarkServicing10kLoans(b *testing.B) {
	opened := benchOpened()
	var schedule, encode, ours, raws, ratios, allocsPerRepay, bytesPerRepay, heldMB, eventKB []float64
	var ms runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heapBefore := ms.HeapAlloc
		loans := make([]Loan, len(opened))
		var encoded int
		var encoding time.Duration
		start := time.Now()
		for i, o := range opened {
			l := evolveLoan(Loan{}, events.Event{Version: 1}, o)
			out, err := decideDrawDown(l, platform, now, dealsapi.LoanAmount{LoanID: l.ID, Amount: l.Undrawn()})
			if err != nil || len(out) != 2 {
				b.Fatalf("drawdown: %v %v", out, err)
			}
			t0 := time.Now()
			data, err := json.Marshal(out[1])
			if err != nil {
				b.Fatal(err)
			}
			encoding += time.Since(t0)
			encoded += len(data)
			for k, p := range out {
				l = evolveLoan(l, events.Event{Version: uint64(2 + k)}, p)
			}
			loans[i] = l
		}
		schedule = append(schedule, time.Since(start).Seconds())
		encode = append(encode, encoding.Seconds())
		eventKB = append(eventKB, float64(encoded)/float64(len(opened))/1024)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heldMB = append(heldMB, float64(ms.HeapAlloc-heapBefore)/1e6)

		raw := rawLoans(loans)
		runtime.GC()
		rawTook := rawRepay(raw)
		runtime.GC()

		runtime.ReadMemStats(&ms)
		mallocs, total := ms.Mallocs, ms.TotalAlloc
		start = time.Now()
		for i := range loans {
			l := loans[i]
			for k := range repaymentsByLoan {
				in := l.Installment(k)
				out, err := decideRepay(l, borrower, in.Due, dealsapi.LoanAmount{LoanID: l.ID, Amount: in.Payment})
				if err != nil {
					b.Fatalf("repay: %v", err)
				}
				for _, p := range out {
					l = evolveLoan(l, events.Event{Version: l.Version + 1}, p)
				}
			}
			loans[i] = l
		}
		took := time.Since(start)
		runtime.ReadMemStats(&ms)
		allocsPerRepay = append(allocsPerRepay, float64(ms.Mallocs-mallocs)/benchRepayments)
		bytesPerRepay = append(bytesPerRepay, float64(ms.TotalAlloc-total)/benchRepayments)
		ours, raws = append(ours, took.Seconds()), append(raws, rawTook.Seconds())
		ratios = append(ratios, took.Seconds()/rawTook.Seconds())
		checkBench(b, loans, raw)
		runtime.KeepAlive(loans)
	}
	b.ReportMetric(median(schedule), "s/10k-schedules-fixed")
	b.ReportMetric(median(encode)*1000, "ms/10k-schedule-events-encoded")
	b.ReportMetric(median(eventKB), "KB/schedule-event")
	b.ReportMetric(median(heldMB), "MB-heap/10k-loans")
	b.ReportMetric(median(raws)*1000, "raw-ms/100k-repayments")
	b.ReportMetric(median(ours)*1000, "ours-ms/100k-repayments")
	b.ReportMetric(median(ratios), "ours/raw-median")
	b.ReportMetric(median(allocsPerRepay), "allocs/repayment")
	b.ReportMetric(median(bytesPerRepay), "B/repayment")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "MB-peak-RSS")
	}
}

// rawLoan is the baseline's loan: the schedule's interest and principal
// in fen, the cursor, and each bank's outstanding principal.
type rawLoan struct {
	interest, principal []int64
	banks               []int64
	bankInterest        []int64
}

func rawLoans(loans []Loan) []rawLoan {
	out := make([]rawLoan, len(loans))
	for i, l := range loans {
		r := rawLoan{interest: make([]int64, len(l.Schedule)), principal: make([]int64, len(l.Schedule))}
		for k, p := range l.Schedule {
			r.interest[k], r.principal[k] = p.interest, p.principal
		}
		for _, b := range l.Banks {
			r.banks = append(r.banks, fen(b.Outstanding()))
			r.bankInterest = append(r.bankInterest, 0)
		}
		out[i] = r
	}
	return out
}

func fen(a money.Amount) int64 { return a.Decimal().Shift(2).IntPart() }

// rawRepay applies the same ten installments a loan: waterfall to the
// oldest period, interest and principal split by outstanding with
// largest remainder, in int64.
func rawRepay(loans []rawLoan) time.Duration {
	start := time.Now()
	parts := make([]int64, 8)
	for i := range loans {
		l := &loans[i]
		for k := range repaymentsByLoan {
			amount := l.interest[k] + l.principal[k]
			interest := min(amount, l.interest[k])
			principal := amount - interest
			splitRaw(interest, l.banks, parts)
			for b := range l.banks {
				l.bankInterest[b] += parts[b]
			}
			splitRaw(principal, l.banks, parts)
			for b := range l.banks {
				l.banks[b] -= parts[b]
			}
		}
	}
	return time.Since(start)
}

// splitRaw is largest remainder in int64 over weights (the products stay
// far below 2^63 for the benchmark's amounts).
func splitRaw(total int64, weights, parts []int64) {
	var sum int64
	for _, w := range weights {
		sum += w
	}
	var given int64
	rems := make([]int64, len(weights))
	for i, w := range weights {
		parts[i] = total * w / sum
		rems[i] = total * w % sum
		given += parts[i]
	}
	for left := total - given; left > 0; left-- {
		best := 0
		for i := range rems {
			if rems[i] > rems[best] {
				best = i
			}
		}
		parts[best]++
		rems[best] = -1
	}
}

// checkBench: the baseline and ours end where the other does, so both did
// the same work.
func checkBench(b *testing.B, loans []Loan, raw []rawLoan) {
	for i, l := range loans {
		for k, bank := range l.Banks {
			if fen(bank.Outstanding()) != raw[i].banks[k] {
				b.Fatalf("loan %d bank %d: ours %s, raw %d fen", i, k, bank.Outstanding(), raw[i].banks[k])
			}
		}
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
