package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/internal/keyfile"
)

// Tokens signs and checks bearer tokens: HS256 JWTs naming the user, role
// and org, expiring after TTL.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewTokens returns a signer with the given key (at least 32 bytes).
func NewTokens(key []byte, ttl time.Duration) (*Tokens, error) {
	if len(key) < 32 {
		return nil, errors.New("token signing key must be at least 32 bytes")
	}
	if ttl == 0 {
		ttl = 12 * time.Hour
	}
	return &Tokens{key: key, ttl: ttl, now: time.Now}, nil
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
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	return s, exp, err
}

// Verify checks a token and returns its actor.
func (t *Tokens) Verify(token string) (fundbridge.Actor, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(issuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(t.now))
	if err != nil {
		return fundbridge.Actor{}, fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "invalid or expired token")
	}
	a := fundbridge.Actor{UserID: c.Subject, Role: c.Role, OrgID: c.Org}
	if !a.Valid() || a.Role == fundbridge.RoleSystem {
		return fundbridge.Actor{}, fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "invalid token")
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
		h := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
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
