package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// A query is answered in the gateway's process while its service is
// offered there, and over NATS (the same answer) or not at all once it is
// withdrawn; a handler's error and panic come out as they would over NATS.
func TestLocalServicesThenNATS(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	tokens, err := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := tokens.Issue(fundbridge.Actor{UserID: "op", Role: fundbridge.RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32 // handlers run on the server's goroutines
	service := svc.Service{Name: applicationsapi.Name, Logger: slog.New(slog.DiscardHandler), Operations: svc.Operations(
		svc.Handle(applicationsapi.GetCompanyEndpoint, func(_ context.Context, _ *svc.Request, q applicationsapi.GetCompany) (svc.Result[applicationsapi.CompanyView], error) {
			calls.Add(1)
			switch q.CompanyID {
			case "missing":
				return svc.Result[applicationsapi.CompanyView]{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no company %s", q.CompanyID)
			case "broken":
				panic("broken view")
			}
			return svc.Result[applicationsapi.CompanyView]{Value: applicationsapi.CompanyView{ID: q.CompanyID, Name: "Acme"}, Version: 7}, nil
		}))}
	local := NewLocalServices()
	g := New(env.Conn, WithTokens(tokens), WithLocalServices(local), WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(g.Handler())
	defer srv.Close()
	get := func(id string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/companies/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("ETag"), string(body)
	}

	remove := local.Add(service)
	status, etag, body := get("c1")
	if status != 200 || etag != `"7"` || !strings.Contains(body, `"name":"Acme"`) || calls.Load() != 1 {
		t.Fatalf("in process: %d %s %s (%d calls)", status, etag, body, calls.Load())
	}
	localAnswers := map[string]string{}
	for _, id := range []string{"c1", "missing", "broken"} {
		s, e, b := get(id)
		localAnswers[id] = strings.Join([]string{http.StatusText(s), e, b}, " ")
	}
	if !strings.Contains(localAnswers["missing"], "Not Found") || !strings.Contains(localAnswers["broken"], "Internal Server Error") ||
		strings.Contains(localAnswers["broken"], "broken view") {
		t.Fatalf("in process, errors: %v", localAnswers)
	}

	remove()
	if status, _, body := get("c1"); status != http.StatusServiceUnavailable {
		t.Fatalf("withdrawn and not on NATS: %d %s", status, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, env.Conn, service) }()
	defer func() { cancel(); <-served }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if status, _, _ := get("c1"); status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the service never answered over NATS")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for id, want := range localAnswers {
		s, e, b := get(id)
		if got := strings.Join([]string{http.StatusText(s), e, b}, " "); got != want {
			t.Errorf("%s over NATS: %s\nin process: %s", id, got, want)
		}
	}
}

// A command is called in the gateway's process too, answered as over NATS
// (position, version), and once taken it is finished even when its caller
// hangs up: the caller leaving must not stop it between the append and
// the answer.
func TestALocalCommandFinishesWhenItsCallerLeaves(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	tokens, err := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := tokens.Issue(fundbridge.Actor{UserID: "u1", Role: fundbridge.RoleStartup, OrgID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 2)
	release := make(chan struct{})
	finished := make(chan error, 2) // the handler's context when it returns
	service := svc.Service{Name: applicationsapi.Name, Logger: slog.New(slog.DiscardHandler), Operations: svc.Operations(
		svc.Handle(applicationsapi.WithdrawApplicationEndpoint, func(ctx context.Context, _ *svc.Request, c applicationsapi.WithdrawApplication) (svc.Result[applicationsapi.ApplicationView], error) {
			started <- struct{}{}
			<-release
			finished <- ctx.Err()
			return svc.Result[applicationsapi.ApplicationView]{Value: applicationsapi.ApplicationView{ID: c.ApplicationID}, Position: 42, Version: 3}, nil
		}))}
	local := NewLocalServices()
	defer local.Add(service)()
	g := New(env.Conn, WithTokens(tokens), WithLocalServices(local), WithLogger(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(g.Handler())
	defer srv.Close()
	withdraw := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/applications/a1/withdraw", strings.NewReader(`{"reason":"found other funding"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		return http.DefaultClient.Do(req)
	}

	close(release)
	res, err := withdraw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Fundbridge-Position") != "42" || res.Header.Get("ETag") != `"3"` ||
		!strings.Contains(string(body), `"position":42`) || !strings.Contains(string(body), `"application_id":"a1"`) {
		t.Fatalf("in process: %d %v %s", res.StatusCode, res.Header, body)
	}
	<-started
	if err := <-finished; err != nil {
		t.Fatalf("handler's context: %v", err)
	}

	release = make(chan struct{})
	ctx, hangUp := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() {
		res, err := withdraw(ctx)
		if err == nil {
			res.Body.Close()
		}
		left <- err
	}()
	<-started
	hangUp()
	if err := <-left; err == nil {
		t.Fatal("the caller hung up, yet got an answer")
	}
	close(release)
	if err := <-finished; err != nil {
		t.Fatalf("the command was stopped when its caller left: %v", err)
	}
}
