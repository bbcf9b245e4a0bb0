package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

func testKey() []byte { return bytes.Repeat([]byte{7}, CredentialKeySize) }

func TestSealedCredentialOpensOnlyForItsUserAndKey(t *testing.T) {
	s, err := newSealer(testKey())
	if err != nil {
		t.Fatal(err)
	}
	hash := []byte("$2a$04$abcdefghijklmnopqrstuv")
	sealed, err := s.seal("u1", hash)
	if err != nil || strings.Contains(sealed, "$2a$") || !strings.HasPrefix(sealed, "aesgcm:"+s.keyID+":") {
		t.Fatalf("seal = %q, %v", sealed, err)
	}
	if got, err := s.open("u1", sealed); err != nil || !bytes.Equal(got, hash) {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := s.open("u2", sealed); err == nil {
		t.Error("a credential moved onto another user opens")
	}
	other, _ := newSealer(bytes.Repeat([]byte{8}, CredentialKeySize))
	if _, err := other.open("u1", sealed); err == nil {
		t.Error("a credential opens under another key")
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Error("a short key accepted")
	}
}

// legacyUserRegistered is user.registered.v1 as it was written: with the
// bcrypt hash in the clear.
type legacyUserRegistered struct {
	UserID       string          `json:"user_id"`
	Email        string          `json:"email"`
	Name         string          `json:"name"`
	Role         fundbridge.Role `json:"role"`
	OrgID        string          `json:"org_id"`
	PasswordHash string          `json:"password_hash"`
}

// A log written before v2 keeps working: users registered by v1 events
// sign in, and new users' events carry no hash anyone else can read.
func TestV1UsersSignInAndNewEventsHoldNoHashNorPersonalData(t *testing.T) {
	reg := events.NewRegistry()
	identityapi.Register(reg)
	env := testenv.Start(t, reg)
	ctx := context.Background()

	oldReg := events.NewRegistry()
	events.Register[legacyUserRegistered](oldReg, identityapi.UserRegisteredV1)
	oldStore, err := jetstream.Open(ctx, env.Conn, oldReg, jetstream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("teal walrus quietly hums"), 4)
	v1, _ := json.Marshal(legacyUserRegistered{UserID: "u-old", Email: "old@bank.cn", Name: "Old", Role: fundbridge.RoleBank, OrgID: "o-old", PasswordHash: string(hash)})
	if _, err := oldStore.Append(ctx, events.AppendRequest{StreamID: "user-u-old", Expected: events.NoStream,
		Events: []events.NewEvent{{Type: identityapi.UserRegisteredV1, Payload: v1}}, Meta: events.Meta{Actor: fundbridge.Actor{UserID: "fundbridge", Role: fundbridge.RoleSystem}}}); err != nil {
		t.Fatal(err)
	}

	client := svc.NewClient(env.Conn, 5*time.Second)
	srv := New(env.Store, reg, client, WithBcryptCost(4), WithCredentialKey(testKey()), WithPersonKeys(testPersonKeys(t, env.Conn)))
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { _ = srv.Run(sctx); done <- struct{}{} }()
	go func() { _ = svc.Serve(sctx, env.Connect(t), srv.Runtime()); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	system := fundbridge.Actor{UserID: "fundbridge", Role: fundbridge.RoleSystem}
	call := func(op string, payload any, out any) error {
		data, _ := json.Marshal(payload)
		var err error
		for range 100 {
			if _, err = client.Call(ctx, Name, op, &svc.Request{Actor: system, Payload: data}, out); fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		return err
	}

	var u identityapi.User
	if err := call("identity.authenticate", identityapi.AuthenticateQuery{Email: "old@bank.cn", Password: "teal walrus quietly hums"}, &u); err != nil || u.UserID != "u-old" {
		t.Fatalf("a v1 user signing in = %+v %v", u, err)
	}
	if err := call("identity.authenticate", identityapi.AuthenticateQuery{Email: "old@bank.cn", Password: "not the password"}, nil); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
		t.Errorf("a v1 user with a wrong password = %v", err)
	}

	var boot identityapi.BootstrapResult
	if err := call("identity.bootstrap_operator", identityapi.BootstrapOperatorCommand{Email: "ops@fundbridge.cn", Password: "correct horse battery"}, &boot); err != nil {
		t.Fatal(err)
	}
	evs, err := env.Store.ReadStream(ctx, "user-"+boot.User.UserID, 1)
	if err != nil || len(evs) != 1 || evs[0].Type != "user.registered.v3" {
		t.Fatalf("the operator's stream = %+v %v", evs, err)
	}
	if p := string(evs[0].Payload); strings.Contains(p, "$2") || strings.Contains(p, "password") || !strings.Contains(p, `"credential":"aesgcm:`) ||
		strings.Contains(p, "ops@") || strings.Contains(p, "Operator") || !strings.Contains(p, `"personal":"aesgcm:`) {
		t.Errorf("a v3 event shows a hash or personal data: %s", p)
	}
	if err := call("identity.authenticate", identityapi.AuthenticateQuery{Email: "ops@fundbridge.cn", Password: "correct horse battery"}, &u); err != nil {
		t.Errorf("a v2 user signing in: %v", err)
	}
	if !reg.Known("user.registered.v3") || reg.Known(identityapi.UserRegisteredV1) || reg.Known(identityapi.UserRegisteredV2) {
		t.Error("v1 or v2 may still be appended, or v3 may not")
	}
}
