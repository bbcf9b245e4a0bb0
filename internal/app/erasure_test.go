package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
)

// restart stops the product and starts it again on the same data, with
// the views' saved state removed: every view is rebuilt from the log.
func (p *product) restart() {
	p.t.Helper()
	p.app.Close()
	for _, saved := range []string{"projections", "views"} {
		if err := os.RemoveAll(filepath.Join(p.opts.DataDir, saved)); err != nil {
			p.t.Fatal(err)
		}
	}
	p.start()
}

// resume stops the product and starts it again on the same data: the
// services' views and the projections resume from their checkpoints.
func (p *product) resume() {
	p.t.Helper()
	p.app.Close()
	for _, name := range []string{"applications", "funds", "deals", "identity"} {
		if _, err := os.Stat(filepath.Join(p.opts.DataDir, "views", name+".snapshot")); err != nil {
			p.t.Errorf("the %s service saved no checkpoint: %v", name, err)
		}
	}
	p.start()
}

func (p *product) start() {
	p.t.Helper()
	a, err := app.Start(context.Background(), p.opts)
	if err != nil {
		p.t.Fatal(err)
	}
	p.app, p.base = a, "http://"+a.HTTPAddr.String()
	// Start returns before the services have caught up with the log and
	// joined their queue groups (ready says the first, a moment before the
	// second): wait for both before the first request.
	opts, err := natsauth.ClientOptions(a.Credentials.File(natsauth.Admin), natsauth.Admin)
	if err != nil {
		p.t.Fatal(err)
	}
	nc, err := nats.Connect(a.NATSURL, opts...)
	if err != nil {
		p.t.Fatal(err)
	}
	defer nc.Close()
	for _, name := range app.ServiceNames() {
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
			if name == "gateway" {
				break
			}
			if _, err := nc.Request("$SRV.PING."+name, nil, time.Second); err == nil && a.Ready() == nil {
				break
			}
			if time.Now().After(deadline) {
				p.t.Fatalf("%s not serving after a restart (ready: %v)", name, a.Ready())
			}
		}
	}
}

// jsFor reads the product's streams as the admin: the one NATS user that
// may read them all (the person keys are identity's otherwise).
func jsFor(t *testing.T, a *app.App) jetstream.JetStream {
	t.Helper()
	opts, err := natsauth.ClientOptions(a.Credentials.File(natsauth.Admin), natsauth.Admin)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(a.NATSURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// rawEvents is every message of the event stream, as the bytes stored.
func rawEvents(t *testing.T, a *app.App) [][]byte {
	t.Helper()
	ctx := context.Background()
	stream, err := jsFor(t, a).Stream(ctx, "FUNDBRIDGE_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("event %d: %v", seq, err)
		}
		out = append(out, m.Data)
	}
	return out
}

// A founder signs up and applies, then erases themself: their name and
// email are in no answer, no audit entry and (ciphertext only) in no byte
// of the log; they cannot sign in; a rebuild shows them erased; their
// company's applications stay.
func TestErasureOverHTTP(t *testing.T) {
	p := start(t)
	const name, email, password = "Zhao Mingyue", "zhao.mingyue@deepvision.cn", "river stone lantern"
	signup := map[string]any{"email": email, "password": password, "name": name, "company": company(77, "growth")}
	r := p.do("POST", "/api/v1/auth/signup", "", signup, "Idempotency-Key", "signup-zhao")
	if r.status != 201 {
		t.Fatalf("sign up: %d %s", r.status, r.raw)
	}
	userID, companyID := r.body["user_id"].(string), r.body["org_id"].(string)
	founder := p.signIn(email, password)
	appID := p.do("POST", "/api/v1/applications", founder, map[string]any{"amount_requested": "20000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs"}).body["application_id"].(string)
	if s := p.do("POST", "/api/v1/applications/"+appID+"/submit", founder, map[string]any{}); s.status != 200 {
		t.Fatalf("submit: %d %s", s.status, s.raw)
	}
	if u := p.do("GET", "/api/v1/users/"+userID, p.opToken, nil); u.body["name"] != name || u.body["email"] != email {
		t.Fatalf("the user before erasure: %d %s", u.status, u.raw)
	}
	for _, ev := range rawEvents(t, p.app) {
		if bytes.Contains(ev, []byte(name)) || bytes.Contains(bytes.ToLower(ev), []byte("zhao.mingyue")) {
			t.Fatalf("an event holds the name or email in the clear: %s", ev)
		}
	}

	other, _ := p.signUp(78, "seed")
	head := p.do("GET", "/api/v1/streams/user-"+userID+"/events", p.opToken, nil).raw
	wantProblem(t, p.do("DELETE", "/api/v1/users/"+userID, other, nil), 403)
	wantProblem(t, p.do("DELETE", "/api/v1/users/"+userID, "", nil), 401)
	wantProblem(t, p.do("DELETE", "/api/v1/users/nobody", p.opToken, nil), 404)
	if after := p.do("GET", "/api/v1/streams/user-"+userID+"/events", p.opToken, nil).raw; !bytes.Equal(head, after) {
		t.Errorf("a refused erasure appended: %s", after)
	}
	if e := p.do("DELETE", "/api/v1/users/"+userID, founder, nil); e.status != 200 || e.body["erased"] != true {
		t.Fatalf("erase myself: %d %s", e.status, e.raw)
	}
	if e := p.do("DELETE", "/api/v1/users/"+userID, p.opToken, nil); e.status != 200 {
		t.Errorf("an operator erasing again: %d %s", e.status, e.raw)
	}
	// The sign-up's kept response (for its retries) went with the person:
	// the same request again is not answered with their email and name.
	if again := p.do("POST", "/api/v1/auth/signup", "", signup, "Idempotency-Key", "signup-zhao"); again.status == 201 ||
		bytes.Contains(again.raw, []byte(name)) || bytes.Contains(bytes.ToLower(again.raw), []byte("zhao.mingyue")) {
		t.Errorf("the sign-up retried after erasure: %d %s", again.status, again.raw)
	}
	// ...nor does that retry free the erased address: it stays claimed.
	fresh := map[string]any{"email": email, "password": password, "name": "Someone Else", "company": company(79, "seed")}
	if r := p.do("POST", "/api/v1/auth/signup", "", fresh, "Idempotency-Key", "signup-zhao-again"); r.status != 409 {
		t.Errorf("a new sign-up with the erased address after the retry: %d %s", r.status, r.raw)
	}

	check := func(when string) {
		t.Helper()
		if r := p.do("POST", "/api/v1/auth/token", "", map[string]string{"email": email, "password": password}); r.status != 401 {
			t.Errorf("%s: an erased user signs in: %d %s", when, r.status, r.raw)
		}
		var answers [][]byte
		for _, path := range []string{"/api/v1/users/" + userID, "/api/v1/streams/user-" + userID + "/events", "/api/v1/companies/" + companyID,
			"/api/v1/streams/company-" + companyID + "/events", "/api/v1/streams/application-" + appID + "/events", "/api/v1/applications/" + appID, "/api/v1/applications"} {
			r := p.do("GET", path, p.opToken, nil)
			if r.status != 200 {
				t.Errorf("%s: GET %s = %d %s", when, path, r.status, r.raw)
			}
			answers = append(answers, r.raw)
		}
		u := p.do("GET", "/api/v1/users/"+userID, p.opToken, nil)
		if u.body["name"] != "erased user" || u.body["email"] != "" || u.body["erased"] != true {
			t.Errorf("%s: the erased user shows as %s", when, u.raw)
		}
		// The erased person's token ends with them, on every gateway
		// that starts after, too; another person's goes on.
		me := p.do("GET", "/api/v1/me", founder, nil)
		if me.status != 401 || !strings.Contains(string(me.raw), "erased") {
			t.Errorf("%s: the erased person's token still reads: %d %s", when, me.status, me.raw)
		}
		if w := p.do("POST", "/api/v1/applications", founder, map[string]any{"amount_requested": "1000000.00", "instruments": []string{"equity"}, "use_of_funds": "GPUs"}); w.status != 401 {
			t.Errorf("%s: the erased person's token still writes: %d %s", when, w.status, w.raw)
		}
		if o := p.do("GET", "/api/v1/me", other, nil); o.status != 200 {
			t.Errorf("%s: another person's token was ended too: %d %s", when, o.status, o.raw)
		}
		answers = append(answers, me.raw)
		if app := p.do("GET", "/api/v1/applications/"+appID, p.opToken, nil); app.body["status"] == nil {
			t.Errorf("%s: the company's application is gone: %s", when, app.raw)
		}
		answers = append(answers, rawEvents(t, p.app)...)
		for _, a := range answers {
			if s := strings.ToLower(string(a)); strings.Contains(s, "zhao") || strings.Contains(s, "mingyue") {
				t.Errorf("%s: the erased person's name or email is readable: %.400s", when, a)
			}
		}
	}
	kv, err := jsFor(t, p.app).KeyValue(context.Background(), "fb_person_keys")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(context.Background(), userID); err != jetstream.ErrKeyNotFound {
		t.Errorf("the erased person's key is still kept: %v", err)
	}
	if _, err := kv.Get(context.Background(), p.do("GET", "/api/v1/me", other, nil).body["user"].(map[string]any)["user_id"].(string)); err != nil {
		t.Errorf("another person's key is gone: %v", err)
	}
	check("after erasure")
	p.resume()
	check("after a restart from the checkpoints")
	p.restart()
	check("after a rebuild")
}
