package applications_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/applications"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

var (
	operator = fundbridge.Actor{UserID: "olga", Role: fundbridge.RoleOperator}
	system   = fundbridge.Actor{UserID: "matching", Role: fundbridge.RoleSystem}
	alice    = fundbridge.Actor{UserID: "alice", Role: fundbridge.RoleStartup, OrgID: "acme"}
	bob      = fundbridge.Actor{UserID: "bob", Role: fundbridge.RoleStartup, OrgID: "beta"}
	fiona    = fundbridge.Actor{UserID: "fiona", Role: fundbridge.RoleFundManager, OrgID: "seedcap"}
	frank    = fundbridge.Actor{UserID: "frank", Role: fundbridge.RoleFundManager, OrgID: "othercap"}
	banker   = fundbridge.Actor{UserID: "bea", Role: fundbridge.RoleBank, OrgID: "icbc"}
	insurer  = fundbridge.Actor{UserID: "ian", Role: fundbridge.RoleInsurer, OrgID: "picc"}
)

type obj = map[string]any

// harness is the service on an embedded NATS server, and a client.
type harness struct {
	t      *testing.T
	env    *testenv.Env
	client *svc.Client
}

func start(t *testing.T) *harness {
	t.Helper()
	reg := events.NewRegistry()
	applicationsapi.Register(reg)
	fundsapi.Register(reg)
	env := testenv.Start(t, reg)
	srv := applications.New(env.Store, reg, applications.WithSnapshots(env.Snapshots))
	ctx, cancel := context.WithCancel(context.Background())
	served, followed := make(chan error, 1), make(chan error, 1)
	go func() { followed <- srv.Run(ctx) }()
	go func() { served <- svc.Serve(ctx, env.Connect(t), srv.Runtime()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := <-followed; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	h := &harness{t: t, env: env, client: svc.NewClient(env.Conn, 5*time.Second)}
	for range 200 { // until the subscriptions are live
		_, err := h.call(operator, "company.list", obj{}, nil)
		if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return h
}

type option func(*svc.Request)

func withKey(key string) option        { return func(r *svc.Request) { r.IdempotencyKey = key } }
func ifMatch(version uint64) option    { return func(r *svc.Request) { r.ExpectedVersion = &version } }
func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

func (h *harness) call(actor fundbridge.Actor, op string, payload any, out any, opts ...option) (svc.Reply, error) {
	req := &svc.Request{Actor: actor}
	switch p := payload.(type) {
	case json.RawMessage:
		req.Payload = p
	default:
		data, err := json.Marshal(p)
		if err != nil {
			h.t.Fatal(err)
		}
		req.Payload = data
	}
	for _, o := range opts {
		o(req)
	}
	return h.client.Call(context.Background(), applications.Name, op, req, out)
}

// must calls and fails the test on an error.
func (h *harness) must(actor fundbridge.Actor, op string, payload any, out any, opts ...option) svc.Reply {
	h.t.Helper()
	reply, err := h.call(actor, op, payload, out, opts...)
	if err != nil {
		h.t.Fatalf("%s by %s: %v", op, actor.UserID, err)
	}
	return reply
}

// refused calls and wants an error of code naming every field given.
func (h *harness) refused(actor fundbridge.Actor, op string, payload any, code string, fields ...string) error {
	h.t.Helper()
	_, err := h.call(actor, op, payload, nil)
	if fundbridge.ErrorCode(err) != code {
		h.t.Fatalf("%s by %s with %v: got %v, want %s", op, actor.UserID, payload, err, code)
	}
	for _, f := range fields {
		if !slices.ContainsFunc(fundbridge.ErrorFields(err), func(fe fundbridge.FieldError) bool { return fe.Field == f }) {
			h.t.Fatalf("%s with %v: %v does not name %s", op, payload, err, f)
		}
	}
	return err
}

func (h *harness) head() uint64 {
	h.t.Helper()
	pos, err := h.env.Store.Head(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return pos
}

func (h *harness) registerFund(fundID, managerOrg string) uint64 {
	h.t.Helper()
	payload, _ := json.Marshal(fundsapi.FundRegistered{FundID: fundID, ManagerOrg: managerOrg, Name: "Fund " + fundID, Type: fundsapi.FundVC})
	res, err := h.env.Store.Append(context.Background(), events.AppendRequest{
		StreamID: "fund-" + fundID, Expected: events.NoStream,
		Events: []events.NewEvent{{Type: fundsapi.FundRegistered{}.EventType(), Payload: payload}},
		Meta:   events.Meta{Actor: fundbridge.Actor{UserID: "fm", Role: fundbridge.RoleFundManager, OrgID: managerOrg}},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Position
}

func uscc(t testing.TB, first17 string) string {
	check, ok := fundbridge.USCCCheck(first17)
	if !ok {
		t.Fatalf("%q", first17)
	}
	return first17 + string(check)
}

func company(t testing.TB, id, name string, n int) obj {
	return obj{
		"company_id": id, "uscc": uscc(t, fmt.Sprintf("9111010%dMA01C2XK0", n%10)), "name": name, "city": "beijing",
		"layer": "technology", "sector": "computer_vision", "founded_on": "2021-03-01", "headcount": 12, "stage": "seed",
	}
}

func draft(amount string) obj {
	return obj{"amount_requested": amount, "instruments": []string{"equity", "venture_loan"}, "use_of_funds": "GPUs and engineers", "valuation_ask": "120000000.00"}
}

func TestEveryOperation(t *testing.T) {
	h := start(t)
	var c applicationsapi.CompanyView

	// A startup registers its own organisation; the platform registers another.
	reg := company(t, "", "Acme Vision", 1)
	delete(reg, "company_id")
	r := h.must(alice, "company.register", reg, &c)
	if c.ID != "acme" || c.Version != 1 || r.Version != 1 || r.Position == 0 || c.Stage != fundbridge.StageSeed {
		t.Fatalf("registered %+v, reply %+v", c, r)
	}
	h.must(system, "company.register", company(t, "beta", "Beta Speech", 2), &c)
	if c.ID != "beta" {
		t.Fatalf("registered %+v", c)
	}

	h.must(alice, "company.update", obj{"name": "Acme Robotics", "city": "shenzhen", "layer": "application", "sector": "robotics", "founded_on": "2021-03-01", "headcount": 40}, &c)
	if c.Name != "Acme Robotics" || c.Sector != "robotics" || c.Version != 2 {
		t.Fatalf("updated %+v", c)
	}
	h.must(operator, "company.change_stage", obj{"company_id": "acme", "stage": "growth"}, &c)
	h.must(alice, "company.add_patent", obj{"number": "CN202310123456.6", "kind": "invention", "title": "Grasping unseen objects", "filed_on": "2023-01-10", "granted_on": "2024-08-01", "holding": "owner"}, &c)
	r = h.must(alice, "company.add_patent", obj{"number": "CN202320654328.X", "kind": "utility_model", "title": "Gripper", "filed_on": "2023-05-02", "holding": "licensee"}, &c)
	h.refused(alice, "company.add_patent", obj{"number": "CN202310123456.6", "kind": "invention", "title": "Again", "filed_on": "2023-01-10", "holding": "owner"}, fundbridge.ECONFLICT, "number")

	var got applicationsapi.CompanyView
	r = h.must(alice, "company.get", obj{"after": r.Position}, &got)
	if got.Stage != fundbridge.StageGrowth || len(got.Patents) != 2 || got.Version != 5 || r.Version != 5 || len(got.StageHistory) != 2 {
		t.Fatalf("got %+v", got)
	}
	if p := got.Patents[0]; p.ExpiresOn != "2043-01-10" || !p.Valid {
		t.Fatalf("granted patent %+v", p)
	}
	if p := got.Patents[1]; p.ExpiresOn != "2033-05-02" || p.Valid {
		t.Fatalf("pending patent %+v", p)
	}
	var companies applicationsapi.ListResult[applicationsapi.CompanyView]
	h.must(operator, "company.list", obj{"after": h.head()}, &companies)
	if len(companies.Items) != 2 || companies.Items[0].ID != "acme" {
		t.Fatalf("companies %+v", companies)
	}

	// The application's whole lifecycle.
	var a applicationsapi.ApplicationView
	h.must(alice, "application.draft", obj{"amount_requested": "30000000"}, &a)
	id := a.ID
	if a.Status != applicationsapi.StatusDraft || a.CompanyID != "acme" || a.Stage != fundbridge.StageGrowth || a.Sector != "robotics" || a.CompanyName != "Acme Robotics" {
		t.Fatalf("drafted %+v", a)
	}
	h.refused(alice, "application.submit", obj{"application_id": id}, fundbridge.EUNPROCESSABLE, "instruments", "use_of_funds")
	u := draft("30000000.50")
	u["application_id"] = id
	h.must(alice, "application.update", u, &a)
	if a.AmountRequested.String() != "30000000.50" || len(a.Instruments) != 2 || a.Version != 2 {
		t.Fatalf("updated %+v", a)
	}
	h.must(alice, "application.submit", obj{"application_id": id}, &a)
	if a.Status != applicationsapi.StatusSubmitted || a.SubmittedAt == nil {
		t.Fatalf("submitted %+v", a)
	}
	h.refused(alice, "application.update", u, fundbridge.ECONFLICT)
	h.registerFund("f1", "seedcap")
	h.must(system, "application.mark_matched", obj{"application_id": id, "fund_ids": []string{"f1"}}, &a)
	if a.Status != applicationsapi.StatusMatched {
		t.Fatalf("matched %+v", a)
	}
	h.must(system, "application.mark_under_review", obj{"application_id": id, "fund_id": "f1"}, &a)
	r = h.must(system, "application.mark_funded", obj{"application_id": id, "deal_id": "d1", "fund_id": "f1", "instrument": "equity", "amount": "25000000.00"}, &a)
	if a.Status != applicationsapi.StatusFunded || len(a.Deals) != 1 {
		t.Fatalf("funded %+v", a)
	}
	h.refused(alice, "application.withdraw", obj{"application_id": id}, fundbridge.ECONFLICT)

	var view applicationsapi.ApplicationView
	r = h.must(alice, "application.get", obj{"application_id": id, "after": r.Position}, &view)
	var steps []string
	for _, s := range view.StatusHistory {
		steps = append(steps, string(s.Status))
		if s.At.IsZero() {
			t.Fatalf("history without time: %+v", view.StatusHistory)
		}
	}
	if strings.Join(steps, ",") != "draft,submitted,matched,under_review,funded" || view.Version != 6 || r.Version != 6 ||
		view.Deals[0].DealID != "d1" || view.Deals[0].Amount.String() != "25000000.00" || view.Deals[0].FundID != "f1" {
		t.Fatalf("application %+v", view)
	}

	// The other ends: rejected, expired, withdrawn.
	ends := map[string]string{}
	for _, end := range []string{"reject", "expire", "withdraw"} {
		h.must(alice, "application.draft", draft("1000000"), &a)
		ends[end] = a.ID
		if end != "withdraw" {
			h.must(alice, "application.submit", obj{"application_id": a.ID}, &a)
		}
	}
	h.must(operator, "application.reject", obj{"application_id": ends["reject"], "reason": "not an AI company"}, &a)
	if a.Status != applicationsapi.StatusRejected || a.Reason != "not an AI company" {
		t.Fatalf("rejected %+v", a)
	}
	h.must(system, "application.expire", obj{"application_id": ends["expire"]}, &a)
	if a.Status != applicationsapi.StatusExpired {
		t.Fatalf("expired %+v", a)
	}
	r = h.must(alice, "application.withdraw", obj{"application_id": ends["withdraw"], "reason": "raised elsewhere"}, &a)
	if a.Status != applicationsapi.StatusWithdrawn {
		t.Fatalf("withdrawn %+v", a)
	}

	var list applicationsapi.ListResult[applicationsapi.ApplicationView]
	h.must(operator, "application.list", obj{"after": r.Position}, &list)
	if len(list.Items) != 4 {
		t.Fatalf("listed %d applications", len(list.Items))
	}
	h.must(alice, "application.list", obj{"status": "funded"}, &list)
	if len(list.Items) != 1 || list.Items[0].ID != id {
		t.Fatalf("funded list %+v", list)
	}
}

func TestBadInputAppendsNothing(t *testing.T) {
	h := start(t)
	h.must(alice, "company.register", company(t, "acme", "Acme Vision", 1), nil)
	good := company(t, "newco", "NewCo", 3)
	with := func(k string, v any) json.RawMessage {
		p := obj{}
		for key, val := range good {
			p[key] = val
		}
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
		data, _ := json.Marshal(p)
		return data
	}
	before := h.head()
	for _, tc := range []struct {
		name    string
		payload json.RawMessage
		fields  []string
	}{
		{"not an object", rawJSON(`["newco"]`), []string{"body"}},
		{"unknown field", with("nickname", "NC"), []string{"nickname"}},
		{"missing fields", rawJSON(`{}`), []string{"company_id", "uscc", "name", "city", "layer", "sector", "founded_on", "headcount", "stage"}},
		{"missing uscc", with("uscc", nil), []string{"uscc"}},
		{"headcount as a string", with("headcount", "12"), []string{"headcount"}},
		{"headcount fractional", with("headcount", 12.5), []string{"headcount"}},
		{"name as a number", with("name", 5), []string{"name"}},
		{"wrong USCC check character", with("uscc", good["uscc"].(string)[:17]+"0"), []string{"uscc"}},
		{"short USCC", with("uscc", "91110108MA01"), []string{"uscc"}},
		{"USCC with an I", with("uscc", "9111010IMA01C2XK0A"), []string{"uscc"}},
		{"unknown city", with("city", "gotham"), []string{"city"}},
		{"unknown layer", with("layer", "quantum"), []string{"layer"}},
		{"unknown sector", with("sector", "web3"), []string{"sector"}},
		{"sector of another layer", with("sector", "ai_chips"), []string{"sector"}},
		{"unknown stage", with("stage", "series_a"), []string{"stage"}},
		{"founded in the future", with("founded_on", time.Now().AddDate(0, 0, 3).Format("2006-01-02")), []string{"founded_on"}},
		{"founded on 30 February", with("founded_on", "2021-02-30"), []string{"founded_on"}},
		{"no people", with("headcount", 0), []string{"headcount"}},
		{"bad company ID", with("company_id", "new co"), []string{"company_id"}},
	} {
		t.Run("register: "+tc.name, func(t *testing.T) {
			h.refused(system, "company.register", tc.payload, fundbridge.EINVALID, tc.fields...)
		})
	}
	if after := h.head(); after != before {
		t.Fatalf("refused registrations appended: head %d → %d", before, after)
	}

	drafts := []struct {
		name    string
		payload json.RawMessage
		field   string
	}{
		{"unknown field", rawJSON(`{"amount_requested": "100", "currency": "USD"}`), "currency"},
		{"missing amount", rawJSON(`{"instruments": ["equity"]}`), "amount_requested"},
		{"amount as a number", rawJSON(`{"amount_requested": 30000000}`), "amount_requested"},
		{"amount as garbage", rawJSON(`{"amount_requested": "thirty million"}`), "amount_requested"},
		{"negative amount", rawJSON(`{"amount_requested": "-100.00"}`), "amount_requested"},
		{"zero amount", rawJSON(`{"amount_requested": "0.00"}`), "amount_requested"},
		{"3 decimal places", rawJSON(`{"amount_requested": "100.005"}`), "amount_requested"},
		{"above ¥10bn", rawJSON(`{"amount_requested": "10000000000.01"}`), "amount_requested"},
		{"overflowing", rawJSON(`{"amount_requested": "99999999999999999999999999999999.99"}`), "amount_requested"},
		{"overflowing exponent", rawJSON(`{"amount_requested": "1e400"}`), "amount_requested"},
		{"valuation as a number", rawJSON(`{"amount_requested": "100", "valuation_ask": 5e8}`), "valuation_ask"},
		{"unknown instrument", rawJSON(`{"amount_requested": "100", "instruments": ["crypto"]}`), "instruments[0]"},
		{"instruments as a string", rawJSON(`{"amount_requested": "100", "instruments": "equity"}`), "instruments"},
		{"an instrument twice", rawJSON(`{"amount_requested": "100", "instruments": ["equity", "equity"]}`), "instruments[1]"},
		{"consent as a string", rawJSON(`{"amount_requested": "100", "credit_data_consent": "yes"}`), "credit_data_consent"},
		{"use of funds too long", rawJSON(`{"amount_requested": "100", "use_of_funds": "` + strings.Repeat("x", 2001) + `"}`), "use_of_funds"},
	}
	for _, tc := range drafts {
		t.Run("draft: "+tc.name, func(t *testing.T) {
			err := h.refused(alice, "application.draft", tc.payload, fundbridge.EINVALID, tc.field)
			if tc.name == "above ¥10bn" && !strings.Contains(err.Error(), "¥10bn") {
				t.Fatalf("%v does not say the limit", err)
			}
		})
	}
	h.refused(operator, "application.draft", rawJSON(`{"amount_requested": "100"}`), fundbridge.EINVALID, "company_id")
	// Malformed JSON cannot ride inside a request's payload; as a whole
	// request it is refused before any handler runs.
	for _, op := range []string{"company.register", "application.draft"} {
		msg, err := h.env.Conn.Request(svc.Subject(applications.Name, op),
			[]byte(`{"id":"r1","actor":{"user":"alice","role":"startup","org":"acme"},"payload":{"amount_requested":`), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var reply svc.Reply
		if err := json.Unmarshal(msg.Data, &reply); err != nil || reply.OK || reply.Error.Code != fundbridge.EINVALID {
			t.Fatalf("%s with malformed JSON: %s", op, msg.Data)
		}
	}
	if after := h.head(); after != before {
		t.Fatalf("refused drafts appended: head %d → %d", before, after)
	}
}

func TestWhoSeesAndChangesWhat(t *testing.T) {
	h := start(t)
	h.must(alice, "company.register", company(t, "acme", "Acme Vision", 1), nil)
	h.must(bob, "company.register", company(t, "beta", "Beta Speech", 2), nil)
	var a applicationsapi.ApplicationView
	h.must(alice, "application.draft", obj{"amount_requested": "8000000", "instruments": []string{"equity"}, "use_of_funds": "data"}, &a)
	id := a.ID

	// Startup B cannot see or change A's company or application.
	h.refused(bob, "company.register", company(t, "acme", "Acme Vision", 1), fundbridge.EFORBIDDEN)
	h.refused(bob, "company.get", obj{"company_id": "acme"}, fundbridge.ENOTFOUND)
	h.refused(bob, "company.update", obj{"company_id": "acme", "name": "Mine", "city": "beijing", "layer": "technology", "sector": "nlp", "founded_on": "2020-01-01", "headcount": 1}, fundbridge.ENOTFOUND)
	h.refused(bob, "company.change_stage", obj{"company_id": "acme", "stage": "growth"}, fundbridge.ENOTFOUND)
	h.refused(bob, "company.add_patent", obj{"company_id": "acme", "number": "CN202310123456.6", "kind": "invention", "title": "x", "filed_on": "2023-01-10", "holding": "owner"}, fundbridge.ENOTFOUND)
	h.refused(bob, "application.get", obj{"application_id": id}, fundbridge.ENOTFOUND)
	h.refused(bob, "application.update", obj{"application_id": id, "amount_requested": "1"}, fundbridge.ENOTFOUND)
	h.refused(bob, "application.submit", obj{"application_id": id}, fundbridge.ENOTFOUND)
	h.refused(bob, "application.withdraw", obj{"application_id": id}, fundbridge.ENOTFOUND)
	h.refused(bob, "application.draft", obj{"company_id": "acme", "amount_requested": "1"}, fundbridge.ENOTFOUND)
	var list applicationsapi.ListResult[applicationsapi.ApplicationView]
	h.must(bob, "application.list", obj{"company_id": "acme"}, &list)
	if len(list.Items) != 0 {
		t.Fatalf("bob lists %+v", list.Items)
	}
	var companies applicationsapi.ListResult[applicationsapi.CompanyView]
	h.must(bob, "company.list", obj{"after": h.head()}, &companies)
	if len(companies.Items) != 1 || companies.Items[0].ID != "beta" {
		t.Fatalf("bob lists %+v", companies.Items)
	}
	// ...nor learn its version through If-Match.
	if _, err := h.call(bob, "application.submit", obj{"application_id": id}, nil, ifMatch(7)); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Fatalf("bob's If-Match: %v", err)
	}

	// Roles that may never do a thing.
	h.refused(fiona, "application.submit", obj{"application_id": id}, fundbridge.EFORBIDDEN)
	h.refused(fiona, "application.mark_matched", obj{"application_id": id, "fund_ids": []string{"f1"}}, fundbridge.EFORBIDDEN)
	h.refused(alice, "application.mark_matched", obj{"application_id": id, "fund_ids": []string{"f1"}}, fundbridge.EFORBIDDEN)
	h.refused(alice, "application.mark_funded", obj{"application_id": id}, fundbridge.EFORBIDDEN)
	h.refused(system, "application.reject", obj{"application_id": id, "reason": "x"}, fundbridge.EFORBIDDEN)
	h.refused(operator, "application.withdraw", obj{"application_id": id}, fundbridge.EFORBIDDEN)
	h.refused(fiona, "company.register", company(t, "fundco", "Fund Co", 5), fundbridge.EFORBIDDEN)
	h.refused(system, "company.update", obj{"company_id": "acme"}, fundbridge.EFORBIDDEN)
	for _, who := range []fundbridge.Actor{banker, insurer} {
		h.refused(who, "application.list", obj{}, fundbridge.EFORBIDDEN)
		h.refused(who, "company.list", obj{}, fundbridge.EFORBIDDEN)
		h.refused(who, "application.get", obj{"application_id": id}, fundbridge.ENOTFOUND)
		h.refused(who, "company.get", obj{"company_id": "acme"}, fundbridge.ENOTFOUND)
	}

	// A fund manager sees an application once it is matched to one of its funds.
	r := h.must(alice, "application.submit", obj{"application_id": id}, nil)
	h.refused(fiona, "application.get", obj{"application_id": id, "after": r.Position}, fundbridge.ENOTFOUND)
	h.refused(fiona, "company.get", obj{"company_id": "acme"}, fundbridge.ENOTFOUND)
	h.registerFund("f1", "seedcap")
	h.registerFund("f2", "othercap")
	r = h.must(system, "application.mark_matched", obj{"application_id": id, "fund_ids": []string{"f1"}}, nil)
	var seen applicationsapi.ApplicationView
	h.must(fiona, "application.get", obj{"application_id": id, "after": r.Position}, &seen)
	if seen.ID != id || seen.CreditDataShared || seen.AmountRequested.String() != "8000000.00" || seen.CompanyName != "Acme Vision" {
		t.Fatalf("fiona sees %+v", seen)
	}
	h.refused(frank, "application.get", obj{"application_id": id}, fundbridge.ENOTFOUND)
	h.must(fiona, "application.list", obj{}, &list)
	if len(list.Items) != 1 || list.Items[0].ID != id {
		t.Fatalf("fiona lists %+v", list.Items)
	}
	var acme applicationsapi.CompanyView
	h.must(fiona, "company.get", obj{"company_id": "acme"}, &acme)
	h.refused(fiona, "company.get", obj{"company_id": "beta"}, fundbridge.ENOTFOUND)
	h.must(fiona, "company.list", obj{}, &companies)
	if len(companies.Items) != 1 || companies.Items[0].ID != "acme" {
		t.Fatalf("fiona lists %+v", companies.Items)
	}

	// A second fund matched later: each manager sees only its own fund.
	r = h.must(system, "application.mark_matched", obj{"application_id": id, "fund_ids": []string{"f1", "f2"}}, nil)
	h.must(frank, "application.get", obj{"application_id": id, "after": r.Position}, &seen)
	if strings.Join(seen.FundIDs, ",") != "f2" {
		t.Fatalf("frank sees funds %v", seen.FundIDs)
	}
	h.must(fiona, "application.get", obj{"application_id": id}, &seen)
	if strings.Join(seen.FundIDs, ",") != "f1" {
		t.Fatalf("fiona sees funds %v", seen.FundIDs)
	}
	h.must(operator, "application.get", obj{"application_id": id}, &seen)
	if strings.Join(seen.FundIDs, ",") != "f1,f2" {
		t.Fatalf("the operator sees funds %v", seen.FundIDs)
	}
	// Matched to the same funds again: nothing new, nothing appended.
	before := h.head()
	h.must(system, "application.mark_matched", obj{"application_id": id, "fund_ids": []string{"f2"}}, nil)
	if h.head() != before {
		t.Fatal("a repeated match appended")
	}
	// Consent shows as the flag.
	r = h.must(alice, "application.draft", obj{"amount_requested": "100", "instruments": []string{"venture_loan"}, "use_of_funds": "x", "credit_data_consent": true}, &a)
	h.must(alice, "application.submit", obj{"application_id": a.ID}, nil)
	r = h.must(system, "application.mark_matched", obj{"application_id": a.ID, "fund_ids": []string{"f1"}}, nil)
	h.must(fiona, "application.get", obj{"application_id": a.ID, "after": r.Position}, &seen)
	if !seen.CreditDataShared {
		t.Fatalf("consented, yet %+v", seen)
	}
}

func TestIdempotencyAndIfMatch(t *testing.T) {
	h := start(t)
	var c applicationsapi.CompanyView
	first := h.must(system, "company.register", company(t, "acme", "Acme Vision", 1), &c, withKey("signup-acme"))
	again := h.must(system, "company.register", company(t, "acme", "Acme Vision", 1), &c, withKey("signup-acme"))
	if again.Position != first.Position || again.Version != 1 {
		t.Fatalf("retried registration: %+v then %+v", first, again)
	}
	h.refused(system, "company.register", company(t, "acme", "Acme Vision", 1), fundbridge.ECONFLICT)

	var a, b applicationsapi.ApplicationView
	r1 := h.must(alice, "application.draft", draft("5000000"), &a, withKey("draft-1"))
	r2 := h.must(alice, "application.draft", draft("5000000"), &b, withKey("draft-1"))
	if a.ID != b.ID || r1.Position != r2.Position || r1.Version != 1 || r2.Version != 1 {
		t.Fatalf("retried draft: %s@%d then %s@%d", a.ID, r1.Position, b.ID, r2.Position)
	}
	evs, err := h.env.Store.ReadStream(context.Background(), "application-"+a.ID, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("stream holds %d events (%v)", len(evs), err)
	}
	var list applicationsapi.ListResult[applicationsapi.ApplicationView]
	h.must(alice, "application.list", obj{"after": r2.Position}, &list)
	if len(list.Items) != 1 {
		t.Fatalf("%d applications after a retried draft", len(list.Items))
	}
	var other applicationsapi.ApplicationView
	h.must(alice, "application.draft", draft("5000000"), &other, withKey("draft-2"))
	if other.ID == a.ID {
		t.Fatal("another key drafted the same application")
	}

	// If-Match: the version the client saw.
	u := draft("6000000")
	u["application_id"] = a.ID
	r := h.must(alice, "application.update", u, &a, ifMatch(1))
	if r.Version != 2 {
		t.Fatalf("update reply %+v", r)
	}
	before := h.head()
	u["amount_requested"] = "7000000"
	if _, err := h.call(alice, "application.update", u, nil, ifMatch(1)); fundbridge.ErrorCode(err) != fundbridge.ECONFLICT {
		t.Fatalf("stale If-Match: %v", err)
	}
	if _, err := h.call(alice, "company.change_stage", obj{"stage": "growth"}, nil, ifMatch(9)); fundbridge.ErrorCode(err) != fundbridge.ECONFLICT {
		t.Fatalf("stale If-Match on the company: %v", err)
	}
	if h.head() != before {
		t.Fatal("a stale If-Match appended")
	}
}

func TestReadYourWritesAndLists(t *testing.T) {
	h := start(t)
	for i, c := range []struct{ id, name, city, layer, sector, founded, stage string }{
		{"c1", "Delta Chips", "shanghai", "foundation", "ai_chips", "2019-05-01", "growth"},
		{"c2", "alpha NLP", "beijing", "technology", "nlp", "2022-01-15", "seed"},
		{"c3", "Charlie Robots", "shenzhen", "application", "robotics", "2020-07-30", "growth"},
		{"c4", "Bravo Health", "shanghai", "application", "healthcare", "2018-11-11", "expansion"},
	} {
		h.must(system, "company.register", obj{"company_id": c.id, "uscc": uscc(t, fmt.Sprintf("9131000%dMA1FL8TQ0", i)), "name": c.name, "city": c.city,
			"layer": c.layer, "sector": c.sector, "founded_on": c.founded, "headcount": 10, "stage": c.stage}, nil)
	}
	// Read your writes: the query waits for the command's position.
	owner := fundbridge.Actor{UserID: "u3", Role: fundbridge.RoleStartup, OrgID: "c3"}
	r := h.must(owner, "company.change_stage", obj{"stage": "pre_ipo"}, nil)
	var c applicationsapi.CompanyView
	h.must(owner, "company.get", obj{"after": r.Position}, &c)
	if c.Stage != fundbridge.StagePreIPO || c.Version != r.Version {
		t.Fatalf("read after write: %+v", c)
	}

	ids := func(items []applicationsapi.CompanyView) string {
		var s []string
		for _, c := range items {
			s = append(s, c.ID)
		}
		return strings.Join(s, ",")
	}
	var page applicationsapi.ListResult[applicationsapi.CompanyView]
	h.must(operator, "company.list", obj{"after": r.Position}, &page)
	if ids(page.Items) != "c2,c4,c3,c1" { // by name, ignoring case
		t.Fatalf("by name: %s", ids(page.Items))
	}
	h.must(operator, "company.list", obj{"sort": "-founded_on"}, &page)
	if ids(page.Items) != "c2,c3,c1,c4" {
		t.Fatalf("by -founded_on: %s", ids(page.Items))
	}
	h.must(operator, "company.list", obj{"city": "shanghai", "layer": "application"}, &page)
	if ids(page.Items) != "c4" {
		t.Fatalf("shanghai application layer: %s", ids(page.Items))
	}
	h.must(operator, "company.list", obj{"stage": "growth", "sector": "ai_chips"}, &page)
	if ids(page.Items) != "c1" {
		t.Fatalf("growth ai chips: %s", ids(page.Items))
	}
	var all []string
	cursor := ""
	for range 5 {
		page = applicationsapi.ListResult[applicationsapi.CompanyView]{}
		h.must(operator, "company.list", obj{"sort": "founded_on", "limit": 3, "cursor": cursor}, &page)
		all = append(all, ids(page.Items))
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if strings.Join(all, "|") != "c4,c1,c3|c2" {
		t.Fatalf("pages by founded_on: %v", all)
	}
	h.refused(operator, "company.list", obj{"sort": "name", "cursor": "bm9wZQ"}, fundbridge.EINVALID, "cursor")
	h.must(operator, "company.list", obj{"sort": "founded_on", "limit": 1}, &page)
	h.refused(operator, "company.list", obj{"sort": "name", "cursor": page.NextCursor}, fundbridge.EINVALID, "cursor")
	// A cursor is bound to its filters too: one of the whole list, sent
	// with a filter added, would start a filtered list at a stranger's place.
	h.refused(operator, "company.list", obj{"sort": "founded_on", "city": "shanghai", "cursor": page.NextCursor}, fundbridge.EINVALID, "cursor")
	h.refused(operator, "company.list", obj{"sort": "headcount"}, fundbridge.EINVALID, "sort")
	h.refused(operator, "company.list", obj{"limit": 500}, fundbridge.EINVALID, "limit")
	h.refused(operator, "company.list", obj{"stage": "unicorn"}, fundbridge.EINVALID, "stage")

	// Applications: several companies, amounts and statuses.
	type app struct {
		company, amount string
		instruments     []string
		submit          bool
	}
	made := map[string]string{}
	for i, x := range []app{
		{"c1", "50000000", []string{"venture_loan"}, true},
		{"c2", "2000000", []string{"equity"}, true},
		{"c3", "300000000", []string{"equity", "loan_plus_equity"}, true},
		{"c4", "12000000.50", []string{"patent_insurance"}, false},
		{"c2", "3500000", []string{"equity", "patent_insurance"}, true},
	} {
		var a applicationsapi.ApplicationView
		h.must(operator, "application.draft", obj{"company_id": x.company, "amount_requested": x.amount, "instruments": x.instruments, "use_of_funds": "growth"}, &a)
		made[fmt.Sprint(i)] = a.ID
		if x.submit {
			r = h.must(operator, "application.submit", obj{"application_id": a.ID}, nil)
		}
	}
	amounts := func(items []applicationsapi.ApplicationView) string {
		var s []string
		for _, a := range items {
			s = append(s, a.AmountRequested.String())
		}
		return strings.Join(s, ",")
	}
	var apps applicationsapi.ListResult[applicationsapi.ApplicationView]
	h.must(operator, "application.list", obj{"sort": "amount_requested", "after": r.Position}, &apps)
	if amounts(apps.Items) != "2000000.00,3500000.00,12000000.50,50000000.00,300000000.00" {
		t.Fatalf("by amount: %s", amounts(apps.Items))
	}
	h.must(operator, "application.list", obj{"sort": "-submitted_at", "status": "submitted"}, &apps)
	if amounts(apps.Items) != "3500000.00,300000000.00,2000000.00,50000000.00" {
		t.Fatalf("by -submitted_at: %s", amounts(apps.Items))
	}
	for _, tc := range []struct {
		q    obj
		want string
	}{
		{obj{"status": "draft"}, "12000000.50"},
		{obj{"instrument": "patent_insurance", "sort": "amount_requested"}, "3500000.00,12000000.50"},
		{obj{"amount_min": "3000000", "amount_max": "50000000.00", "sort": "amount_requested"}, "3500000.00,12000000.50,50000000.00"},
		{obj{"stage": "pre_ipo"}, "300000000.00"},
		{obj{"layer": "application", "sort": "-amount_requested"}, "300000000.00,12000000.50"},
		{obj{"sector": "nlp", "city": "beijing", "sort": "amount_requested"}, "2000000.00,3500000.00"},
		{obj{"company_id": "c2", "sort": "-amount_requested"}, "3500000.00,2000000.00"},
	} {
		h.must(operator, "application.list", tc.q, &apps)
		if got := amounts(apps.Items); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.q, got, tc.want)
		}
	}
	var pages []string
	cursor = ""
	for range 5 {
		apps = applicationsapi.ListResult[applicationsapi.ApplicationView]{}
		h.must(operator, "application.list", obj{"sort": "-amount_requested", "limit": 2, "cursor": cursor}, &apps)
		pages = append(pages, amounts(apps.Items))
		if cursor = apps.NextCursor; cursor == "" {
			break
		}
	}
	if strings.Join(pages, "|") != "300000000.00,50000000.00|12000000.50,3500000.00|2000000.00" {
		t.Fatalf("pages: %v", pages)
	}
	h.must(operator, "application.list", obj{"sort": "-amount_requested", "limit": 1}, &apps)
	for _, filter := range []obj{{"status": "submitted"}, {"amount_min": "1"}, {"company_id": "c2"}, {"instrument": "equity"}} {
		filter["sort"], filter["cursor"] = "-amount_requested", apps.NextCursor
		h.refused(operator, "application.list", filter, fundbridge.EINVALID, "cursor")
	}
	h.refused(operator, "application.list", obj{"amount_min": "5", "amount_max": "1"}, fundbridge.EINVALID, "amount_min")
	h.refused(operator, "application.list", obj{"amount_min": "1.001"}, fundbridge.EINVALID, "amount_min")
	h.refused(operator, "application.list", obj{"status": "pending"}, fundbridge.EINVALID, "status")
	h.refused(operator, "application.list", obj{"instrument": "bond"}, fundbridge.EINVALID, "instrument")
	h.refused(operator, "application.list", obj{"sort": "name"}, fundbridge.EINVALID, "sort")

	// The startup's own list is only its own.
	mine := fundbridge.Actor{UserID: "u2", Role: fundbridge.RoleStartup, OrgID: "c2"}
	h.must(mine, "application.list", obj{"sort": "amount_requested"}, &apps)
	if amounts(apps.Items) != "2000000.00,3500000.00" {
		t.Fatalf("c2 lists %s", amounts(apps.Items))
	}
}
