package lifecycle_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// t0 is 23:00 on 30 November in China: an hour later it is December there.
var t0 = time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)

type feeder struct {
	t   *testing.T
	p   *lifecycle.Projection
	pos uint64
}

func (f *feeder) apply(at time.Time, payload events.Payload) error {
	f.pos++
	return f.p.Apply(events.Event{Type: payload.EventType(), Position: f.pos, RecordedAt: at, LastInCommit: true}, payload)
}

func (f *feeder) must(at time.Time, payload events.Payload) {
	f.t.Helper()
	if err := f.apply(at, payload); err != nil {
		f.t.Fatalf("%s: %v", payload.EventType(), err)
	}
}

func slice(stage fundbridge.Stage, city fundbridge.City) applicationsapi.Slice {
	return applicationsapi.Slice{CompanyID: "c1", Stage: stage, Layer: fundbridge.LayerTechnology, Sector: "nlp", City: city}
}

func submitted(id string, s applicationsapi.Slice, amount string) applicationsapi.ApplicationSubmitted {
	return applicationsapi.ApplicationSubmitted{ApplicationID: id, Slice: s, ApplicationTerms: applicationsapi.ApplicationTerms{
		AmountRequested: money.MustParse(amount), Instruments: []fundbridge.Instrument{fundbridge.InstrumentEquity}, UseOfFunds: "gpus",
	}}
}

func funded(id string, s applicationsapi.Slice, in fundbridge.Instrument, amount string) applicationsapi.ApplicationFunded {
	return applicationsapi.ApplicationFunded{ApplicationID: id, DealID: "d-" + id + string(in), FundID: "f1", Instrument: in, Amount: money.MustParse(amount), Slice: s}
}

func history(t *testing.T) *lifecycle.Projection {
	f := &feeder{t: t, p: lifecycle.New()}
	day := 24 * time.Hour
	seedBJ, seedSH, startup := slice(fundbridge.StageSeed, "beijing"), slice(fundbridge.StageSeed, "shanghai"), slice(fundbridge.StageStartup, "beijing")
	// A: the whole funnel, funded twice.
	f.must(t0, submitted("A", seedBJ, "1000000.00"))
	f.must(t0.Add(time.Hour), applicationsapi.ApplicationMatched{ApplicationID: "A", FundIDs: []string{"f1"}, Slice: seedBJ})
	f.must(t0.Add(90*time.Minute), applicationsapi.ApplicationMatched{ApplicationID: "A", FundIDs: []string{"f2"}, Slice: seedBJ})
	f.must(t0.Add(2*time.Hour), applicationsapi.ApplicationUnderReview{ApplicationID: "A", FundID: "f1", Slice: seedBJ})
	f.must(t0.Add(10*day), funded("A", seedBJ, fundbridge.InstrumentEquity, "800000.00"))
	f.must(t0.Add(11*day), funded("A", seedBJ, fundbridge.InstrumentVentureLoan, "200000.00"))
	// B: expired, at another stage.
	f.must(t0, submitted("B", startup, "300000.50"))
	f.must(t0.Add(5*day), applicationsapi.ApplicationExpired{ApplicationID: "B", Slice: startup})
	// C: matched and rejected, in Shanghai.
	f.must(t0.Add(day), submitted("C", seedSH, "2000000.00"))
	f.must(t0.Add(day+time.Hour), applicationsapi.ApplicationMatched{ApplicationID: "C", FundIDs: []string{"f1"}, Slice: seedSH})
	f.must(t0.Add(2*day), applicationsapi.ApplicationRejected{ApplicationID: "C", Reason: "no", Slice: seedSH})
	// D: a draft withdrawn never enters the funnel.
	f.must(t0, applicationsapi.ApplicationWithdrawn{ApplicationID: "D", Slice: seedBJ})
	// E: funded by patent insurance without a review, three days in.
	f.must(t0.Add(day), submitted("E", seedBJ, "50000.00"))
	f.must(t0.Add(day+time.Hour), applicationsapi.ApplicationMatched{ApplicationID: "E", FundIDs: []string{"f1"}, Slice: seedBJ})
	f.must(t0.Add(4*day), funded("E", seedBJ, fundbridge.InstrumentPatentInsurance, "50000.00"))
	return f.p
}

func query(t *testing.T, p *lifecycle.Projection, q lifecycle.Query) []lifecycle.Row {
	t.Helper()
	rows, err := p.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestFunnel(t *testing.T) {
	p := history(t)
	rows := query(t, p, lifecycle.Query{})
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	seed := rows[0]
	want := lifecycle.Row{
		Stage: fundbridge.StageSeed, Submitted: 3, AmountRequested: money.MustParse("3050000.00"), Matched: 3, InReview: 1,
		Funded: 2, AmountFunded: money.MustParse("1050000.00"), Rejected: 1,
		RaisedEquity: money.MustParse("800000.00"), RaisedVentureLoan: money.MustParse("200000.00"), RaisedPatentInsurance: money.MustParse("50000.00"),
		MatchedOfSubmitted: "1.0000", InReviewOfMatched: "0.3333", FundedOfInReview: "2.0000", FundedOfSubmitted: "0.6667",
		MedianDaysToFunding: "6.50", // A took 10 days, E 3
		FundedEquity:        1, FundedVentureLoan: 1, FundedPatentInsurance: 1,
		LoanDealsClosedOfProposed: "0", PoliciesBoundOfRequested: "0",
	}
	sameRow(t, "seed", seed, want)
	sameRow(t, "startup", rows[1], lifecycle.Row{
		Stage: fundbridge.StageStartup, Submitted: 1, AmountRequested: money.MustParse("300000.50"), Expired: 1,
		MatchedOfSubmitted: "0.0000", InReviewOfMatched: "0", FundedOfInReview: "0", FundedOfSubmitted: "0.0000",
		LoanDealsClosedOfProposed: "0", PoliciesBoundOfRequested: "0",
	})
	sameRow(t, "growth", rows[2], lifecycle.Row{Stage: fundbridge.StageGrowth, MatchedOfSubmitted: "0", InReviewOfMatched: "0", FundedOfInReview: "0", FundedOfSubmitted: "0",
		LoanDealsClosedOfProposed: "0", PoliciesBoundOfRequested: "0"})

	// Filters take the slice each event carried.
	sh := query(t, p, lifecycle.Query{City: "shanghai"})[0]
	if sh.Submitted != 1 || sh.Rejected != 1 || sh.Funded != 0 {
		t.Errorf("shanghai seed row %+v", sh)
	}
	if none := query(t, p, lifecycle.Query{City: "wuhan"})[0]; none.Submitted != 0 {
		t.Errorf("a city never seen counts %+v", none)
	}
}

func TestPeriodsAreChinaMonths(t *testing.T) {
	p := history(t)
	rows := query(t, p, lifecycle.Query{Period: projections.ByMonth})
	if len(rows) != 10 || rows[0].Period != "2026-11" || rows[5].Period != "2026-12" {
		t.Fatalf("rows %d, periods %q..%q; want November and December (China time)", len(rows), rows[0].Period, rows[len(rows)-1].Period)
	}
	nov, dec := rows[0], rows[5]
	if nov.Submitted != 1 || nov.Stage != fundbridge.StageSeed || dec.Submitted != 2 || dec.Matched != 3 || dec.Funded != 2 {
		t.Errorf("november seed %+v\ndecember seed %+v", nov, dec)
	}
	if q := query(t, p, lifecycle.Query{Period: projections.ByQuarter}); len(q) != 5 || q[0].Period != "2026-Q4" || q[0].Submitted != 3 {
		t.Errorf("quarters: %d rows, first %+v", len(q), q[0])
	}
	// A range lists every period in it, active or not.
	from, _ := projections.ParseDate("from", "2026-10-01")
	to, _ := projections.ParseDate("to", "2027-01-01")
	q := query(t, p, lifecycle.Query{Period: projections.ByMonth, From: from, To: to})
	if len(q) != 15 || q[0].Period != "2026-10" || q[14].Period != "2026-12" || q[0].Submitted != 0 {
		t.Errorf("%d rows from %q to %q", len(q), q[0].Period, q[len(q)-1].Period)
	}
	if y := query(t, p, lifecycle.Query{Period: projections.ByYear}); y[0].Period != "2026" {
		t.Errorf("year %q", y[0].Period)
	}
}

func TestAsOf(t *testing.T) {
	p := history(t)
	early := query(t, p, lifecycle.Query{AsOf: t0.Add(90 * time.Minute)})[0]
	if early.Submitted != 1 || early.Matched != 1 || early.InReview != 0 || early.Funded != 0 || early.MedianDaysToFunding != "" {
		t.Errorf("seed as of t0+90m: %+v", early)
	}
	mid := query(t, p, lifecycle.Query{AsOf: t0.Add(5 * 24 * time.Hour)})[0]
	if mid.Funded != 1 || mid.AmountFunded.String() != "50000.00" || mid.MedianDaysToFunding != "3.00" || mid.Rejected != 1 {
		t.Errorf("seed as of day 5: %+v", mid)
	}
}

func sameRow(t *testing.T, what string, got, want lifecycle.Row) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s row\n got %s\nwant %s", what, g, w)
	}
}

func TestInvariants(t *testing.T) {
	s := slice(fundbridge.StageSeed, "beijing")
	for name, payload := range map[string]events.Payload{
		"unknown stage":        submitted("X", slice("unicorn", "beijing"), "1.00"),
		"no ID":                submitted("", s, "1.00"),
		"matched, unsubmitted": applicationsapi.ApplicationMatched{ApplicationID: "nope", Slice: s},
		"expired, unsubmitted": applicationsapi.ApplicationExpired{ApplicationID: "nope", Slice: s},
	} {
		f := &feeder{t: t, p: lifecycle.New()}
		if err := f.apply(t0, payload); err == nil {
			t.Errorf("%s: applied", name)
		}
	}
	f := &feeder{t: t, p: lifecycle.New()}
	f.must(t0, submitted("A", s, "1.00"))
	if err := f.apply(t0, submitted("A", s, "1.00")); err == nil {
		t.Error("a second submission applied")
	}
	if err := f.apply(t0, funded("A", s, "barter", "1.00")); err == nil {
		t.Error("an unknown instrument applied")
	}
}

func TestStateRoundTrip(t *testing.T) {
	p := history(t)
	data, err := p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	q := lifecycle.New()
	if err := q.UnmarshalState(data); err != nil {
		t.Fatal(err)
	}
	again, _ := q.MarshalState()
	if !bytes.Equal(data, again) {
		t.Error("the state encodes differently after a round trip")
	}
	for _, lq := range []lifecycle.Query{{}, {Period: projections.ByMonth}, {City: "beijing"}} {
		a, _ := json.Marshal(query(t, p, lq))
		b, _ := json.Marshal(query(t, q, lq))
		if !bytes.Equal(a, b) {
			t.Errorf("query %+v differs after a round trip", lq)
		}
	}
	p.Reset()
	if rows := query(t, p, lifecycle.Query{}); rows[0].Submitted != 0 {
		t.Error("reset kept applications")
	}
}
