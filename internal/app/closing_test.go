package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A deal's close is a process: reserve the application, commit the fund's
// capital, fund the application, close the deal; any refusal releases what
// was taken. These tests drive it as users do, over HTTP.

// market is a fund manager's funds and what the tests build on them.
type market struct {
	p     *product
	fm    string
	funds []string
}

func newMarket(t *testing.T, p *product, funds int) *market {
	m := &market{p: p}
	m.fm, _ = p.onboard("Qiming", "fund_manager", "fm@qiming.cn")
	for i := range funds {
		f := p.do("POST", "/api/v1/funds", m.fm, map[string]any{"name": fmt.Sprintf("Qiming %d", i+1), "type": "vc", "committed_capital": "100000000.00"})
		if f.status != 201 {
			t.Fatalf("fund = %d %s", f.status, f.raw)
		}
		id := f.body["fund_id"].(string)
		if r := p.do("PUT", "/api/v1/funds/"+id+"/mandate", m.fm, map[string]any{"stages": []string{"growth"}, "layers": []string{"technology"},
			"ticket_min": "5000000.00", "ticket_max": "40000000.00", "max_ownership": "0.20"}); r.status != 200 {
			t.Fatalf("mandate = %d %s", r.status, r.raw)
		}
		m.funds = append(m.funds, id)
	}
	return m
}

// applicant is a startup with a submitted application and, per fund, a
// deal at a term sheet of ¥10m on ¥90m pre-money.
type applicant struct {
	token, appID string
	deals        []string
}

func (m *market) applicant(t *testing.T, n int, accept bool) applicant {
	p := m.p
	a := applicant{}
	a.token, _ = p.signUp(n, "growth")
	d := p.do("POST", "/api/v1/applications", a.token, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"},
		"use_of_funds": "Training cluster", "valuation_ask": "90000000.00"})
	a.appID = d.body["application_id"].(string)
	if r := p.do("POST", "/api/v1/applications/"+a.appID+"/submit", a.token, map[string]any{}); r.status != 200 {
		t.Fatalf("submit = %d %s", r.status, r.raw)
	}
	for _, fundID := range m.funds {
		var dealID string
		eventually(t, "a sourceable match", func() bool {
			r := p.do("POST", "/api/v1/deals", m.fm, map[string]any{"fund_id": fundID, "application_id": a.appID}, "Idempotency-Key", "src-"+fundID+a.appID)
			if r.status == 201 {
				dealID = r.body["deal_id"].(string)
			}
			return r.status == 201
		})
		for _, step := range []string{"screening", "first_meeting", "due_diligence", "ic_review"} {
			if r := p.do("POST", "/api/v1/deals/"+dealID+"/advance", m.fm, map[string]any{"to": step}); r.status != 200 {
				t.Fatalf("advance to %s = %d %s", step, r.status, r.raw)
			}
		}
		if r := p.do("POST", "/api/v1/deals/"+dealID+"/term-sheet", m.fm, map[string]any{"amount": "10000000.00", "pre_money": "90000000.00"}); r.status != 200 {
			t.Fatalf("term sheet = %d %s", r.status, r.raw)
		}
		if accept {
			if r := p.do("POST", "/api/v1/deals/"+dealID+"/term-sheet/accept", a.token, map[string]any{}); r.status != 200 {
				t.Fatalf("accept = %d %s", r.status, r.raw)
			}
		}
		a.deals = append(a.deals, dealID)
	}
	return a
}

func TestCloseThenReadWithPositionSeesFundingEverywhere(t *testing.T) {
	p := start(t)
	m := newMarket(t, p, 1)
	a := m.applicant(t, 61, true)
	fundID, dealID := m.funds[0], a.deals[0]

	closed := p.do("POST", "/api/v1/deals/"+dealID+"/close", m.fm, map[string]any{}, "Idempotency-Key", "close-1")
	if closed.status != 200 || closed.body["step"] != "closed" {
		t.Fatalf("close = %d %s", closed.status, closed.raw)
	}
	pos := closed.header.Get("Fundbridge-Position")
	if n, err := strconv.ParseUint(pos, 10, 64); err != nil || n == 0 {
		t.Fatalf("close gave position %q", pos)
	}
	// One position, and every view shows the funding: no polling.
	after := "?after=" + pos
	if r := p.do("GET", "/api/v1/applications/"+a.appID+after, a.token, nil); r.body["status"] != "funded" || !strings.Contains(string(r.raw), dealID) {
		t.Errorf("application after the close = %d %s", r.status, r.raw)
	}
	if r := p.do("GET", "/api/v1/deals/"+dealID+after, a.token, nil); r.body["step"] != "closed" {
		t.Errorf("deal after the close = %d %s", r.status, r.raw)
	}
	if r := p.do("GET", "/api/v1/funds/"+fundID+after, m.fm, nil); r.body["dry_powder"] != "90000000.00" {
		t.Errorf("fund after the close = %d %s", r.status, r.raw)
	}
	if r := p.do("GET", "/api/v1/views/funds/"+fundID+"/board"+after, m.fm, nil); r.body["dry_powder"] != "90000000.00" || r.body["closed_deals_amount"] != "10000000.00" {
		t.Errorf("fund board after the close = %d %s", r.status, r.raw)
	}
	if r := p.do("GET", "/api/v1/views/lifecycle-stages"+after, p.opToken, nil); !strings.Contains(string(r.raw), `"funded":1`) {
		t.Errorf("lifecycle view after the close = %d %s", r.status, r.raw)
	}
	// A retry under the same key answers as the first time; a new close
	// finds the deal closed.
	again := p.do("POST", "/api/v1/deals/"+dealID+"/close", m.fm, map[string]any{}, "Idempotency-Key", "close-1")
	if again.status != 200 || again.header.Get("Fundbridge-Position") != pos {
		t.Errorf("retried close = %d at %q, want 200 at %s: %s", again.status, again.header.Get("Fundbridge-Position"), pos, again.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/deals/"+dealID+"/close", m.fm, map[string]any{}), 409)
}

func TestWithdrawnBeforeTheCloseCommitsNothing(t *testing.T) {
	p := start(t)
	m := newMarket(t, p, 1)
	a := m.applicant(t, 62, true)
	fundID, dealID := m.funds[0], a.deals[0]

	if r := p.do("POST", "/api/v1/applications/"+a.appID+"/withdraw", a.token, map[string]any{"reason": "raised elsewhere"}); r.status != 200 || r.body["status"] != "withdrawn" {
		t.Fatalf("withdraw = %d %s", r.status, r.raw)
	}
	r := p.do("POST", "/api/v1/deals/"+dealID+"/close", m.fm, map[string]any{})
	wantProblem(t, r, 409)
	if !strings.Contains(string(r.raw), "withdrawn") {
		t.Errorf("refusal does not say the application was withdrawn: %s", r.raw)
	}
	head := p.head(t)
	if r := p.do("GET", "/api/v1/funds/"+fundID+head, m.fm, nil); r.body["dry_powder"] != "100000000.00" || r.body["commitment_count"] != float64(0) {
		t.Errorf("fund after a refused close = %s", r.raw)
	}
	if r := p.do("GET", "/api/v1/applications/"+a.appID+head, a.token, nil); r.body["status"] != "withdrawn" || r.body["closing_deal"] != nil || len(r.body["deals"].([]any)) != 0 {
		t.Errorf("application after a refused close = %s", r.raw)
	}
	d := p.do("GET", "/api/v1/deals/"+dealID+head, m.fm, nil)
	if d.body["step"] != "term_sheet" || d.body["closing_process"] != nil || !strings.Contains(fmt.Sprint(d.body["last_closing_failure"]), "withdrawn") {
		t.Errorf("deal after a refused close = %s", d.raw)
	}
}

// head is "?after=<the log's head>": a read that waits for everything
// written so far.
func (p *product) head(t *testing.T) string {
	t.Helper()
	pos, err := p.app.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return "?after=" + strconv.FormatUint(pos, 10)
}

// A withdrawn, rejected or already-funded application never gains
// committed capital, whatever order withdrawals, rejections, closes,
// passes, acceptances and declines arrive in, concurrently.
func TestNoCapitalForAnApplicationThatCannotTakeIt(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	p := start(t)
	m := newMarket(t, p, 2)
	const applicants = 5
	var all []applicant
	for i := range applicants {
		all = append(all, m.applicant(t, 70+i, rng.IntN(2) == 0))
	}
	var wg sync.WaitGroup
	for _, a := range all {
		ops := m.ops(a)
		rng.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
		// Two streams of commands per application, interleaving freely.
		split := rng.IntN(len(ops) + 1)
		for _, part := range [][]op{ops[:split], ops[split:]} {
			wg.Go(func() {
				for _, o := range part {
					r := p.do("POST", o.path, o.token, o.body)
					if r.status >= 500 {
						t.Errorf("%s = %d %s", o.path, r.status, r.raw)
					}
				}
			})
		}
	}
	wg.Wait()
	m.checkCapital(t, all)
}

type op struct {
	path, token string
	body        map[string]any
}

// ops lists what may happen to an applicant's deals: each deal is
// accepted, declined, closed (twice) or passed; the startup withdraws;
// an operator rejects.
func (m *market) ops(a applicant) []op {
	out := []op{
		{"/api/v1/applications/" + a.appID + "/withdraw", a.token, map[string]any{"reason": "changed plans"}},
		{"/api/v1/applications/" + a.appID + "/reject", m.p.opToken, map[string]any{"reason": "not an AI company"}},
	}
	for _, d := range a.deals {
		out = append(out,
			op{"/api/v1/deals/" + d + "/term-sheet/accept", a.token, map[string]any{}},
			op{"/api/v1/deals/" + d + "/term-sheet/decline", a.token, map[string]any{"reason": "valuation"}},
			op{"/api/v1/deals/" + d + "/close", m.fm, map[string]any{}},
			op{"/api/v1/deals/" + d + "/close", m.fm, map[string]any{}},
			op{"/api/v1/deals/" + d + "/pass", m.fm, map[string]any{"reason": "cold feet"}},
		)
	}
	return out
}

// checkCapital holds the invariant: capital is committed only to the one
// deal that funded its application, and a deal is closed exactly when its
// capital is committed; each fund's dry powder is what its commitments
// leave.
func (m *market) checkCapital(t *testing.T, all []applicant) {
	p := m.p
	head := p.head(t)
	committed := map[string]string{} // deal → amount
	for _, fundID := range m.funds {
		f := p.do("GET", "/api/v1/funds/"+fundID+head, m.fm, nil)
		cs, _ := f.body["commitments"].([]any)
		total := 0.0
		for _, c := range cs {
			c := c.(map[string]any)
			committed[c["deal_id"].(string)] = c["amount"].(string)
			v, _ := strconv.ParseFloat(c["amount"].(string), 64)
			total += v
		}
		if want := fmt.Sprintf("%.2f", 100000000-total); f.body["dry_powder"] != want {
			t.Errorf("fund %s: dry powder %v, want %s after %d commitments", fundID, f.body["dry_powder"], want, len(cs))
		}
	}
	for _, a := range all {
		app := p.do("GET", "/api/v1/applications/"+a.appID+head, a.token, nil)
		status := app.body["status"]
		funded, _ := app.body["deals"].([]any)
		if app.body["closing_deal"] != nil {
			t.Errorf("application %s still held by %v after every close ended", a.appID, app.body["closing_deal"])
		}
		nCommitted := 0
		for _, d := range a.deals {
			deal := p.do("GET", "/api/v1/deals/"+d+head, m.fm, nil)
			_, has := committed[d]
			if has {
				nCommitted++
			}
			if closed := deal.body["step"] == "closed"; closed != has {
				t.Errorf("deal %s: step %v, capital committed %v", d, deal.body["step"], has)
			}
			if deal.body["closing_process"] != nil {
				t.Errorf("deal %s still closing: %s", d, deal.raw)
			}
		}
		// What the application went through, not only where it ended:
		// funding must not paper over a withdrawal or a rejection.
		var ended []string
		history, _ := app.body["status_history"].([]any)
		for _, h := range history {
			if s := h.(map[string]any)["status"].(string); s == "withdrawn" || s == "rejected" || s == "expired" {
				ended = append(ended, s)
			}
		}
		switch {
		case len(ended) > 0 && (nCommitted != 0 || len(funded) != 0 || len(ended) > 1):
			t.Errorf("application %s was %v, yet %d of its deals committed capital and it records %d fundings: %s", a.appID, ended, nCommitted, len(funded), history)
		case status == "funded" && (nCommitted != 1 || len(funded) != 1 || committed[funded[0].(map[string]any)["deal_id"].(string)] == ""):
			t.Errorf("application %s funded by %v, with %d deals committed", a.appID, funded, nCommitted)
		case status != "funded" && nCommitted != 0:
			t.Errorf("application %s is %v, yet %d of its deals committed capital", a.appID, status, nCommitted)
		}
	}
}
