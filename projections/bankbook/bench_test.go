package bankbook_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/bankbook"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
)

// bookHistory is the log of n two-bank loans of 360 monthly periods,
// each repaid for its first 12 periods, as events with their payloads
// encoded as the log holds them.
func bookHistory(b *testing.B, n int) []events.Event {
	m := money.MustParse
	terms := dealsapi.LoanTerms{Principal: m("10000000.00"), AnnualRate: decimalOf("0.0435"), Months: 360, Method: loan.EqualInstallment}
	sched, err := loan.New(terms.Schedule())
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().UTC().AddDate(-1, 0, 0)
	periods := make([]dealsapi.ScheduledPeriod, len(sched.Periods))
	for i, sp := range sched.Periods {
		periods[i] = dealsapi.ScheduledPeriod{Number: sp.Number, Due: start.AddDate(0, i+1, 0), Payment: sp.Payment, Principal: sp.Principal, Interest: sp.Interest, Balance: sp.Balance}
	}
	var out []events.Event
	add := func(p events.Payload) {
		data, err := json.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, events.Event{Type: p.EventType(), Payload: data, Position: uint64(len(out) + 1), LastInCommit: true})
	}
	add(dealsapi.BankOnboarded{BankID: "b1", CreditLimit: m("100000000000.00"), SingleBorrowerLimit: m("100000000000.00")})
	add(dealsapi.BankOnboarded{BankID: "b2", CreditLimit: m("100000000000.00"), SingleBorrowerLimit: m("100000000000.00")})
	half := m("5000000.00")
	for i := range n {
		id := fmt.Sprint("d", i)
		add(dealsapi.DealProposed{DealID: id, BorrowerID: fmt.Sprint("c", i), Loan: terms})
		for _, bank := range []string{"b1", "b2"} {
			add(dealsapi.ExposureReserved{BankID: bank, DealID: id, BorrowerID: fmt.Sprint("c", i), Amount: half})
			add(dealsapi.BankCommitted{DealID: id, BankID: bank, Amount: half})
		}
		add(dealsapi.LoanOpened{LoanID: id, Banks: []dealsapi.LoanBank{{BankID: "b1"}, {BankID: "b2"}}})
		add(dealsapi.LoanDrawnDown{LoanID: id, Amount: terms.Principal, Banks: []dealsapi.BankAmount{{BankID: "b1", Amount: half}, {BankID: "b2", Amount: half}}})
		add(dealsapi.ScheduleFixed{LoanID: id, Principal: terms.Principal, Periods: periods})
		for _, sp := range periods[:12] {
			pi, pp := sp.Interest.Decimal().Div(decimalOf("2")), sp.Principal.Decimal().Div(decimalOf("2"))
			add(dealsapi.RepaymentReceived{LoanID: id, Amount: sp.Payment, Interest: sp.Interest, Principal: sp.Principal,
				Periods: []dealsapi.PeriodPaid{{Number: sp.Number, Interest: sp.Interest, Principal: sp.Principal}},
				Banks: []dealsapi.BankRepayment{{BankID: "b1", Interest: money.FromDecimal(pi), Principal: money.FromDecimal(pp)},
					{BankID: "b2", Interest: sp.Interest.Sub(money.FromDecimal(pi)), Principal: sp.Principal.Sub(money.FromDecimal(pp))}}})
		}
	}
	return out
}

// BenchmarkBankBookFold folds the history of 200 two-bank loans of 360
// months into the bank book beside the raw decoding of the same events
// (what the runner does for any projection), taking turns over 5 rounds
// after a warm-up, and reports the medians and the median ratio.
//
//	go test -run '^$' -bench BankBookFold -benchtime 1x ./projections/bankbook/
func BenchmarkBankBookFold(b *testing.B) {
	history := bookHistory(b, 200)
	registry := events.NewRegistry()
	dealsapi.Register(registry)
	var ratios, folds, raws []float64
	for round := range 6 {
		t0 := time.Now()
		for _, e := range history {
			if _, _, err := registry.Decode(e); err != nil {
				b.Fatal(err)
			}
		}
		raw := time.Since(t0)
		p := bankbook.New()
		t1 := time.Now()
		for _, e := range history {
			_, payload, err := registry.Decode(e)
			if err != nil {
				b.Fatal(err)
			}
			if err := p.Apply(e, payload); err != nil {
				b.Fatal(err)
			}
		}
		fold := time.Since(t1)
		if round == 0 {
			continue // warm-up
		}
		ratios = append(ratios, float64(fold)/float64(raw))
		folds = append(folds, float64(fold)/float64(len(history)))
		raws = append(raws, float64(raw)/float64(len(history)))
	}
	median := func(xs []float64) float64 { slices.Sort(xs); return xs[len(xs)/2] }
	b.ReportMetric(float64(len(history)), "events")
	b.ReportMetric(median(raws), "raw-decode-ns/event")
	b.ReportMetric(median(folds), "decode+fold-ns/event")
	b.ReportMetric(median(ratios), "fold/raw")
}

// BenchmarkBankBookQuery is one bank's book of 1,000 loans of 360 months
// on one day.
//
//	go test -run '^$' -bench BankBookQuery ./projections/bankbook/
func BenchmarkBankBookQuery(b *testing.B) {
	registry := events.NewRegistry()
	dealsapi.Register(registry)
	p := bankbook.New()
	for _, e := range bookHistory(b, 1000) {
		_, payload, err := registry.Decode(e)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Apply(e, payload); err != nil {
			b.Fatal(err)
		}
	}
	today := bankbook.ChinaDay(time.Now())
	b.ResetTimer()
	for range b.N {
		if _, ok, err := p.Book("b1", today); !ok || err != nil {
			b.Fatal(err)
		}
	}
}

func decimalOf(s string) decimal.Decimal { return decimal.RequireFromString(s) }
