package web

import (
	"testing"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/projections/market"
)

// TestRaisedChartCountsLoanPlusEquityDeals: the months in which only
// loan-plus-equity deals closed (banks' loans and a fund's equity
// tranche, no term sheet) show what they raised under that instrument,
// beside any term sheet marked loan plus equity; the other series keep
// their own figures.
func TestRaisedChartCountsLoanPlusEquityDeals(t *testing.T) {
	rows := []lifecycle.Row{
		{Period: "2026-05", Stage: "seed", RaisedEquity: money.MustParse("1000000.00")},
		{Period: "2026-06", Stage: "seed", LoansRaised: money.MustParse("800000.00"), LoanDealEquityRaised: money.MustParse("200000.00")},
		{Period: "2026-06", Stage: "growth", RaisedLoanPlusEquity: money.MustParse("50000.00"), RaisedPatentInsurance: money.MustParse("7.00")},
	}
	c := raisedChart(newI18n().locale("en"), rows)
	want := map[string][4]string{"2026-05": {"1000000", "0", "0", "0"}, "2026-06": {"0", "0", "1050000", "7"}}
	if len(c.Categories) != len(want) {
		t.Fatalf("the chart has %d months, want %d", len(c.Categories), len(want))
	}
	for _, cat := range c.Categories {
		for i, v := range cat.Values {
			if v.String() != want[cat.Label][i] {
				t.Errorf("%s, %s = %s, want %s", cat.Label, c.Series[i], v, want[cat.Label][i])
			}
		}
	}
}

// TestMarketChartCountsLoanPlusEquityDeals: a city whose companies raised
// only through loan-plus-equity deals shows what they raised, and shows at
// all.
func TestMarketChartCountsLoanPlusEquityDeals(t *testing.T) {
	rows := []market.Row{
		{Dimension: "city", Key: "hefei", Applications: 1, AmountRequested: money.MustParse("9000000.00"),
			LoanDealsClosed: 1, LoansRaised: money.MustParse("6000000.00"), LoanDealEquity: money.MustParse("3000000.00")},
		{Dimension: "city", Key: "wuhan", LoanDealsClosed: 1, LoansRaised: money.MustParse("1000000.00")},
		{Dimension: "city", Key: "beijing", Applications: 2, AmountRequested: money.MustParse("5000000.00"), Funded: 1, AmountFunded: money.MustParse("2000000.00")},
	}
	c := marketChart(newI18n().locale("en"), "city", "chart.city", "city", rows)
	want := map[string][2]string{"Hefei": {"9000000", "9000000"}, "Wuhan": {"0", "1000000"}, "Beijing": {"5000000", "2000000"}}
	if len(c.Categories) != len(want) {
		t.Fatalf("the chart has %d cities, want %d: %+v", len(c.Categories), len(want), c.Categories)
	}
	for _, cat := range c.Categories {
		w, ok := want[cat.Label]
		if !ok {
			t.Errorf("unexpected category %q", cat.Label)
			continue
		}
		if cat.Values[0].String() != w[0] || cat.Values[1].String() != w[1] {
			t.Errorf("%s: asked %s raised %s, want %s and %s", cat.Label, cat.Values[0], cat.Values[1], w[0], w[1])
		}
	}
}
