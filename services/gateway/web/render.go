package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/svc"
)

// page is what every template gets: the locale's formats (embedded, so
// a template writes {{.T "key"}} and {{.Money .Data.Amount}}), who is
// signed in, the page's data and its form.
type page struct {
	*locale
	r        *http.Request
	Actor    fundbridge.Actor
	SignedIn bool
	Title    string // a message key
	Data     any
	Form     *form
	Notice   string // a message key, shown once after a redirect
}

// form is a submitted (or fresh) form: what was typed, the errors beside
// each field and the idempotency key its next post carries.
type form struct {
	Values  url.Values
	Errors  map[string]string
	Problem string
	Key     string
}

func newForm() *form { return &form{Values: url.Values{}, Errors: map[string]string{}, Key: newKey()} }

// postedForm keeps what was typed, and the form's key, for a re-render.
func postedForm(r *http.Request) *form {
	f := newForm()
	f.Values = r.PostForm
	if k := r.PostFormValue("idempotency_key"); k != "" && len(k) <= 100 {
		f.Key = k
	}
	return f
}

// fail puts err on the form: each field's reason beside it, the rest on
// top, all in the reader's language.
func (f *form) fail(l *locale, err error) {
	fields := fundbridge.ErrorFields(err)
	for _, fe := range fields {
		name := fe.Field
		if i := strings.IndexByte(name, '['); i > 0 {
			name = name[:i] // instruments[1] is beside instruments
		}
		if _, dup := f.Errors[name]; !dup {
			f.Errors[name] = l.Reason(fe.Reason)
		}
	}
	f.Problem = l.Problem(err)
	// A retry after a refusal is a new request: nothing was appended, but
	// a key the service saw once must not replay the refusal.
	f.Key = newKey()
}

// fieldView is one labelled input with its value and error.
type fieldView struct {
	Name, ID, Type, Label, Value, Error, Hint string
	Required, Checked                         bool
	Options                                   []option
	Attrs                                     template.HTMLAttr
}

type option struct {
	Value, Label string
	Selected     bool
}

// Field is an input named as the API's field, so its errors land beside it.
func (p *page) Field(name, typ, label string, required bool) fieldView {
	f := p.form()
	return fieldView{Name: name, ID: "f-" + strings.ReplaceAll(name, ".", "-"), Type: typ, Label: p.T(label),
		Value: f.Values.Get(name), Error: f.Errors[name], Required: required}
}

// FieldIn is an input of one of several forms on a page that share
// field names (one a deal or a policy): its ID is scoped, and what was
// typed and the error show only beside the form that was posted (its
// hidden "scope" input).
func (p *page) FieldIn(scope, name, typ, label string, required bool) fieldView {
	v := p.Field(name, typ, label, required)
	v.ID = "f-" + scope + "-" + strings.ReplaceAll(name, ".", "-")
	if p.form().Values.Get("scope") != scope {
		v.Value, v.Error = "", ""
	}
	return v
}

// WithValue is the field showing value, for a form filled in advance.
func (p *page) WithValue(v fieldView, value string) fieldView {
	v.Value = value
	return v
}

// Plain writes an amount as a form takes it back: "1500.00".
func (p *page) Plain(a money.Amount) string { return a.String() }

// Choice is a select (or checkbox group, with multiple) of an enum's
// values, labelled in the reader's language.
func (p *page) Choice(name, label, kind string, values any, required bool) fieldView {
	v := p.Field(name, "select", label, required)
	chosen := p.form().Values[name]
	rv := reflect.ValueOf(values)
	for i := 0; i < rv.Len(); i++ {
		val := fmt.Sprint(rv.Index(i).Interface())
		sel := false
		for _, c := range chosen {
			sel = sel || c == val
		}
		v.Options = append(v.Options, option{Value: val, Label: p.Enum(kind, val), Selected: sel})
	}
	return v
}

func (p *page) form() *form {
	if p.Form == nil {
		p.Form = newForm()
	}
	return p.Form
}

// chartArgs is what the chart template gets.
type chartArgs struct {
	P *page
	C *chart
}

// namedArgs is what the named template gets: an org's name and its ID.
type namedArgs struct {
	Name, ID, IDLabel string
}

// cellArgs is what a rating table editor's cell gets.
type cellArgs struct {
	P                      *page
	Part, Col, Label, Kind string
	I                      int
	Row                    tableRow
	Options                any
}

// Fig formats one of a chart's figures.
func (p *page) Fig(c *chart, v decimal.Decimal) string { return c.format(p.locale, v) }

// Request is the page's request, for links back to it.
func (p *page) Request() *http.Request { return p.r }

// Key is the form's idempotency key.
func (p *page) Key() string { return p.form().Key }

// Path is the page's own path, for the language links.
func (p *page) Path() string { return p.r.URL.RequestURI() }

// Is reports whether the signed-in user has the role.
func (p *page) Is(role string) bool { return p.SignedIn && string(p.Actor.Role) == role }

func (s *Server) parse() error {
	s.pages = map[string]*template.Template{}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	funcs := template.FuncMap{
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
		"str":  func(v any) string { return fmt.Sprint(v) },
		"list": func(xs ...string) []string { return xs },
		"dict": func(p *page, c *chart) chartArgs { return chartArgs{P: p, C: c} },
		// named shows an org by its name, its ID kept small beside it for
		// who must quote it; by its ID alone when the name is unknown.
		"named": func(p *page, name, id string) namedArgs {
			return namedArgs{Name: name, ID: id, IDLabel: p.T("label.org_id")}
		},
		"cellOf": func(p *page, part string, i int, col string, row tableRow, label, kind string, options any) cellArgs {
			return cellArgs{P: p, Part: part, I: i, Col: col, Row: row, Label: p.T(label), Kind: kind, Options: options}
		},
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(assets, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("web template %s: %w", base, err)
		}
		s.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return nil
}

// render writes a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any, f *form) {
	a, ok := actorOf(r)
	p := &page{locale: localeOf(r), r: r, Actor: a, SignedIn: ok, Title: title, Data: data, Form: f}
	if n := r.URL.Query().Get("done"); n != "" && strings.HasPrefix(n, "notice.") {
		if _, known := messages[n]; known {
			p.Notice = n
		}
	}
	var buf bytes.Buffer
	t := s.pages[name]
	if t == nil {
		s.log.Error("no such page template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail shows an error page in the reader's language.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, key string) {
	if localeOf(r) == nil {
		r = r.WithContext(context.WithValue(r.Context(), localeKey, s.i18n.locale(r.Header.Get("Accept-Language"))))
	}
	s.render(w, r, status, "error", "title.error", localeOf(r).T(key), nil)
}

// failErr shows a service's refusal as an error page.
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	code := fundbridge.ErrorCode(err)
	if code == fundbridge.EINTERNAL {
		s.log.Error("web page", "path", r.URL.Path, "err", err)
	}
	s.render(w, r, s.status(code), "error", "title.error", localeOf(r).Problem(err), nil)
}

// redirect goes to a page after a change, with a notice to show.
func redirect(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		path, frag, _ := strings.Cut(path, "#")
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + notice
		if frag != "" {
			path += "#" + frag
		}
		http.Redirect(w, r, path, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// callOpts are what a form's post adds to a service call.
type callOpts struct {
	key      string  // the form's idempotency key
	expected *uint64 // the version the page showed (If-Match)
}

// call sends a query or command to a service as the signed-in user (or
// as the gateway before sign-in). A command's key is scoped to the user
// and the operation, as the API scopes Idempotency-Key, so a double
// click replays the first result.
func call[Req, Resp any](ctx context.Context, s *Server, r *http.Request, e svc.Endpoint[Req, Resp], q Req, o callOpts) (Resp, svc.Reply, error) {
	a, ok := actorOf(r)
	if !ok {
		a = fundbridge.Actor{UserID: "gateway", Role: fundbridge.RoleSystem}
	}
	req := &svc.Request{Actor: a, ExpectedVersion: o.expected}
	if e.Kind == svc.IsCommand {
		if ok && s.o.AllowWrite != nil {
			if err := s.o.AllowWrite(r, a); err != nil {
				var zero Resp
				return zero, svc.Reply{}, err
			}
		}
		if o.key != "" {
			sum := sha256.Sum256([]byte("web\x00" + a.UserID + "\x00" + e.Service + "." + e.Op + "\x00" + o.key))
			req.IdempotencyKey = "web-" + hex.EncodeToString(sum[:16])
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return svc.Call(ctx, s.o.Client, e, req, q)
}

// isCode reports whether err carries the code.
func isCode(err error, code string) bool {
	var fe *fundbridge.Error
	return errors.As(err, &fe) && fe.Code == code
}
