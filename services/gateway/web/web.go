// Package web is Fundbridge's web application: server-rendered pages for
// every role, mounted by the gateway at "/". The pages call the services
// as the API does (svc.Call with the signed-in user's actor on the
// gateway's connection), never the API over HTTP.
//
// A session is the API's own signed token in an HttpOnly, SameSite=Lax
// cookie (Secure over TLS). Cross-site form posts are refused by
// net/http's CrossOriginProtection; every form carries an idempotency key
// so that a double click does one thing.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
)

//go:embed static templates
var assets embed.FS

// Sessions signs and checks the tokens a session cookie carries (the
// gateway's Tokens).
type Sessions interface {
	Issue(fundbridge.Actor) (string, time.Time, error)
	Verify(token string) (fundbridge.Actor, error)
}

// Options are what the gateway lends the pages: its connection to the
// services, its token signer and its abuse limits.
type Options struct {
	Client   *svc.Client
	Sessions Sessions
	// SignIn checks an email and password under the gateway's sign-in
	// limits and returns who signed in.
	SignIn func(r *http.Request, email, password string) (fundbridge.Actor, error)
	// AllowSignUp and AllowWrite apply the gateway's limits on sign-ups
	// (per address) and changes (per user); nil allows.
	AllowSignUp func(r *http.Request) error
	AllowWrite  func(r *http.Request, a fundbridge.Actor) error
	// StatusFor is the API's HTTP status for an error code, so a page
	// answers a refusal with the status the API would.
	StatusFor func(code string) int
	Logger    *slog.Logger
}

// Server serves the pages.
type Server struct {
	o     Options
	log   *slog.Logger
	i18n  *i18n
	pages map[string]*template.Template
}

// cookie names.
const (
	sessionCookie = "fb_session"
	langCookie    = "fb_lang"
)

// New parses the templates and builds the message catalogs.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Server{o: o, log: o.Logger, i18n: newI18n()}
	if err := s.parse(); err != nil {
		return nil, err
	}
	return s, nil
}

// Register adds the pages to the gateway's router. The API's routes are
// more specific, so they keep their paths.
func (s *Server) Register(r chi.Router) {
	static, _ := fs.Sub(assets, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", staticHandler(static)))
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "problem.cross_origin")
	}))
	r.Group(func(r chi.Router) {
		r.Use(pageHeaders, csrf.Handler, s.locale, s.session)
		r.Get("/", s.home)
		r.Get("/lang", s.switchLanguage)
		r.Get("/signin", s.signInPage)
		r.Post("/signin", s.signIn)
		r.Get("/signup", s.signUpPage)
		r.Post("/signup", s.signUp)
		r.Post("/signout", s.signOut)
		r.Group(func(r chi.Router) {
			r.Use(s.requireRole(fundbridge.RoleStartup))
			s.startupRoutes(r)
			s.startupInsuranceRoutes(r)
		})
		r.Group(func(r chi.Router) {
			r.Use(s.requireRole(fundbridge.RoleFundManager))
			s.managerRoutes(r)
		})
		r.Group(func(r chi.Router) {
			r.Use(s.requireRole(fundbridge.RoleOperator))
			s.operatorRoutes(r)
			s.subsidyRoutes(r)
		})
		r.Group(func(r chi.Router) {
			r.Use(s.requireRole(fundbridge.RoleBank))
			s.bankRoutes(r)
		})
		r.Group(func(r chi.Router) {
			r.Use(s.requireRole(fundbridge.RoleInsurer))
			s.insurerRoutes(r)
		})
	})
}

// staticHandler serves the embedded assets; they change only with the
// binary, so a day's caching is safe.
func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		files.ServeHTTP(w, r)
	})
}

// pageHeaders replace the API's deny-everything policy with one for
// pages: scripts, styles and images from this origin only, forms posting
// here only, no framing.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	actorKey ctxKey = iota
	localeKey
)

// session reads the session cookie; a bad or expired token is dropped.
func (s *Server) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err == nil && c.Value != "" {
			if a, err := s.o.Sessions.Verify(c.Value); err == nil {
				r = r.WithContext(context.WithValue(r.Context(), actorKey, a))
			} else {
				clearCookie(w, r, sessionCookie)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func actorOf(r *http.Request) (fundbridge.Actor, bool) {
	a, ok := r.Context().Value(actorKey).(fundbridge.Actor)
	return a, ok
}

// requireRole sends a stranger to sign in and refuses another role.
func (s *Server) requireRole(role fundbridge.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, ok := actorOf(r)
			if !ok {
				http.Redirect(w, r, "/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			if a.Role != role {
				s.fail(w, r, http.StatusForbidden, "problem.forbidden")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// status is the HTTP status of a refusal, as the API gives it.
func (s *Server) status(code string) int {
	if s.o.StatusFor == nil {
		return http.StatusInternalServerError
	}
	return s.o.StatusFor(code)
}

// home sends each role to its own page.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	a, ok := actorOf(r)
	if !ok {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, homeOf(a.Role), http.StatusSeeOther)
}

func homeOf(role fundbridge.Role) string {
	switch role {
	case fundbridge.RoleStartup:
		return "/startup"
	case fundbridge.RoleFundManager:
		return "/manager"
	case fundbridge.RoleOperator:
		return "/operator"
	case fundbridge.RoleBank:
		return "/bank"
	case fundbridge.RoleInsurer:
		return "/insurer"
	}
	return "/account"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// newKey is a fresh idempotency key for a form.
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// localPath keeps a redirect target on this site.
func localPath(p, fallback string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return fallback
	}
	return p
}
