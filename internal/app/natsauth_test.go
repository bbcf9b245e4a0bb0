package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/services/identity"
	"github.com/fundbridge/fundbridge/services/svc"
)

// natsUser is a connection as one of the product's NATS users that
// collects what the server refuses it.
type natsUser struct {
	name    string
	nc      *nats.Conn
	js      njs.JetStream
	refusal chan string
}

func connectAs(t *testing.T, p *product, user string) *natsUser {
	t.Helper()
	opts, err := natsauth.ClientOptions(p.app.Credentials.File(user), user)
	if err != nil {
		t.Fatal(err)
	}
	u := &natsUser{name: user, refusal: make(chan string, 64)}
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			u.refusal <- err.Error()
		}
	}))
	if u.nc, err = nats.Connect(p.app.NATSURL, opts...); err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(u.nc.Close)
	if u.js, err = njs.New(u.nc); err != nil {
		t.Fatal(err)
	}
	return u
}

// refused runs do and requires the server to refuse the user's publish to
// subject (a permission violation naming it), and do to fail.
func (u *natsUser) refused(t *testing.T, subject string, do func(ctx context.Context) error) {
	t.Helper()
	// A refusal comes back at once; the bound is only for a broken server.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- do(ctx) }()
	results := errc
	var doErr error
	returned := false
	for {
		select {
		case v := <-u.refusal:
			if !strings.Contains(v, `"`+subject+`"`) {
				continue // an earlier step's, arriving late
			}
			cancel()
			if !returned {
				doErr = <-errc
			}
			if doErr == nil {
				t.Errorf("%s: %s was refused, yet the call succeeded", u.name, subject)
			}
			return
		case doErr = <-results:
			if doErr == nil {
				t.Errorf("%s may publish to %s", u.name, subject)
				return
			}
			// Failed: the server's refusal precedes any reply, so it is
			// already on its way if it was refused at all.
			returned, results = true, nil
			grace, cancelGrace := context.WithTimeout(ctx, 2*time.Second)
			defer cancelGrace()
			ctx = grace
		case <-ctx.Done():
			t.Errorf("%s: no refusal of %s (the call: %v)", u.name, subject, doErr)
			return
		}
	}
}

func TestNATSRefusesConnectionsWithoutCredentials(t *testing.T) {
	p := start(t)
	if nc, err := nats.Connect(p.app.NATSURL); err == nil {
		nc.Close()
		t.Fatal("a connection without credentials was accepted")
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Errorf("refused with %v, want an authorization violation", err)
	}
	// A well-formed key the server does not know.
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	nc, err := nats.Connect(p.app.NATSURL, nats.Nkey(pub, kp.Sign))
	if err == nil {
		nc.Close()
		t.Fatal("an unknown nkey was accepted")
	}
	// The credentials are the owner's only.
	for _, path := range []string{p.app.Credentials.Dir, p.app.Credentials.File(natsauth.Admin), p.app.Credentials.File("identity")} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: %v, mode %v; want no access for group or others", path, err, fi.Mode().Perm())
		}
	}
}

// streamAdmin are the stream operations only the admin may do, each with
// the JetStream API subject it publishes to.
func streamAdmin(u *natsUser) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"$JS.API.STREAM.CREATE.FORGED": func(ctx context.Context) error {
			_, err := u.js.CreateStream(ctx, njs.StreamConfig{Name: "FORGED", Subjects: []string{"forged.>"}})
			return err
		},
		"$JS.API.STREAM.UPDATE.FUNDBRIDGE_EVENTS": func(ctx context.Context) error {
			_, err := u.js.UpdateStream(ctx, njs.StreamConfig{Name: natsauth.EventStream, Subjects: []string{"fb.ev.>"}})
			return err
		},
		"$JS.API.STREAM.PURGE.FUNDBRIDGE_EVENTS": func(ctx context.Context) error {
			return rawAPI(ctx, u.nc, "$JS.API.STREAM.PURGE.FUNDBRIDGE_EVENTS", `{}`)
		},
		"$JS.API.STREAM.MSG.DELETE.FUNDBRIDGE_EVENTS": func(ctx context.Context) error {
			return rawAPI(ctx, u.nc, "$JS.API.STREAM.MSG.DELETE.FUNDBRIDGE_EVENTS", `{"seq":1}`)
		},
		"$JS.API.STREAM.DELETE.FUNDBRIDGE_EVENTS": func(ctx context.Context) error {
			return u.js.DeleteStream(ctx, natsauth.EventStream)
		},
		"$JS.API.STREAM.DELETE.FUNDBRIDGE_SNAPSHOTS": func(ctx context.Context) error {
			return u.js.DeleteStream(ctx, natsauth.SnapshotStream)
		},
	}
}

// rawAPI sends a JetStream API request and fails on no reply or an error
// reply.
func rawAPI(ctx context.Context, nc *nats.Conn, subject, body string) error {
	msg, err := nc.RequestWithContext(ctx, subject, []byte(body))
	if err != nil {
		return err
	}
	var r struct {
		Error *njs.APIError `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return err
	}
	if r.Error != nil {
		return r.Error
	}
	return nil
}

// forgedOrg is an org's creation a stranger would like to get through.
const forgedOrg = `{"name":"Forged Capital","role":"operator","user":{"email":"forger@example.com","password":"forged-password","name":"Forger"}}`

// forgedRequest sends identity.create_org with a made-up actor on subject,
// as a raw request.
func forgedRequest(ctx context.Context, nc *nats.Conn, subject string, actor fundbridge.Actor) error {
	return rawRequest(ctx, nc, subject, actor, forgedOrg)
}

// rawRequest sends payload as actor on subject, as a raw request.
func rawRequest(ctx context.Context, nc *nats.Conn, subject string, actor fundbridge.Actor, payload string) error {
	body, _ := json.Marshal(svc.Request{ID: "forged", Actor: actor, Payload: json.RawMessage(payload)})
	msg, err := nc.RequestWithContext(ctx, subject, body)
	if err != nil {
		return err
	}
	var reply svc.Reply
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return err
	}
	if !reply.OK {
		return reply.Error
	}
	return nil
}

func TestNATSLeastPrivilege(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	before := eventState(t, p)
	operator := fundbridge.Actor{UserID: "made-up", Role: fundbridge.RoleOperator}
	aggs := app.Aggregates()
	for _, service := range p.app.Services {
		if service == natsauth.Gateway {
			continue
		}
		t.Run(service, func(t *testing.T) {
			u := connectAs(t, p, service)
			for other, types := range aggs {
				if other == service {
					continue
				}
				for _, typ := range types {
					if slices.Contains(aggs[service], typ) {
						continue // shared: "process", see app.Aggregates
					}
					subject := "fb.ev." + typ + ".forged"
					u.refused(t, subject, func(ctx context.Context) error {
						_, err := u.js.Publish(ctx, subject, []byte(`{}`))
						return err
					})
					subject = "fb.snap." + typ + ".forged"
					u.refused(t, subject, func(ctx context.Context) error {
						_, err := u.js.Publish(ctx, subject, []byte(`{}`))
						return err
					})
				}
			}
			for subject, do := range streamAdmin(u) {
				u.refused(t, subject, do)
			}
			// Requests as the gateway, or as another service: not even sent.
			for _, subject := range []string{
				svc.Subject("identity", "identity.create_org"),
				svc.SystemSubject("gateway", "identity", "identity.create_org"),
				svc.SystemSubject(otherThan(service), "identity", "identity.create_org"),
			} {
				u.refused(t, subject, func(ctx context.Context) error { return forgedRequest(ctx, u.nc, subject, operator) })
			}
			// As itself, a made-up actor is refused by the service.
			for _, actor := range []fundbridge.Actor{operator, svc.SystemActor(otherThan(service))} {
				err := forgedRequest(ctx, u.nc, svc.SystemSubject(service, "identity", "identity.create_org"), actor)
				if fundbridge.ErrorCode(err) != fundbridge.EUNAUTHORIZED {
					t.Errorf("%s as %v: %v, want unauthorized", service, actor, err)
				}
			}
			// As itself, it still may not do what only a person does through
			// the gateway: make an org (an operator), read a person, try a
			// password, or mint an operator by bootstrapping one.
			for op, payload := range map[string]string{
				"identity.create_org":         forgedOrg,
				"identity.get_user":           `{"user_id":"operator"}`,
				"identity.authenticate":       `{"email":"operator@fundbridge.local","password":"a guess at the password"}`,
				"identity.bootstrap_operator": `{"email":"minted@example.com","password":"a minted operator password"}`,
			} {
				if service == identity.Name && op == "identity.bootstrap_operator" {
					continue // identity bootstraps the first operator in a cluster
				}
				err := rawRequest(ctx, u.nc, svc.SystemSubject(service, "identity", op), svc.SystemActor(service), payload)
				if fundbridge.ErrorCode(err) != fundbridge.EFORBIDDEN {
					t.Errorf("%s calling %s as itself: %v, want forbidden", service, op, err)
				}
			}
			// A batched read of one event stream (the store's loads) is
			// answered, not refused.
			direct := "$JS.API.DIRECT.GET." + natsauth.EventStream
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if _, err := u.nc.RequestWithContext(dctx, direct, []byte(`{"seq":1,"next_by_subj":"fb.ev.>","batch":2}`)); err != nil {
				t.Errorf("%s: batched direct get of the event stream: %v", service, err)
			}
			cancel()
			// The person keys are identity's alone.
			if service == identity.Name {
				personKeysAreIdentitys(t, u)
			} else {
				personKeysRefused(t, u)
			}
			// Nor may it listen to another service's requests (sign-in
			// carries passwords).
			if service != "identity" {
				u.refused(t, "fb.svc.identity.>", func(ctx context.Context) error {
					sub, err := u.nc.SubscribeSync("fb.svc.identity.>")
					if err != nil {
						return err
					}
					_, err = sub.NextMsgWithContext(ctx)
					return err
				})
			}
		})
	}
	t.Run("gateway", func(t *testing.T) {
		u := connectAs(t, p, natsauth.Gateway)
		for _, types := range aggs {
			for _, typ := range types {
				subject := "fb.ev." + typ + ".forged"
				u.refused(t, subject, func(ctx context.Context) error {
					_, err := u.js.Publish(ctx, subject, []byte(`{}`))
					return err
				})
			}
		}
		for subject, do := range streamAdmin(u) {
			u.refused(t, subject, do)
		}
		subject := svc.SystemSubject("matching", "identity", "identity.create_org")
		u.refused(t, subject, func(ctx context.Context) error {
			return forgedRequest(ctx, u.nc, subject, svc.SystemActor("matching"))
		})
		personKeysRefused(t, u)
	})
	if after := eventState(t, p); after != before {
		t.Errorf("the streams changed under refused users: %+v, then %+v", before, after)
	}
	for email, password := range map[string]string{"forger@example.com": "forged-password", "minted@example.com": "a minted operator password"} {
		if r := p.do("POST", "/api/v1/auth/token", "", map[string]string{"email": email, "password": password}); r.status != 401 {
			t.Errorf("the forged user %s signs in: %d %s", email, r.status, r.raw)
		}
	}

	t.Run("admin", func(t *testing.T) {
		u := connectAs(t, p, natsauth.Admin)
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		s, err := u.js.CreateStream(ctx, njs.StreamConfig{Name: "SCRATCH", Subjects: []string{"scratch.>"}})
		if err != nil {
			t.Fatalf("admin cannot create a stream: %v", err)
		}
		if _, err := u.js.Publish(ctx, "scratch.one", []byte("x")); err != nil {
			t.Fatalf("admin cannot publish: %v", err)
		}
		if err := s.Purge(ctx); err != nil {
			t.Errorf("admin cannot purge: %v", err)
		}
		if err := u.js.DeleteStream(ctx, "SCRATCH"); err != nil {
			t.Errorf("admin cannot delete a stream: %v", err)
		}
	})
}

// personKeysRefused requires every way of reading or writing the person
// keys bucket to be refused to u.
func personKeysRefused(t *testing.T, u *natsUser) {
	t.Helper()
	stream := "KV_" + identity.PersonKeysBucket
	u.refused(t, "$JS.API.STREAM.INFO."+stream, func(ctx context.Context) error {
		_, err := u.js.KeyValue(ctx, identity.PersonKeysBucket)
		return err
	})
	direct := "$JS.API.DIRECT.GET." + stream + ".$KV." + identity.PersonKeysBucket + ".someone"
	u.refused(t, direct, func(ctx context.Context) error { return rawAPI(ctx, u.nc, direct, ``) })
	get := "$JS.API.STREAM.MSG.GET." + stream
	u.refused(t, get, func(ctx context.Context) error {
		return rawAPI(ctx, u.nc, get, `{"last_by_subj":"$KV.`+identity.PersonKeysBucket+`.someone"}`)
	})
	put := "$KV." + identity.PersonKeysBucket + ".someone"
	u.refused(t, put, func(ctx context.Context) error {
		_, err := u.js.Publish(ctx, put, []byte("forged"))
		return err
	})
	consumer := "$JS.API.CONSUMER.CREATE." + stream
	u.refused(t, consumer, func(ctx context.Context) error {
		return rawAPI(ctx, u.nc, consumer, `{"stream_name":"`+stream+`","config":{"ack_policy":"none","deliver_policy":"all"}}`)
	})
}

// personKeysAreIdentitys: identity binds the bucket, creates, reads and
// purges a key; it may not delete or purge the bucket.
func personKeysAreIdentitys(t *testing.T, u *natsUser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := u.js.KeyValue(ctx, identity.PersonKeysBucket)
	if err != nil {
		t.Fatalf("identity cannot bind the person keys: %v", err)
	}
	if _, err := kv.Create(ctx, "permission-test", []byte("sealed")); err != nil {
		t.Fatalf("identity cannot store a person key: %v", err)
	}
	if e, err := kv.Get(ctx, "permission-test"); err != nil || string(e.Value()) != "sealed" {
		t.Fatalf("identity cannot read a person key: %v", err)
	}
	if err := kv.Purge(ctx, "permission-test"); err != nil {
		t.Fatalf("identity cannot destroy a person key: %v", err)
	}
	if _, err := kv.Get(ctx, "permission-test"); !errors.Is(err, njs.ErrKeyNotFound) && !errors.Is(err, njs.ErrKeyDeleted) {
		t.Errorf("a destroyed person key reads %v", err)
	}
	stream := "KV_" + identity.PersonKeysBucket
	u.refused(t, "$JS.API.STREAM.DELETE."+stream, func(ctx context.Context) error {
		return u.js.DeleteKeyValue(ctx, identity.PersonKeysBucket)
	})
	u.refused(t, "$JS.API.STREAM.PURGE."+stream, func(ctx context.Context) error {
		return rawAPI(ctx, u.nc, "$JS.API.STREAM.PURGE."+stream, `{}`)
	})
}

// eventState is what the admin sees of the streams: messages and config.
type streamState struct {
	events, snapshots uint64
	eventSubjects     string
	denyDelete        bool
	streams           int
}

func eventState(t *testing.T, p *product) streamState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := connectAs(t, p, natsauth.Admin)
	ev, err := u.js.Stream(ctx, natsauth.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := u.js.Stream(ctx, natsauth.SnapshotStream)
	if err != nil {
		t.Fatal(err)
	}
	st := streamState{
		events: ev.CachedInfo().State.Msgs, snapshots: snap.CachedInfo().State.Msgs,
		eventSubjects: fmt.Sprint(ev.CachedInfo().Config.Subjects), denyDelete: ev.CachedInfo().Config.DenyDelete,
	}
	names := u.js.StreamNames(ctx)
	for range names.Name() {
		st.streams++
	}
	return st
}

// otherThan names a service that is not service.
func otherThan(service string) string {
	if service == "matching" {
		return "funds"
	}
	return "matching"
}
