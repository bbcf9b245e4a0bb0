package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
)

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	f.Values.Set("next", r.URL.Query().Get("next"))
	s.render(w, r, http.StatusOK, "signin", "title.signin", nil, f)
}

// signIn checks the password under the gateway's sign-in limits and
// starts a session.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "problem.invalid")
		return
	}
	f := postedForm(r)
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	f.Values.Del("password") // never sent back
	if email == "" || password == "" {
		var fe fundbridge.FieldErrors
		if email == "" {
			fe.Add("email", "required")
		}
		if password == "" {
			fe.Add("password", "required")
		}
		f.fail(localeOf(r), fe.Err("invalid sign-in"))
		s.render(w, r, http.StatusBadRequest, "signin", "title.signin", nil, f)
		return
	}
	a, err := s.o.SignIn(r, email, password)
	if err != nil {
		f.fail(localeOf(r), err)
		s.render(w, r, s.status(fundbridge.ErrorCode(err)), "signin", "title.signin", nil, f)
		return
	}
	if err := s.startSession(w, r, a); err != nil {
		s.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, localPath(r.PostFormValue("next"), homeOf(a.Role)), http.StatusSeeOther)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, a fundbridge.Actor) error {
	token, exp, err := s.o.Sessions.Issue(a)
	if err != nil {
		return err
	}
	setCookie(w, r, sessionCookie, token, time.Until(exp))
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	clearCookie(w, r, sessionCookie)
	redirect(w, r, "/signin", "notice.signed_out")
}

// signUpData is what the sign-up form offers to choose from.
type signUpData struct {
	Cities  []fundbridge.City
	Layers  []fundbridge.Layer
	Sectors []fundbridge.Sector
	Stages  []fundbridge.Stage
}

func enumsForCompany() signUpData {
	return signUpData{Cities: fundbridge.Cities, Layers: fundbridge.Layers, Sectors: fundbridge.AllSectors(), Stages: fundbridge.Stages}
}

func (s *Server) signUpPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signup", "title.signup", enumsForCompany(), nil)
}

// signUp registers a startup: its company and its first user, checked
// first by the contracts' own rules, then by the services.
func (s *Server) signUp(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "problem.invalid")
		return
	}
	f := postedForm(r)
	password := r.PostFormValue("password")
	f.Values.Del("password")
	fail := func(err error) {
		f.fail(localeOf(r), err)
		s.render(w, r, s.status(fundbridge.ErrorCode(err)), "signup", "title.signup", enumsForCompany(), f)
	}
	company, problems := companyFrom(r, "company.")
	cmd := identityapi.SignupCommand{NewUser: identityapi.NewUser{Email: strings.TrimSpace(r.PostFormValue("email")), Password: password, Name: r.PostFormValue("name")}}
	cmd.Company, _ = json.Marshal(company)
	problems = append(problems, cmd.NewUser.Problems("")...)
	check := company
	check.CompanyID = "new"
	problems = append(problems, prefixed(fundbridge.ErrorFields(check.Validate()), "company.")...)
	if len(problems) > 0 {
		fail(fundbridge.Invalid("invalid sign-up", problems...))
		return
	}
	if s.o.AllowSignUp != nil {
		if err := s.o.AllowSignUp(r); err != nil {
			fail(err)
			return
		}
	}
	if _, _, err := call(r.Context(), s, r, identityapi.SignupEndpoint, cmd, callOpts{key: f.Key}); err != nil {
		fail(err)
		return
	}
	a, err := s.o.SignIn(r, cmd.Email, password)
	if err != nil {
		fail(err)
		return
	}
	if err := s.startSession(w, r, a); err != nil {
		s.failErr(w, r, err)
		return
	}
	redirect(w, r, "/startup", "notice.welcome")
}

// companyFrom reads a company's fields (named prefix+field).
func companyFrom(r *http.Request, prefix string) (applicationsapi.RegisterCompany, []fundbridge.FieldError) {
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(prefix + k)) }
	c := applicationsapi.RegisterCompany{
		Name: get("name"), USCC: strings.ToUpper(get("uscc")), City: fundbridge.City(get("city")),
		Layer: fundbridge.Layer(get("layer")), Sector: fundbridge.Sector(get("sector")),
		FoundedOn: get("founded_on"), Stage: fundbridge.Stage(get("stage")),
	}
	var problems []fundbridge.FieldError
	if h := get("headcount"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil {
			problems = append(problems, fundbridge.FieldError{Field: prefix + "headcount", Reason: "must be a whole number"})
		}
		c.Headcount = n
	}
	return c, problems
}

func prefixed(fields []fundbridge.FieldError, prefix string) []fundbridge.FieldError {
	out := make([]fundbridge.FieldError, 0, len(fields))
	for _, f := range fields {
		if f.Field == "company_id" {
			continue
		}
		out = append(out, fundbridge.FieldError{Field: prefix + f.Field, Reason: f.Reason})
	}
	return out
}
