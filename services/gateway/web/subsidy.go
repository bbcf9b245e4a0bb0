package web

import (
	"net/http"
	"strings"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

func (s *Server) subsidyRoutes(r interface {
	Get(string, http.HandlerFunc)
	Post(string, http.HandlerFunc)
}) {
	r.Get("/operator/subsidies", s.subsidies)
	r.Post("/operator/subsidies", s.createSubsidyProgramme)
}

type subsidyPage struct {
	Programmes []insuranceapi.ProgrammeView
	Coverages  []insuranceapi.Coverage
	Cities     []fundbridge.City
}

func (s *Server) subsidies(w http.ResponseWriter, r *http.Request) {
	s.renderSubsidies(w, r, http.StatusOK, nil)
}

// renderSubsidies lists the premium subsidy programmes with their budget
// drawn and left, and the form that opens one.
func (s *Server) renderSubsidies(w http.ResponseWriter, r *http.Request, status int, f *form) {
	list, _, err := call(r.Context(), s, r, insuranceapi.ListProgrammesEndpoint, insuranceapi.ListProgrammes{Limit: 100, After: after(r)}, callOpts{})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.render(w, r, status, "subsidies", "title.subsidies", subsidyPage{Programmes: list.Items, Coverages: insuranceapi.Coverages, Cities: fundbridge.Cities}, f)
}

func (s *Server) createSubsidyProgramme(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	f := postedForm(r)
	cmd := insuranceapi.CreateSubsidyProgramme{Name: strings.TrimSpace(r.PostFormValue("name")), Sponsor: strings.TrimSpace(r.PostFormValue("sponsor")),
		Share: strings.TrimSpace(r.PostFormValue("share"))}
	for _, c := range r.PostForm["coverages"] {
		cmd.Coverages = append(cmd.Coverages, insuranceapi.Coverage(c))
	}
	for _, c := range r.PostForm["cities"] {
		cmd.Cities = append(cmd.Cities, fundbridge.City(c))
	}
	problems := amounts(r, map[string]*money.Amount{"budget": &cmd.Budget, "cap_per_company_per_year": &cmd.CapPerYear})
	err := validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, insuranceapi.CreateProgrammeEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		s.renderSubsidies(w, r, s.status(fundbridge.ErrorCode(err)), f)
		return
	}
	redirect(w, r, withAfter("/operator/subsidies", reply), "notice.programme_created")
}
