package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

func TestDeciders(t *testing.T) {
	org := identityapi.Org{OrgID: "o1", Name: "Qiming", Role: fundbridge.RoleFundManager}
	// given nothing, when created, then created
	if evs, err := createOrg(orgState{}, org); err != nil || len(evs) != 1 || evs[0] != identityapi.OrgCreated(org) {
		t.Errorf("create org = %v %v", evs, err)
	}
	// given created, when created the same, then nothing
	if evs, err := createOrg(orgState{Org: org}, org); err != nil || len(evs) != 0 {
		t.Errorf("create the same org again = %v %v", evs, err)
	}
	// given created, when created differently, then conflict
	if _, err := createOrg(orgState{Org: org}, identityapi.Org{OrgID: "o1", Name: "Other", Role: fundbridge.RoleBank}); fundbridge.ErrorCode(err) != fundbridge.ECONFLICT {
		t.Errorf("create another org at the same ID = %v", err)
	}
	// email claims are exclusive
	if evs, _ := claimEmail(claimState{}, "a@b.cn", "u1"); len(evs) != 1 {
		t.Errorf("first claim = %v", evs)
	}
	if evs, err := claimEmail(claimState{UserID: "u1"}, "a@b.cn", "u1"); err != nil || len(evs) != 0 {
		t.Errorf("the same user's claim again = %v %v", evs, err)
	}
	if _, err := claimEmail(claimState{UserID: "u1"}, "a@b.cn", "u2"); fundbridge.ErrorCode(err) != fundbridge.ECONFLICT {
		t.Errorf("another user's claim = %v", err)
	}
	if evs, _ := claimEmail(claimState{}, "a@b.cn", "u1"); len(evs) != 1 || evs[0] != (identityapi.EmailClaimed{UserID: "u1"}) {
		t.Errorf("a claim = %v; want the user alone, no email", evs)
	}
	u := identityapi.UserRegistered{UserID: "u1", Personal: "aesgcm:k:x", OrgID: "o1", Role: fundbridge.RoleBank}
	if evs, _ := registerUser(userState{}, u); len(evs) != 1 {
		t.Errorf("register = %v", evs)
	}
	if evs, err := registerUser(userState{UserID: "u1", OrgID: "o1"}, u); err != nil || len(evs) != 0 {
		t.Errorf("retried register = %v %v", evs, err)
	}
	if _, err := registerUser(userState{UserID: "u1", OrgID: "o2"}, u); fundbridge.ErrorCode(err) != fundbridge.ECONFLICT {
		t.Errorf("register over another user = %v", err)
	}
}

func TestErasureDecider(t *testing.T) {
	registered := userDecider.Evolve(userState{}, events.Event{}, identityapi.UserRegistered{UserID: "u1", OrgID: "o1"})
	// given nobody, when erased, then not found
	if _, err := eraseUser(userState{}, "u1"); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("erase nobody = %v, want not found", err)
	}
	// given registered, when erased, then erased (and nothing personal in it)
	evs, err := eraseUser(registered, "u1")
	if err != nil || len(evs) != 1 || evs[0] != (identityapi.UserErased{UserID: "u1"}) {
		t.Fatalf("erase = %v %v", evs, err)
	}
	erased := userDecider.Evolve(registered, events.Event{}, evs[0])
	// given erased, when erased again, then nothing
	if evs, err := eraseUser(erased, "u1"); err != nil || len(evs) != 0 {
		t.Errorf("erase again = %v %v", evs, err)
	}
	// given erased, when registered again (a retried sign-up), then conflict
	if _, err := registerUser(erased, identityapi.UserRegistered{UserID: "u1", OrgID: "o1"}); fundbridge.ErrorCode(err) != fundbridge.ECONFLICT {
		t.Errorf("register an erased user = %v, want conflict", err)
	}
}

// Events written before v3 still read: the clear email and name of v2 and
// v1 land in the legacy fields, the claim's v1 email is dropped.
func TestUpcastersToV3(t *testing.T) {
	reg := events.NewRegistry()
	identityapi.Register(reg)
	_, p, err := reg.Decode(events.Event{Type: identityapi.UserRegisteredV1, Payload: []byte(`{"user_id":"u1","email":"a@b.cn","name":"Li","role":"bank","org_id":"o1","password_hash":"$2a$x"}`)})
	u, _ := p.(identityapi.UserRegistered)
	if err != nil || u.Email != "a@b.cn" || u.Name != "Li" || u.LegacyHash != "$2a$x" || u.Personal != "" {
		t.Errorf("v1 = %+v %v", p, err)
	}
	_, p, err = reg.Decode(events.Event{Type: identityapi.UserRegisteredV2, Payload: []byte(`{"user_id":"u1","email":"a@b.cn","name":"Li","role":"bank","org_id":"o1","credential":"aesgcm:k:x"}`)})
	if u, _ := p.(identityapi.UserRegistered); err != nil || u.Email != "a@b.cn" || u.Credential != "aesgcm:k:x" {
		t.Errorf("v2 = %+v %v", p, err)
	}
	_, p, err = reg.Decode(events.Event{Type: identityapi.EmailClaimedV1, Payload: []byte(`{"email":"a@b.cn","user_id":"u1"}`)})
	if err != nil || p != (identityapi.EmailClaimed{UserID: "u1"}) {
		t.Errorf("claim v1 = %+v %v", p, err)
	}
}

func TestValidation(t *testing.T) {
	cmd := identityapi.CreateOrgCommand{Name: "", Role: fundbridge.RoleStartup, User: identityapi.NewUser{Email: "not-an-email", Password: "short", Name: ""}}
	err := cmd.Validate()
	want := map[string]bool{"name": true, "role": true, "user.email": true, "user.password": true, "user.name": true}
	for _, f := range fundbridge.ErrorFields(err) {
		delete(want, f.Field)
	}
	if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(want) > 0 {
		t.Errorf("validate = %v; fields not named: %v", err, want)
	}
	for _, ok := range []string{"li@sequoia.cn", "A.B+c@Example.COM"} {
		if _, valid := identityapi.NormaliseEmail(ok); !valid {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "x", "x@y", "Li <li@a.cn>", "li@a.cn ", "a@@b.cn"} {
		if _, valid := identityapi.NormaliseEmail(bad); valid {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestServiceOverNATS(t *testing.T) {
	reg := events.NewRegistry()
	identityapi.Register(reg)
	env := testenv.Start(t, reg)
	client := svc.NewClient(env.Conn, 5*time.Second)
	srv := New(env.Store, reg, client, WithBcryptCost(4), WithCredentialKey(testKey()), WithPersonKeys(testPersonKeys(t, env.Conn)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = srv.Run(ctx); done <- struct{}{} }()
	go func() { _ = svc.Serve(ctx, env.Connect(t), srv.Runtime()); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })

	system := fundbridge.Actor{UserID: "fundbridge", Role: fundbridge.RoleSystem}
	call := func(op string, actor fundbridge.Actor, key string, payload any, out any) (svc.Reply, error) {
		data, _ := json.Marshal(payload)
		var reply svc.Reply
		var err error
		for range 100 {
			reply, err = client.Call(context.Background(), Name, op, &svc.Request{Actor: actor, IdempotencyKey: key, Payload: data}, out)
			if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		return reply, err
	}
	var boot identityapi.BootstrapResult
	if _, err := call("identity.bootstrap_operator", system, "", identityapi.BootstrapOperatorCommand{Email: "ops@fundbridge.cn", Password: "correct horse battery"}, &boot); err != nil || !boot.Created {
		t.Fatalf("bootstrap = %+v %v", boot, err)
	}
	if _, err := call("identity.bootstrap_operator", system, "", identityapi.BootstrapOperatorCommand{Email: "ops@fundbridge.cn", Password: "a different harbour lantern"}, &boot); err != nil || boot.Created {
		t.Fatalf("second bootstrap = %+v %v; want the existing operator, unchanged", boot, err)
	}
	operator := fundbridge.Actor{UserID: boot.User.UserID, Role: fundbridge.RoleOperator, OrgID: "operators"}
	var user identityapi.User
	reply, err := call("identity.authenticate", system, "", identityapi.AuthenticateQuery{Email: "OPS@fundbridge.cn", Password: "correct horse battery"}, &user)
	if err != nil || user.Role != fundbridge.RoleOperator {
		t.Fatalf("authenticate = %+v %v", user, err)
	}
	_ = reply
	if _, err := call("identity.authenticate", system, "", identityapi.AuthenticateQuery{Email: "ops@fundbridge.cn", Password: "a different harbour lantern"}, nil); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
		t.Errorf("the second bootstrap's password works: %v", err)
	}
	if _, err := call("identity.authenticate", system, "", identityapi.AuthenticateQuery{Email: "nobody@x.cn", Password: "whatever1234"}, nil); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
		t.Errorf("unknown email = %v", err)
	}

	org := identityapi.CreateOrgCommand{Name: "ICBC Beijing", Role: fundbridge.RoleBank, User: identityapi.NewUser{Email: "credit@icbc.cn", Password: "teal walrus quietly hums", Name: "Wang"}}
	var created struct {
		Org  identityapi.Org  `json:"org"`
		User identityapi.User `json:"user"`
	}
	if _, err := call("identity.create_org", operator, "onboard-icbc", org, &created); err != nil || created.User.Role != fundbridge.RoleBank || created.User.OrgID != created.Org.OrgID {
		t.Fatalf("create org = %+v %v", created, err)
	}
	var again struct {
		Org  identityapi.Org  `json:"org"`
		User identityapi.User `json:"user"`
	}
	if _, err := call("identity.create_org", operator, "onboard-icbc", org, &again); err != nil || again.Org.OrgID != created.Org.OrgID {
		t.Fatalf("retried create org = %+v %v; want the first result", again, err)
	}
	if _, err := call("identity.create_org", operator, "", org, nil); fundbridge.ErrorCode(err) != fundbridge.ECONFLICT {
		t.Errorf("second org with the same email = %v, want conflict", err)
	}
	bank := fundbridge.Actor{UserID: created.User.UserID, Role: fundbridge.RoleBank, OrgID: created.Org.OrgID}
	if _, err := call("identity.create_org", bank, "", identityapi.CreateOrgCommand{Name: "x", Role: fundbridge.RoleBank, User: identityapi.NewUser{Email: "x@x.cn", Password: "teal walrus quietly hums", Name: "x"}}, nil); fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
		t.Errorf("a bank onboarding an org = %v, want forbidden", err)
	}
	head, _ := env.Store.Head(context.Background())
	if _, err := call("identity.create_org", operator, "", map[string]any{"name": "x", "role": "bank", "user": map[string]any{"email": "y@y.cn", "password": "teal walrus quietly hums", "name": "y"}, "extra": true}, nil); fundbridge.ErrorCode(err) != fundbridge.EINVALID {
		t.Errorf("unknown field = %v", err)
	}
	if after, _ := env.Store.Head(context.Background()); after != head {
		t.Errorf("bad input appended: head %d → %d", head, after)
	}
	var me struct {
		User identityapi.User `json:"user"`
		Org  identityapi.Org  `json:"org"`
	}
	if _, err := call("identity.me", bank, "", map[string]any{"after": 0}, &me); err != nil || me.Org.Name != "ICBC Beijing" {
		t.Errorf("me = %+v %v", me, err)
	}

	// Erasure: by the person or an operator only; then no sign-in, the
	// key is gone, and a directory rebuilt from the log shows them erased.
	if _, err := call("identity.erase_user", bank, "", identityapi.EraseUserCommand{UserID: operator.UserID}, nil); fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
		t.Errorf("a bank erasing the operator = %v, want forbidden", err)
	}
	var erased identityapi.ErasedUser
	reply, err = call("identity.erase_user", bank, "", identityapi.EraseUserCommand{UserID: bank.UserID}, &erased)
	if err != nil || !erased.Erased {
		t.Fatalf("erase myself = %+v %v", erased, err)
	}
	if _, err := call("identity.authenticate", system, "", identityapi.AuthenticateQuery{Email: "credit@icbc.cn", Password: "teal walrus quietly hums"}, nil); fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
		t.Errorf("an erased user signing in = %v", err)
	}
	if _, err := NewKVPersonKeys(env.Conn).Get(context.Background(), bank.UserID); err != errNoPersonKey {
		t.Errorf("the erased person's key = %v, want gone", err)
	}
	rebuilt := New(env.Store, reg, client, WithBcryptCost(4), WithCredentialKey(testKey()), WithPersonKeys(testPersonKeys(t, env.Conn)))
	rctx, rcancel := context.WithCancel(context.Background())
	defer rcancel()
	go func() { _ = rebuilt.Run(rctx) }()
	for _, srv := range []*Service{srv, rebuilt} {
		res, err := srv.getUser(context.Background(), &svc.Request{Actor: operator}, identityapi.GetUserQuery{UserID: bank.UserID, After: reply.Position})
		if u := res.Value; err != nil || !u.Erased || u.Name != identityapi.ErasedName || u.Email != "" {
			t.Errorf("the erased user shows as %+v %v", res.Value, err)
		}
	}
	checkResume(t, env, reg, client, reply.Position, rebuilt)

	icbc := identityapi.GetOrg{OrgID: created.Org.OrgID}
	for _, actor := range []fundbridge.Actor{operator, bank} {
		if got, _, err := svc.Call(context.Background(), client, identityapi.GetOrgEndpoint, &svc.Request{Actor: actor}, icbc); err != nil || got != created.Org {
			t.Errorf("%s reads its org: %+v %v", actor.Role, got, err)
		}
	}
	stranger := fundbridge.Actor{UserID: "u-x", Role: fundbridge.RoleBank, OrgID: "another-bank"}
	if _, _, err := svc.Call(context.Background(), client, identityapi.GetOrgEndpoint, &svc.Request{Actor: stranger}, icbc); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("another bank reads the org: %v, want not found", err)
	}
	if _, _, err := svc.Call(context.Background(), client, identityapi.GetOrgEndpoint, &svc.Request{Actor: operator}, identityapi.GetOrg{OrgID: "no such/org"}); fundbridge.ErrorCode(err) != fundbridge.EINVALID {
		t.Errorf("a malformed org ID: %v, want invalid", err)
	}
}

// testPersonKeys creates the person keys bucket, as the admin does, and
// binds to it.
func testPersonKeys(t *testing.T, nc *nats.Conn) *KVPersonKeys {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := CreatePersonKeysBucket(ctx, nc, 1); err != nil {
		t.Fatal(err)
	}
	return NewKVPersonKeys(nc)
}

// checkResume stops a directory with a checkpoint and starts it again: it
// resumes at the checkpoint, folding nothing, with the directory a fold
// from 0 has (the erased user erased, the others' emails opened again),
// and the checkpoint file holds no one's email or name.
func checkResume(t *testing.T, env *testenv.Env, reg *events.Registry, client *svc.Client, head uint64, fresh *Service) {
	t.Helper()
	dir := t.TempDir()
	open := func() (*Service, func()) {
		s := New(env.Store, reg, client, WithBcryptCost(4), WithCredentialKey(testKey()), WithPersonKeys(testPersonKeys(t, env.Conn)), WithCheckpoints(dir), WithLogger(slog.New(slog.DiscardHandler)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		if err := s.follower.WaitFor(context.Background(), head); err != nil {
			t.Fatal(err)
		}
		return s, func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	_, stop := open()
	stop()
	data, err := os.ReadFile(viewstate.Path(dir, "identity"))
	if err != nil {
		t.Fatal(err)
	}
	for _, personal := range []string{"ops@fundbridge.cn", "credit@icbc.cn", "Wang"} {
		if bytes.Contains(data, []byte(personal)) {
			t.Errorf("the checkpoint holds %q", personal)
		}
	}
	resumed, stop := open()
	defer stop()
	if st := resumed.follower.Stats(); st.RestoredFrom != head || st.Folded != 0 {
		t.Errorf("resumed %+v, want from %d with nothing folded", st, head)
	}
	if err := fresh.follower.WaitFor(context.Background(), head); err != nil {
		t.Fatal(err)
	}
	resumed.mu.RLock()
	fresh.mu.RLock()
	if !reflect.DeepEqual(resumed.byID, fresh.byID) || !reflect.DeepEqual(resumed.byEmail, fresh.byEmail) || !reflect.DeepEqual(resumed.erased, fresh.erased) || !reflect.DeepEqual(resumed.orgByID, fresh.orgByID) {
		t.Errorf("resumed directory differs from a fold from 0:\n%+v\n%+v", resumed.byID, fresh.byID)
	}
	fresh.mu.RUnlock()
	resumed.mu.RUnlock()
}
