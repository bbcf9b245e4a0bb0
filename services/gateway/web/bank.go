package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

func (s *Server) bankRoutes(r chi.Router) {
	r.Get("/bank", s.bankHome)
	r.Post("/bank/deals/{id}/commit", s.commitToDeal)
	r.Post("/bank/deals/{id}/decline", s.declineDeal)
	r.Post("/bank/programmes", s.publishProgramme)
	r.Get("/bank/propose", s.proposePage)
	r.Post("/bank/propose", s.proposeDeal)
	r.Post("/bank/deals/{id}/invite", s.inviteBank)
}

// invitation is a deal as this bank sees it, with its own line; on a
// deal it leads, the banks it may still invite, by name.
type invitation struct {
	dealsapi.DealView
	Mine      dealsapi.DealBankView
	Invitable []dealsapi.BankEntry
}

// MyShare is the bank's part of the loan as it stands: what it committed
// while the book is open, and once the book has closed its allocation,
// which an oversubscribed book scaled back below the commitment.
func (i invitation) MyShare() money.Amount {
	if i.Mine.Status == dealsapi.CommitmentAllocated {
		return i.Mine.Allocated
	}
	return i.Mine.Committed
}

type bankHome struct {
	Bank   dealsapi.BankView
	Book   dealsapi.BankBook
	Deals  []invitation
	Stages []fundbridge.Stage
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
	var directory []dealsapi.BankEntry
	if slices.ContainsFunc(deals.Items, func(d dealsapi.DealView) bool { return leads(a.OrgID, d) }) {
		if directory, err = s.bankDirectory(r); err != nil {
			s.failErr(w, r, err)
			return
		}
	}
	data := bankHome{Bank: bank, Book: book, Stages: fundbridge.Stages}
	for _, d := range deals.Items {
		inv := invitation{DealView: d}
		for _, b := range d.Banks {
			if b.BankID == a.OrgID {
				inv.Mine = b
			}
		}
		if leads(a.OrgID, d) {
			inv.Invitable = invitable(directory, d)
		}
		data.Deals = append(data.Deals, inv)
	}
	s.render(w, r, status, "bank", "title.bank", data, f)
}

// leads reports whether the bank leads a deal still open to invitations.
func leads(bankID string, d dealsapi.DealView) bool {
	return d.LeadBankID == bankID && d.Status == dealsapi.StatusSyndicating
}

// bankDirectory is every bank on the platform by name and ID, the most
// one bank may know of another.
func (s *Server) bankDirectory(r *http.Request) ([]dealsapi.BankEntry, error) {
	dir, _, err := call(r.Context(), s, r, dealsapi.ListBanksEndpoint, dealsapi.ListBanks{}, callOpts{})
	return dir.Items, err
}

// invitable is the banks a lead may still invite into its deal: not
// itself, and none already in the syndicate.
func invitable(directory []dealsapi.BankEntry, d dealsapi.DealView) []dealsapi.BankEntry {
	var out []dealsapi.BankEntry
	for _, b := range directory {
		in := b.BankID == d.LeadBankID || slices.ContainsFunc(d.Banks, func(x dealsapi.DealBankView) bool { return x.BankID == b.BankID })
		if !in {
			out = append(out, b)
		}
	}
	return out
}

func (s *Server) commitToDeal(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	cmd := dealsapi.CommitToDeal{DealID: chi.URLParam(r, "id"), BankID: a.OrgID}
	problems := amounts(r, map[string]*money.Amount{"amount": &cmd.Amount}) // before Validate, which reads what they fill
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

// publishProgramme publishes a lending programme; its ID comes from the
// form's key, so posting the form twice publishes it once.
func (s *Server) publishProgramme(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	cmd := dealsapi.PublishProgramme{BankID: a.OrgID, Programme: dealsapi.Programme{
		ProgrammeID: "p-" + idFromKey(f.Key), Name: strings.TrimSpace(r.PostFormValue("name")),
		RequiresEquityPartner: r.PostFormValue("requires_equity_partner") == "yes", NeedsCreditConsent: r.PostFormValue("needs_credit_consent") == "yes"}}
	for _, v := range r.PostForm["stages"] {
		cmd.Stages = append(cmd.Stages, fundbridge.Stage(v))
	}
	problems := amounts(r, map[string]*money.Amount{"loan_min": &cmd.LoanMin, "loan_max": &cmd.LoanMax})
	if n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("max_months"))); err != nil {
		problems = append(problems, fundbridge.FieldError{Field: "max_months", Reason: "must be a whole number"})
	} else {
		cmd.MaxMonths = n
	}
	err := validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, dealsapi.PublishProgrammeEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderBank(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/bank", reply)+"#programmes-h", "notice.programme_published")
}

// idFromKey is an identifier made of a form's key: letters and digits.
func idFromKey(key string) string {
	var b strings.Builder
	for _, c := range key {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
		if b.Len() == 16 {
			break
		}
	}
	return b.String()
}
