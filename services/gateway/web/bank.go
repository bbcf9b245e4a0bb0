package web

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

func (s *Server) bankRoutes(r chi.Router) {
	r.Get("/bank", s.bankHome)
	r.Post("/bank/deals/{id}/commit", s.commitToDeal)
	r.Post("/bank/deals/{id}/decline", s.declineDeal)
}

// invitation is a deal as this bank sees it, with its own line.
type invitation struct {
	dealsapi.DealView
	Mine dealsapi.DealBankView
}

type bankHome struct {
	Bank  dealsapi.BankView
	Book  dealsapi.BankBook
	Deals []invitation
}

func (s *Server) bankHome(w http.ResponseWriter, r *http.Request) {
	s.renderBank(w, r, http.StatusOK, nil)
}

// renderBank shows the bank's programmes, the deals it was invited to
// with its share, and its book: exposure against both limits, what falls
// due and what is in arrears.
func (s *Server) renderBank(w http.ResponseWriter, r *http.Request, status int, f *form) {
	a, _ := actorOf(r)
	ctx := r.Context()
	bank, _, err := call(ctx, s, r, dealsapi.GetBankEndpoint, dealsapi.BankRef{BankID: a.OrgID, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	book, _, err := call(ctx, s, r, dealsapi.BankBookEndpoint, dealsapi.BankRef{BankID: a.OrgID}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	deals, _, err := call(ctx, s, r, dealsapi.ListDealsEndpoint, dealsapi.ListDeals{Limit: 200}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := bankHome{Bank: bank, Book: book}
	for _, d := range deals.Items {
		inv := invitation{DealView: d}
		for _, b := range d.Banks {
			if b.BankID == a.OrgID {
				inv.Mine = b
			}
		}
		data.Deals = append(data.Deals, inv)
	}
	s.render(w, r, status, "bank", "title.bank", data, f)
}

func (s *Server) commitToDeal(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	cmd := dealsapi.CommitToDeal{DealID: chi.URLParam(r, "id"), BankID: a.OrgID}
	var problems []fundbridge.FieldError
	if amt, err := parseAmount("amount", r.PostFormValue("amount"), true); err != nil {
		problems = fundbridge.ErrorFields(err)
	} else {
		cmd.Amount = *amt
	}
	err := validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, dealsapi.CommitToDealEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderBank(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/bank", reply), "notice.committed")
}

func (s *Server) declineDeal(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	cmd := dealsapi.DeclineDeal{DealID: chi.URLParam(r, "id"), BankID: a.OrgID, Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	err := cmd.Validate()
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, dealsapi.DeclineDealEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderBank(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/bank", reply), "notice.declined")
}
