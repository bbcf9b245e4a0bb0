package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
)

// The languages of the pages; the first is the default when
// Accept-Language names neither.
var languages = []language.Tag{language.SimplifiedChinese, language.English}

// i18n holds the message catalogs (golang.org/x/text) and the matcher
// that picks a language from a cookie or Accept-Language.
type i18n struct {
	cat     *catalog.Builder
	matcher language.Matcher
}

func newI18n() *i18n {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for key, m := range messages {
		_ = b.SetString(language.English, key, m[0])
		_ = b.SetString(language.SimplifiedChinese, key, m[1])
	}
	return &i18n{cat: b, matcher: language.NewMatcher(languages)}
}

// locale is one request's language: its printer and formats.
type locale struct {
	Tag  language.Tag
	Code string // "zh" or "en", for the lang attribute and the cookie
	p    *message.Printer
}

func (in *i18n) locale(pref ...string) *locale {
	var tags []language.Tag
	for _, p := range pref {
		if t, _, err := language.ParseAcceptLanguage(p); err == nil {
			tags = append(tags, t...)
		}
	}
	_, i, _ := in.matcher.Match(tags...)
	tag := languages[i]
	code := "zh"
	if tag == language.English {
		code = "en"
	}
	return &locale{Tag: tag, Code: code, p: message.NewPrinter(tag, message.Catalog(in.cat))}
}

// locale picks the language: the remembered choice, else Accept-Language.
func (s *Server) locale(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pref []string
		if c, err := r.Cookie(langCookie); err == nil {
			pref = append(pref, c.Value)
		}
		pref = append(pref, r.Header.Get("Accept-Language"))
		l := s.i18n.locale(pref...)
		w.Header().Set("Content-Language", l.Code)
		w.Header().Add("Vary", "Accept-Language, Cookie")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), localeKey, l)))
	})
}

func localeOf(r *http.Request) *locale {
	if l, ok := r.Context().Value(localeKey).(*locale); ok {
		return l
	}
	return nil
}

// switchLanguage remembers the language chosen and goes back.
func (s *Server) switchLanguage(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if to != "zh" && to != "en" {
		to = "zh"
	}
	setCookie(w, r, langCookie, to, 365*24*time.Hour)
	http.Redirect(w, r, localPath(r.URL.Query().Get("back"), "/"), http.StatusSeeOther)
}

// T translates a message key.
func (l *locale) T(key string, args ...any) string { return l.p.Sprintf(key, args...) }

// Enum translates a value of one of the domain's enums: "stage" and
// "seed" is the key "stage.seed"; an unknown value shows as it is.
func (l *locale) Enum(kind string, v any) string {
	s := fmt.Sprint(v)
	if s == "" {
		return ""
	}
	key := kind + "." + s
	if _, ok := messages[key]; !ok {
		return s
	}
	return l.p.Sprintf(key)
}

// Enums translates a list of one enum's values and joins them the
// locale's way: "equity, loan" in English, "股权融资、贷款" in Chinese.
func (l *locale) Enums(kind string, vs any) string {
	list := reflect.ValueOf(vs)
	if list.Kind() != reflect.Slice {
		return l.Enum(kind, vs)
	}
	parts := make([]string, list.Len())
	for i := range parts {
		parts[i] = l.Enum(kind, list.Index(i).Interface())
	}
	return strings.Join(parts, l.T("list.separator"))
}

// Money writes an amount the locale's way: CLDR's symbol for CNY (¥ in
// Chinese, CN¥ in English) and grouped digits, from the decimal itself,
// never a float.
func (l *locale) Money(v any) string {
	var d decimal.Decimal
	switch a := v.(type) {
	case money.Amount:
		d = a.Decimal()
	case *money.Amount:
		if a == nil {
			return "—"
		}
		d = a.Decimal()
	case decimal.Decimal:
		d = a
	case string:
		var err error
		if d, err = decimal.NewFromString(a); err != nil {
			return a
		}
	default:
		return fmt.Sprint(v)
	}
	// Chinese readers write ¥; in English CLDR's CN¥ tells it from the yen.
	sym := l.p.Sprint(currency.NarrowSymbol(currency.CNY))
	if l.Code != "zh" {
		sym = l.p.Sprint(currency.Symbol(currency.CNY))
	}
	s := d.StringFixed(2)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	return sign + sym + group(whole) + "." + frac
}

// group puts a comma between each three digits, as both languages do.
func group(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Percent writes a fraction ("0.1666666667") as a percentage with two
// places.
func (l *locale) Percent(v any) string {
	var d decimal.Decimal
	switch f := v.(type) {
	case decimal.Decimal:
		d = f
	case string:
		var err error
		if d, err = decimal.NewFromString(f); err != nil {
			return f
		}
	default:
		return fmt.Sprint(v)
	}
	return d.Shift(2).StringFixed(2) + "%"
}

// china is the time zone every date is shown in.
var china = time.FixedZone("CST", 8*3600)

// Date writes a day as its readers expect: 2026年11月30日, Nov 30, 2026.
func (l *locale) Date(v any) string {
	t, ok := asTime(v)
	if !ok {
		return fmt.Sprint(v)
	}
	if l.Code == "zh" {
		return t.In(china).Format("2006年1月2日")
	}
	return t.In(china).Format("Jan 2, 2006")
}

// DateTime writes a moment to the minute, in China's time.
func (l *locale) DateTime(v any) string {
	t, ok := asTime(v)
	if !ok {
		return fmt.Sprint(v)
	}
	if l.Code == "zh" {
		return t.In(china).Format("2006年1月2日 15:04")
	}
	return t.In(china).Format("Jan 2, 2006 15:04")
}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, true
	case string:
		if d, err := time.ParseInLocation("2006-01-02", t, china); err == nil {
			return d, true
		}
	}
	return time.Time{}, false
}

// Problem translates an error by its stable code; a field's reason is
// translated when the catalog knows it and shown as the service wrote it
// otherwise.
func (l *locale) Problem(err error) string {
	code := fundbridge.ErrorCode(err)
	key := "problem." + code
	if _, ok := messages[key]; !ok {
		key = "problem.internal"
	}
	msg := l.p.Sprintf(key)
	if detail := fundbridge.ErrorMessage(err); code != fundbridge.EINVALID && code != fundbridge.EINTERNAL && detail != "" {
		msg += " " + sentence(l.Reason(detail))
	}
	return msg
}

// sentence starts s with a capital letter and ends it with a full stop,
// as it follows one: "email or password is wrong" reads "Email or
// password is wrong.". Text in Chinese, and text that starts with an ID
// (a first word that is not only letters), is left as it is.
func sentence(s string) string {
	first, _, _ := strings.Cut(s, " ")
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsLower(r) || strings.ContainsFunc(first, func(r rune) bool { return !unicode.IsLetter(r) }) {
		return s
	}
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// Reason translates a field's reason when the catalog has it.
func (l *locale) Reason(reason string) string {
	if _, ok := messages["reason."+reason]; ok {
		return l.p.Sprintf("reason." + reason)
	}
	for prefix := range reasonPrefixes {
		if strings.HasPrefix(reason, prefix) {
			return l.p.Sprintf("reason."+prefix) + strings.TrimPrefix(reason, prefix)
		}
	}
	return reason
}

// reasonPrefixes are reasons that start the same and end with a value.
var reasonPrefixes = map[string]bool{"must be at most ": true,
	// An insurer's claim steps and a startup's premium, each with its figure.
	"must not exceed the amount claimed, ": true, "must not exceed what is left of the aggregate limit, ": true,
	"must not exceed what is owed on the claim, ": true, "must be the premium due, ": true}

// URL builds a link to the same page in the other language.
func (l *locale) SwitchURL(to string, r *http.Request) string {
	return "/lang?to=" + to + "&back=" + url.QueryEscape(r.URL.RequestURI())
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
