package svc_test

import (
	"context"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/svc"
)

// A service calling another names itself in the subject and must carry
// its own system actor there; NATS permissions (internal/natsauth) keep
// everyone else from publishing on its subject.
func TestSystemCallsCarryTheCallersOwnActor(t *testing.T) {
	env := testenv.Start(t, events.NewRegistry())
	serve(t, env.Conn, svc.Service{Name: "echo", Operations: map[string]svc.Handler{
		"who": func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
			return svc.Result[any]{Value: req.Actor}, nil
		},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	matching := svc.NewSystemClient(env.Conn, "matching", 5*time.Second)
	var got fundbridge.Actor
	if _, err := matching.Call(ctx, "echo", "who", &svc.Request{Actor: svc.SystemActor("matching")}, &got); err != nil || got != svc.SystemActor("matching") {
		t.Fatalf("matching as itself: %v %v", got, err)
	}
	for _, forged := range []fundbridge.Actor{
		{UserID: "u-op", Role: fundbridge.RoleOperator},                 // a user's actor
		svc.SystemActor("identity"),                                     // another service
		{UserID: "matching", Role: fundbridge.RoleStartup, OrgID: "o1"}, // its name, not the platform
	} {
		_, err := matching.Call(ctx, "echo", "who", &svc.Request{Actor: forged}, nil)
		if fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
			t.Errorf("matching carrying %v: %v, want unauthorized", forged, err)
		}
	}
	// The gateway's subject takes the actor its token named.
	gateway := svc.NewClient(env.Conn, 5*time.Second)
	if _, err := gateway.Call(ctx, "echo", "who", &svc.Request{Actor: operator}, &got); err != nil || got != operator {
		t.Errorf("from the gateway: %v %v", got, err)
	}
}
