package web

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// The rating table editor: the insurer's published table as rows of
// inputs (age bands, rates, portfolio factors) plus blank rows to add
// to; a row left blank is dropped, so emptying a row removes it. The
// service checks the whole table; each refusal is shown beside its cell.

// blankRows is how many empty rows each part of the table offers.
const blankRows = 3

// tableRow is one row of the editor: its cells as typed, and the
// errors beside them by column ("" for the row as a whole).
type tableRow struct {
	Cells map[string]string
	Errs  map[string]string
}

func (r tableRow) blank() bool {
	for _, v := range r.Cells {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

type ratingTableEditor struct {
	Minimum     string
	MinimumErr  string
	Bands       []tableRow
	Rates       []tableRow
	Factors     []tableRow
	SectionErrs map[string]string // "age_bands", "rates", "portfolio_factors"
	Coverages   []insuranceapi.Coverage
	Kinds       []insuranceapi.PatentKind
	Claims      []insuranceapi.ClaimsBand
	Published   bool
}

// The columns of each part, named as the contract's JSON fields (errors
// come back under those names) and posted as "<part>.<column>".
var (
	bandCols   = []string{"name", "from_years", "to_years"}
	rateCols   = []string{"coverage", "patent_kind", "age_band", "claims", "rate"}
	factorCols = []string{"min_patents", "factor"}
)

func (s *Server) ratingTablePage(w http.ResponseWriter, r *http.Request) {
	s.renderRatingTable(w, r, http.StatusOK, nil, nil)
}

// renderRatingTable shows the editor: with a refused post's rows as
// typed, else the published table.
func (s *Server) renderRatingTable(w http.ResponseWriter, r *http.Request, status int, f *form, ed *ratingTableEditor) {
	if ed == nil {
		a, _ := actorOf(r)
		ed = &ratingTableEditor{}
		ins, _, err := call(r.Context(), s, r, insuranceapi.GetInsurerEndpoint, insuranceapi.InsurerRef{InsurerID: a.OrgID, After: after(r)}, callOpts{})
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if ins.PublishesTable {
			t, _, err := call(r.Context(), s, r, insuranceapi.GetRatingTableEndpoint, insuranceapi.InsurerRef{InsurerID: a.OrgID}, callOpts{})
			if err != nil {
				s.failErr(w, r, err)
				return
			}
			ed = editorOf(t.Table)
			ed.Published = true
		}
	}
	ed.Coverages, ed.Kinds, ed.Claims = insuranceapi.Coverages, insuranceapi.PatentKinds, insuranceapi.ClaimsBands
	for range blankRows {
		ed.Bands = append(ed.Bands, newRow(bandCols))
		ed.Rates = append(ed.Rates, newRow(rateCols))
		ed.Factors = append(ed.Factors, newRow(factorCols))
	}
	s.render(w, r, status, "ratingtable", "title.rating_table", ed, f)
}

func newRow(cols []string) tableRow {
	row := tableRow{Cells: map[string]string{}, Errs: map[string]string{}}
	for _, c := range cols {
		row.Cells[c] = ""
	}
	return row
}

func editorOf(t insuranceapi.RatingTable) *ratingTableEditor {
	ed := &ratingTableEditor{Minimum: t.MinimumPremium.String()}
	for _, b := range t.AgeBands {
		row := newRow(bandCols)
		row.Cells["name"], row.Cells["from_years"] = b.Name, strconv.Itoa(b.From)
		if b.To > 0 {
			row.Cells["to_years"] = strconv.Itoa(b.To)
		}
		ed.Bands = append(ed.Bands, row)
	}
	for _, rt := range t.Rates {
		row := newRow(rateCols)
		row.Cells["coverage"], row.Cells["patent_kind"], row.Cells["age_band"] = string(rt.Coverage), string(rt.PatentKind), rt.AgeBand
		row.Cells["claims"], row.Cells["rate"] = string(rt.Claims), rt.Rate.String()
		ed.Rates = append(ed.Rates, row)
	}
	for _, pf := range t.PortfolioFactors {
		row := newRow(factorCols)
		row.Cells["min_patents"], row.Cells["factor"] = strconv.Itoa(pf.MinPatents), pf.Factor.String()
		ed.Factors = append(ed.Factors, row)
	}
	return ed
}

// postedRows reads a part's rows as posted, dropping blank ones.
func postedRows(r *http.Request, part string, cols []string) []tableRow {
	n := len(r.PostForm[part+"."+cols[0]])
	var rows []tableRow
	for i := range n {
		row := newRow(cols)
		for _, c := range cols {
			if vs := r.PostForm[part+"."+c]; i < len(vs) {
				row.Cells[c] = strings.TrimSpace(vs[i])
			}
		}
		if !row.blank() {
			rows = append(rows, row)
		}
	}
	return rows
}

// tableProblems collects what the page reads wrongly before the service
// sees the table, named as the service names its own refusals.
type tableProblems []fundbridge.FieldError

func (p *tableProblems) add(field, reason string) {
	*p = append(*p, fundbridge.FieldError{Field: "table." + field, Reason: reason})
}

func (p *tableProblems) whole(field, s string, optional bool) int {
	if s == "" && optional {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.add(field, "must be a whole number")
	}
	return n
}

func (p *tableProblems) fraction(field, s string) insuranceapi.Fraction {
	var f insuranceapi.Fraction
	if s == "" {
		p.add(field, `required: a decimal string like "0.0150"`)
	} else if err := f.UnmarshalJSON([]byte(strconv.Quote(s))); err != nil {
		p.add(field, err.Error())
	}
	return f
}

// tableOf is the table the rows describe.
func tableOf(ed *ratingTableEditor, minimum string) (insuranceapi.RatingTable, tableProblems) {
	var t insuranceapi.RatingTable
	var p tableProblems
	if a, err := parseAmount("table.minimum_premium", minimum, true); err != nil {
		p = append(p, fundbridge.ErrorFields(err)...)
	} else {
		t.MinimumPremium = *a
	}
	for i, row := range ed.Bands {
		at := "age_bands[" + strconv.Itoa(i) + "]."
		t.AgeBands = append(t.AgeBands, insuranceapi.AgeBand{Name: row.Cells["name"],
			From: p.whole(at+"from_years", row.Cells["from_years"], false), To: p.whole(at+"to_years", row.Cells["to_years"], true)})
	}
	for i, row := range ed.Rates {
		at := "rates[" + strconv.Itoa(i) + "]."
		t.Rates = append(t.Rates, insuranceapi.Rate{Coverage: insuranceapi.Coverage(row.Cells["coverage"]),
			PatentKind: insuranceapi.PatentKind(row.Cells["patent_kind"]), AgeBand: row.Cells["age_band"],
			Claims: insuranceapi.ClaimsBand(row.Cells["claims"]), Rate: p.fraction(at+"rate", row.Cells["rate"])})
	}
	for i, row := range ed.Factors {
		at := "portfolio_factors[" + strconv.Itoa(i) + "]."
		t.PortfolioFactors = append(t.PortfolioFactors, insuranceapi.PortfolioFactor{
			MinPatents: p.whole(at+"min_patents", row.Cells["min_patents"], false), Factor: p.fraction(at+"factor", row.Cells["factor"])})
	}
	return t, p
}

// cellField is "table.rates[3].rate": part, row and column.
var cellField = regexp.MustCompile(`^table\.(age_bands|rates|portfolio_factors)\[(\d+)\](?:\.(\w+))?$`)

// placeErrors puts each refusal beside its cell, its row, its part or
// the minimum premium, in the reader's language.
func placeErrors(ed *ratingTableEditor, l *locale, err error) {
	ed.SectionErrs = map[string]string{}
	parts := map[string][]tableRow{"age_bands": ed.Bands, "rates": ed.Rates, "portfolio_factors": ed.Factors}
	for _, fe := range fundbridge.ErrorFields(err) {
		reason := l.Reason(fe.Reason)
		if fe.Field == "table.minimum_premium" {
			ed.MinimumErr = reason
			continue
		}
		m := cellField.FindStringSubmatch(fe.Field)
		if m == nil {
			part := strings.TrimPrefix(fe.Field, "table.")
			if _, dup := ed.SectionErrs[part]; !dup {
				ed.SectionErrs[part] = reason
			}
			continue
		}
		i, _ := strconv.Atoi(m[2])
		if rows := parts[m[1]]; i < len(rows) {
			if _, dup := rows[i].Errs[m[3]]; !dup {
				rows[i].Errs[m[3]] = reason
			}
		}
	}
}

// publishRatingTable publishes the edited table; it replaces the last.
func (s *Server) publishRatingTable(w http.ResponseWriter, r *http.Request) {
	if !parse(w, r, s) {
		return
	}
	a, _ := actorOf(r)
	f := postedForm(r)
	ed := &ratingTableEditor{Minimum: strings.TrimSpace(r.PostFormValue("table.minimum_premium")),
		Bands: postedRows(r, "age_bands", bandCols), Rates: postedRows(r, "rates", rateCols), Factors: postedRows(r, "portfolio_factors", factorCols)}
	table, problems := tableOf(ed, ed.Minimum)
	table.InsurerID = a.OrgID
	cmd := insuranceapi.PublishRatingTable{InsurerID: a.OrgID, Table: table}
	err := validateWith(cmd.Validate(), problems)
	var reply svc.Reply
	if err == nil {
		_, reply, err = call(r.Context(), s, r, insuranceapi.PublishRatingTableEndpoint, cmd, callOpts{key: f.Key})
	}
	if err != nil {
		f.fail(localeOf(r), err)
		placeErrors(ed, localeOf(r), err)
		s.renderRatingTable(w, r, s.status(fundbridge.ErrorCode(err)), f, ed)
		return
	}
	redirect(w, r, withAfter("/insurer/table", reply), "notice.table_published")
}
