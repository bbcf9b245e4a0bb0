package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

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
	r.Get("/startup/apply/{id}", s.draftPage)
	r.Post("/startup/apply/{id}", s.apply)
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

// parseAmount reads an amount as people type it: spaces, commas and a
// leading ¥ are dropped, then money.Parse applies the API's rules.
func parseAmount(field, s string, required bool) (*money.Amount, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "¥"))
	s, ok := ungroup(s)
	if !ok {
		return nil, fundbridge.Invalid("invalid amount", fundbridge.FieldError{Field: field, Reason: groupingReason})
	}
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

const groupingReason = "commas or spaces may only separate thousands, like 1,250,000.00"

// ungroup takes the thousands separators (commas, full-width commas,
// spaces) out of an amount as a person types it, and reports false when
// they are not where thousands separators go: "1,00,000" or a decimal
// comma ("1250,50") is a typing slip to ask about, not a number to guess.
func ungroup(s string) (string, bool) {
	isSep := func(r rune) bool { return r == ',' || r == '，' || r == ' ' }
	if !strings.ContainsFunc(s, isSep) {
		return s, true
	}
	whole, frac, point := strings.Cut(s, ".")
	if strings.ContainsFunc(frac, isSep) {
		return "", false
	}
	sign := ""
	if rest, ok := strings.CutPrefix(whole, "-"); ok {
		sign, whole = "-", rest // for the amount's own check to refuse, in its words
	}
	groups := strings.FieldsFunc(whole, isSep)
	joined := strings.Join(groups, "")
	// One separator between each two groups, none before, after or doubled.
	if utf8.RuneCountInString(whole)-utf8.RuneCountInString(joined) != len(groups)-1 {
		return "", false
	}
	for i, g := range groups {
		if n := utf8.RuneCountInString(g); i == 0 && n > 3 || i > 0 && n != 3 {
			return "", false
		}
	}
	if point {
		return sign + joined + "." + frac, true
	}
	return sign + joined, true
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
