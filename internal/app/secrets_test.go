package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// operatorPassword is the test operator's password.
const operatorPassword = "operator-password"

// recorder keeps everything the product said during a black-box test (every
// response body and every log line) and, when the test ends, fails it if
// any of that holds a password sent to it, a bcrypt hash, a key from the
// data directory, or a bearer token outside the sign-in that issued it.
type recorder struct {
	mu        sync.Mutex
	passwords map[string]bool
	tokens    map[string]bool
	responses [][]byte // all but sign-ins
	signIns   [][]byte // sign-in answers: they carry their own token
	logs      bytes.Buffer
}

func newRecorder() *recorder {
	return &recorder{passwords: map[string]bool{}, tokens: map[string]bool{}}
}

// Write takes log output.
func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.Write(p)
}

// request notes the passwords a request body carries, at any depth.
func (r *recorder) request(body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "password" && len(strings.TrimSpace(s)) >= 8 {
					r.passwords[s] = true
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

// response keeps a response body; a sign-in's token is noted.
func (r *recorder) response(body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &tok) == nil && tok.AccessToken != "" {
		r.tokens[tok.AccessToken] = true
		r.signIns = append(r.signIns, body)
		return
	}
	r.responses = append(r.responses, body)
}

// keyForms are the ways a key file's bytes could show up in text.
func keyForms(t *testing.T, path string) []string {
	key, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return []string{string(key), hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key)}
}

// check fails t if anything recorded holds a secret.
func (r *recorder) check(t *testing.T, dataDir string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	secrets := map[string]string{"$2a$": "a bcrypt hash", "$2b$": "a bcrypt hash", "$2y$": "a bcrypt hash"}
	for p := range r.passwords {
		secrets[p] = "a password"
	}
	keys, _ := filepath.Glob(filepath.Join(dataDir, "*", "*.key"))
	for _, k := range keys {
		for _, form := range keyForms(t, k) {
			secrets[form] = "the key " + filepath.Base(k)
		}
	}
	scan := func(where string, text []byte, withTokens bool) {
		s := string(text)
		for secret, what := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s contains %s: %.300s", where, what, s)
			}
		}
		if withTokens {
			for tok := range r.tokens {
				if strings.Contains(s, tok) {
					t.Errorf("%s contains a bearer token: %.300s", where, s)
				}
			}
		}
	}
	for _, b := range r.responses {
		scan("a response", b, true)
	}
	for _, b := range r.signIns {
		scan("a sign-in response", b, false)
	}
	for _, line := range strings.Split(r.logs.String(), "\n") {
		scan("a log line", []byte(line), true)
	}
}

func (p *product) record(body []byte) { p.rec.response(body) }

// The audit trail of a user shows who registered them, not their secret;
// the recorder then checks every answer of the test for secrets.
func TestAuditTrailOfUsersHoldsNoSecret(t *testing.T) {
	p := start(t)
	founder, _ := p.signUp(5, "seed")
	for _, tok := range []string{founder, p.opToken} {
		me := p.do("GET", "/api/v1/me", tok, nil)
		userID, _ := me.body["user"].(map[string]any)["user_id"].(string)
		r := p.do("GET", "/api/v1/streams/user-"+userID+"/events", p.opToken, nil)
		if r.status != 200 || !strings.Contains(string(r.raw), `"credential":"[redacted]"`) {
			t.Errorf("audit trail of %s = %d %s", userID, r.status, r.raw)
		}
	}
}
