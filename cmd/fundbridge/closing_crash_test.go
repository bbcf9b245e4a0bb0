package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge"
)

// The close of a deal is a process (services/matching/closing.go): hold
// the deal, reserve the application, commit the fund's capital, mark the
// application funded, close the deal. These tests kill the real product
// while a close runs, or run two matching components at once, and check
// the only outcomes allowed: the deal closed with the capital committed
// once and the application funded once, or the deal not closed with
// nothing committed and the application free; never anything else.

// closeKillPoints are where a close is killed: each is an event of the
// closing process's own stream (fb.ev.process.closing-…), seen on the
// bus as it is appended; the dev process is SIGKILLed at once. A step's
// success and the next step's issue are one append: "after reserve" is
// the commit recorded and not yet (or being) sent, "after commit" the
// capital committed and the application not yet marked funded.
var closeKillPoints = []struct{ name, event, step string }{
	{"hold recorded, not yet sent", "command_issued", "hold"},
	{"after hold", "command_succeeded", "hold"},
	{"after reserve", "command_succeeded", "reserve"},
	{"after commit", "command_succeeded", "commit"},
	{"after mark-funded", "command_succeeded", "fund"},
	{"before the deal is closed", "command_issued", "close"},
}

func TestACloseKilledAtAnyStepEndsClosedOnceOrNotAtAll(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts fundbridge dev")
	}
	t.Parallel()
	bin := binary(t)
	// Each point on its own data directory, all at once: most of a run is
	// the restarted manager waiting out the dead one's lease (10 s),
	// which the points share. (t.Run from several goroutines runs the
	// subtests together whatever -parallel says.)
	var points sync.WaitGroup
	for _, kp := range closeKillPoints {
		points.Go(func() {
			t.Run(strings.ReplaceAll(kp.name, " ", "_"), func(t *testing.T) {
				dir := t.TempDir()
				p := startDev(t, bin, dir)
				c := newCrashClient(t, p.http)
				m := newDealMarket(t, p, c)
				deal := m.dealAtTermSheet(t, 1)

				watch := natsAdmin(t, p)
				var killed atomic.Bool
				var seen []string
				var mu sync.Mutex
				sub, err := watch.Subscribe("fb.ev.process.>", func(msg *nats.Msg) {
					steps := stepsIn(msg.Data)
					mu.Lock()
					seen = append(seen, steps...)
					mu.Unlock()
					if !killed.Load() && slices.Contains(steps, kp.event+" "+kp.step) {
						killed.Store(true)
						_ = p.cmd.Process.Kill() // SIGKILL: no shutdown, no flush
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				status, body, _ := c.do(context.Background(), "POST", "/api/v1/deals/"+deal.id+"/close", m.fm, "close-1", map[string]any{})
				_ = p.cmd.Wait()
				_ = sub.Unsubscribe()
				watch.Close()
				if !killed.Load() {
					t.Fatalf("the close ended (%d %s) without reaching %q; the process recorded %v", status, body, kp.name, seen)
				}
				mu.Lock()
				t.Logf("killed %s; the process had recorded %v", kp.name, seen)
				mu.Unlock()

				p = startDev(t, bin, dir)
				c = newCrashClient(t, p.http)
				m.c, m.nc = c, natsAdmin(t, p)
				m.fm = c.signIn("fm@qiming.cn", "fund-manager-password")
				closed := m.settled(t, deal)
				m.check(t, []*marketDeal{deal}, map[string]bool{deal.id: closed})
				t.Logf("%s: the deal ended %s", kp.name, map[bool]string{true: "closed, capital committed once", false: "not closed, nothing committed"}[closed])
				// Closing it again: a closed deal refuses; one the crash left
				// open closes now, once.
				status, body, err = c.do(context.Background(), "POST", "/api/v1/deals/"+deal.id+"/close", m.fm, "", map[string]any{})
				if err != nil || (closed && status != 409) || (!closed && status != 200) {
					t.Errorf("closing again = %d %v %s", status, err, body)
				}
				if !m.settled(t, deal) {
					t.Errorf("deal %s did not close the second time", deal.id)
				}
				m.check(t, []*marketDeal{deal}, map[string]bool{deal.id: true})
				p.stop(t)
			})
		})
	}
	points.Wait()
}

// Two matching components over one NATS, each with its closing process's
// manager: the dev process's and a `fundbridge serve matching` beside it.
// One manager works while the other stands by; every close takes effect
// once, whichever instance took the request and whichever runs the steps.
// (The closing process schedules no deadline; that a deadline fires once
// with two managers running is services/process's
// TestTwoManagersOneWorksTheOtherTakesOverWhenItDies.)
func TestTwoMatchingInstancesCloseEveryDealOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs fundbridge dev and a second matching process")
	}
	t.Parallel()
	bin, dir := binary(t), t.TempDir()
	p := startDev(t, bin, dir)
	c := newCrashClient(t, p.http)
	m := newDealMarket(t, p, c)
	const n = 6
	deals := make([]*marketDeal, n)
	for i := range n {
		deals[i] = m.dealAtTermSheet(t, 10+i)
	}

	second := exec.Command(bin, "serve", "matching", "--nats", p.nats, "--data-dir", t.TempDir(), "--creds", devCreds(t, p, "matching"))
	second.Stderr = &bytes.Buffer{}
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Process.Kill(); _ = second.Wait() })
	admin := natsAdmin(t, p)
	waitQueueMembers(t, admin, "matching", 2)

	// Every close twice at once (a client's retry racing the first try, as
	// a second instance may take each), under one key.
	var wg sync.WaitGroup
	for _, d := range deals {
		for range 2 {
			wg.Go(func() {
				status, body, err := c.do(context.Background(), "POST", "/api/v1/deals/"+d.id+"/close", m.fm, "close-"+d.id, map[string]any{})
				if err != nil || (status != 200 && status != 409) {
					t.Errorf("close %s = %d %v %s", d.id, status, err, body)
				}
			})
		}
	}
	wg.Wait()
	want := map[string]bool{}
	for _, d := range deals {
		if !m.settled(t, d) {
			t.Errorf("deal %s did not close", d.id)
		}
		want[d.id] = true
	}
	m.check(t, deals, want)
	t.Logf("deal.close requests taken by each matching instance: %v", closeRequests(t, admin))
	if err := second.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Errorf("the second matching process ended with %v: %s", err, second.Stderr)
	}
	p.stop(t)
}

// dealMarket is one fund manager's fund of ¥100m, and the deals the
// tests close against it.
type dealMarket struct {
	c      *crashClient
	nc     *nats.Conn // the admin's, to read the log's head
	fm     string
	fundID string
}

type marketDeal struct {
	id, appID, startup string
}

func newDealMarket(t *testing.T, p *devProcess, c *crashClient) *dealMarket {
	t.Helper()
	m := &dealMarket{c: c, nc: natsAdmin(t, p)}
	m.mustDo(t, "POST", "/api/v1/orgs", c.operator(), 201, map[string]any{"name": "Qiming", "role": "fund_manager",
		"user": map[string]string{"email": "fm@qiming.cn", "password": "fund-manager-password", "name": "Fang"}})
	if m.fm = c.signIn("fm@qiming.cn", "fund-manager-password"); m.fm == "" {
		t.Fatal("the fund manager cannot sign in")
	}
	f := m.mustDo(t, "POST", "/api/v1/funds", m.fm, 201, map[string]any{"name": "Qiming I", "type": "vc", "committed_capital": "100000000.00"})
	m.fundID = f["fund_id"].(string)
	m.mustDo(t, "PUT", "/api/v1/funds/"+m.fundID+"/mandate", m.fm, 200, map[string]any{"stages": []string{"growth"}, "layers": []string{"technology"},
		"ticket_min": "5000000.00", "ticket_max": "40000000.00", "max_ownership": "0.20"})
	return m
}

// dealAtTermSheet signs startup n up, submits its application and takes
// the fund's deal for it to an accepted term sheet of ¥10m.
func (m *dealMarket) dealAtTermSheet(t *testing.T, n int) *marketDeal {
	t.Helper()
	body := fmt.Sprintf("9111010%010d", n)
	check, _ := fundbridge.USCCCheck(body)
	email := fmt.Sprintf("founder%d@startup.cn", n)
	m.mustDo(t, "POST", "/api/v1/auth/signup", "", 201, map[string]any{"email": email, "password": "founder-password", "name": "Founder",
		"company": map[string]any{"name": fmt.Sprintf("深度视觉 %d", n), "uscc": body + string(check), "city": "shenzhen", "layer": "technology",
			"sector": "computer_vision", "founded_on": "2022-03-01", "headcount": 40, "stage": "growth"}})
	d := &marketDeal{startup: m.c.signIn(email, "founder-password")}
	a := m.mustDo(t, "POST", "/api/v1/applications", d.startup, 201, map[string]any{"amount_requested": "30000000.00", "instruments": []string{"equity"},
		"use_of_funds": "Training cluster", "valuation_ask": "90000000.00"})
	d.appID = a["application_id"].(string)
	m.mustDo(t, "POST", "/api/v1/applications/"+d.appID+"/submit", d.startup, 200, map[string]any{})
	for deadline := time.Now().Add(30 * time.Second); d.id == ""; time.Sleep(50 * time.Millisecond) {
		status, raw, err := m.c.do(context.Background(), "POST", "/api/v1/deals", m.fm, "src-"+d.appID, map[string]any{"fund_id": m.fundID, "application_id": d.appID})
		if err == nil && status == 201 {
			var out map[string]any
			_ = json.Unmarshal(raw, &out)
			d.id = out["deal_id"].(string)
		} else if time.Now().After(deadline) {
			t.Fatalf("no sourceable match: %d %v %s", status, err, raw)
		}
	}
	for _, step := range []string{"screening", "first_meeting", "due_diligence", "ic_review"} {
		m.mustDo(t, "POST", "/api/v1/deals/"+d.id+"/advance", m.fm, 200, map[string]any{"to": step})
	}
	m.mustDo(t, "POST", "/api/v1/deals/"+d.id+"/term-sheet", m.fm, 200, map[string]any{"amount": "10000000.00", "pre_money": "90000000.00"})
	m.mustDo(t, "POST", "/api/v1/deals/"+d.id+"/term-sheet/accept", d.startup, 200, map[string]any{})
	return d
}

func (m *dealMarket) mustDo(t *testing.T, method, path, token string, want int, body any) map[string]any {
	t.Helper()
	status, raw, err := m.c.do(context.Background(), method, path, token, "", body)
	if err != nil || status != want {
		t.Fatalf("%s %s = %d %v %s", method, path, status, err, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

func (m *dealMarket) get(t *testing.T, path, token string) map[string]any {
	t.Helper()
	return m.mustDo(t, "GET", path, token, 200, nil)
}

// settled waits until no closing holds the deal any more and reports
// whether it closed.
func (m *dealMarket) settled(t *testing.T, d *marketDeal) bool {
	t.Helper()
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		deal := m.get(t, "/api/v1/deals/"+d.id, m.fm)
		if deal["closing_process"] == nil {
			return deal["step"] == "closed"
		}
		if time.Now().After(deadline) {
			t.Fatalf("deal %s is still closing: %v", d.id, deal)
		}
	}
}

// check holds the product to the only outcomes allowed: a closed deal has
// its capital committed once (and never released) and its application
// funded by it once; a deal not closed has nothing committed, or what was
// committed released, and its application free to close again.
func (m *dealMarket) check(t *testing.T, deals []*marketDeal, closed map[string]bool) {
	t.Helper()
	head := "?after=" + m.head(t)
	op := m.c.operator()
	fundEvents := m.get(t, "/api/v1/streams/fund-"+m.fundID+"/events", op)["events"].([]any)
	committed, released := map[string]int{}, map[string]int{}
	for _, e := range fundEvents {
		e := e.(map[string]any)
		deal, _ := e["payload"].(map[string]any)["deal_id"].(string)
		switch e["type"] {
		case "fund.capital_committed.v1":
			committed[deal]++
		case "fund.capital_released.v1":
			released[deal]++
		}
	}
	nClosed := 0
	for _, d := range deals {
		app := m.get(t, "/api/v1/applications/"+d.appID+head, op)
		funded := app["deals"].([]any)
		if closed[d.id] {
			nClosed++
			if committed[d.id] != 1 || released[d.id] != 0 {
				t.Errorf("closed deal %s: capital committed %d times, released %d times; want once, never", d.id, committed[d.id], released[d.id])
			}
			if app["status"] != "funded" || len(funded) != 1 || app["closing_deal"] != nil {
				t.Errorf("the application of closed deal %s: %v", d.id, app)
			}
			continue
		}
		if committed[d.id] != released[d.id] || committed[d.id] > 1 {
			t.Errorf("deal %s not closed: capital committed %d times, released %d times", d.id, committed[d.id], released[d.id])
		}
		if app["status"] == "funded" || len(funded) != 0 || app["closing_deal"] != nil {
			t.Errorf("the application of deal %s, not closed: %v", d.id, app)
		}
	}
	fund := m.get(t, "/api/v1/funds/"+m.fundID+head, m.fm)
	if want := fmt.Sprintf("%d0000000.00", 10-nClosed); fund["dry_powder"] != want || fund["commitment_count"] != float64(nClosed) {
		t.Errorf("the fund after %d closes: dry powder %v, %v commitments; want %s, %d", nClosed, fund["dry_powder"], fund["commitment_count"], want, nClosed)
	}
}

// head is the log's position now: reads with ?after= it wait for
// everything written so far.
func (m *dealMarket) head(t *testing.T) string {
	t.Helper()
	js, err := jetstream.New(m.nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(context.Background(), "FUNDBRIDGE_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(info.State.LastSeq)
}

// stepsIn names the process events of an appended commit, as
// "<event> <step>", to show where a kill landed.
func stepsIn(data []byte) []string {
	var c struct {
		Events []struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		} `json:"events"`
	}
	if json.Unmarshal(data, &c) != nil {
		return nil
	}
	var out []string
	for _, e := range c.Events {
		var p struct {
			Step    string `json:"step"`
			Command struct {
				Step string `json:"step"`
			} `json:"command"`
		}
		_ = json.Unmarshal(e.Payload, &p)
		step := p.Step + p.Command.Step
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(e.Type, "process."), ".v1")+" "+step)
	}
	return out
}

var nkeyFlag = regexp.MustCompile(`--nkey (\S+)`)

// natsAdmin connects to the dev process's NATS as its admin, with the
// seed file dev prints.
func natsAdmin(t *testing.T, p *devProcess) *nats.Conn {
	t.Helper()
	var seed string
	for _, l := range p.lines {
		if m := nkeyFlag.FindStringSubmatch(l); m != nil {
			seed = m[1]
		}
	}
	if seed == "" {
		t.Fatalf("dev printed no admin nkey: %q", p.lines)
	}
	opt, err := nats.NkeyOptionFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(p.nats, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// devCreds is the seed file of a service's NATS user beside the admin's.
func devCreds(t *testing.T, p *devProcess, service string) string {
	t.Helper()
	for _, l := range p.lines {
		if m := nkeyFlag.FindStringSubmatch(l); m != nil {
			return strings.TrimSuffix(m[1], "admin.nk") + service + ".nk"
		}
	}
	t.Fatal("dev printed no credentials")
	return ""
}

// waitQueueMembers waits until n instances of the service answer micro
// discovery: both matching components serve before the closes start.
func waitQueueMembers(t *testing.T, nc *nats.Conn, service string, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		inbox := nats.NewInbox()
		sub, err := nc.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.PublishRequest("$SRV.PING."+service, inbox, nil); err != nil {
			t.Fatal(err)
		}
		got := 0
		for {
			if _, err := sub.NextMsg(300 * time.Millisecond); err != nil {
				break
			}
			got++
		}
		_ = sub.Unsubscribe()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d instances of %s answer, want %d", got, service, n)
		}
	}
}

// closeRequests is, per matching instance, how many deal.close requests
// it served (its micro stats): the queue group spreads them.
func closeRequests(t *testing.T, nc *nats.Conn) []int {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest("$SRV.STATS.matching", inbox, nil); err != nil {
		t.Fatal(err)
	}
	var out []int
	for {
		msg, err := sub.NextMsg(500 * time.Millisecond)
		if err != nil {
			return out
		}
		var stats struct {
			Endpoints []struct {
				Name     string `json:"name"`
				Requests int    `json:"num_requests"`
			} `json:"endpoints"`
		}
		_ = json.Unmarshal(msg.Data, &stats)
		n := 0
		for _, e := range stats.Endpoints {
			if e.Name == "deal_close" {
				n += e.Requests
			}
		}
		out = append(out, n)
	}
}
