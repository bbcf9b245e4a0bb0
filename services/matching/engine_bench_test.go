package matching

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

func boardEntries(e *Engine) int {
	n := 0
	for _, f := range e.funds {
		n += len(f.board.apps)
	}
	return n
}

// BenchmarkMatchNewApplication matches one new application against
// 10,000 funds. Target: ≤ 1 ms/op.
func BenchmarkMatchNewApplication(b *testing.B) {
	g := newMarket(1)
	e := NewEngine()
	g.addFunds(e, 10_000)
	apps := make([]applicationsapi.ApplicationSubmitted, 4096)
	for i := range apps {
		apps[i] = g.application(i)
	}
	evals, matches, i := e.Evaluations, 0, 0
	b.ResetTimer()
	for b.Loop() {
		a := apps[i%len(apps)]
		a.ApplicationID = fmt.Sprintf("new%08d", i)
		matches += e.OpenApplication(a)
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(i)/1000, "ms/op")
	b.ReportMetric(float64(e.Evaluations-evals)/float64(i), "evaluated/op")
	b.ReportMetric(float64(matches)/float64(i), "matches/op")
}

// BenchmarkMandateChange changes a broad mandate (every stage, any
// sector, ¥0.1m–¥1b) against 100,000 open applications, so the rematch
// evaluates every equity-seeking one. Target: ≤ 500 ms/op.
func BenchmarkMandateChange(b *testing.B) {
	g := newMarket(2)
	e := NewEngine()
	g.addApplications(e, 100_000)
	e.RegisterFund("broad", "org", "Broad Fund", fundsapi.FundPE, money.Yuan(50_000_000_000))
	broad := []fundsapi.Mandate{
		{Stages: fundbridge.Stages, TicketMin: money.Yuan(100_000), TicketMax: money.Yuan(1_000_000_000), MaxOwnership: decimal.RequireFromString("0.25")},
		{Stages: fundbridge.Stages, TicketMin: money.Yuan(100_000), TicketMax: money.Yuan(1_000_000_000), MaxOwnership: decimal.RequireFromString("0.15"),
			Cities: []fundbridge.City{"beijing", "shanghai", "shenzhen", "hangzhou"}},
	}
	evals, gained, board, i := e.Evaluations, 0, 0, 0
	b.ResetTimer()
	for b.Loop() {
		gained += len(e.SetMandate("broad", broad[i%2]))
		board += len(e.funds["broad"].board.apps)
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(i)/1000, "ms/op")
	b.ReportMetric(float64(e.Evaluations-evals)/float64(i), "evaluated/op")
	b.ReportMetric(float64(board)/float64(i), "matches/op")
	b.ReportMetric(float64(gained)/float64(i), "gained/op")
}

// BenchmarkIndexMemory builds the index of 10,000 funds and 100,000
// applications and reports the heap it holds (HeapAlloc after minus
// before, both after a GC). ns/op is the time to build it.
func BenchmarkIndexMemory(b *testing.B) {
	var heapMB, entries float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		g := newMarket(3)
		e := NewEngine()
		g.addFunds(e, 10_000)
		g.addApplications(e, 100_000)
		runtime.GC()
		runtime.ReadMemStats(&after)
		heapMB = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
		entries = float64(boardEntries(e))
		runtime.KeepAlive(e)
	}
	b.ReportMetric(heapMB, "heap-MB")
	b.ReportMetric(entries, "board-entries")
	b.ReportMetric(entries/100_000, "matches/app")
}

// BenchmarkMatchLoanPlusEquity opens one loan-plus-equity application
// against 10,000 funds and 1,000 programmes and ranks its best 50 pairs
// (`fundbridge bench matching` measures the same with a baseline).
func BenchmarkMatchLoanPlusEquity(b *testing.B) {
	g := newMarket(11)
	e := NewEngine()
	g.addFunds(e, 10_000)
	g.addProgrammes(e, 1_000)
	g.addApplications(e, 5_000)
	apps := make([]applicationsapi.ApplicationSubmitted, 256)
	for i := range apps {
		apps[i] = g.application(5_000 + i)
		apps[i].Instruments, apps[i].CreditDataConsent = []fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}, true
	}
	i := 0
	for b.Loop() {
		s := apps[i%len(apps)]
		e.OpenApplication(s)
		e.Pairs(s.ApplicationID, pairLimit, nil)
		e.CloseApplication(s.ApplicationID)
		i++
	}
}
