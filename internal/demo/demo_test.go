package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/demo"
)

func TestDemoIsRepeatableAndIdempotent(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a market")
	}
	ctx := context.Background()
	a, token := startProduct(t, nil)
	cfg := demo.Config{BaseURL: "http://" + a.HTTPAddr.String(), OperatorToken: token, Seed: 7, Startups: 40, Managers: 4, Funds: 12}
	first, err := demo.Load(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if first.Startups != 40 || first.Funds != 12 || first.Patents < 40 {
		t.Errorf("first load = %+v", first)
	}
	for _, status := range []string{"draft", "withdrawn", "rejected", "expired", "funded"} {
		if first.Applications[status] == 0 {
			t.Errorf("no application %s: %+v", status, first.Applications)
		}
	}
	for _, step := range []string{"sourced", "screening", "first_meeting", "due_diligence", "ic_review", "term_sheet", "closed", "passed"} {
		if first.Deals[step] == 0 {
			t.Errorf("no deal at %s: %+v", step, first.Deals)
		}
	}
	if first.Banks == 0 {
		t.Errorf("no banks: %+v", first)
	}
	for _, step := range []string{"syndicating", "closed", "repaying", "prepaid", "defaulted"} {
		if first.LoanDeals[step] == 0 {
			t.Errorf("no loan deal %s: %+v", step, first.LoanDeals)
		}
	}
	for _, fate := range []string{"quoted", "withdrawn", "awaiting_premium", "in_force", "claim_filed", "claim_part_paid", "claim_settled", "claim_denied", "cancelled"} {
		if first.Policies[fate] == 0 {
			t.Errorf("no insurance request %s: %+v", fate, first.Policies)
		}
	}
	// Matching reacts to the load asynchronously: let it settle first.
	settle := func() uint64 {
		for {
			before, err := a.Store.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			if after, _ := a.Store.Head(ctx); after == before {
				return after
			}
		}
	}
	head := settle()
	if _, err := demo.Load(ctx, cfg); err != nil {
		t.Fatalf("second load: %v", err)
	}
	if again := settle(); again != head {
		t.Errorf("loading the same seed again appended %d commits", again-head)
	}

	// A demo founder erased since: loading again stops at them, saying
	// so, and changes nothing.
	base := cfg.BaseURL
	founder := signInAs(t, base, "founder3.s7@demo.fundbridge.cn", "demo-founder-7-3")
	req, _ := http.NewRequest("DELETE", base+"/api/v1/users/"+founder, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("erase the founder: %v %v", resp, err)
	}
	head = settle()
	_, err = demo.Load(ctx, cfg)
	var gone *demo.UserGoneError
	if !errors.As(err, &gone) || gone.Email != "founder3.s7@demo.fundbridge.cn" {
		t.Errorf("loading again after an erasure: %v, want a UserGoneError naming the founder", err)
	}
	if again := settle(); again != head {
		evs, _ := a.Store.ReadAll(ctx, head, 10)
		for _, e := range evs {
			t.Logf("appended: %s %s %s %s", e.Type, e.StreamID, e.Command, e.Payload)
		}
		t.Errorf("loading again after an erasure appended %d commits", again-head)
	}
}

// signInAs signs a user in and returns their user ID.
func signInAs(t *testing.T, base, email, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(base+"/api/v1/auth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		User struct {
			UserID string `json:"user_id"`
		} `json:"user"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.User.UserID == "" {
		t.Fatalf("sign in %s: %d %v", email, resp.StatusCode, err)
	}
	return out.User.UserID
}

// startProduct runs the whole product on real NATS in a fresh directory,
// on clock (nil: the wall clock), and signs its operator in.
func startProduct(t *testing.T, clock func() time.Time) (*app.App, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if app.HasLog(dir) {
		t.Fatal("an empty directory has a log")
	}
	a, err := app.Start(ctx, app.Options{DataDir: dir, NATSAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Fsync: false,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test", BcryptCost: 4, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	op, err := a.BootstrapOperator(ctx, "ops@demo.test", "operator-password", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	token, err := a.IssueToken(op.Actor())
	if err != nil {
		t.Fatal(err)
	}
	if !app.HasLog(dir) {
		t.Fatal("a started product has no log") // dev --demo would turn its clock back over it
	}
	return a, token
}
