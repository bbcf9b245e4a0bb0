package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections/lifecycle"
	"github.com/fundbridge/fundbridge/projections/market"
	"github.com/fundbridge/fundbridge/services/audit/auditapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

func (s *Server) operatorRoutes(r chi.Router) {
	r.Get("/operator", s.dashboard)
	r.Get("/operator/charts/{chart}.csv", s.chartCSV)
	r.Get("/operator/orgs", s.onboardingPage)
	r.Post("/operator/orgs", s.onboard)
	r.Get("/operator/audit", s.auditPage)
}

type dashboard struct {
	Query    string // the filters, for the CSV links
	Rows     []lifecycle.Row
	Total    lifecycle.Row
	Charts   []*chart
	Layers   []fundbridge.Layer
	Sectors  []fundbridge.Sector
	Cities   []fundbridge.City
	Periods  []string
	Position uint64
}

// filters reads the dashboard's filters from the query; they are the
// lifecycle view's own parameters, checked by its own rules.
func filters(r *http.Request) (viewsapi.LifecycleQuery, *form) {
	q := r.URL.Query()
	f := newForm()
	lq := viewsapi.LifecycleQuery{Layer: fundbridge.Layer(q.Get("layer")), Sector: fundbridge.Sector(q.Get("sector")),
		City: fundbridge.City(q.Get("city")), Period: q.Get("period"), From: q.Get("from"), To: q.Get("to"), AsOf: q.Get("as_of"), After: after(r)}
	for _, k := range []string{"layer", "sector", "city", "period", "from", "to", "as_of"} {
		if v := q.Get(k); v != "" {
			f.Values.Set(k, v)
		}
	}
	return lq, f
}

// charts reads the views and draws the dashboard's charts: the funnel
// per stage, what was raised by instrument over time, and funding by
// city and by sector.
func (s *Server) charts(r *http.Request) (*dashboard, *form, error) {
	l := localeOf(r)
	lq, f := filters(r)
	if err := lq.Validate(); err != nil {
		f.fail(l, err)
		lq = viewsapi.LifecycleQuery{After: lq.After}
	}
	ctx := r.Context()
	byStage := lq
	byStage.Period = ""
	stages, _, err := call(ctx, s, r, viewsapi.LifecycleStagesEndpoint, byStage, callOpts{})
	if err != nil {
		return nil, f, err
	}
	overTime := lq
	if overTime.Period == "" {
		overTime.Period = "month"
	}
	periods, _, err := call(ctx, s, r, viewsapi.LifecycleStagesEndpoint, overTime, callOpts{})
	if err != nil {
		return nil, f, err
	}
	mkt, _, err := call(ctx, s, r, viewsapi.MarketOverviewEndpoint, viewsapi.MarketQuery{After: lq.After}, callOpts{})
	if err != nil {
		return nil, f, err
	}
	d := &dashboard{Query: queryOf(f), Rows: stages.Items, Layers: fundbridge.Layers, Sectors: fundbridge.AllSectors(),
		Cities: fundbridge.Cities, Periods: []string{"month", "quarter", "year"}, Position: stages.Position}
	d.Total = totalOf(stages.Items)
	d.Charts = []*chart{funnelChart(l, stages.Items), raisedChart(l, periods.Items),
		marketChart(l, "by_city", "chart.by_city", "city", mkt.Items), marketChart(l, "by_sector", "chart.by_sector", "sector", mkt.Items)}
	for _, c := range d.Charts {
		c.layout(l)
	}
	return d, f, nil
}

func queryOf(f *form) string {
	if len(f.Values) == 0 {
		return ""
	}
	return "?" + url.Values(f.Values).Encode()
}

func totalOf(rows []lifecycle.Row) lifecycle.Row {
	var t lifecycle.Row
	for _, r := range rows {
		t.Submitted += r.Submitted
		t.Funded += r.Funded
		t.AmountRequested = t.AmountRequested.Add(r.AmountRequested)
		t.AmountFunded = t.AmountFunded.Add(r.AmountFunded)
	}
	return t
}

func count(n int) decimal.Decimal { return decimal.NewFromInt(int64(n)) }

func funnelChart(l *locale, rows []lifecycle.Row) *chart {
	c := &chart{ID: "funnel", Title: l.T("chart.funnel"),
		Series: []string{l.T("funnel.submitted"), l.T("funnel.matched"), l.T("funnel.in_review"), l.T("funnel.funded")}}
	for _, r := range rows {
		c.Categories = append(c.Categories, category{Label: l.Enum("stage", r.Stage),
			Values: []decimal.Decimal{count(r.Submitted), count(r.Matched), count(r.InReview), count(r.Funded)}})
	}
	return c
}

// raisedChart sums each period's rows (one per stage) by instrument.
// A loan-plus-equity deal is syndicated by banks and a fund's equity
// tranche, not funded by a term sheet, so the view counts its money in
// loans_raised and loan_deal_equity_raised and not in
// raised_loan_plus_equity (term sheets marked so): the instrument's bar
// is all three, or no such deal would ever show on the chart.
func raisedChart(l *locale, rows []lifecycle.Row) *chart {
	c := &chart{ID: "raised", Title: l.T("chart.raised"), Money: true}
	for _, in := range fundbridge.Instruments {
		c.Series = append(c.Series, l.Enum("instrument", in))
	}
	index := map[string]int{}
	for _, r := range rows {
		i, ok := index[r.Period]
		if !ok {
			i = len(c.Categories)
			index[r.Period] = i
			c.Categories = append(c.Categories, category{Label: r.Period, Values: make([]decimal.Decimal, 4)})
		}
		v := c.Categories[i].Values
		loanPlusEquity := r.RaisedLoanPlusEquity.Decimal().Add(r.LoansRaised.Decimal()).Add(r.LoanDealEquityRaised.Decimal())
		for j, a := range []decimal.Decimal{r.RaisedEquity.Decimal(), r.RaisedVentureLoan.Decimal(), loanPlusEquity, r.RaisedPatentInsurance.Decimal()} {
			v[j] = v[j].Add(a)
		}
	}
	return c
}

// marketChart compares what a city's (a sector's…) applications asked
// for with what they raised: fundings, and the loan-plus-equity deals
// closed (banks' loans and funds' tranches), which the view counts apart
// from fundings, as the raised chart above does.
func marketChart(l *locale, id, title, dim string, rows []market.Row) *chart {
	c := &chart{ID: id, Title: l.T(title), Money: true, Series: []string{l.T("label.amount_requested"), l.T("label.amount_funded")}}
	for _, r := range rows {
		if r.Dimension != dim || (r.Applications == 0 && r.Funded == 0 && r.LoanDealsClosed == 0) {
			continue
		}
		raised := r.AmountFunded.Decimal().Add(r.LoansRaised.Decimal()).Add(r.LoanDealEquity.Decimal())
		c.Categories = append(c.Categories, category{Label: l.Enum(dim, r.Key), Values: []decimal.Decimal{r.AmountRequested.Decimal(), raised}})
	}
	return c
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	d, f, err := s.charts(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	status := http.StatusOK
	if len(f.Errors) > 0 {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "dashboard", "title.dashboard", d, f)
}

func (s *Server) chartCSV(w http.ResponseWriter, r *http.Request) {
	d, _, err := s.charts(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	for _, c := range d.Charts {
		if c.ID == chi.URLParam(r, "chart") {
			c.writeCSV(w)
			return
		}
	}
	s.fail(w, r, http.StatusNotFound, "problem.not_found")
}

type onboardingPage struct {
	Roles []fundbridge.Role
}

func onboardingData() onboardingPage {
	return onboardingPage{Roles: []fundbridge.Role{fundbridge.RoleFundManager, fundbridge.RoleBank, fundbridge.RoleInsurer, fundbridge.RoleOperator}}
}

func (s *Server) onboardingPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "orgs", "title.onboarding", onboardingData(), nil)
}

// onboard creates an institution and its first user; a bank is then
// onboarded with its limits, under the org's ID.
func (s *Server) onboard(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	f := postedForm(r)
	password := r.PostFormValue("user.password")
	f.Values.Del("user.password")
	fail := func(err error) {
		f.fail(localeOf(r), err)
		s.render(w, r, s.status(fundbridge.ErrorCode(err)), "orgs", "title.onboarding", onboardingData(), f)
	}
	cmd := identityapi.CreateOrgCommand{Name: strings.TrimSpace(r.PostFormValue("name")), Role: fundbridge.Role(r.PostFormValue("role")),
		User: identityapi.NewUser{Email: strings.TrimSpace(r.PostFormValue("user.email")), Password: password, Name: strings.TrimSpace(r.PostFormValue("user.name"))}}
	var problems []fundbridge.FieldError
	bank := dealsapi.OnboardBank{Name: cmd.Name}
	if cmd.Role == fundbridge.RoleBank {
		// The limits are checked before the org exists, so a refused bank
		// leaves no org behind.
		parsed := amounts(r, map[string]*money.Amount{"credit_limit": &bank.CreditLimit, "single_borrower_limit": &bank.SingleBorrowerLimit})
		probe := bank
		probe.BankID = "new" // the org's ID, once it exists
		problems = fundbridge.ErrorFields(validateWith(probe.Validate(), parsed))
	}
	if err := validateWith(cmd.Validate(), problems); err != nil {
		fail(err)
		return
	}
	org, reply, err := call(r.Context(), s, r, identityapi.CreateOrgEndpoint, cmd, callOpts{key: f.Key})
	if err != nil {
		fail(err)
		return
	}
	if cmd.Role == fundbridge.RoleBank {
		bank.BankID = org.Org.OrgID
		if _, reply, err = call(r.Context(), s, r, dealsapi.OnboardBankEndpoint, bank, callOpts{key: f.Key}); err != nil {
			fail(err)
			return
		}
	}
	redirect(w, r, withAfter("/operator/orgs", reply), "notice.onboarded")
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	stream := strings.TrimSpace(r.URL.Query().Get("stream_id"))
	var res auditapi.StreamResult
	if stream != "" {
		f.Values.Set("stream_id", stream)
		q := auditapi.StreamQuery{StreamID: stream}
		err := q.Validate()
		if err == nil {
			res, _, err = call(r.Context(), s, r, auditapi.StreamEndpoint, q, callOpts{})
		}
		if err != nil {
			f.fail(localeOf(r), err)
			if len(f.Errors) == 0 {
				f.Errors["stream_id"] = f.Problem
			}
		}
	}
	s.render(w, r, http.StatusOK, "audit", "title.audit", res, f)
}
