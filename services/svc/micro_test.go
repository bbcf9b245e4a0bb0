package svc_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/svc"
)

type greeting struct {
	Name string `json:"name"`
}

func (g greeting) Validate() error {
	var fe fundbridge.FieldErrors
	if g.Name == "" {
		fe.Add("name", "required")
	}
	return fe.Err("invalid greeting")
}

type greeted struct {
	Text string `json:"text"`
}

var greet = svc.NewQuery[greeting, greeted]("hello", "greeting.say", []fundbridge.Role{fundbridge.RoleOperator}, nil).Doing("greet")

// What `nats micro ls`, `info` and `stats` show is what micro's discovery
// subjects answer: the service, its endpoints with their subjects and
// queue group, and per endpoint the requests, errors and processing time.
func TestServicesAreDiscoverableAsMicroServices(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	stop := serve(t, env.Connect(t), svc.Service{Name: "hello", Version: "1.2.3", Description: "says hello",
		Operations: svc.Operations(svc.Handle(greet, func(_ context.Context, _ *svc.Request, g greeting) (svc.Result[greeted], error) {
			return svc.Result[greeted]{Value: greeted{Text: "hello " + g.Name}}, nil
		}))})
	defer stop()
	client := svc.NewClient(env.Conn, 5*time.Second)
	got, _, err := svc.Call(context.Background(), client, greet, &svc.Request{Actor: operator}, greeting{Name: "ada"})
	if err != nil || got.Text != "hello ada" {
		t.Fatalf("typed call: %+v, %v", got, err)
	}
	_, _, err = svc.Call(context.Background(), client, greet, &svc.Request{Actor: operator}, greeting{})
	if fundbridge.ErrorCode(err) != fundbridge.EINVALID || fundbridge.ErrorFields(err)[0].Field != "name" {
		t.Fatalf("invalid request: %v", err)
	}
	startup := fundbridge.Actor{UserID: "u", Role: fundbridge.RoleStartup, OrgID: "c"}
	if _, _, err = svc.Call(context.Background(), client, greet, &svc.Request{Actor: startup}, greeting{Name: "x"}); fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
		t.Fatalf("a role the endpoint does not allow: %v", err)
	}

	msg, err := env.Conn.Request("$SRV.INFO.hello", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info micro.Info
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		t.Fatal(err)
	}
	if info.Name != "hello" || info.Version != "1.2.3" || info.Description != "says hello" || len(info.Endpoints) != 2 {
		t.Fatalf("info: %+v", info)
	}
	if e := info.Endpoints[0]; e.Subject != "fb.svc.hello.greeting.say" || e.QueueGroup != svc.QueueGroup("hello") || e.Metadata["op"] != "greeting.say" {
		t.Fatalf("endpoint: %+v", e)
	}
	// The same operation for other services, each calling as itself.
	if e := info.Endpoints[1]; e.Subject != svc.SystemSubject("*", "hello", "greeting.say") || e.QueueGroup != svc.QueueGroup("hello") || e.Metadata["op"] != "greeting.say" {
		t.Fatalf("system endpoint: %+v", e)
	}

	type endpointStats struct {
		Name        string `json:"name"`
		NumRequests int    `json:"num_requests"`
		Data        struct {
			Requests int `json:"requests"`
			Errors   int `json:"errors"`
		} `json:"data"`
	}
	// micro counts a request when it arrives, serve when its answer has
	// gone out: the two agree once the last answer is counted.
	var stats struct {
		Endpoints []endpointStats `json:"endpoints"`
	}
	i := -1
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if msg, err = env.Conn.Request("$SRV.STATS.hello", nil, 2*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(msg.Data, &stats); err != nil {
			t.Fatal(err)
		}
		// Beside the three calls above, serve's probe for liveness counts: a
		// malformed request, refused.
		i = slices.IndexFunc(stats.Endpoints, func(e endpointStats) bool { return e.Name == "greeting_say" })
		if i < 0 {
			t.Fatalf("stats: %s", msg.Data)
		}
		if e := stats.Endpoints[i]; e.NumRequests == e.Data.Requests || time.Now().After(deadline) {
			break
		}
	}
	if e := stats.Endpoints[i]; e.NumRequests != e.Data.Requests || e.Data.Requests < 3 || e.Data.Errors != e.Data.Requests-1 {
		t.Fatalf("stats: %s", msg.Data)
	}
}
