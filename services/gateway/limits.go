package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/fundbridge/fundbridge"
)

// Bucket is a token bucket: Burst tokens at most, one more every Every.
type Bucket struct {
	Burst int
	Every time.Duration
}

func (b Bucket) String() string { return strconv.Itoa(b.Burst) + "/" + b.Every.String() }

// ParseBucket reads a bucket written "burst/every", like "10/1m": ten at
// once, then one more each minute.
func ParseBucket(s string) (Bucket, error) {
	burst, every, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(burst)
	if !ok || err != nil || n < 1 {
		return Bucket{}, fmt.Errorf("limit %q: want burst/interval like 10/1m, burst at least 1", s)
	}
	d, err := time.ParseDuration(every)
	if err != nil || d <= 0 {
		return Bucket{}, fmt.Errorf("limit %q: want burst/interval like 10/1m, interval a positive duration", s)
	}
	return Bucket{Burst: n, Every: d}, nil
}

// Limits are the gateway's abuse limits. Zero fields take DefaultLimits'.
//
// Sign-in counts failures, not attempts, except for SignInAttempts: a
// successful sign-in gives its tokens back, so a whole office behind one
// address (or the demo loader on 127.0.0.1) signs in freely while a
// guesser is slowed. A lockout is per (account, address): an attacker
// locks out only themself. The per-account bucket only slows addresses
// that have themselves failed on the account, so a real user signing in
// from an address that has not failed always gets through.
type Limits struct {
	SignInPair     Bucket // failed sign-ins per (account, address)
	SignInAccount  Bucket // failed sign-ins per account, from any address
	SignInAddress  Bucket // failed sign-ins per address, on any account
	SignInAttempts Bucket // all sign-ins per address: bounds password-hashing work
	SignUp         Bucket // sign-ups per address
	Writes         Bucket // commands per signed-in user
	// TrustedProxies are the proxies whose X-Forwarded-For is believed;
	// without them every caller behind a proxy is the proxy.
	TrustedProxies []netip.Prefix
	// MaxKeys bounds each of the six limiter tables: about 250 bytes a
	// key, 25 MB for a full table of 100k. The least recently seen key is
	// forgotten first; forgetting a key only forgives it, as waiting for
	// its bucket to refill would.
	MaxKeys int
}

// DefaultLimits are loose enough for an office behind one address and for
// the demo loader (200 sign-ups and sign-ins in a row from one address),
// and tight enough that guessing a password is hopeless: ten guesses per
// account and address, then one a minute.
func DefaultLimits() Limits {
	return Limits{
		SignInPair:     Bucket{Burst: 10, Every: time.Minute},
		SignInAccount:  Bucket{Burst: 50, Every: 20 * time.Second},
		SignInAddress:  Bucket{Burst: 30, Every: 10 * time.Second},
		SignInAttempts: Bucket{Burst: 100, Every: 100 * time.Millisecond},
		SignUp:         Bucket{Burst: 250, Every: 2 * time.Second},
		Writes:         Bucket{Burst: 100, Every: 100 * time.Millisecond},
		MaxKeys:        100_000,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	for _, f := range []struct{ b, def *Bucket }{
		{&l.SignInPair, &d.SignInPair}, {&l.SignInAccount, &d.SignInAccount}, {&l.SignInAddress, &d.SignInAddress},
		{&l.SignInAttempts, &d.SignInAttempts}, {&l.SignUp, &d.SignUp}, {&l.Writes, &d.Writes},
	} {
		if f.b.Burst == 0 || f.b.Every == 0 {
			*f.b = *f.def
		}
	}
	if l.MaxKeys == 0 {
		l.MaxKeys = d.MaxKeys
	}
	return l
}

// LimitError is a refusal by a rate limit: ETOOMANY (429) with how long
// to wait before trying again.
type LimitError struct {
	Limit   string // which limit refused: its name in Limits, in snake case (metrics)
	Message string
	Wait    time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s; retry in %s s", e.Message, retrySeconds(e.Wait))
}

// ErrorCode makes the error a coded one for fundbridge.ErrorCode.
func (e *LimitError) ErrorCode() string { return fundbridge.ETOOMANY }

// RetryAfter is how long to wait.
func (e *LimitError) RetryAfter() time.Duration { return e.Wait }

func retrySeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// retryAfterSeconds is the Retry-After header of a 429.
func retryAfterSeconds(err error) string {
	var r interface{ RetryAfter() time.Duration }
	if !errors.As(err, &r) {
		return "1"
	}
	return retrySeconds(r.RetryAfter())
}

// table holds one token bucket per key, at most max keys.
type table struct {
	b     Bucket
	cache *lru.Cache[string, *rate.Limiter]
}

func newTable(b Bucket, max int) *table {
	c, err := lru.New[string, *rate.Limiter](max)
	if err != nil {
		panic(err) // only for a size below 1, which withDefaults rules out
	}
	return &table{b: b, cache: c}
}

func (t *table) limiter(key string) *rate.Limiter {
	if l, ok := t.cache.Get(key); ok {
		return l
	}
	l := rate.NewLimiter(rate.Every(t.b.Every), t.b.Burst)
	if prev, found, _ := t.cache.PeekOrAdd(key, l); found {
		return prev
	}
	return l
}

// reserve takes a token for key now, or says how long until one is free
// (and takes nothing).
func (t *table) reserve(key string, now time.Time) (*rate.Reservation, time.Duration) {
	r := t.limiter(key).ReserveN(now, 1)
	if !r.OK() {
		return nil, t.b.Every
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return r, 0
}

// clean reports whether key has its whole bucket: it has not been
// charged lately.
func (t *table) clean(key string, now time.Time) bool {
	l, ok := t.cache.Peek(key)
	return !ok || l.TokensAt(now) >= float64(t.b.Burst)-0.001
}

// Len is the number of keys the table remembers.
func (t *table) Len() int { return t.cache.Len() }

// limiter is the gateway's set of tables.
type limiter struct {
	pair, account, address, attempts, signUp, writes *table
	trusted                                          []netip.Prefix
	now                                              func() time.Time
}

func newLimiter(l Limits) *limiter {
	l = l.withDefaults()
	return &limiter{
		pair: newTable(l.SignInPair, l.MaxKeys), account: newTable(l.SignInAccount, l.MaxKeys),
		address: newTable(l.SignInAddress, l.MaxKeys), attempts: newTable(l.SignInAttempts, l.MaxKeys),
		signUp: newTable(l.SignUp, l.MaxKeys), writes: newTable(l.Writes, l.MaxKeys),
		trusted: l.TrustedProxies, now: time.Now,
	}
}

// signInAttempt holds the failure tokens one sign-in took; a success
// gives them back.
type signInAttempt struct {
	now   time.Time
	taken []*rate.Reservation
}

// finish keeps the tokens (err is a wrong password) or gives them back.
func (a *signInAttempt) finish(err error) {
	if fundbridge.ErrorCode(err) == fundbridge.EUNAUTHORIZED {
		return
	}
	for _, r := range a.taken {
		r.CancelAt(a.now)
	}
}

func (a *signInAttempt) release() { a.finish(nil) }

// beginSignIn admits a sign-in to account from addr, or refuses it with a
// LimitError.
func (l *limiter) beginSignIn(account, addr string) (*signInAttempt, error) {
	now := l.now()
	a := &signInAttempt{now: now}
	if _, wait := l.attempts.reserve(addr, now); wait > 0 {
		return nil, &LimitError{Limit: "sign_in_attempts", Message: "too many sign-ins from your address", Wait: wait}
	}
	r, wait := l.address.reserve(addr, now)
	if wait > 0 {
		return nil, &LimitError{Limit: "sign_in_address", Message: "too many failed sign-ins from your address", Wait: wait}
	}
	a.taken = append(a.taken, r)
	pairKey := account + "\x00" + addr
	cleanPair := l.pair.clean(pairKey, now)
	if r, wait = l.pair.reserve(pairKey, now); wait > 0 {
		a.release()
		return nil, &LimitError{Limit: "sign_in_pair", Message: "too many failed sign-ins to this account from your address", Wait: wait}
	}
	a.taken = append(a.taken, r)
	if r, wait := l.account.reserve(account, now); wait == 0 {
		a.taken = append(a.taken, r)
	} else if !cleanPair {
		// Under attack: only addresses that have not failed on this
		// account get through, so the real user is never locked out.
		a.release()
		return nil, &LimitError{Limit: "sign_in_account", Message: "too many failed sign-ins to this account", Wait: wait}
	}
	return a, nil
}

// clientAddress is the key of the caller's address: the IP the connection
// comes from, an IPv6 one by its /64, which one subscriber usually holds.
// Behind a trusted proxy, forwardedFor has put the client's there.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() != nil {
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// accountKey is the account a sign-in names, as identity compares it.
func accountKey(payload json.RawMessage) string {
	var q struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(payload, &q)
	return strings.ToLower(strings.TrimSpace(q.Email))
}

// limitSignUp allows each address SignUp sign-ups.
func (g *Gateway) limitSignUp(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.allowSignUp(r); err != nil {
			WriteProblem(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitWrites allows each signed-in user Writes commands.
func (g *Gateway) limitWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := ActorFrom(r.Context()); ok {
			if err := g.allowWrite(r, a); err != nil {
				WriteProblem(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// allowSignUp applies the sign-up limit per address, for the pages.
func (g *Gateway) allowSignUp(r *http.Request) error {
	if _, wait := g.limits.signUp.reserve(clientAddress(r), g.limits.now()); wait > 0 {
		g.metrics.Refused("sign_up")
		return &LimitError{Limit: "sign_up", Message: "too many sign-ups from your address", Wait: wait}
	}
	return nil
}

// allowWrite applies the limit on changes per user, for the pages.
func (g *Gateway) allowWrite(r *http.Request, a fundbridge.Actor) error {
	if _, wait := g.limits.writes.reserve(a.UserID, g.limits.now()); wait > 0 {
		g.metrics.Refused("writes")
		return &LimitError{Limit: "writes", Message: "too many changes in a short time", Wait: wait}
	}
	return nil
}

// beginSignIn is the limiter's, counting its refusals.
func (g *Gateway) beginSignIn(r *http.Request, payload json.RawMessage) (*signInAttempt, error) {
	a, err := g.limits.beginSignIn(accountKey(payload), clientAddress(r))
	var limit *LimitError
	if errors.As(err, &limit) {
		g.metrics.Refused(limit.Limit)
	}
	return a, err
}
