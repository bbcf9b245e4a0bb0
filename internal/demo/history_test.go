package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/demo"
	"github.com/fundbridge/fundbridge/internal/simclock"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/process"
)

// The demo's history simulated on a demo clock, through the product's
// own code on real NATS: loans drawn months ago whose unpaid periods the
// arrears process recorded when they fell due, quotes and a policy that
// the policy process expired, each deadline fired once, every event
// recorded at its time on the clock. Then the books as the banks and
// insurers see them over HTTP.
func TestDemoHistoryOnADemoClock(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a market")
	}
	ctx := context.Background()
	clock := simclock.Starting(time.Now().AddDate(0, 0, -demo.HistoryDays))
	a, token := startProduct(t, clock.Now)
	const seed = 3
	base := "http://" + a.HTTPAddr.String()
	start := time.Now()
	sum, err := demo.Load(ctx, demo.Config{BaseURL: base, OperatorToken: token, Seed: seed, Startups: 40, Managers: 4, Funds: 12, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	handedOver := time.Now()
	t.Logf("loaded in %s: %s; loan deals %v, policies %v", handedOver.Sub(start).Round(time.Millisecond), sum.History, sum.LoanDeals, sum.Policies)
	if clock.Simulated() {
		t.Fatal("the demo did not hand the clock over to the wall clock")
	}
	if sum.LoanDeals["arrears"] != 4 || sum.LoanDeals["expired"] == 0 || sum.LoanDeals["defaulted"] == 0 ||
		sum.Policies["quote_expired"] == 0 || sum.Policies["policy_expired"] == 0 || !strings.Contains(sum.History, "demo clock") {
		t.Fatalf("summary = %+v", sum)
	}

	// The banks' books over HTTP, as each bank: every arrears bucket has
	// a loan, and each line's bucket is its days past due.
	buckets := map[string]int{}
	waitFor(t, "every arrears bucket in the banks' books", func() bool {
		clear(buckets)
		for i := range 4 {
			c := signIn(t, base, fmt.Sprintf("credit%d.s%d@demo.fundbridge.cn", i, seed), fmt.Sprintf("demo-bank-%d-%d", seed, i))
			var book struct {
				Arrears []struct {
					Bucket string `json:"bucket"`
					Loans  int    `json:"loans"`
				} `json:"arrears"`
				Items []struct {
					DealID      string `json:"deal_id"`
					DaysPastDue int    `json:"days_past_due"`
					Bucket      string `json:"bucket"`
				} `json:"items"`
			}
			c.get(t, "/api/v1/views/banks/"+c.org+"/book", &book)
			for _, b := range book.Arrears {
				buckets[b.Bucket] += b.Loans
			}
			for _, it := range book.Items {
				if it.DaysPastDue > 0 && it.Bucket != bucket(it.DaysPastDue) {
					t.Errorf("bank %d: deal %s %d days past due in bucket %q", i, it.DealID, it.DaysPastDue, it.Bucket)
				}
			}
		}
		return buckets["1-30"] > 0 && buckets["31-60"] > 0 && buckets["61-90"] > 0 && buckets["90+"] > 0
	})
	t.Logf("loans in arrears by bucket, over the banks' books: %v", buckets)

	// The insurers' view over HTTP: quotes expired, a policy expired.
	var quotesExpired, policiesExpired int
	waitFor(t, "expired quotes and policies as the insurers see them", func() bool {
		quotesExpired, policiesExpired = 0, 0
		for i := range 3 {
			c := signIn(t, base, fmt.Sprintf("ip%d.s%d@insurer.demo.fundbridge.cn", i, seed), fmt.Sprintf("demo-insurer-%d-%d", seed, i))
			var requests insuranceapi.RequestList
			c.get(t, "/api/v1/insurance-requests?limit=200", &requests)
			for _, r := range requests.Items {
				for _, q := range r.Quotes {
					if q.Status == "expired" {
						quotesExpired++
					}
				}
			}
			var policies insuranceapi.PolicyList
			c.get(t, "/api/v1/policies?status=expired&limit=200", &policies)
			policiesExpired += len(policies.Items)
		}
		return quotesExpired >= sum.Policies["quote_expired"] && policiesExpired >= sum.Policies["policy_expired"]
	})
	t.Logf("insurers see %d quotes and %d policies expired", quotesExpired, policiesExpired)

	checkLog(t, a.Store, handedOver)
}

// checkLog reads the whole log: the arrears process recorded each unpaid
// period once, the day after it fell due; quotes and
// policies expired after their last day; every deadline fired once and
// not before its time; no event is dated after the wall clock, and the
// history goes back months.
func checkLog(t *testing.T, store events.Store, handedOver time.Time) {
	t.Helper()
	ctx := context.Background()
	overdue := map[string]int{}
	fired := map[string]int{}
	var first time.Time
	var quotes, policies int
	for after := uint64(0); ; {
		batch, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			after = e.Position
			if first.IsZero() {
				first = e.RecordedAt
			}
			if e.RecordedAt.After(time.Now()) {
				t.Errorf("%s at %d recorded in the future: %s", e.Type, e.Position, e.RecordedAt)
			}
			switch e.Type {
			case dealsapi.PeriodOverdue{}.EventType():
				p := decode[dealsapi.PeriodOverdue](t, e)
				overdue[fmt.Sprint(p.LoanID, "/", p.Number)]++
				// Due dates are China days: arrears begin when the next China day does.
				if e.RecordedAt.Before(p.Due.AddDate(0, 0, 1).Add(-8*time.Hour)) || e.RecordedAt.After(p.Due.AddDate(0, 0, 2)) {
					t.Errorf("loan %s period %d due %s recorded overdue at %s, not the day after", p.LoanID, p.Number, p.Due.Format(time.DateOnly), e.RecordedAt)
				}
			case insuranceapi.QuoteExpired{}.EventType():
				quotes++
				if !e.RecordedAt.Before(handedOver) {
					t.Errorf("quote %s expired after the hand-over, at %s", decode[insuranceapi.QuoteExpired](t, e).QuoteID, e.RecordedAt)
				}
			case insuranceapi.PolicyExpired{}.EventType():
				p := decode[insuranceapi.PolicyExpired](t, e)
				policies++
				if ends, _ := time.Parse(time.DateOnly, p.EndsOn); !e.RecordedAt.After(ends.Add(16*time.Hour)) || e.RecordedAt.After(ends.Add(40*time.Hour)) { // the end of the day in China, and the day after
					t.Errorf("policy %s ending %s expired at %s", p.PolicyID, p.EndsOn, e.RecordedAt)
				}
			case process.DeadlineFired{}.EventType():
				f := decode[process.DeadlineFired](t, e)
				fired[fmt.Sprint(e.StreamID, "/", f.Name, "/", f.At.UTC())]++
				if e.RecordedAt.Before(f.At) {
					t.Errorf("%s: deadline %s for %s fired early, at %s", e.StreamID, f.Name, f.At, e.RecordedAt)
				}
			}
		}
	}
	if len(overdue) == 0 || quotes == 0 || policies == 0 {
		t.Errorf("overdue periods %d, quotes expired %d, policies expired %d", len(overdue), quotes, policies)
	}
	for k, n := range overdue {
		if n != 1 {
			t.Errorf("period %s recorded overdue %d times", k, n)
		}
	}
	for k, n := range fired {
		if n != 1 {
			t.Errorf("deadline %s fired %d times", k, n)
		}
	}
	if days := time.Since(first).Hours() / 24; days < 180 {
		t.Errorf("the history starts %.0f days ago, want about %d", days, demo.HistoryDays)
	}
	t.Logf("log: history from %s, %d periods recorded overdue, %d quotes and %d policies expired, %d deadlines fired", first.Format(time.DateOnly), len(overdue), quotes, policies, len(fired))
}

func decode[T any](t *testing.T, e events.Event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(e.Payload, &v); err != nil {
		t.Fatalf("%s at %d: %v", e.Type, e.Position, err)
	}
	return v
}

func bucket(days int) string {
	switch {
	case days <= 30:
		return "1-30"
	case days <= 60:
		return "31-60"
	case days <= 90:
		return "61-90"
	}
	return "90+"
}

// waitFor polls cond until it holds, for up to two minutes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for until := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(until) {
			t.Fatalf("never: %s", what)
		}
	}
}

type client struct {
	base, token, org string
}

func signIn(t *testing.T, base, email, password string) client {
	t.Helper()
	c := client{base: base}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	c.post(t, "/api/v1/auth/token", map[string]string{"email": email, "password": password}, &tok)
	c.token = tok.AccessToken
	var me struct {
		User struct {
			OrgID string `json:"org_id"`
		} `json:"user"`
	}
	c.get(t, "/api/v1/me", &me)
	c.org = me.User.OrgID
	return c
}

func (c client) get(t *testing.T, path string, out any) { c.do(t, "GET", path, nil, out) }

func (c client) post(t *testing.T, path string, body, out any) { c.do(t, "POST", path, body, out) }

func (c client) do(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, data)
	}
}
