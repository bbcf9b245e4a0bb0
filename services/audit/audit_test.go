package audit_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/audit"
	"github.com/fundbridge/fundbridge/services/audit/auditapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

type noted struct {
	Text string `json:"text"`
}

func TestAuditTrailOverNATS(t *testing.T) {
	reg := events.NewRegistry()
	events.Register[noted](reg, "note.noted.v1")
	env := testenv.Start(t, reg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, env.Connect(t), audit.Service(env.Store)) }()
	t.Cleanup(func() { cancel(); <-done })

	operator := fundbridge.Actor{UserID: "op", Role: fundbridge.RoleOperator}
	startup := fundbridge.Actor{UserID: "s1", Role: fundbridge.RoleStartup, OrgID: "org-s1"}
	res, err := env.Store.Append(context.Background(), events.AppendRequest{
		StreamID: "note-1", Expected: events.NoStream,
		Events: []events.NewEvent{{Type: "note.noted.v1", Payload: json.RawMessage(`{"text":"hi"}`)}},
		Meta:   events.Meta{Actor: startup, CorrelationID: "c1", CausationID: "cmd1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := svc.NewClient(env.Conn, 5*time.Second)
	call := func(op string, actor fundbridge.Actor, q any, out any) error {
		payload, _ := json.Marshal(q)
		var err error
		for range 100 { // until the service's subscription is live
			_, err = client.Call(context.Background(), audit.Name, op, &svc.Request{Actor: actor, Payload: payload}, out)
			if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
				return err
			}
			time.Sleep(10 * time.Millisecond)
		}
		return err
	}
	var head auditapi.HeadResult
	if err := call("head", operator, nil, &head); err != nil || head.Position != res.Position {
		t.Fatalf("head = %+v %v, want %d", head, err, res.Position)
	}
	var trail auditapi.StreamResult
	if err := call("stream", operator, auditapi.StreamQuery{StreamID: "note-1"}, &trail); err != nil {
		t.Fatal(err)
	}
	if len(trail.Events) != 1 || trail.Events[0].Actor != startup || trail.Events[0].CausationID != "cmd1" || trail.Events[0].CorrelationID != "c1" {
		t.Fatalf("trail = %+v: want who, and which command caused it", trail)
	}
	// A startup reads the trail of a stream about its own company.
	if _, err := env.Store.Append(context.Background(), events.AppendRequest{
		StreamID: "note-2", Expected: events.NoStream,
		Events: []events.NewEvent{{Type: "note.noted.v1", Payload: json.RawMessage(`{"text":"mine","company_id":"org-s1"}`)}},
		Meta:   events.Meta{Actor: startup},
	}); err != nil {
		t.Fatal(err)
	}
	if err := call("stream", startup, auditapi.StreamQuery{StreamID: "note-2"}, &trail); err != nil || len(trail.Events) != 1 {
		t.Errorf("own trail = %+v %v", trail, err)
	}
	other := fundbridge.Actor{UserID: "s2", Role: fundbridge.RoleStartup, OrgID: "org-s2"}
	if err := call("stream", other, auditapi.StreamQuery{StreamID: "note-2"}, nil); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("another startup's trail = %v, want not found", err)
	}
	for _, tc := range []struct {
		name  string
		actor fundbridge.Actor
		q     auditapi.StreamQuery
		code  string
	}{
		{"a startup, not about its company", startup, auditapi.StreamQuery{StreamID: "note-1"}, fundbridge.ENOTFOUND},
		{"a bank", fundbridge.Actor{UserID: "b", Role: fundbridge.RoleBank, OrgID: "bank"}, auditapi.StreamQuery{StreamID: "note-1"}, fundbridge.EFORBIDDEN},
		{"missing stream", operator, auditapi.StreamQuery{StreamID: "note-9"}, fundbridge.ENOTFOUND},
		{"bad stream ID", operator, auditapi.StreamQuery{StreamID: "note.1"}, fundbridge.EINVALID},
	} {
		if err := call("stream", tc.actor, tc.q, nil); fundbridge.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}
