package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

func (s *Server) startupRoutes(r chi.Router) {
	r.Get("/startup", s.startupHome)
	r.Post("/startup/patents", s.addPatent)
	r.Get("/startup/apply", s.applyPage)
	r.Post("/startup/apply", s.apply)
	r.Get("/startup/applications/{id}", s.applicationPage)
	r.Post("/startup/applications/{id}/submit", s.submitApplication)
	r.Post("/startup/deals/{id}/accept", s.acceptTermSheet)
	r.Post("/startup/deals/{id}/decline", s.declineTermSheet)
	r.Get("/startup/timeline", s.timelinePage)
	r.Get("/startup/loans", s.loansPage)
	r.Post("/startup/loans/{id}/repay", s.repay)
}

// after is the position a page waits for: the one its last change
// answered with, so the reader sees their own write.
func after(r *http.Request) uint64 {
	n, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	return n
}

// withAfter adds the position a change answered with to a page's path.
func withAfter(path string, reply svc.Reply) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "after=" + strconv.FormatUint(reply.Position, 10)
}

type startupHome struct {
	Company      applicationsapi.CompanyView
	Applications []applicationsapi.ApplicationView
	PatentKinds  []applicationsapi.PatentKind
	Holdings     []applicationsapi.PatentHolding
}

func (s *Server) startupHome(w http.ResponseWriter, r *http.Request) {
	s.renderStartupHome(w, r, http.StatusOK, nil)
}

func (s *Server) renderStartupHome(w http.ResponseWriter, r *http.Request, status int, f *form) {
	a, _ := actorOf(r)
	ctx := r.Context()
	company, _, err := call(ctx, s, r, applicationsapi.GetCompanyEndpoint, applicationsapi.GetCompany{CompanyID: a.OrgID, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	apps, _, err := call(ctx, s, r, applicationsapi.ListApplicationsEndpoint, applicationsapi.ListApplications{CompanyID: a.OrgID, Limit: applicationsapi.MaxLimit}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := startupHome{Company: company, Applications: apps.Items,
		PatentKinds: []applicationsapi.PatentKind{applicationsapi.PatentInvention, applicationsapi.PatentUtilityModel, applicationsapi.PatentDesign},
		Holdings:    []applicationsapi.PatentHolding{applicationsapi.HoldingOwner, applicationsapi.HoldingLicensee}}
	s.render(w, r, status, "startup", "title.startup", data, f)
}

func (s *Server) addPatent(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	cmd := applicationsapi.AddPatent{CompanyID: a.OrgID, Number: strings.ToUpper(get("number")), Kind: applicationsapi.PatentKind(get("kind")),
		Title: get("title"), FiledOn: get("filed_on"), GrantedOn: get("granted_on"), Holding: applicationsapi.PatentHolding(get("holding"))}
	err := cmd.Validate()
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, applicationsapi.AddPatentEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderStartupHome(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/startup", reply)+"#patents", "notice.patent_added")
}

// parse reads a posted form; false when it could not (the page is sent).
func parse(w http.ResponseWriter, r *http.Request, s *Server) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "problem.invalid")
		return false
	}
	return true
}

func instrumentsData() []fundbridge.Instrument { return fundbridge.Instruments }

// applyPage is the wizard: 1 instruments, 2 amount and use of funds,
// 3 review. Steps 1 and 2 are sent as GET forms, so each step is a page
// whose address holds the draft so far (and the form's key): Back and
// reload show it again. When each step answered a POST, Back after
// drafting found only Chrome's "Confirm Form Resubmission" page, and its
// reload resubmitted from an opaque origin (Sec-Fetch-Site: cross-site,
// Origin: null), which CrossOriginProtection rightly refused. Only the
// last step, which drafts, is a POST.
func (s *Server) applyPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !q.Has("step") {
		f := newForm()
		f.Values.Set("step", "1")
		s.render(w, r, http.StatusOK, "apply", "title.apply", instrumentsData(), f)
		return
	}
	f := newForm()
	f.Values = q
	if k := q.Get("idempotency_key"); k != "" && len(k) <= 100 {
		f.Key = k // the review's save keeps the key the wizard began with
	}
	step := min(max(atoi(q.Get("step")), 1), 3)
	next := step + 1
	if q.Get("back") != "" {
		next = max(step-1, 1)
	} else if _, ok := s.checkApply(w, r, f, step); !ok {
		return
	}
	f.Values.Set("step", strconv.Itoa(min(next, 3)))
	s.render(w, r, http.StatusOK, "apply", "title.apply", instrumentsData(), f)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// apply drafts the reviewed application (the draft then waits for the
// startup's submission on its own page). A step before the last posted
// by a page from before the steps were GETs is sent on to its GET.
func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	if atoi(r.PostFormValue("step")) < 3 || r.PostFormValue("back") != "" {
		http.Redirect(w, r, "/startup/apply?"+r.PostForm.Encode(), http.StatusSeeOther)
		return
	}
	f := postedForm(r)
	cmd, ok := s.checkApply(w, r, f, 3)
	if !ok {
		return
	}
	app, reply, err := call(r.Context(), s, r, applicationsapi.DraftApplicationEndpoint, cmd, callOpts{key: f.Key})
	if err == nil && app.Status == applicationsapi.StatusDraft && !sameTerms(app.ApplicationTerms, cmd.Terms()) {
		// The same form saved again after an edit (Back past the review):
		// its key finds the first draft, which takes the edit rather than
		// losing it.
		app, reply, err = call(r.Context(), s, r, applicationsapi.UpdateApplicationEndpoint, applicationsapi.UpdateApplication{
			ApplicationID: app.ID, AmountRequested: cmd.AmountRequested, Instruments: &cmd.Instruments, UseOfFunds: &cmd.UseOfFunds,
			ValuationAsk: applicationsapi.OptionalAmount{Set: true, Value: cmd.ValuationAsk}, CreditDataConsent: &cmd.CreditDataConsent,
		}, callOpts{})
	}
	if err != nil {
		f.Values.Set("step", "3")
		f.fail(localeOf(r), err)
		s.render(w, r, s.status(fundbridge.ErrorCode(err)), "apply", "title.apply", instrumentsData(), f)
		return
	}
	redirect(w, r, withAfter("/startup/applications/"+app.ID, reply), "notice.drafted")
}

// checkApply reads the draft in f and checks the fields of the steps up
// to step by the contract's rules; on a problem it shows that step again
// with what was typed and the reasons, and answers false.
func (s *Server) checkApply(w http.ResponseWriter, r *http.Request, f *form, step int) (applicationsapi.DraftApplication, bool) {
	a, _ := actorOf(r)
	cmd, problems := draftFrom(f.Values, a.OrgID)
	// The review shows (and the next step carries) the amounts as read.
	if cmd.AmountRequested != nil {
		f.Values.Set("amount_requested", cmd.AmountRequested.String())
	}
	if cmd.ValuationAsk != nil {
		f.Values.Set("valuation_ask", cmd.ValuationAsk.String())
	}
	err := cmd.Validate()
	fields := append(problems, fundbridge.ErrorFields(err)...)
	// The wizard drafts an application to be submitted: what submitting
	// needs (use of funds) is required here too, not found missing later.
	for _, fe := range applicationsapi.TermsProblems(cmd.Terms(), true) {
		if !slices.ContainsFunc(fields, func(x fundbridge.FieldError) bool { return x.Field == fe.Field }) {
			fields = append(fields, fe)
		}
	}
	// A step only answers for its own fields.
	var mine []fundbridge.FieldError
	for _, fe := range fields {
		if step >= 3 || fieldStep(fe.Field) <= step {
			mine = append(mine, fe)
		}
	}
	if step == 1 && len(cmd.Instruments) == 0 {
		mine = append(mine, fundbridge.FieldError{Field: "instruments", Reason: "choose at least one"})
	}
	if len(mine) == 0 {
		return cmd, true
	}
	f.Values.Set("step", strconv.Itoa(step))
	f.fail(localeOf(r), fundbridge.Invalid("invalid application", mine...))
	s.render(w, r, http.StatusBadRequest, "apply", "title.apply", instrumentsData(), f)
	return cmd, false
}

// sameTerms reports whether a draft holds the terms the form asks for.
func sameTerms(a, b applicationsapi.ApplicationTerms) bool {
	sameAsk := a.ValuationAsk == nil && b.ValuationAsk == nil ||
		a.ValuationAsk != nil && b.ValuationAsk != nil && a.ValuationAsk.Equal(*b.ValuationAsk)
	return sameAsk && a.AmountRequested.Equal(b.AmountRequested) && slices.Equal(a.Instruments, b.Instruments) &&
		a.UseOfFunds == b.UseOfFunds && a.CreditDataConsent == b.CreditDataConsent
}

func fieldStep(field string) int {
	if strings.HasPrefix(field, "instruments") {
		return 1
	}
	return 2
}

// draftFrom reads the application's fields; amounts by money.Parse, the
// API's own rule for amounts.
func draftFrom(v url.Values, companyID string) (applicationsapi.DraftApplication, []fundbridge.FieldError) {
	cmd := applicationsapi.DraftApplication{CompanyID: companyID, UseOfFunds: strings.TrimSpace(v.Get("use_of_funds")),
		CreditDataConsent: v.Get("credit_data_consent") == "yes"}
	for _, v := range v["instruments"] {
		cmd.Instruments = append(cmd.Instruments, fundbridge.Instrument(v))
	}
	var problems []fundbridge.FieldError
	amount, err := parseAmount("amount_requested", v.Get("amount_requested"), true)
	if err != nil {
		problems = append(problems, fundbridge.ErrorFields(err)...)
	}
	cmd.AmountRequested = amount
	if ask, err := parseAmount("valuation_ask", v.Get("valuation_ask"), false); err != nil {
		problems = append(problems, fundbridge.ErrorFields(err)...)
	} else {
		cmd.ValuationAsk = ask
	}
	return cmd, problems
}

// parseAmount reads an amount as people type it: spaces, commas and a
// leading ¥ are dropped, then money.Parse applies the API's rules.
func parseAmount(field, s string, required bool) (*money.Amount, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "¥"))
	s = strings.NewReplacer(",", "", " ", "", "，", "").Replace(s)
	if s == "" {
		if required {
			return nil, fundbridge.Invalid("invalid amount", fundbridge.FieldError{Field: field, Reason: "required"})
		}
		return nil, nil
	}
	a, err := money.Parse(field, s)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// amounts reads required amount fields into their targets, naming each
// one that does not read.
func amounts(r *http.Request, targets map[string]*money.Amount) []fundbridge.FieldError {
	var problems []fundbridge.FieldError
	for field, dst := range targets {
		a, err := parseAmount(field, r.PostFormValue(field), true)
		if err != nil {
			problems = append(problems, fundbridge.ErrorFields(err)...)
			continue
		}
		*dst = *a
	}
	return problems
}

type applicationPage struct {
	App       applicationsapi.ApplicationView
	Matches   []matchingapi.ApplicationMatch
	Deals     []matchingapi.Deal
	Steps     []matchingapi.Step
	FundNames map[string]string
}

func (s *Server) applicationPage(w http.ResponseWriter, r *http.Request) {
	s.renderApplication(w, r, http.StatusOK, nil)
}

func (s *Server) renderApplication(w http.ResponseWriter, r *http.Request, status int, f *form) {
	id := chi.URLParam(r, "id")
	ctx := r.Context()
	app, _, err := call(ctx, s, r, applicationsapi.GetApplicationEndpoint, applicationsapi.GetApplication{ApplicationID: id, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := applicationPage{App: app, Steps: matchingapi.Pipeline(), FundNames: map[string]string{}}
	if app.Status != applicationsapi.Status("draft") {
		m, _, err := call(ctx, s, r, matchingapi.MatchesForApplicationEndpoint, matchingapi.MatchesForApplication{ApplicationID: id, After: after(r)}, callOpts{})
		if err == nil {
			data.Matches = m.Items
			for _, x := range m.Items {
				data.FundNames[x.FundID] = x.FundName
			}
		}
		deals, _, err := call(ctx, s, r, matchingapi.ListDealsEndpoint, matchingapi.ListDeals{ApplicationID: id, After: after(r), Limit: matchingapi.MaxLimit}, callOpts{})
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		data.Deals = deals.Items
	}
	s.render(w, r, status, "application", "title.application", data, f)
}

func (s *Server) submitApplication(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	id := chi.URLParam(r, "id")
	f := postedForm(r)
	_, reply, err := call(r.Context(), s, r, applicationsapi.SubmitApplicationEndpoint, applicationsapi.SubmitApplication{ApplicationID: id}, callOpts{key: f.Key})
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderApplication(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/startup/applications/"+id, reply), "notice.submitted")
}

func (s *Server) acceptTermSheet(w http.ResponseWriter, r *http.Request) {
	s.answerTermSheet(w, r, true)
}

func (s *Server) declineTermSheet(w http.ResponseWriter, r *http.Request) {
	s.answerTermSheet(w, r, false)
}

func (s *Server) answerTermSheet(w http.ResponseWriter, r *http.Request, accept bool) {
	if !parse(w, r, s) {
		return
	}
	id := chi.URLParam(r, "id")
	f := postedForm(r)
	var (
		deal  matchingapi.Deal
		reply svc.Reply
		err   error
	)
	if accept {
		deal, reply, err = call(r.Context(), s, r, matchingapi.AcceptTermSheetEndpoint, matchingapi.AcceptTermSheet{DealID: id}, callOpts{key: f.Key})
	} else {
		cmd := matchingapi.DeclineTermSheet{DealID: id, Reason: strings.TrimSpace(r.PostFormValue("reason"))}
		if err = cmd.Validate(); err == nil {
			deal, reply, err = call(r.Context(), s, r, matchingapi.DeclineTermSheetEndpoint, cmd, callOpts{key: f.Key})
		}
	}
	if err != nil {
		f.fail(localeOf(r), err)
		r = withURLParam(r, "id", r.PostFormValue("application_id"))
		s.renderApplication(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	notice := "notice.term_sheet_declined"
	if accept {
		notice = "notice.term_sheet_accepted"
	}
	redirect(w, r, withAfter("/startup/applications/"+deal.ApplicationID, reply), notice)
}

// withURLParam re-points a request's route parameter, to render another
// page's view after a refused post.
func withURLParam(r *http.Request, key, value string) *http.Request {
	rctx := chi.NewRouteContext()
	rctx.URLParams.Add(key, value)
	return r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx))
}

func (s *Server) timelinePage(w http.ResponseWriter, r *http.Request) {
	a, _ := actorOf(r)
	t, _, err := call(r.Context(), s, r, viewsapi.CompanyTimelineEndpoint, viewsapi.TimelineQuery{CompanyID: a.OrgID, After: after(r)}, callOpts{})
	if err != nil && !isCode(err, fundbridge.ENOTFOUND) {
		s.failErr(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "timeline", "title.timeline", t, nil)
}
