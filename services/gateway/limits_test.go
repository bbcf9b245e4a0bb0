package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
)

var wrongPassword = fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "email or password is wrong")

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func testLimiter(l Limits) (*limiter, *clock) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	lim := newLimiter(l)
	lim.now = c.now
	return lim, c
}

// signIn runs one sign-in through the limiter; ok says whether the
// password is right. It returns the limiter's refusal, if any.
func signIn(l *limiter, account, addr string, ok bool) error {
	a, err := l.beginSignIn(account, addr)
	if err != nil {
		return err
	}
	if ok {
		a.finish(nil)
	} else {
		a.finish(wrongPassword)
	}
	return nil
}

func TestEleventhWrongPasswordIsRefusedButOtherAddressesSignIn(t *testing.T) {
	l, c := testLimiter(Limits{})
	for i := range 10 {
		if err := signIn(l, "ops@x.cn", "203.0.113.7", false); err != nil {
			t.Fatalf("wrong password %d refused by the limiter: %v", i+1, err)
		}
	}
	err := signIn(l, "ops@x.cn", "203.0.113.7", true)
	var le *LimitError
	if !errors.As(err, &le) || fundbridge.ErrorCode(err) != fundbridge.ETOOMANY {
		t.Fatalf("11th attempt = %v, want a LimitError", err)
	}
	if le.Wait <= 0 || le.Wait > time.Minute {
		t.Errorf("wait %s, want up to a minute", le.Wait)
	}
	if err := signIn(l, "ops@x.cn", "198.51.100.1", true); err != nil {
		t.Errorf("right password from another address: %v", err)
	}
	if err := signIn(l, "someone@x.cn", "203.0.113.7", true); err != nil {
		t.Errorf("another account from the locked address: %v", err)
	}
	c.advance(time.Minute)
	if err := signIn(l, "ops@x.cn", "203.0.113.7", true); err != nil {
		t.Errorf("the lockout does not last: a minute later %v", err)
	}
}

func TestSuccessfulSignInsCostNoFailureTokens(t *testing.T) {
	l, _ := testLimiter(Limits{SignInAttempts: Bucket{Burst: 1000, Every: time.Millisecond}})
	for i := range 300 {
		if err := signIn(l, fmt.Sprintf("founder%d@x.cn", i%7), "127.0.0.1", true); err != nil {
			t.Fatalf("sign-in %d from one address refused: %v", i, err)
		}
	}
}

func TestEveryAttemptFromAnAddressIsBounded(t *testing.T) {
	l, _ := testLimiter(Limits{SignInAttempts: Bucket{Burst: 5, Every: time.Second}})
	for i := range 5 {
		if err := signIn(l, "a@x.cn", "127.0.0.1", true); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if err := signIn(l, "a@x.cn", "127.0.0.1", true); err == nil {
		t.Fatal("attempt over the bucket admitted")
	}
}

// An attacker spread over many addresses drains the account's bucket;
// then addresses that failed are refused, but the real user's address,
// which never failed, still signs in.
func TestAccountUnderAttackStillAdmitsAnAddressThatNeverFailed(t *testing.T) {
	l, _ := testLimiter(Limits{SignInAccount: Bucket{Burst: 5, Every: time.Minute}})
	for i := range 5 {
		if err := signIn(l, "ops@x.cn", fmt.Sprintf("10.0.0.%d", i), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := signIn(l, "ops@x.cn", "10.0.0.1", false); err == nil {
		t.Error("an address that failed is admitted with the account's bucket empty")
	}
	if err := signIn(l, "ops@x.cn", "192.0.2.44", true); err != nil {
		t.Errorf("the real user from a clean address: %v", err)
	}
}

func TestFailuresFromOneAddressAcrossAccountsAreBounded(t *testing.T) {
	l, _ := testLimiter(Limits{SignInAddress: Bucket{Burst: 3, Every: time.Minute}})
	for i := range 3 {
		if err := signIn(l, fmt.Sprintf("u%d@x.cn", i), "10.9.9.9", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := signIn(l, "u9@x.cn", "10.9.9.9", true); err == nil {
		t.Error("credential stuffing from one address not slowed")
	}
}

func TestLimiterMemoryIsBoundedUnderManyAddresses(t *testing.T) {
	const maxKeys = 10_000
	l, _ := testLimiter(Limits{MaxKeys: maxKeys})
	for i := range 100_000 {
		addr := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		_ = signIn(l, "ops@x.cn", addr, false)
		_, _ = l.signUp.reserve(addr, l.now())
	}
	for name, tb := range map[string]*table{"pair": l.pair, "address": l.address, "attempts": l.attempts, "sign-up": l.signUp, "account": l.account} {
		if n := tb.Len(); n > maxKeys {
			t.Errorf("%s table holds %d keys, cap %d", name, n, maxKeys)
		}
	}
	if l.pair.Len() != maxKeys {
		t.Errorf("pair table holds %d keys, want it full at %d", l.pair.Len(), maxKeys)
	}
}

func TestTooManyIsA429WithRetryAfter(t *testing.T) {
	w := httptest.NewRecorder()
	WriteProblem(w, httptest.NewRequest("POST", "/api/v1/auth/token", nil), &LimitError{Message: "too many sign-ins", Wait: 2500 * time.Millisecond})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "3" {
		t.Fatalf("status %d Retry-After %q, want 429 and 3", w.Code, w.Header().Get("Retry-After"))
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("content type %q", ct)
	}
}

func TestClientAddressGroupsIPv6By64(t *testing.T) {
	for remote, want := range map[string]string{
		"203.0.113.7:5555":           "203.0.113.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "2001:db8:1:2::/64",
		"[::ffff:203.0.113.7]:1":     "203.0.113.7",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if got := clientAddress(r); got != want {
			t.Errorf("clientAddress(%s) = %s, want %s", remote, got, want)
		}
	}
}

func TestParseBucket(t *testing.T) {
	b, err := ParseBucket("10/1m")
	if err != nil || b != (Bucket{Burst: 10, Every: time.Minute}) {
		t.Errorf("ParseBucket(10/1m) = %v, %v", b, err)
	}
	for _, bad := range []string{"10", "0/1m", "x/1m", "10/0s", "10/soon", ""} {
		if _, err := ParseBucket(bad); err == nil {
			t.Errorf("ParseBucket(%q) accepted", bad)
		}
	}
}

// The attack: 200 parallel guesses at one account from one address.
func TestParallelGuessesAreAdmittedOnlyUpToTheBucket(t *testing.T) {
	l, _ := testLimiter(Limits{})
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, err := l.beginSignIn("ops@x.cn", "203.0.113.9"); err == nil {
				admitted.Add(1)
				a.finish(wrongPassword)
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 10 {
		t.Errorf("%d of 200 parallel guesses admitted, want the pair's burst of 10", n)
	}
}
