package web

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// The application wizard: 1 instruments, 2 amount and use of funds,
// 3 review. Each step is a POST answered with 303 See Other to the next
// step's page (Post/Redirect/Get), so Back and reload fetch a page by
// GET and never meet Chrome's "Confirm Form Resubmission" (whose reload
// was sent cross-site with Origin: null and refused by
// CrossOriginProtection). The pages' addresses hold at most the draft's
// ID, never what was typed, so browser history keeps no amounts.
//
// What was typed is kept by the server: from step 2 on in the draft
// application itself, drafted under the wizard's idempotency key and
// updated by later steps. Step 1's choice comes before any draft can
// exist (a draft needs its amount), so until step 2 is posted it is
// kept, with the key, in a short-lived cookie of the wizard's own path.
// The cookie keeps a few wizards, each found by an ID derived from its
// key (?w= in the address): two tabs each drafting an application keep
// their own choices and their own keys, so neither drafts over the other.

// applyData is what the wizard's page gets: the instruments to choose
// from and where its form posts.
type applyData struct {
	Instruments []fundbridge.Instrument
	Action      string
}

// renderApply shows the wizard's step f.Values["step"] for the draft id
// ("" before one is drafted).
func (s *Server) renderApply(w http.ResponseWriter, r *http.Request, status int, id string, f *form) {
	action := "/startup/apply"
	if id != "" {
		action += "/" + id
	}
	s.render(w, r, status, "apply", "title.apply", applyData{Instruments: fundbridge.Instruments, Action: action}, f)
}

// applyPage is the wizard before a draft exists: a fresh step 1, or
// (?w=<wizard>&step=1 or 2) the step that wizard has reached, as its
// cookie says. Once drafted, the wizard's pages are the draft's own.
func (s *Server) applyPage(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	f.Values.Set("step", "1")
	step := r.URL.Query().Get("step")
	wz, ok := wizardOf(r, r.URL.Query().Get("w"))
	if step != "1" && step != "2" || !ok {
		// A new application (the step 1 a link opens) starts afresh: its
		// own key, nothing chosen; a step without the wizard's cookie
		// (expired, another browser) starts it again too.
		s.renderApply(w, r, http.StatusOK, "", f)
		return
	}
	if wz.app != "" {
		http.Redirect(w, r, "/startup/apply/"+wz.app+"?step="+step, http.StatusSeeOther)
		return
	}
	f.Key = wz.key
	f.Values["instruments"] = wz.instruments
	f.Values.Set("step", step)
	s.renderApply(w, r, http.StatusOK, "", f)
}

// draftPage is a step of the wizard on a draft, filled in from it: the
// review, or ?step=1 or 2 to change what it asks for.
func (s *Server) draftPage(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	app, _, err := call(r.Context(), s, r, applicationsapi.GetApplicationEndpoint, applicationsapi.GetApplication{ApplicationID: id, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if app.Status != applicationsapi.StatusDraft {
		// Submitted since (or another tab did): its terms are settled.
		http.Redirect(w, r, "/startup/applications/"+id, http.StatusSeeOther)
		return
	}
	f := newForm()
	f.Values = termsValues(app.ApplicationTerms)
	step := r.URL.Query().Get("step")
	if step != "1" && step != "2" {
		step = "3"
	}
	f.Values.Set("step", step)
	if n := after(r); n > 0 {
		f.Values.Set("after", strconv.FormatUint(n, 10))
	}
	s.renderApply(w, r, http.StatusOK, id, f)
}

// termsValues are a draft's terms as the wizard's form holds them.
func termsValues(t applicationsapi.ApplicationTerms) url.Values {
	v := url.Values{"amount_requested": {t.AmountRequested.String()}, "use_of_funds": {t.UseOfFunds}}
	for _, x := range t.Instruments {
		v.Add("instruments", string(x))
	}
	if t.ValuationAsk != nil {
		v.Set("valuation_ask", t.ValuationAsk.String())
	}
	if t.CreditDataConsent {
		v.Set("credit_data_consent", "yes")
	}
	return v
}

// apply takes a step of the wizard (on /startup/apply before a draft
// exists, on /startup/apply/{id} after): its fields are checked, kept,
// and the answer is the next step's page. The review's save (step 3)
// leads to the application's own page, where it is submitted.
func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	id := chi.URLParam(r, "id")
	f := postedForm(r)
	step := min(max(atoi(r.PostFormValue("step")), 1), 3)
	if r.PostFormValue("back") != "" {
		s.applyBack(w, r, f, id, step)
		return
	}
	if id != "" && step == 3 {
		s.saveReview(w, r, id)
		return
	}
	if id == "" && step == 1 {
		if _, ok := s.checkApply(w, r, f, "", 1); ok {
			wz := wizard{key: f.Key, instruments: f.Values["instruments"]}
			rememberWizard(w, r, wz)
			http.Redirect(w, r, wz.page(2), http.StatusSeeOther)
		}
		return
	}
	cmd, ok := s.checkApply(w, r, f, id, step)
	if !ok {
		return
	}
	app, reply, err := s.saveDraft(r, f.Key, id, cmd)
	if err != nil {
		f.Values.Set("step", strconv.Itoa(step))
		f.fail(localeOf(r), err)
		s.renderApply(w, r, s.status(fundbridge.ErrorCode(err)), id, f)
		return
	}
	if id == "" {
		rememberWizard(w, r, wizard{key: f.Key, instruments: f.Values["instruments"], app: app.ID})
	}
	switch step {
	case 1:
		http.Redirect(w, r, withAfter("/startup/apply/"+app.ID+"?step=2", reply), http.StatusSeeOther)
	case 2:
		http.Redirect(w, r, withAfter("/startup/apply/"+app.ID, reply), http.StatusSeeOther)
	default:
		redirect(w, r, withAfter("/startup/applications/"+app.ID, reply), "notice.drafted")
	}
}

// saveReview leads from a draft's review to its page, where it is
// submitted. It writes nothing: the draft holds its terms already, and
// the copy the review's form carries may be older than the draft (an edit
// in another tab) and must not undo it. The review's position is read
// up to, so the draft's page shows what the review showed.
func (s *Server) saveReview(w http.ResponseWriter, r *http.Request, id string) {
	n, _ := strconv.ParseUint(r.PostFormValue("after"), 10, 64)
	app, reply, err := call(r.Context(), s, r, applicationsapi.GetApplicationEndpoint, applicationsapi.GetApplication{ApplicationID: id, After: n}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	redirect(w, r, withAfter("/startup/applications/"+app.ID, reply), "notice.drafted")
}

// applyBack goes to the step before. What the step holds is kept when it
// is complete (Back after typing loses nothing); when it is not, Back
// still goes back, and the step keeps what it had.
func (s *Server) applyBack(w http.ResponseWriter, r *http.Request, f *form, id string, step int) {
	a, _ := actorOf(r)
	var saved *svc.Reply
	if cmd, problems := applyProblems(f, a.OrgID, 3); step >= 2 && len(problems) == 0 {
		if app, reply, err := s.saveDraft(r, f.Key, id, cmd); err == nil {
			id, saved = app.ID, &reply
		}
	}
	if chi.URLParam(r, "id") == "" {
		rememberWizard(w, r, wizard{key: f.Key, instruments: f.Values["instruments"], app: id})
	}
	prev := max(step-1, 1)
	path := wizard{key: f.Key}.page(prev)
	if id != "" {
		path = "/startup/apply/" + id + "?step=" + strconv.Itoa(prev)
	}
	if saved != nil {
		path = withAfter(path, *saved)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// saveDraft keeps the wizard's terms: a new draft under the wizard's key
// (the same form posted twice, a double click or a retry, is one
// application), or an update of the draft id. A key that finds a draft
// with other terms (the form saved again after an edit, from a page
// opened by Back) updates it rather than losing the edit.
func (s *Server) saveDraft(r *http.Request, key, id string, cmd applicationsapi.DraftApplication) (applicationsapi.ApplicationView, svc.Reply, error) {
	var (
		app   applicationsapi.ApplicationView
		reply svc.Reply
		err   error
	)
	if id == "" {
		app, reply, err = call(r.Context(), s, r, applicationsapi.DraftApplicationEndpoint, cmd, callOpts{key: key})
	} else {
		app, reply, err = call(r.Context(), s, r, applicationsapi.GetApplicationEndpoint, applicationsapi.GetApplication{ApplicationID: id}, callOpts{})
	}
	if err != nil || app.Status != applicationsapi.StatusDraft || sameTerms(app.ApplicationTerms, cmd.Terms()) {
		return app, reply, err
	}
	return call(r.Context(), s, r, applicationsapi.UpdateApplicationEndpoint, applicationsapi.UpdateApplication{
		ApplicationID: app.ID, AmountRequested: cmd.AmountRequested, Instruments: &cmd.Instruments, UseOfFunds: &cmd.UseOfFunds,
		ValuationAsk: applicationsapi.OptionalAmount{Set: true, Value: cmd.ValuationAsk}, CreditDataConsent: &cmd.CreditDataConsent,
	}, callOpts{})
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// checkApply reads the wizard's form and checks the fields of the steps
// up to step by the contract's rules; on a problem it shows that step
// again with what was typed and the reasons, and answers false.
func (s *Server) checkApply(w http.ResponseWriter, r *http.Request, f *form, id string, step int) (applicationsapi.DraftApplication, bool) {
	a, _ := actorOf(r)
	cmd, mine := applyProblems(f, a.OrgID, step)
	if len(mine) == 0 {
		return cmd, true
	}
	f.Values.Set("step", strconv.Itoa(step))
	f.fail(localeOf(r), fundbridge.Invalid("invalid application", mine...))
	s.renderApply(w, r, http.StatusBadRequest, id, f)
	return cmd, false
}

// applyProblems reads the draft in f and names what is wrong with the
// fields of the steps up to step. The amounts are written back as read,
// as the review shows them.
func applyProblems(f *form, companyID string, step int) (applicationsapi.DraftApplication, []fundbridge.FieldError) {
	cmd, problems := draftFrom(f.Values, companyID)
	if cmd.AmountRequested != nil {
		f.Values.Set("amount_requested", cmd.AmountRequested.String())
	}
	if cmd.ValuationAsk != nil {
		f.Values.Set("valuation_ask", cmd.ValuationAsk.String())
	}
	fields := append(problems, fundbridge.ErrorFields(cmd.Validate())...)
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
	return cmd, mine
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

// wizard is where a wizard not yet drafted has got to: its key and the
// instruments chosen at step 1, and the draft once there is one.
type wizard struct {
	key         string
	instruments []string
	app         string
}

// id names the wizard in its pages' addresses: derived from its key, so
// the address holds neither the key nor anything typed, and a step posted
// twice leads to the same page.
func (wz wizard) id() string { return svc.DerivedID("apply-wizard", wz.key) }

// page is the address of the wizard's step before it is drafted.
func (wz wizard) page(step int) string {
	return "/startup/apply?w=" + wz.id() + "&step=" + strconv.Itoa(step)
}

const (
	wizardCookie = "fb_apply"
	// wizardsKept is how many wizards the cookie keeps, the newest: a
	// tab or two each, and the cookie stays small.
	wizardsKept = 4
)

// token is what the cookie's key and draft ID may be: they are put in
// a redirect's address.
var token = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// rememberWizard keeps the wizard's place, with the other wizards the
// cookie holds (wizardsKept at most, the newest), in an HttpOnly cookie
// sent to the wizard's pages only, for a day.
func rememberWizard(w http.ResponseWriter, r *http.Request, wz wizard) {
	kept := []wizard{wz}
	for _, other := range wizardsOf(r) {
		if other.key != wz.key && len(kept) < wizardsKept {
			kept = append(kept, other)
		}
	}
	v := url.Values{}
	for n, wz := range kept {
		i := strconv.Itoa(n)
		v.Set("k"+i, wz.key)
		v["i"+i] = wz.instruments
		if wz.app != "" {
			v.Set("a"+i, wz.app)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: wizardCookie, Value: v.Encode(), Path: "/startup/apply", MaxAge: 24 * 60 * 60,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// wizardOf is the wizard id from the cookie; false when there is none
// (expired, another browser, or one the cookie no longer keeps).
func wizardOf(r *http.Request, id string) (wizard, bool) {
	for _, wz := range wizardsOf(r) {
		if wz.id() == id {
			return wz, true
		}
	}
	return wizard{}, false
}

// wizardsOf reads the wizards' cookie, skipping what this server would
// not have written (anything in it is checked again when posted).
func wizardsOf(r *http.Request) []wizard {
	c, err := r.Cookie(wizardCookie)
	if err != nil {
		return nil
	}
	v, err := url.ParseQuery(c.Value)
	if err != nil {
		return nil
	}
	var out []wizard
	for n := range wizardsKept {
		i := strconv.Itoa(n)
		wz := wizard{key: v.Get("k" + i), app: v.Get("a" + i)}
		if !token.MatchString(wz.key) || wz.app != "" && !token.MatchString(wz.app) {
			continue
		}
		for _, x := range v["i"+i] {
			if slices.Contains(fundbridge.Instruments, fundbridge.Instrument(x)) {
				wz.instruments = append(wz.instruments, x)
			}
		}
		out = append(out, wz)
	}
	return out
}
