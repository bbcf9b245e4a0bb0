package web

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

func (s *Server) insurerRoutes(r chi.Router) {
	r.Get("/insurer", s.insurerHome)
	r.Get("/insurer/table", s.ratingTablePage)
	r.Post("/insurer/table", s.publishRatingTable)
	r.Post("/insurer/requests/{id}/quote", s.quoteRequest)
	r.Post("/insurer/requests/{id}/decline", s.declineRequest)
	r.Post("/insurer/policies/{id}/claims/{claim}/assess", s.claimStep(claimAssess))
	r.Post("/insurer/policies/{id}/claims/{claim}/settle", s.claimStep(claimSettle))
	r.Post("/insurer/policies/{id}/claims/{claim}/deny", s.claimStep(claimDeny))
}

// toQuote is a request sent to this insurer, with the premium its own
// published table gives and the band a quote must stay in.
type toQuote struct {
	insuranceapi.RequestView
	Suggested       *insuranceapi.Premium
	Low, High       money.Amount
	SuggestionError string
	Mine            *insuranceapi.QuoteView
	Declined        bool
	// DeclineReason is why this insurer declined, once it has.
	DeclineReason string
}

type insurerHome struct {
	Insurer  insuranceapi.InsurerView
	HasTable bool
	Requests []toQuote
	Policies []insuranceapi.PolicyView
}

func (s *Server) insurerHome(w http.ResponseWriter, r *http.Request) {
	s.renderInsurer(w, r, http.StatusOK, nil)
}

// renderInsurer shows the requests sent to the insurer, each with the
// premium its rating table suggests (computed by the contract's own
// RatingTable.Premium, so the page and the service never disagree), and
// its policies with their claims.
func (s *Server) renderInsurer(w http.ResponseWriter, r *http.Request, status int, f *form) {
	a, _ := actorOf(r)
	ctx := r.Context()
	ins, _, err := call(ctx, s, r, insuranceapi.GetInsurerEndpoint, insuranceapi.InsurerRef{InsurerID: a.OrgID, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := insurerHome{Insurer: ins}
	var table *insuranceapi.RatingTableView
	if ins.PublishesTable {
		t, _, err := call(ctx, s, r, insuranceapi.GetRatingTableEndpoint, insuranceapi.InsurerRef{InsurerID: a.OrgID}, callOpts{})
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		table, data.HasTable = &t, true
	}
	reqs, _, err := call(ctx, s, r, insuranceapi.ListRequestsEndpoint, insuranceapi.ListRequests{Limit: 100, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	l := localeOf(r)
	for _, rq := range reqs.Items {
		q := toQuote{RequestView: rq}
		for i := range rq.Quotes {
			if rq.Quotes[i].InsurerID == a.OrgID {
				q.Mine = &rq.Quotes[i]
			}
		}
		for _, d := range rq.Declines {
			if d.InsurerID == a.OrgID {
				q.Declined, q.DeclineReason = true, d.Reason
			}
		}
		if table != nil {
			if p, err := suggestPremium(table.Table, rq); err != nil {
				q.SuggestionError = l.Problem(err)
			} else {
				q.Suggested = &p
				q.Low, q.High = insuranceapi.QuoteBand(p.Amount)
			}
		}
		data.Requests = append(data.Requests, q)
	}
	pols, _, err := call(ctx, s, r, insuranceapi.ListPoliciesEndpoint, insuranceapi.ListPolicies{Limit: 100, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data.Policies = pols.Items
	s.render(w, r, status, "insurer", "title.insurer", data, f)
}

// suggestPremium prices a request by the insurer's published table.
func suggestPremium(t insuranceapi.RatingTable, rq insuranceapi.RequestView) (insuranceapi.Premium, error) {
	start, err := insuranceapi.ParseDate(rq.StartsOn)
	if err != nil {
		return insuranceapi.Premium{}, err
	}
	in := insuranceapi.PremiumInput{Coverage: rq.Coverage, Claims: rq.Claims, SumInsured: rq.SumInsured, StartsOn: start, Months: rq.Months}
	for _, p := range rq.Patents {
		filed, err := insuranceapi.ParseDate(p.FiledOn)
		if err != nil {
			return insuranceapi.Premium{}, err
		}
		in.Patents = append(in.Patents, insuranceapi.RatedPatent{Number: p.Number, Kind: p.Kind, FiledOn: filed})
	}
	return t.Premium(in)
}

func (s *Server) quoteRequest(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	cmd := insuranceapi.QuoteInsurance{RequestID: chi.URLParam(r, "id"), InsurerID: a.OrgID, Note: strings.TrimSpace(r.PostFormValue("note"))}
	problems := amounts(r, map[string]*money.Amount{"premium": &cmd.Premium})
	err := validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, insuranceapi.QuoteEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderInsurer(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/insurer", reply)+"#req-"+cmd.RequestID, "notice.quoted")
}

func (s *Server) declineRequest(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	cmd := insuranceapi.DeclineInsurance{RequestID: chi.URLParam(r, "id"), InsurerID: a.OrgID, Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	err := cmd.Validate()
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, insuranceapi.DeclineEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderInsurer(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/insurer", reply), "notice.request_declined")
}

type claimAction int

const (
	claimAssess claimAction = iota
	claimSettle
	claimDeny
)

// claimStep assesses, settles (partly or in full) or denies a claim.
func (s *Server) claimStep(act claimAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !parse(w, r, s) {
			return
		}
		f := postedForm(r)
		ref := insuranceapi.ClaimAmount{PolicyID: chi.URLParam(r, "id"), ClaimID: chi.URLParam(r, "claim"), Note: strings.TrimSpace(r.PostFormValue("note"))}
		var err error
		var reply svc.Reply
		notice := "notice.claim_denied"
		if act == claimDeny {
			cmd := insuranceapi.DenyClaim{PolicyID: ref.PolicyID, ClaimID: ref.ClaimID, Reason: strings.TrimSpace(r.PostFormValue("reason"))}
			if err = cmd.Validate(); err == nil {
				_, reply, err = call(r.Context(), s, r, insuranceapi.DenyClaimEndpoint, cmd, callOpts{key: f.Key})
			}
		} else {
			problems := amounts(r, map[string]*money.Amount{"amount": &ref.Amount})
			if err = validateWith(ref.Validate(), problems); err == nil && act == claimAssess {
				notice = "notice.claim_assessed"
				_, reply, err = call(r.Context(), s, r, insuranceapi.AssessClaimEndpoint, insuranceapi.AssessClaim(ref), callOpts{key: f.Key})
			} else if err == nil {
				notice = "notice.claim_settled"
				_, reply, err = call(r.Context(), s, r, insuranceapi.SettleClaimEndpoint, insuranceapi.SettleClaim(ref), callOpts{key: f.Key})
			}
		}
		if err != nil {
			f.fail(localeOf(r), err)
			s.renderInsurer(w, r, s.status(fundbridge.ErrorCode(err)), f)
			return
		}
		redirect(w, r, withAfter("/insurer", reply)+"#pol-"+ref.PolicyID, notice)
	}
}
