package web

import (
	"testing"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
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
