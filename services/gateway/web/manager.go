package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

func (s *Server) managerRoutes(r chi.Router) {
	r.Get("/manager", s.managerHome)
	r.Post("/manager/funds", s.registerFund)
	r.Get("/manager/funds/{id}", s.fundPage)
	r.Get("/manager/funds/{id}/mandate", s.mandatePage)
	r.Post("/manager/funds/{id}/mandate", s.setMandate)
	r.Post("/manager/funds/{id}/source", s.sourceDeal)
	r.Post("/manager/deals/{id}/move", s.moveDeal)
	r.Post("/manager/deals/{id}/pass", s.passDeal)
	r.Get("/manager/deals/{id}/term-sheet", s.termSheetPage)
	r.Post("/manager/deals/{id}/term-sheet", s.issueTermSheet)
	r.Post("/manager/deals/{id}/close", s.closeDeal)
	r.Get("/manager/ownership", s.ownershipPreview)
}

type managerHome struct {
	Funds []fundsapi.FundView
	Types []fundsapi.FundType
}

func (s *Server) managerHome(w http.ResponseWriter, r *http.Request) {
	s.renderManagerHome(w, r, http.StatusOK, nil)
}

func (s *Server) renderManagerHome(w http.ResponseWriter, r *http.Request, status int, f *form) {
	a, _ := actorOf(r)
	funds, _, err := call(r.Context(), s, r, fundsapi.ListFundsEndpoint, fundsapi.ListFunds{ManagerOrg: a.OrgID, Limit: fundsapi.MaxListLimit, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.render(w, r, status, "manager", "title.manager", managerHome{Funds: funds.Items, Types: fundsapi.FundTypes}, f)
}

func (s *Server) registerFund(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	f := postedForm(r)
	cmd := fundsapi.RegisterFund{Name: strings.TrimSpace(r.PostFormValue("name")), Type: fundsapi.FundType(r.PostFormValue("type"))}
	problems := amounts(r, map[string]*money.Amount{"committed_capital": &cmd.CommittedCapital}) // before Validate, which reads what they fill
	err := validateWith(cmd.Validate(), problems)
	var fund fundsapi.FundView
	var reply svc.Reply
	if err == nil {
		fund, reply, err = call(r.Context(), s, r, fundsapi.RegisterFundEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderManagerHome(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/manager/funds/"+fund.ID+"/mandate", reply), "notice.fund_registered")
}

// validateWith joins the parse problems of a form with the contract's
// own validation, the contract's word on a field the parse already
// faulted being dropped (it saw a zero value, not what was typed).
func validateWith(err error, problems []fundbridge.FieldError) error {
	fields := problems
	for _, fe := range fundbridge.ErrorFields(err) {
		skip := false
		for _, p := range problems {
			skip = skip || p.Field == fe.Field
		}
		if !skip {
			fields = append(fields, fe)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return fundbridge.Invalid("invalid input", fields...)
}

// card is a deal on the board with its match's score and reasons.
type card struct {
	matchingapi.Deal
	CompanyName            string
	For, Against           []string
	ForCodes, AgainstCodes []matchingapi.Reason
	Next                   matchingapi.Step
}

type column struct {
	Step  matchingapi.Step
	Cards []card
}

type fundPage struct {
	Fund    fundsapi.FundView
	Columns []column
	Passed  []card
	Matches []matchingapi.FundMatch // not yet sourced
}

func (s *Server) fundPage(w http.ResponseWriter, r *http.Request) {
	s.renderFund(w, r, http.StatusOK, nil)
}

// renderFund shows the fund: its capital, the deal board as a kanban of
// pipeline steps, and the matches not yet sourced.
func (s *Server) renderFund(w http.ResponseWriter, r *http.Request, status int, f *form) {
	id := chi.URLParam(r, "id")
	ctx := r.Context()
	fund, _, err := call(ctx, s, r, fundsapi.GetFundEndpoint, fundsapi.GetFund{FundID: id, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	deals, _, err := call(ctx, s, r, matchingapi.ListDealsEndpoint, matchingapi.ListDeals{FundID: id, Limit: matchingapi.MaxLimit, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	matches, _, err := call(ctx, s, r, matchingapi.MatchesForFundEndpoint, matchingapi.MatchesForFund{FundID: id, Limit: matchingapi.MaxLimit, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	reasons := map[string]matchingapi.FundMatch{}
	data := fundPage{Fund: fund}
	for _, m := range matches.Items {
		reasons[m.ID] = m
		if m.DealID == "" {
			data.Matches = append(data.Matches, m)
		}
	}
	pipeline := matchingapi.Pipeline()
	byStep := map[matchingapi.Step][]card{}
	for _, d := range deals.Items {
		m := reasons[d.ApplicationID]
		c := card{Deal: d, CompanyName: m.CompanyName, For: m.For, Against: m.Against, ForCodes: m.ForCodes, AgainstCodes: m.AgainstCodes}
		if c.CompanyName == "" {
			c.CompanyName = d.CompanyID
		}
		for i, st := range pipeline {
			if st == d.Step && i+1 < len(pipeline) && pipeline[i+1] != matchingapi.StepClosed && st != matchingapi.StepICReview {
				c.Next = pipeline[i+1]
			}
		}
		if d.Step == matchingapi.StepPassed {
			data.Passed = append(data.Passed, c)
			continue
		}
		byStep[d.Step] = append(byStep[d.Step], c)
	}
	for _, st := range pipeline {
		data.Columns = append(data.Columns, column{Step: st, Cards: byStep[st]})
	}
	s.render(w, r, status, "fund", "title.fund", data, f)
}

func (s *Server) sourceDeal(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	id := chi.URLParam(r, "id")
	f := postedForm(r)
	_, reply, err := call(r.Context(), s, r, matchingapi.SourceDealEndpoint, matchingapi.SourceDeal{FundID: id, ApplicationID: r.PostFormValue("application_id")}, callOpts{key: f.Key})
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderFund(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/manager/funds/"+id, reply)+"#board", "notice.sourced")
}

// moveDeal moves a card: a command carrying the version the board showed,
// so a card moved meanwhile by someone else is a conflict, explained.
func (s *Server) moveDeal(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	id := chi.URLParam(r, "id")
	fundID := r.PostFormValue("fund_id")
	f := postedForm(r)
	var expected *uint64
	if v, err := strconv.ParseUint(r.PostFormValue("version"), 10, 64); err == nil {
		expected = &v
	}
	_, reply, err := call(r.Context(), s, r, matchingapi.AdvanceDealEndpoint, matchingapi.AdvanceDeal{DealID: id, To: matchingapi.Step(r.PostFormValue("to"))}, callOpts{key: f.Key, expected: expected})
	if err != nil {
		f.fail(localeOf(r), err)
		if isCode(err, fundbridge.ECONFLICT) && expected != nil {
			f.Problem = localeOf(r).T("problem.stale_card")
		}
		s.renderFund(w, withURLParam(r, "id", fundID), s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/manager/funds/"+fundID, reply)+"#board", "notice.moved")
}

func (s *Server) passDeal(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	id := chi.URLParam(r, "id")
	fundID := r.PostFormValue("fund_id")
	f := postedForm(r)
	cmd := matchingapi.PassDeal{DealID: id, Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	err := cmd.Validate()
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, matchingapi.PassDealEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderFund(w, withURLParam(r, "id", fundID), s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/manager/funds/"+fundID, reply)+"#board", "notice.passed")
}

func (s *Server) closeDeal(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	id := chi.URLParam(r, "id")
	fundID := r.PostFormValue("fund_id")
	f := postedForm(r)
	_, reply, err := call(r.Context(), s, r, matchingapi.CloseDealEndpoint, matchingapi.CloseDeal{DealID: id}, callOpts{key: f.Key})
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderFund(w, withURLParam(r, "id", fundID), s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/manager/funds/"+fundID, reply)+"#board", "notice.closed")
}

type termSheetPage struct {
	Deal        matchingapi.Deal
	CompanyName string // "" when the fund's matches no longer hold it
	Fund        fundsapi.FundView
	Ownership   ownership
}

func (s *Server) termSheetPage(w http.ResponseWriter, r *http.Request) {
	s.renderTermSheet(w, r, http.StatusOK, nil)
}

func (s *Server) renderTermSheet(w http.ResponseWriter, r *http.Request, status int, f *form) {
	id := chi.URLParam(r, "id")
	deal, _, err := call(r.Context(), s, r, matchingapi.GetDealEndpoint, matchingapi.GetDeal{DealID: id, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	fund, _, err := call(r.Context(), s, r, fundsapi.GetFundEndpoint, fundsapi.GetFund{FundID: deal.FundID}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if f == nil {
		f = newForm()
	}
	name, err := s.companyNameOf(r, deal)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := termSheetPage{Deal: deal, CompanyName: name, Fund: fund, Ownership: computeOwnership(f.Values.Get("amount"), f.Values.Get("pre_money"), fund.Mandate)}
	s.render(w, r, status, "termsheet", "title.term_sheet", data, f)
}

// companyNameOf is the name of a deal's company as the fund's matches
// give it, as the board reads it (renderFund): the deal itself carries
// only the company's ID. "" once the application left the matches, or
// for a reader who may not see them.
func (s *Server) companyNameOf(r *http.Request, deal matchingapi.Deal) (string, error) {
	matches, _, err := call(r.Context(), s, r, matchingapi.MatchesForFundEndpoint, matchingapi.MatchesForFund{FundID: deal.FundID, Limit: matchingapi.MaxLimit}, callOpts{})
	switch {
	case isCode(err, fundbridge.ENOTFOUND) || isCode(err, fundbridge.EFORBIDDEN):
		return "", nil // a reader who may not see the matches reads the ID
	case err != nil:
		return "", err
	}
	for _, m := range matches.Items {
		if m.ID == deal.ApplicationID {
			return m.CompanyName, nil
		}
	}
	return "", nil
}

func (s *Server) issueTermSheet(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	id := chi.URLParam(r, "id")
	f := postedForm(r)
	cmd := matchingapi.IssueTermSheet{DealID: id}
	problems := amounts(r, map[string]*money.Amount{"amount": &cmd.Amount, "pre_money": &cmd.PreMoney}) // before Validate, which reads what they fill
	err := validateWith(cmd.Validate(), problems)
	var deal matchingapi.Deal
	var reply svc.Reply
	if err == nil {
		deal, reply, err = call(r.Context(), s, r, matchingapi.IssueTermSheetEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderTermSheet(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/manager/funds/"+deal.FundID, reply)+"#board", "notice.term_sheet_issued")
}

// ownership is what a term sheet would give the fund, computed by the
// rule the matching service applies: amount / (pre-money + amount), to
// ten places, against the mandate's maximum.
type ownership struct {
	Shown        bool
	PostMoney    money.Amount
	Fraction     decimal.Decimal
	OverMax      bool
	MaxOwnership decimal.Decimal
}

func computeOwnership(amount, preMoney string, m *fundsapi.Mandate) ownership {
	a, err1 := parseAmount("amount", amount, true)
	p, err2 := parseAmount("pre_money", preMoney, true)
	if err1 != nil || err2 != nil || a.IsZero() {
		return ownership{}
	}
	post := p.Add(*a)
	o := ownership{Shown: true, PostMoney: post, Fraction: a.Ratio(post)}
	if m != nil && m.MaxOwnership.IsPositive() {
		o.MaxOwnership = m.MaxOwnership
		o.OverMax = o.Fraction.GreaterThan(m.MaxOwnership)
	}
	return o
}

// ownershipPreview answers the term sheet form as the manager types
// (htmx): the ownership and post-money the figures give.
func (s *Server) ownershipPreview(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var m *fundsapi.Mandate
	if id := q.Get("fund_id"); id != "" {
		if fund, _, err := call(r.Context(), s, r, fundsapi.GetFundEndpoint, fundsapi.GetFund{FundID: id}, callOpts{}); err == nil {
			m = fund.Mandate
		}
	}
	p := &page{locale: localeOf(r), r: r, Data: termSheetPage{Ownership: computeOwnership(q.Get("amount"), q.Get("pre_money"), m)}}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.pages["termsheet"].ExecuteTemplate(w, "ownership", p); err != nil {
		s.log.Error("ownership preview", "err", err)
	}
}

type mandatePage struct {
	Fund    fundsapi.FundView
	Stages  []fundbridge.Stage
	Layers  []fundbridge.Layer
	Sectors []fundbridge.Sector
	Cities  []fundbridge.City
}

func (s *Server) mandatePage(w http.ResponseWriter, r *http.Request) {
	s.renderMandate(w, r, http.StatusOK, nil)
}

func (s *Server) renderMandate(w http.ResponseWriter, r *http.Request, status int, f *form) {
	id := chi.URLParam(r, "id")
	fund, _, err := call(r.Context(), s, r, fundsapi.GetFundEndpoint, fundsapi.GetFund{FundID: id, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if f == nil {
		f = newForm()
		if m := fund.Mandate; m != nil {
			for _, v := range m.Stages {
				f.Values.Add("stages", string(v))
			}
			for _, v := range m.Layers {
				f.Values.Add("layers", string(v))
			}
			for _, v := range m.Sectors {
				f.Values.Add("sectors", string(v))
			}
			for _, v := range m.Cities {
				f.Values.Add("cities", string(v))
			}
			f.Values.Set("ticket_min", m.TicketMin.String())
			f.Values.Set("ticket_max", m.TicketMax.String())
			f.Values.Set("max_ownership", m.MaxOwnership.Shift(2).String())
		}
	}
	data := mandatePage{Fund: fund, Stages: fundbridge.Stages, Layers: fundbridge.Layers, Sectors: fundbridge.AllSectors(), Cities: fundbridge.Cities}
	s.render(w, r, status, "mandate", "title.mandate", data, f)
}

// setMandate replaces the fund's mandate. Ownership is typed as a
// percentage and sent as the fraction the contract takes.
func (s *Server) setMandate(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	id := chi.URLParam(r, "id")
	f := postedForm(r)
	cmd := fundsapi.SetMandate{FundID: id}
	for _, v := range r.PostForm["stages"] {
		cmd.Stages = append(cmd.Stages, fundbridge.Stage(v))
	}
	for _, v := range r.PostForm["layers"] {
		cmd.Layers = append(cmd.Layers, fundbridge.Layer(v))
	}
	for _, v := range r.PostForm["sectors"] {
		cmd.Sectors = append(cmd.Sectors, fundbridge.Sector(v))
	}
	for _, v := range r.PostForm["cities"] {
		cmd.Cities = append(cmd.Cities, fundbridge.City(v))
	}
	problems := amounts(r, map[string]*money.Amount{"ticket_min": &cmd.TicketMin, "ticket_max": &cmd.TicketMax})
	pct, err := decimal.NewFromString(strings.TrimSuffix(strings.TrimSpace(r.PostFormValue("max_ownership")), "%"))
	if err != nil || !pct.IsPositive() || pct.GreaterThan(decimal.NewFromInt(100)) {
		problems = append(problems, fundbridge.FieldError{Field: "max_ownership", Reason: "a percentage above 0 and at most 100"})
	} else {
		cmd.MaxOwnership = pct.Shift(-2).String()
	}
	err = validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, fundsapi.SetMandateEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderMandate(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/manager/funds/"+id, reply), "notice.mandate_set")
}
