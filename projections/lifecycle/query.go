package lifecycle

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
)

// Query picks the slice of the market to show.
type Query struct {
	Layer  fundbridge.Layer  // "" for all
	Sector fundbridge.Sector // "" for all
	City   fundbridge.City   // "" for all
	// Period groups rows by month, quarter or year; "" gives one row per stage.
	Period projections.Granularity
	// From and To bound the time of the events counted: [From, To). Zero
	// leaves that side open.
	From, To time.Time
	// AsOf counts only what was recorded at or before it; zero for all.
	AsOf time.Time
}

// Row is one stage (in one period) of the funnel. Amounts are strings
// with two places; conversions are decimal fractions with four.
type Row struct {
	Period          string           `json:"period,omitempty" jsonschema_description:"The period of the row (2026-11, 2026-Q4, 2026) in China time when grouped; absent otherwise."`
	Stage           fundbridge.Stage `json:"stage" jsonschema_description:"The lifecycle stage the company had when each counted event happened."`
	Submitted       int              `json:"submitted" jsonschema_description:"Applications submitted in this row."`
	AmountRequested money.Amount     `json:"amount_requested" jsonschema_description:"What those applications asked for."`
	Matched         int              `json:"matched" jsonschema_description:"Applications first matched to a fund in this row (each counted once, at its first match)."`
	InReview        int              `json:"in_review" jsonschema_description:"Applications first taken under review by a fund in this row (once each)."`
	Funded          int              `json:"funded" jsonschema_description:"Applications first funded in this row (once each, at their first funding)."`
	AmountFunded    money.Amount     `json:"amount_funded" jsonschema_description:"Every funding in this row, first or later."`
	Withdrawn       int              `json:"withdrawn" jsonschema_description:"Submitted applications withdrawn in this row."`
	Rejected        int              `json:"rejected" jsonschema_description:"Applications rejected in this row."`
	Expired         int              `json:"expired" jsonschema_description:"Applications that expired without review in this row."`
	// Raised by instrument: what fundings of each kind brought in.
	RaisedEquity          money.Amount `json:"raised_equity" jsonschema_description:"Fundings by equity in this row."`
	RaisedVentureLoan     money.Amount `json:"raised_venture_loan" jsonschema_description:"Fundings by venture loan in this row."`
	RaisedLoanPlusEquity  money.Amount `json:"raised_loan_plus_equity" jsonschema_description:"Fundings marked loan_plus_equity on applications in this row (the deals themselves: loans_raised and loan_deal_equity_raised)."`
	RaisedPatentInsurance money.Amount `json:"raised_patent_insurance" jsonschema_description:"Fundings by patent insurance in this row."`
	// Conversions between the funnel's steps.
	MatchedOfSubmitted string `json:"conversion_matched_submitted" jsonschema_description:"matched / submitted of this row, a decimal fraction with 4 places (may pass 1 when applications submitted earlier are matched in this row); \"0\" when nothing was submitted."`
	InReviewOfMatched  string `json:"conversion_in_review_matched" jsonschema_description:"in_review / matched of this row, 4 places; \"0\" when nothing was matched."`
	FundedOfInReview   string `json:"conversion_funded_in_review" jsonschema_description:"funded / in_review of this row, 4 places; \"0\" when nothing was in review."`
	FundedOfSubmitted  string `json:"conversion_funded_submitted" jsonschema_description:"funded / submitted of this row, 4 places; \"0\" when nothing was submitted."`
	// MedianDaysToFunding is the median time from submission to the first
	// funding of the applications first funded in this row, in days with
	// two places; "" when none was.
	MedianDaysToFunding string `json:"median_days_to_funding" jsonschema_description:"Median days (2 places) from submission to first funding of the applications first funded in this row; the mean of the middle two for an even count; empty when none was."`
	// Fundings by instrument: how many funding events of each kind.
	FundedEquity          int `json:"fundings_equity" jsonschema_description:"Funding events by equity in this row (an application funded twice counts twice)."`
	FundedVentureLoan     int `json:"fundings_venture_loan" jsonschema_description:"Funding events by venture loan in this row."`
	FundedLoanPlusEquity  int `json:"fundings_loan_plus_equity" jsonschema_description:"Funding events by loan plus equity in this row."`
	FundedPatentInsurance int `json:"fundings_patent_insurance" jsonschema_description:"Funding events by patent insurance in this row."`
	// Loan-plus-equity deals, counted under the slice of the application
	// each finances as it was submitted.
	LoanDealsProposed         int          `json:"loan_deals_proposed" jsonschema_description:"Loan-plus-equity deals proposed for submitted applications, under the slice the application was submitted with."`
	LoanDealsClosed           int          `json:"loan_deals_closed" jsonschema_description:"Of deals, those that closed (loan and equity both in)."`
	LoanDealsExpired          int          `json:"loan_deals_expired" jsonschema_description:"Deals that reached their syndication deadline unclosed."`
	LoansRaised               money.Amount `json:"loans_raised" jsonschema_description:"The bank loans of the deals closed."`
	LoanDealEquityRaised      money.Amount `json:"loan_deal_equity_raised" jsonschema_description:"The equity tranches of the deals closed."`
	LoanDealsClosedOfProposed string       `json:"conversion_loan_deals_closed_proposed" jsonschema_description:"loan_deals_closed / loan_deals_proposed of this row, 4 places; \"0\" when none was proposed."`
	// Patent insurance, at the stage and city the company had; layer and
	// sector are those of its latest application.
	InsuranceRequested       int          `json:"insurance_requested" jsonschema_description:"Insurance requests, at the stage and city the company had (layer and sector: its latest application's; none when it never applied, so a layer or sector filter leaves those out)."`
	SumInsuredRequested      money.Amount `json:"sum_insured_requested" jsonschema_description:"The sums insured asked for by those requests."`
	PoliciesBound            int          `json:"policies_bound" jsonschema_description:"Policies bound on those companies' requests."`
	PremiumWritten           money.Amount `json:"premium_written" jsonschema_description:"The premium of the policies bound, before subsidies."`
	SumInsuredBound          money.Amount `json:"sum_insured_bound" jsonschema_description:"The sums insured of the policies bound."`
	PoliciesBoundOfRequested string       `json:"conversion_policies_bound_requested" jsonschema_description:"policies_bound / insurance_requested of this row, 4 places; \"0\" when none was requested."`
	PoliciesEnforcement      int          `json:"policies_enforcement" jsonschema_description:"Policies bound covering patent enforcement costs (专利执行)."`
	PoliciesInfringementLoss int          `json:"policies_infringement_loss" jsonschema_description:"Policies bound covering infringement loss (被侵权损失)."`
	PoliciesPledgeGuarantee  int          `json:"policies_pledge_guarantee" jsonschema_description:"Policies bound guaranteeing an IP-pledge loan (质押融资保证)."`
}

// maxPeriods bounds a query's rows: a century of months.
const maxPeriods = 1200

// bucket accumulates one row.
type bucket struct {
	submitted, matched, inReview, funded, withdrawn, rejected, expired int
	requested, fundedAmount                                            projections.Total
	raised                                                             map[uint8]*projections.Total // by instrument
	toFunding                                                          []int64                      // nanoseconds
	fundings                                                           [4]int                       // by instrument
	others                                                             others
}

// Query answers q from the state: rows for every stage, and for every
// period from the first to the last (or From to To) when grouped.
func (p *Projection) Query(q Query) ([]Row, error) {
	sel := newSelection(q)
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.filterBy(&sel, q) {
		p.gather(&sel)
	}
	first, last, err := periodRange(q, sel.buckets)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for period := first; period <= last; period++ {
		b := sel.buckets[period]
		if b == nil {
			b = &[5]bucket{}
		}
		for s, stage := range fundbridge.Stages {
			rows = append(rows, b[s].row(q.Period.Label(period), stage))
		}
	}
	return rows, nil
}

// selection is what a query selects (facts as of asOf, in [from, to),
// of the layer, sector and city when filtered by them) and the buckets
// it gathers them into, by period and stage.
type selection struct {
	period                    projections.Granularity
	asOf, from, to            int64
	layer, sector, city       uint16
	byLayer, bySector, byCity bool
	buckets                   map[int32]*[5]bucket
}

// newSelection reads q's times; filterBy reads its filters.
func newSelection(q Query) selection {
	sel := selection{period: q.Period, asOf: int64(1<<63 - 1), from: int64(-1 << 63), to: int64(1<<63 - 1), buckets: map[int32]*[5]bucket{}}
	if !q.AsOf.IsZero() {
		sel.asOf = q.AsOf.UnixNano()
	}
	if !q.From.IsZero() {
		sel.from = q.From.UnixNano()
	}
	if !q.To.IsZero() {
		sel.to = q.To.UnixNano()
	}
	return sel
}

// filterBy sets sel's filters from q's by dictionary index, and reports
// whether any fact can match: a value never seen matches nothing.
func (p *Projection) filterBy(sel *selection, q Query) bool {
	match := func(field string) (uint16, bool, bool) {
		if field == "" {
			return 0, false, true
		}
		i, ok := p.words[field]
		return i, true, ok
	}
	var ok1, ok2, ok3 bool
	sel.layer, sel.byLayer, ok1 = match(string(q.Layer))
	sel.sector, sel.bySector, ok2 = match(string(q.Sector))
	sel.city, sel.byCity, ok3 = match(string(q.City))
	return ok1 && ok2 && ok3
}

// in is the bucket of f's period and stage, nil when sel does not select f.
func (sel *selection) in(f Fact) *bucket {
	if !f.happened(sel.asOf) || f.At < sel.from || f.At >= sel.to ||
		sel.byLayer && f.Layer != sel.layer || sel.bySector && f.Sector != sel.sector || sel.byCity && f.City != sel.city {
		return nil
	}
	period := sel.period.Period(f.Month)
	b := sel.buckets[period]
	if b == nil {
		b = &[5]bucket{}
		sel.buckets[period] = b
	}
	return &b[f.Stage]
}

// gather counts the submissions, moves and other facts sel selects into
// its buckets.
func (p *Projection) gather(sel *selection) {
	for i := range p.st.Apps {
		a := &p.st.Apps[i]
		if b := sel.in(a.Submitted); b != nil {
			b.submitted++
			b.requested.Add(a.Requested)
		}
	}
	for i := range p.st.Moves {
		m := &p.st.Moves[i]
		if b := sel.in(m.Fact); b != nil {
			b.addMove(m, p.st.Apps)
		}
	}
	for i := range p.st.Others {
		if b := sel.in(p.st.Others[i].Fact); b != nil {
			b.others.add(&p.st.Others[i])
		}
	}
}

// addMove counts m, a move of one of apps.
func (b *bucket) addMove(m *Move, apps []App) {
	switch m.Kind {
	case moveMatched:
		b.matched++
	case moveReview:
		b.inReview++
	case moveFirstFunding, moveFunding:
		if m.Kind == moveFirstFunding {
			b.funded++
			b.toFunding = append(b.toFunding, m.Fact.At-apps[m.App].Submitted.At)
		}
		b.fundedAmount.Add(m.Amount)
		if int(m.Instrument) < len(b.fundings) {
			b.fundings[m.Instrument]++
		}
		if b.raised == nil {
			b.raised = map[uint8]*projections.Total{}
		}
		if b.raised[m.Instrument] == nil {
			b.raised[m.Instrument] = &projections.Total{}
		}
		b.raised[m.Instrument].Add(m.Amount)
	case moveWithdrawn:
		b.withdrawn++
	case moveRejected:
		b.rejected++
	case moveExpired:
		b.expired++
	}
}

// periodRange is the span of periods to list: From to To when given, else
// the periods with activity (one, the zero period, without grouping).
func periodRange(q Query, buckets map[int32]*[5]bucket) (first, last int32, err error) {
	if q.Period == "" {
		return 0, 0, nil
	}
	have := false
	for period := range buckets {
		if !have || period < first {
			first = period
		}
		if !have || period > last {
			last = period
		}
		have = true
	}
	if !q.From.IsZero() {
		first = q.Period.Period(projections.MonthOf(q.From))
	}
	if !q.To.IsZero() {
		last = q.Period.Period(projections.MonthOf(q.To.Add(-time.Nanosecond)))
	}
	switch {
	case !have && (q.From.IsZero() || q.To.IsZero()):
		return 0, -1, nil // nothing happened and no range to show
	case last < first:
		return 0, -1, nil
	case last-first >= maxPeriods:
		return 0, 0, fundbridge.Invalid("range too long", fundbridge.FieldError{Field: "to", Reason: fmt.Sprintf("more than %d periods", maxPeriods)})
	}
	return first, last, nil
}

func (b *bucket) row(period string, stage fundbridge.Stage) Row {
	r := Row{
		Period: period, Stage: stage,
		Submitted: b.submitted, AmountRequested: b.requested.Amount(),
		Matched: b.matched, InReview: b.inReview, Funded: b.funded, AmountFunded: b.fundedAmount.Amount(),
		Withdrawn: b.withdrawn, Rejected: b.rejected, Expired: b.expired,
		MatchedOfSubmitted: projections.Ratio(b.matched, b.submitted),
		InReviewOfMatched:  projections.Ratio(b.inReview, b.matched),
		FundedOfInReview:   projections.Ratio(b.funded, b.inReview),
		FundedOfSubmitted:  projections.Ratio(b.funded, b.submitted),
		FundedEquity:       b.fundings[0], FundedVentureLoan: b.fundings[1], FundedLoanPlusEquity: b.fundings[2], FundedPatentInsurance: b.fundings[3],
	}
	b.others.fill(&r)
	for i, inst := range fundbridge.Instruments {
		raised := money.Zero
		if t := b.raised[uint8(i)]; t != nil {
			raised = t.Amount()
		}
		switch inst {
		case fundbridge.InstrumentEquity:
			r.RaisedEquity = raised
		case fundbridge.InstrumentVentureLoan:
			r.RaisedVentureLoan = raised
		case fundbridge.InstrumentLoanPlusEquity:
			r.RaisedLoanPlusEquity = raised
		case fundbridge.InstrumentPatentInsurance:
			r.RaisedPatentInsurance = raised
		}
	}
	if n := len(b.toFunding); n > 0 {
		slices.Sort(b.toFunding)
		median := decimal.NewFromInt(b.toFunding[n/2])
		if n%2 == 0 {
			median = median.Add(decimal.NewFromInt(b.toFunding[n/2-1])).Div(decimal.NewFromInt(2))
		}
		r.MedianDaysToFunding = median.DivRound(decimal.NewFromInt(int64(24*time.Hour)), 2).StringFixed(2)
	}
	return r
}
