package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/audit"
	"github.com/fundbridge/fundbridge/services/audit/auditapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// legacyUser is user.registered.v1 as it was written, hash in the clear.
type legacyUser struct {
	UserID       string `json:"user_id"`
	Email        string `json:"email"`
	PasswordHash string `json:"password_hash"`
	Nested       struct {
		Token string `json:"api_token"`
		Kept  string `json:"kept"`
	} `json:"nested"`
}

func TestTheTrailRedactsSecrets(t *testing.T) {
	reg := events.NewRegistry()
	events.Register[legacyUser](reg, "user.registered.v1")
	env := testenv.Start(t, reg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, env.Connect(t), audit.Service(env.Store)) }()
	t.Cleanup(func() { cancel(); <-done })

	var u legacyUser
	u.UserID, u.Email, u.PasswordHash = "u1", "a@b.cn", "$2a$10$0123456789012345678901uabcdefghijklmnopqrstuvwxyzABCD"
	u.Nested.Token, u.Nested.Kept = "tok-secret", "visible"
	payload, _ := json.Marshal(u)
	system := fundbridge.Actor{UserID: "fundbridge", Role: fundbridge.RoleSystem}
	if _, err := env.Store.Append(context.Background(), events.AppendRequest{StreamID: "user-u1", Expected: events.NoStream,
		Events: []events.NewEvent{{Type: "user.registered.v1", Payload: payload}}, Meta: events.Meta{Actor: system}}); err != nil {
		t.Fatal(err)
	}
	client := svc.NewClient(env.Conn, 5*time.Second)
	q, _ := json.Marshal(auditapi.StreamQuery{StreamID: "user-u1"})
	var trail auditapi.StreamResult
	var err error
	for range 100 {
		_, err = client.Call(context.Background(), audit.Name, "stream", &svc.Request{Actor: fundbridge.Actor{UserID: "op", Role: fundbridge.RoleOperator}, Payload: q}, &trail)
		if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || len(trail.Events) != 1 {
		t.Fatalf("trail = %+v %v", trail, err)
	}
	p := string(trail.Events[0].Payload)
	if strings.Contains(p, "$2a$") || strings.Contains(p, "tok-secret") {
		t.Errorf("the trail shows a secret: %s", p)
	}
	var got map[string]any
	_ = json.Unmarshal(trail.Events[0].Payload, &got)
	if got["password_hash"] != audit.Redacted || got["email"] != "a@b.cn" || got["nested"].(map[string]any)["kept"] != "visible" || got["nested"].(map[string]any)["api_token"] != audit.Redacted {
		t.Errorf("redacted payload = %s; want the secrets marked and the rest as it was", p)
	}
}
