package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// A lead bank proposes a loan plus equity deal (贷款+外部直投) for an
// application its programmes match, with a fund the match engine paired
// with it, and invites the banks that will co-underwrite it.

// candidate is an application asking for loan_plus_equity that one of
// the bank's programmes matches.
type candidate struct {
	matchingapi.ProgrammeMatch
	ProgrammeName string
}

type proposePage struct {
	Candidates []candidate
	Chosen     *candidate
	Pairs      []matchingapi.Pair // the funds paired with the bank for the chosen application
	Methods    []loan.Method
	Sequences  []dealsapi.Sequence
}

func (s *Server) proposePage(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	f.Values.Set("application_id", r.URL.Query().Get("application"))
	s.renderPropose(w, r, http.StatusOK, f, true)
}

// renderPropose lists the candidates; with one chosen, the deal's form
// (fresh: the loan's principal filled in as the amount asked for).
func (s *Server) renderPropose(w http.ResponseWriter, r *http.Request, status int, f *form, fresh bool) {
	data, err := s.proposeData(r, f.Values.Get("application_id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if fresh && data.Chosen != nil {
		f.Values.Set("loan.principal", data.Chosen.Amount.String())
	}
	s.render(w, r, status, "propose", "title.propose", data, f)
}

func (s *Server) proposeData(r *http.Request, applicationID string) (proposePage, error) {
	a, _ := actorOf(r)
	ctx := r.Context()
	data := proposePage{Methods: loan.Methods, Sequences: dealsapi.Sequences}
	bank, _, err := call(ctx, s, r, dealsapi.GetBankEndpoint, dealsapi.BankRef{BankID: a.OrgID}, callOpts{})
	if err != nil {
		return data, err
	}
	seen := map[string]bool{}
	for _, p := range bank.Programmes {
		ms, _, err := call(ctx, s, r, matchingapi.MatchesForProgrammeEndpoint, matchingapi.MatchesForProgramme{BankID: a.OrgID, ProgrammeID: p.ProgrammeID, Limit: 100}, callOpts{})
		if err != nil {
			return data, err
		}
		for _, m := range ms.Items {
			if !seen[m.ID] && slices.Contains(m.Instruments, fundbridge.InstrumentLoanPlusEquity) {
				seen[m.ID] = true
				data.Candidates = append(data.Candidates, candidate{ProgrammeMatch: m, ProgrammeName: p.Name})
			}
		}
	}
	for i := range data.Candidates {
		if data.Candidates[i].ID == applicationID {
			data.Chosen = &data.Candidates[i]
		}
	}
	if data.Chosen == nil {
		return data, nil
	}
	pairs, _, err := call(ctx, s, r, matchingapi.PairsEndpoint, matchingapi.PairsForApplication{ApplicationID: applicationID, Limit: 50}, callOpts{})
	switch {
	case isCode(err, fundbridge.ENOTFOUND): // no fund paired: the form takes a fund's ID
	case err != nil:
		return data, err
	default:
		seenFund := map[string]bool{}
		for _, p := range pairs.Items {
			if p.BankID == a.OrgID && !seenFund[p.FundID] {
				seenFund[p.FundID] = true
				data.Pairs = append(data.Pairs, p)
			}
		}
	}
	return data, nil
}

// proposeDeal proposes the deal as its lead bank; the borrower is the
// chosen application's company, as the match engine knows it.
func (s *Server) proposeDeal(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	data, err := s.proposeData(r, r.PostFormValue("application_id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if data.Chosen == nil {
		s.fail(w, r, http.StatusNotFound, "problem.not_found")
		return
	}
	v := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	cmd := dealsapi.ProposeDeal{BorrowerID: data.Chosen.CompanyID, ApplicationID: data.Chosen.ID, LeadBankID: a.OrgID,
		Loan:   dealsapi.LoanTermsInput{AnnualRate: v("loan.annual_rate"), Method: loan.Method(v("loan.method"))},
		Equity: dealsapi.EquityInput{FundID: v("equity.fund_id")}, Sequence: dealsapi.Sequence(v("sequence")),
		RiskSharing: dealsapi.RiskSharingInput{Banks: v("risk_sharing.banks"), Fund: v("risk_sharing.fund"),
			RiskCompensationFund: v("risk_sharing.risk_compensation_fund"), Insurer: v("risk_sharing.insurer"), InsurerID: v("risk_sharing.insurer_id")}}
	targets := map[string]*money.Amount{"loan.principal": &cmd.Loan.Principal, "equity.amount": &cmd.Equity.Amount, "equity.pre_money": &cmd.Equity.PreMoney}
	// A warrant is optional: any of its fields typed proposes one.
	if w := (dealsapi.WarrantInput{Coverage: v("warrant.coverage"), ExerciseFrom: v("warrant.exercise_from"), ExerciseUntil: v("warrant.exercise_until"),
		HolderID: v("warrant.holder_id")}); w != (dealsapi.WarrantInput{}) || v("warrant.strike_valuation") != "" {
		cmd.Warrant = &w
		targets["warrant.strike_valuation"] = &w.StrikeValuation
	}
	problems := amounts(r, targets)
	problems = append(problems, wholeNumber(v("loan.months"), "loan.months", &cmd.Loan.Months, true)...)
	problems = append(problems, wholeNumber(v("loan.interest_only_months"), "loan.interest_only_months", &cmd.Loan.InterestOnlyMonths, false)...)
	if d := v("syndication_deadline"); d != "" {
		day, err := time.ParseInLocation(time.DateOnly, d, china)
		if err != nil {
			problems = append(problems, fundbridge.FieldError{Field: "syndication_deadline", Reason: "must be a date like 2026-06-30"})
		} else {
			cmd.SyndicationDeadline = day.AddDate(0, 0, 1) // the end of that day, China time
		}
	}
	err = validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	var deal dealsapi.DealView
	if err == nil {
		deal, reply, err = call(r.Context(), s, r, dealsapi.ProposeDealEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderPropose(w, r, s.status(fundbridge.ErrorCode(err)), f, false)
		return
	}
	redirect(w, r, withAfter("/bank", reply)+"#deal-"+deal.DealID, "notice.deal_proposed")
}

// wholeNumber reads an optional or required whole number into dst.
func wholeNumber(s, field string, dst *int, required bool) []fundbridge.FieldError {
	if s == "" {
		if required {
			return []fundbridge.FieldError{{Field: field, Reason: "required"}}
		}
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return []fundbridge.FieldError{{Field: field, Reason: "must be a whole number"}}
	}
	*dst = n
	return nil
}

// inviteBank invites a bank into a deal the bank leads. The page offers
// the banks by name; a bank ID posted by hand that the page would not
// offer (unknown, the lead itself, already in the deal) is refused beside
// the field here, in the reader's language, and the deals service still
// checks whatever it is sent.
func (s *Server) inviteBank(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	f := postedForm(r)
	cmd := dealsapi.InviteBank{DealID: chi.URLParam(r, "id"), BankID: strings.TrimSpace(r.PostFormValue("bank_id"))}
	err := cmd.Validate()
	if err == nil {
		err = s.checkInvitable(r, cmd)
	}
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, dealsapi.InviteBankEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderBank(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/bank", reply)+"#deal-"+cmd.DealID, "notice.bank_invited")
}

// checkInvitable refuses a bank the deal's page would not offer. A deal
// this bank cannot see, or does not lead, is left to the service's own
// refusal.
func (s *Server) checkInvitable(r *http.Request, cmd dealsapi.InviteBank) error {
	deal, _, err := call(r.Context(), s, r, dealsapi.GetDealEndpoint, dealsapi.GetDeal{DealID: cmd.DealID}, callOpts{})
	if err != nil {
		return err
	}
	a, _ := actorOf(r)
	if !leads(a.OrgID, deal) {
		return nil
	}
	directory, err := s.bankDirectory(r)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(invitable(directory, deal), func(b dealsapi.BankEntry) bool { return b.BankID == cmd.BankID }) {
		return fundbridge.Invalid("invalid invitation", fundbridge.FieldError{Field: "bank_id", Reason: reasonNotInvitable})
	}
	return nil
}

// reasonNotInvitable is the web's reason for a bank ID it did not offer.
const reasonNotInvitable = "not a bank you can invite: choose one of the banks listed"
