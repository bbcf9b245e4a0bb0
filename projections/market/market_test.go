package market_test

import (
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/market"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

func apply(t *testing.T, p *market.Projection, at time.Time, payload events.Payload) error {
	t.Helper()
	return p.Apply(events.Event{Type: payload.EventType(), RecordedAt: at, LastInCommit: true}, payload)
}

func TestOverview(t *testing.T) {
	p := market.New()
	nov := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	dec := time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)
	bj := applicationsapi.Slice{CompanyID: "c1", Stage: fundbridge.StageSeed, Layer: fundbridge.LayerTechnology, Sector: "nlp", City: "beijing"}
	sz := applicationsapi.Slice{CompanyID: "c2", Stage: fundbridge.StageGrowth, Layer: fundbridge.LayerApplication, Sector: "robotics", City: "shenzhen"}
	for _, step := range []struct {
		at time.Time
		p  events.Payload
	}{
		{nov, fundsapi.FundRegistered{FundID: "f1", ManagerOrg: "o1", Type: fundsapi.FundVC, CommittedCapital: money.MustParse("100000000.00")}},
		{nov, fundsapi.FundRegistered{FundID: "f2", ManagerOrg: "o2", Type: fundsapi.FundAngel, CommittedCapital: money.MustParse("5000000.00")}},
		{nov, applicationsapi.ApplicationSubmitted{ApplicationID: "a1", Slice: bj, ApplicationTerms: applicationsapi.ApplicationTerms{
			AmountRequested: money.MustParse("3000000.00"), Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity, fundbridge.InstrumentVentureLoan}}}},
		{dec, applicationsapi.ApplicationSubmitted{ApplicationID: "a2", Slice: sz, ApplicationTerms: applicationsapi.ApplicationTerms{
			AmountRequested: money.MustParse("1000000.00"), Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity}}}},
		{dec, applicationsapi.ApplicationFunded{ApplicationID: "a1", DealID: "d1", FundID: "f1", Instrument: fundbridge.InstrumentEquity, Amount: money.MustParse("2000000.00"), Slice: bj}},
		{dec, applicationsapi.ApplicationFunded{ApplicationID: "a1", DealID: "d2", FundID: "f1", Instrument: fundbridge.InstrumentVentureLoan, Amount: money.MustParse("500000.00"), Slice: bj}},
		{dec, fundsapi.CapitalCommitted{FundID: "f1", DealID: "d1", Amount: money.MustParse("2000000.00")}},
		{dec, fundsapi.FundClosed{FundID: "f2"}},
	} {
		if err := apply(t, p, step.at, step.p); err != nil {
			t.Fatalf("%s: %v", step.p.EventType(), err)
		}
	}
	rows := map[string]market.Row{}
	for _, r := range p.Overview() {
		rows[r.Dimension+"/"+r.Key] = r
	}
	check := func(key string, apps, funded int, requested, fundedAmt, committed, invested string, dry string) {
		t.Helper()
		r, ok := rows[key]
		if !ok {
			t.Errorf("no row %s", key)
			return
		}
		got := []string{r.AmountRequested.String(), r.AmountFunded.String(), r.CommittedCapital.String(), r.CapitalInvested.String()}
		want := []string{requested, fundedAmt, committed, invested}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: amounts %v, want %v", key, got, want)
				break
			}
		}
		if r.Applications != apps || r.Funded != funded {
			t.Errorf("%s: %d applications, %d funded; want %d, %d", key, r.Applications, r.Funded, apps, funded)
		}
		if (r.DryPowder == nil) != (dry == "") || r.DryPowder != nil && r.DryPowder.String() != dry {
			t.Errorf("%s: dry powder %v, want %q", key, r.DryPowder, dry)
		}
	}
	check("total/", 2, 1, "4000000.00", "2500000.00", "105000000.00", "2000000.00", "98000000.00") // the closed fund's is not dry powder
	check("city/beijing", 1, 1, "3000000.00", "2500000.00", "0.00", "0.00", "")
	check("city/shenzhen", 1, 0, "1000000.00", "0.00", "0.00", "0.00", "")
	check("instrument/equity", 2, 1, "4000000.00", "2000000.00", "0.00", "0.00", "")
	check("instrument/venture_loan", 1, 1, "3000000.00", "500000.00", "0.00", "0.00", "")
	check("month/2026-11", 1, 0, "3000000.00", "0.00", "105000000.00", "0.00", "")
	check("month/2026-12", 1, 1, "1000000.00", "2500000.00", "0.00", "2000000.00", "")
	check("fund_type/vc", 0, 0, "0.00", "0.00", "100000000.00", "2000000.00", "98000000.00")
	check("fund_type/angel", 0, 0, "0.00", "0.00", "5000000.00", "0.00", "0.00")
	if first := p.Overview()[0]; first.Dimension != market.DimTotal {
		t.Errorf("first row %+v, want the total", first)
	}

	if err := apply(t, p, dec, fundsapi.CapitalCommitted{FundID: "nosuch", Amount: money.MustParse("1.00")}); err == nil {
		t.Error("a commitment of an unknown fund applied")
	}
	if err := apply(t, p, dec, fundsapi.FundRegistered{FundID: "f1", CommittedCapital: money.MustParse("1.00")}); err == nil {
		t.Error("a second registration applied")
	}
}
