package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/internal/keyfile"
)

// Tokens signs and checks bearer tokens: HS256 JWTs naming the user, role
// and org, expiring after TTL. It signs with one key and accepts tokens
// signed by it or by the other keys it is given, so that the signing key
// can be rotated without signing anyone out (SECURITY.md).
type Tokens struct {
	key    []byte
	keyID  string
	verify map[string][]byte // key ID → key, the signing key included
	ttl    time.Duration
	now    func() time.Time
	// verified remembers tokens already checked, until they expire: a
	// client sends the same token with every request, and checking its
	// signature and claims again each time was a twentieth of a read's CPU.
	verified verifiedTokens
	// revoked lists users whose tokens no longer count; nil: none do.
	revoked revocationList
}

// revocationList says whether a user's tokens were revoked.
type revocationList interface {
	Revoked(userID string) bool
}

// verifiedTokens maps a token, as sent, to its actor and expiry. It is
// emptied when full, so it stays bounded whatever tokens arrive.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	actor fundbridge.Actor
	exp   time.Time
}

// maxVerifiedTokens bounds the tokens remembered (a few MiB at most).
const maxVerifiedTokens = 10_000

func (v *verifiedTokens) get(token string, now time.Time) (fundbridge.Actor, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.m[token]
	if !ok {
		return fundbridge.Actor{}, false
	}
	if !now.Before(e.exp) {
		delete(v.m, token)
		return fundbridge.Actor{}, false
	}
	return e.actor, true
}

func (v *verifiedTokens) put(token string, a fundbridge.Actor, exp time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= maxVerifiedTokens {
		v.m = make(map[string]verifiedToken)
	}
	v.m[token] = verifiedToken{a, exp}
}

// NewTokens returns a signer with the given key, also accepting tokens
// signed by the others (each at least 32 bytes).
func NewTokens(key []byte, ttl time.Duration, others ...[]byte) (*Tokens, error) {
	if ttl == 0 {
		ttl = 12 * time.Hour
	}
	t := &Tokens{key: key, keyID: tokenKeyID(key), verify: map[string][]byte{}, ttl: ttl, now: time.Now}
	for _, k := range append([][]byte{key}, others...) {
		if len(k) < 32 {
			return nil, errors.New("token signing key must be at least 32 bytes")
		}
		t.verify[tokenKeyID(k)] = k
	}
	return t, nil
}

// tokenKeyID names a key in a token's "kid" header without revealing it.
func tokenKeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("fundbridge token key id\x00"), key...))
	return hex.EncodeToString(sum[:6])
}

// keyFor picks the key a token names; a token without a known key ID is
// tried against every key.
func (t *Tokens) keyFor(tok *jwt.Token) (any, error) {
	if kid, _ := tok.Header["kid"].(string); kid != "" {
		if k, ok := t.verify[kid]; ok {
			return k, nil
		}
	}
	set := jwt.VerificationKeySet{}
	for _, k := range t.verify {
		set.Keys = append(set.Keys, k)
	}
	return set, nil
}

// LoadPreviousKeys reads keys that tokens may still be signed with; each
// file must exist.
func LoadPreviousKeys(paths ...string) ([][]byte, error) {
	var keys [][]byte
	for _, p := range paths {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("previous signing key: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// LoadOrCreateKey reads the signing key from path, creating a random one
// (mode 0600) on first use, so tokens survive a restart.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := keyfile.LoadOrCreate(path, 32)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return key, nil
}

type claims struct {
	Role fundbridge.Role `json:"role"`
	Org  string          `json:"org,omitempty"`
	jwt.RegisteredClaims
}

const issuer = "fundbridge"

// Issue returns a signed token for the actor and when it expires.
func (t *Tokens) Issue(a fundbridge.Actor) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(t.ttl)
	c := claims{Role: a.Role, Org: a.OrgID, RegisteredClaims: jwt.RegisteredClaims{
		Subject: a.UserID, Issuer: issuer, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = t.keyID
	s, err := tok.SignedString(t.key)
	return s, exp, err
}

// Verify checks a token and returns its actor.
func (t *Tokens) Verify(token string) (fundbridge.Actor, error) {
	if a, ok := t.verified.get(token, t.now()); ok {
		return t.unlessRevoked(a)
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, t.keyFor,
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(issuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(t.now))
	if err != nil {
		return fundbridge.Actor{}, fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "invalid or expired token")
	}
	a := fundbridge.Actor{UserID: c.Subject, Role: c.Role, OrgID: c.Org}
	if !a.Valid() || a.Role == fundbridge.RoleSystem {
		return fundbridge.Actor{}, fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "invalid token")
	}
	if c.ExpiresAt != nil { // required: checked above
		t.verified.put(token, a, c.ExpiresAt.Time)
	}
	return t.unlessRevoked(a)
}

// unlessRevoked is a verified token's actor, unless their tokens were
// revoked since it was signed.
func (t *Tokens) unlessRevoked(a fundbridge.Actor) (fundbridge.Actor, error) {
	if t.revoked != nil && t.revoked.Revoked(a.UserID) {
		return fundbridge.Actor{}, fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "%v", errRevoked)
	}
	return a, nil
}

type actorKey struct{}

// ActorFrom returns the authenticated actor of a request.
func ActorFrom(ctx context.Context) (fundbridge.Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(fundbridge.Actor)
	return a, ok
}

// authenticate requires a valid bearer token.
func (g *Gateway) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The scheme is case-insensitive (RFC 9110 §11.1): "bearer" is "Bearer".
		scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fundbridge"`)
			WriteProblem(w, r, fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "missing bearer token"))
			return
		}
		a, err := g.tokens.Verify(token)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fundbridge", error="invalid_token"`)
			WriteProblem(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, a)))
	})
}
