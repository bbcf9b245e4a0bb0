package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

func (s *Server) startupInsuranceRoutes(r chi.Router) {
	r.Get("/startup/insurance", s.startupInsurance)
	r.Post("/startup/insurance/requests", s.requestInsurance)
	r.Post("/startup/insurance/requests/{id}/quotes/{quote}/accept", s.acceptQuote)
	r.Post("/startup/insurance/policies/{id}/claims", s.fileClaim)
	r.Post("/startup/insurance/policies/{id}/premium", s.payPremium)
}

type startupInsurancePage struct {
	PatentNumbers []string
	Chosen        map[string]bool // the insurers a refused form had ticked
	Insurers      []insuranceapi.InsurerView
	Names         map[string]string
	Coverages     []insuranceapi.Coverage
	Requests      []insuranceapi.RequestView
	Policies      []insuranceapi.PolicyView
}

func (s *Server) startupInsurance(w http.ResponseWriter, r *http.Request) {
	s.renderStartupInsurance(w, r, http.StatusOK, nil)
}

// renderStartupInsurance shows the company's patents to insure, the
// insurers to ask, its requests with their quotes, and its policies with
// their claims.
func (s *Server) renderStartupInsurance(w http.ResponseWriter, r *http.Request, status int, f *form) {
	a, _ := actorOf(r)
	ctx := r.Context()
	company, _, err := call(ctx, s, r, applicationsapi.GetCompanyEndpoint, applicationsapi.GetCompany{CompanyID: a.OrgID}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	ins, _, err := call(ctx, s, r, insuranceapi.ListInsurersEndpoint, insuranceapi.ListInsurers{Limit: 100}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	reqs, _, err := call(ctx, s, r, insuranceapi.ListRequestsEndpoint, insuranceapi.ListRequests{CompanyID: a.OrgID, Limit: 100, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	pols, _, err := call(ctx, s, r, insuranceapi.ListPoliciesEndpoint, insuranceapi.ListPolicies{CompanyID: a.OrgID, Limit: 100, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := startupInsurancePage{Chosen: map[string]bool{}, Coverages: insuranceapi.Coverages, Requests: reqs.Items, Policies: pols.Items, Names: map[string]string{}}
	for _, p := range company.Patents {
		if p.Valid {
			data.PatentNumbers = append(data.PatentNumbers, p.Number)
		}
	}
	if f != nil {
		for _, id := range f.Values["insurers"] {
			data.Chosen[id] = true
		}
	}
	for _, i := range ins.Items {
		data.Names[i.InsurerID] = i.Name
		if i.PublishesTable {
			data.Insurers = append(data.Insurers, i)
		}
	}
	s.render(w, r, status, "insurance", "title.insurance", data, f)
}

// requestInsurance asks the chosen insurers to quote cover on the chosen
// patents.
func (s *Server) requestInsurance(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	cmd := insuranceapi.RequestInsurance{CompanyID: a.OrgID, Coverage: insuranceapi.Coverage(r.PostFormValue("coverage")),
		Patents: r.PostForm["patents"], Insurers: r.PostForm["insurers"], StartsOn: strings.TrimSpace(r.PostFormValue("starts_on"))}
	problems := amounts(r, map[string]*money.Amount{"sum_insured": &cmd.SumInsured})
	if m := strings.TrimSpace(r.PostFormValue("months")); m != "" {
		if n, err := strconv.Atoi(m); err != nil {
			problems = append(problems, fundbridge.FieldError{Field: "months", Reason: "must be a whole number"})
		} else {
			cmd.Months = n
		}
	}
	err := validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, insuranceapi.RequestInsuranceEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderStartupInsurance(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/startup/insurance", reply)+"#requests-h", "notice.insurance_requested")
}

// acceptQuote accepts a quote: the service binds the policy.
func (s *Server) acceptQuote(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	f := postedForm(r)
	cmd := insuranceapi.AcceptQuote{RequestID: chi.URLParam(r, "id"), QuoteID: chi.URLParam(r, "quote")}
	err := cmd.Validate()
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, insuranceapi.AcceptQuoteEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderStartupInsurance(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/startup/insurance", reply)+"#policies-h", "notice.quote_accepted")
}

func (s *Server) fileClaim(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	f := postedForm(r)
	cmd := insuranceapi.FileClaim{PolicyID: chi.URLParam(r, "id"), IncidentOn: strings.TrimSpace(r.PostFormValue("incident_on")),
		Description: strings.TrimSpace(r.PostFormValue("description"))}
	problems := amounts(r, map[string]*money.Amount{"amount": &cmd.Amount})
	err := validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, insuranceapi.FileClaimEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderStartupInsurance(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/startup/insurance", reply)+"#pol-"+cmd.PolicyID, "notice.claim_filed")
}

// payPremium pays a bound policy's premium (what the subsidy left due);
// the policy comes into force.
func (s *Server) payPremium(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	f := postedForm(r)
	cmd := insuranceapi.PayPremium{PolicyID: chi.URLParam(r, "id")}
	problems := amounts(r, map[string]*money.Amount{"amount": &cmd.Amount})
	err := validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, insuranceapi.PayPremiumEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderStartupInsurance(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/startup/insurance", reply)+"#pol-"+cmd.PolicyID, "notice.premium_paid")
}
