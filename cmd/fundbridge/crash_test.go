package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
)

// TestCrashLosesNothingAcknowledged runs fundbridge dev under a steady
// mixed load (startups signing up, drafting and submitting applications;
// an operator onboarding a fund manager and registering funds), every
// command with an Idempotency-Key, and SIGKILLs it at random moments. On
// the same directory again it retries every command left unanswered, with
// the same key and body, and at the end checks: every acknowledged command
// is there exactly once, no retry made a second one, and the views equal
// a rebuild from the log. FUNDBRIDGE_CRASH_CYCLES sets the kills (10),
// FUNDBRIDGE_CRASH_SEED the load's random choices.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a server many times")
	}
	cycles := 10
	if v, err := strconv.Atoi(os.Getenv("FUNDBRIDGE_CRASH_CYCLES")); err == nil && v > 0 {
		cycles = v
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("FUNDBRIDGE_CRASH_SEED"), 10, 64); err == nil {
		seed = v // to replay a run's choices (the kills' timing still varies)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d, %d kill cycles", seed, cycles)
	bin, dir := binary(t), t.TempDir()
	l := &ledger{}
	for cycle := range cycles {
		p := startDev(t, bin, dir)
		c := newCrashClient(t, p.http)
		ctx, cancel := context.WithCancel(context.Background())
		var workers sync.WaitGroup
		for w := range 3 {
			wrng := rand.New(rand.NewPCG(seed, uint64(cycle*10+w)))
			workers.Go(func() { l.work(ctx, c, wrng) })
		}
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
		_ = p.cmd.Process.Kill() // SIGKILL: no shutdown, no flush
		_ = p.cmd.Wait()
		cancel()
		workers.Wait()
		acked, pending := l.counts()
		t.Logf("cycle %d: killed; %d commands acknowledged, %d unanswered so far", cycle+1, acked, pending)
	}

	p := startDev(t, bin, dir)
	c := newCrashClient(t, p.http)
	for deadline := time.Now().Add(90 * time.Second); ; {
		l.retryPending(context.Background(), c)
		if _, pending := l.counts(); pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("commands still unanswered after retries: %v", l.pendingKeys())
		}
	}
	for _, e := range l.errs {
		t.Errorf("refused: %s", e)
	}
	l.verify(t, c)
	before := c.lifecycle(t)
	p.stop(t)
	out, err := exec.Command(bin, "projections", "rebuild", "--data-dir", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	p = startDev(t, bin, dir)
	c = newCrashClient(t, p.http)
	if after := c.lifecycle(t); !bytes.Equal(before, after) {
		t.Errorf("the lifecycle view differs from a rebuild:\nbefore %s\nafter  %s", before, after)
	}
	p.stop(t)
	signups, drafts, submits, funds := l.kinds()
	t.Logf("%d kill cycles: %d sign-ups, %d drafts, %d submissions, %d funds acknowledged, each present once; %d commands answered only on a retry",
		cycles, signups, drafts, submits, funds, l.retried)
}

// command is one request the load sent, with what it was answered.
type command struct {
	kind, method, path, key string
	body                    any
	token                   func(*crashClient) string // from the client of the process running now
	acked                   bool
	failed                  bool   // refused with a 4xx: a test failure
	last                    string // why the last try went unanswered
	id                      string // of what it created
	inflight                bool   // a worker is sending it
	tries                   int
}

type ledger struct {
	mu       sync.Mutex
	cmds     []*command
	startups []*startup
	fm       *command // the fund manager's org, onboarded once
	n        int
	retried  int
	errs     []string
}

type startup struct {
	signup *command
	email  string
	drafts []*command
}

// next is the command a worker sends now: a retry of an unanswered one
// first, else a new one of a random kind the ledger allows.
func (l *ledger) next(rng *rand.Rand) *command {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	n := l.n
	if l.fm == nil {
		l.fm = &command{kind: "org", method: "POST", path: "/api/v1/orgs", key: "org-fm", token: (*crashClient).operator,
			body: map[string]any{"name": "Qiming", "role": "fund_manager", "user": map[string]string{"email": "fm@qiming.cn", "password": "fund-manager-password", "name": "Fang"}}}
		l.fm.inflight = true
		l.cmds = append(l.cmds, l.fm)
		return l.fm
	}
	switch k := rng.IntN(10); {
	case k < 3 || len(l.startups) == 0:
		email := fmt.Sprintf("founder%d@startup.cn", n)
		cmd := &command{kind: "signup", method: "POST", path: "/api/v1/auth/signup", key: "signup-" + strconv.Itoa(n), token: func(*crashClient) string { return "" },
			body: map[string]any{"email": email, "password": "founder-password", "name": "Founder", "company": map[string]any{
				"name": fmt.Sprintf("深度视觉 %d", n), "uscc": crashUSCC(n), "city": "shenzhen", "layer": "technology",
				"sector": "computer_vision", "founded_on": "2022-03-01", "headcount": 40, "stage": "seed"}}}
		l.startups = append(l.startups, &startup{signup: cmd, email: email})
		cmd.inflight = true
		l.cmds = append(l.cmds, cmd)
		return cmd
	case k < 6:
		s := l.startups[rng.IntN(len(l.startups))]
		if !s.signup.acked {
			return nil
		}
		cmd := &command{kind: "draft", method: "POST", path: "/api/v1/applications", key: "draft-" + strconv.Itoa(n), token: func(c *crashClient) string { return c.startupToken(s) },
			body: map[string]any{"amount_requested": fmt.Sprintf("%d.%02d", 100000+n, n%100), "instruments": []string{"equity"}, "use_of_funds": "GPUs"}}
		s.drafts = append(s.drafts, cmd)
		cmd.inflight = true
		l.cmds = append(l.cmds, cmd)
		return cmd
	case k < 8:
		s := l.startups[rng.IntN(len(l.startups))]
		for _, d := range s.drafts {
			if d.acked && !l.submitted(d.id) {
				cmd := &command{kind: "submit", method: "POST", path: "/api/v1/applications/" + d.id + "/submit", key: "submit-" + d.id, token: func(c *crashClient) string { return c.startupToken(s) }, body: map[string]any{}, id: d.id}
				cmd.inflight = true
				l.cmds = append(l.cmds, cmd)
				return cmd
			}
		}
		return nil
	default:
		if !l.fm.acked {
			return nil
		}
		cmd := &command{kind: "fund", method: "POST", path: "/api/v1/funds", key: "fund-" + strconv.Itoa(n), token: (*crashClient).operator,
			body: map[string]any{"name": fmt.Sprintf("Qiming %d", n), "type": "vc", "committed_capital": "100000000.00", "manager_org": l.fm.id}}
		cmd.inflight = true
		l.cmds = append(l.cmds, cmd)
		return cmd
	}
}

func (l *ledger) submitted(id string) bool {
	for _, c := range l.cmds {
		if c.kind == "submit" && c.id == id {
			return true
		}
	}
	return false
}

// work sends commands until ctx ends: unanswered ones again first.
func (l *ledger) work(ctx context.Context, c *crashClient, rng *rand.Rand) {
	for ctx.Err() == nil {
		l.retryPending(ctx, c)
		if cmd := l.next(rng); cmd != nil {
			l.send(ctx, c, cmd)
		}
	}
}

func (l *ledger) retryPending(ctx context.Context, c *crashClient) {
	l.mu.Lock()
	var pending []*command
	for _, cmd := range l.cmds {
		if !cmd.acked && !cmd.inflight {
			cmd.inflight = true // one worker sends it at a time
			pending = append(pending, cmd)
		}
	}
	l.mu.Unlock()
	for _, cmd := range pending {
		if ctx.Err() != nil {
			l.mu.Lock()
			cmd.inflight = false
			l.mu.Unlock()
			continue
		}
		l.send(ctx, c, cmd)
	}
}

// send sends cmd and records the answer; false if there was none (the
// server died, or answered 5xx), so the command stays unanswered.
func (l *ledger) send(ctx context.Context, c *crashClient, cmd *command) bool {
	l.mu.Lock()
	cmd.tries++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		cmd.inflight = false
		l.mu.Unlock()
	}()
	token := cmd.token(c)
	if token == "" && cmd.kind != "signup" {
		l.note(cmd, "no sign-in")
		return false // the server is down, or the user is not there
	}
	status, body, err := c.do(ctx, cmd.method, cmd.path, token, cmd.key, cmd.body)
	if err != nil || status >= 500 || status == 0 {
		l.note(cmd, fmt.Sprintf("%d %v %.200s", status, err, body))
		return false
	}
	if status >= 300 {
		l.mu.Lock()
		l.errs = append(l.errs, fmt.Sprintf("%s %s (%s): %d %s", cmd.method, cmd.path, cmd.key, status, body))
		cmd.acked, cmd.failed = true, true // refused: not retried, checked as an error
		l.mu.Unlock()
		return true
	}
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	l.mu.Lock()
	defer l.mu.Unlock()
	if cmd.tries > 1 {
		l.retried++
	}
	cmd.acked = true
	switch cmd.kind {
	case "signup":
		cmd.id, _ = out["org_id"].(string)
	case "org":
		org, _ := out["org"].(map[string]any)
		cmd.id, _ = org["org_id"].(string)
	case "draft":
		cmd.id, _ = out["application_id"].(string)
	case "fund":
		cmd.id, _ = out["fund_id"].(string)
	}
	return true
}

func (l *ledger) note(cmd *command, why string) {
	l.mu.Lock()
	cmd.last = why
	l.mu.Unlock()
}

func (l *ledger) counts() (acked, pending int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.cmds {
		if c.acked {
			acked++
		} else {
			pending++
		}
	}
	return acked, pending
}

func (l *ledger) pendingKeys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	for _, c := range l.cmds {
		if !c.acked {
			keys = append(keys, c.key+" ("+c.last+")")
		}
	}
	return keys
}

func (l *ledger) kinds() (signups, drafts, submits, funds int) {
	for _, c := range l.cmds {
		switch c.kind {
		case "signup":
			signups++
		case "draft":
			drafts++
		case "submit":
			submits++
		case "fund":
			funds++
		}
	}
	return
}

// verify checks the server holds each acknowledged command exactly once.
func (l *ledger) verify(t *testing.T, c *crashClient) {
	t.Helper()
	want := map[string]map[string]bool{"signup": {}, "draft": {}, "fund": {}}
	submitted := map[string]bool{}
	for _, cmd := range l.cmds {
		if cmd.failed {
			continue
		}
		if cmd.id == "" && cmd.kind != "submit" {
			t.Errorf("%s %s was answered without an ID", cmd.kind, cmd.key)
		}
		switch cmd.kind {
		case "signup", "draft", "fund":
			if want[cmd.kind][cmd.id] {
				t.Errorf("two %s commands answered with one ID %s", cmd.kind, cmd.id)
			}
			want[cmd.kind][cmd.id] = true
		case "submit":
			submitted[cmd.id] = true
		}
	}
	for kind, path := range map[string]string{"signup": "/api/v1/companies", "draft": "/api/v1/applications", "fund": "/api/v1/funds"} {
		idField := map[string]string{"signup": "company_id", "draft": "application_id", "fund": "fund_id"}[kind]
		seen := map[string]int{}
		for _, item := range c.list(t, path) {
			id, _ := item[idField].(string)
			seen[id]++
			if kind == "draft" {
				status, _ := item["status"].(string)
				if submitted[id] != (status == "submitted") {
					t.Errorf("application %s is %s; submitted %v", id, status, submitted[id])
				}
			}
		}
		for id := range want[kind] {
			if seen[id] != 1 {
				t.Errorf("%s %s is there %d times, want once", kind, id, seen[id])
			}
		}
		for id, n := range seen {
			if !want[kind][id] {
				t.Errorf("%s %s is there (%d times) but no command was answered with it: a duplicate", kind, id, n)
			}
		}
	}
	for _, s := range l.startups {
		if c.signIn(s.email, "founder-password") == "" {
			t.Errorf("%s signed up but cannot sign in", s.email)
		}
	}
}

func crashUSCC(n int) string {
	body := fmt.Sprintf("9144030%010d", n)
	check, _ := fundbridge.USCCCheck(body)
	return body + string(check)
}

// crashClient talks to one dev process.
type crashClient struct {
	t      *testing.T
	base   string
	http   *http.Client
	mu     sync.Mutex
	op     string
	tokens map[string]string
}

func newCrashClient(t *testing.T, base string) *crashClient {
	return &crashClient{t: t, base: base, http: &http.Client{Timeout: 10 * time.Second}, tokens: map[string]string{}}
}

func (c *crashClient) operator() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.op == "" {
		c.op = c.signIn("ops@dev.test", "operator-password")
	}
	return c.op
}

func (c *crashClient) startupToken(s *startup) string {
	c.mu.Lock()
	tok := c.tokens[s.email]
	c.mu.Unlock()
	if tok == "" {
		if tok = c.signIn(s.email, "founder-password"); tok != "" {
			c.mu.Lock()
			c.tokens[s.email] = tok
			c.mu.Unlock()
		}
	}
	return tok
}

func (c *crashClient) signIn(email, password string) string {
	for range 50 {
		status, body, err := c.do(context.Background(), "POST", "/api/v1/auth/token", "", "", map[string]string{"email": email, "password": password})
		if err == nil && status == 200 {
			var out struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.Unmarshal(body, &out)
			return out.AccessToken
		}
		if err != nil {
			return "" // the server is gone
		}
		if status != 401 && status != 503 {
			c.t.Logf("sign in %s: %d %s", email, status, body)
		}
		time.Sleep(100 * time.Millisecond) // its sign-up may not have reached identity's view yet
	}
	return ""
}

func (c *crashClient) do(ctx context.Context, method, path, token, key string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// list reads every page of a list as the operator.
func (c *crashClient) list(t *testing.T, path string) []map[string]any {
	t.Helper()
	var all []map[string]any
	cursor := ""
	for {
		url := path + "?limit=100"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		status, body, err := c.do(context.Background(), "GET", url, c.operator(), "", nil)
		if err != nil || status != 200 {
			t.Fatalf("GET %s: %d %v %s", url, status, err, body)
		}
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// lifecycle is the operator's lifecycle view, once it has caught up.
func (c *crashClient) lifecycle(t *testing.T) []byte {
	t.Helper()
	status, body, err := c.do(context.Background(), "GET", "/api/v1/views/status", c.operator(), "", nil)
	if err != nil || status != 200 {
		t.Fatalf("views status: %d %v %s", status, err, body)
	}
	var st struct {
		Items []struct {
			Position uint64 `json:"position"`
		} `json:"items"`
	}
	_ = json.Unmarshal(body, &st)
	var head uint64
	for _, it := range st.Items {
		head = max(head, it.Position)
	}
	status, body, err = c.do(context.Background(), "GET", fmt.Sprintf("/api/v1/views/lifecycle-stages?after=%d", head), c.operator(), "", nil)
	if err != nil || status != 200 {
		t.Fatalf("lifecycle: %d %v %s", status, err, body)
	}
	var v struct {
		Items json.RawMessage `json:"items"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Items
}
