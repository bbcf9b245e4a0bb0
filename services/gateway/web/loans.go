package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

type loansPage struct {
	Deals []dealsapi.DealView
	Loans []dealsapi.LoanView
}

func (s *Server) loansPage(w http.ResponseWriter, r *http.Request) {
	s.renderLoans(w, r, http.StatusOK, nil)
}

// renderLoans shows a startup its loan-plus-equity deals (the other
// banks unnamed, as the deals service shows them to it) and its loans
// with their schedules and what is due.
func (s *Server) renderLoans(w http.ResponseWriter, r *http.Request, status int, f *form) {
	a, _ := actorOf(r)
	deals, _, err := call(r.Context(), s, r, dealsapi.ListDealsEndpoint, dealsapi.ListDeals{BorrowerID: a.OrgID, Limit: 200, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	loans, _, err := call(r.Context(), s, r, dealsapi.ListLoansEndpoint, dealsapi.ListLoans{BorrowerID: a.OrgID, Limit: 200, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.render(w, r, status, "loans", "title.loans", loansPage{Deals: deals.Items, Loans: loans.Items}, f)
}

// repay records a repayment the startup makes on its loan.
func (s *Server) repay(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	f := postedForm(r)
	cmd := dealsapi.LoanAmount{LoanID: chi.URLParam(r, "id")}
	problems := amounts(r, map[string]*money.Amount{"amount": &cmd.Amount}) // before Validate, which reads what they fill
	err := validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, dealsapi.RepayEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderLoans(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/startup/loans", reply), "notice.repaid")
}
