package funds_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

var (
	managerA = fundbridge.Actor{UserID: "u-a", Role: fundbridge.RoleFundManager, OrgID: "org-a"}
	managerB = fundbridge.Actor{UserID: "u-b", Role: fundbridge.RoleFundManager, OrgID: "org-b"}
	operator = fundbridge.Actor{UserID: "u-op", Role: fundbridge.RoleOperator}
	platform = fundbridge.Actor{UserID: "matching", Role: fundbridge.RoleSystem}
	startup  = fundbridge.Actor{UserID: "u-s", Role: fundbridge.RoleStartup, OrgID: "co-1"}
	bank     = fundbridge.Actor{UserID: "u-bk", Role: fundbridge.RoleBank, OrgID: "bank-1"}
	insurer  = fundbridge.Actor{UserID: "u-in", Role: fundbridge.RoleInsurer, OrgID: "ins-1"}
)

// harness is the funds service on a real NATS server, with a client.
type harness struct {
	env       *testenv.Env
	client    *svc.Client
	served    []*atomic.Int64 // requests each instance answered
	conflicts *atomic.Int64   // appends refused for a stale expected version
}

// countingStore counts the version conflicts the service's appends meet.
type countingStore struct {
	events.Store
	conflicts *atomic.Int64
}

func (s countingStore) Append(ctx context.Context, req events.AppendRequest) (events.AppendResult, error) {
	res, err := s.Store.Append(ctx, req)
	if errors.Is(err, events.ErrConcurrency) {
		s.conflicts.Add(1)
	}
	return res, err
}

// start runs n instances of the service; they share the load as one
// queue group, each with its own repository cache and views.
func start(t *testing.T, n int) *harness {
	t.Helper()
	reg := events.NewRegistry()
	fundsapi.Register(reg)
	env := testenv.Start(t, reg)
	h := &harness{env: env, client: svc.NewClient(env.Conn, 10*time.Second), conflicts: &atomic.Int64{}}
	for range n {
		srv := funds.New(countingStore{env.Store, h.conflicts}, reg)
		rt := srv.Runtime()
		served := &atomic.Int64{}
		for op, handler := range rt.Operations {
			rt.Operations[op] = func(ctx context.Context, req *svc.Request) (svc.Result[any], error) {
				served.Add(1)
				return handler(ctx, req)
			}
		}
		h.served = append(h.served, served)
		ctx, cancel := context.WithCancel(context.Background())
		nc := env.Connect(t)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := srv.Run(ctx); err != nil {
				t.Errorf("run: %v", err)
			}
		})
		wg.Go(func() {
			if err := svc.Serve(ctx, nc, rt); err != nil {
				t.Errorf("serve: %v", err)
			}
		})
		t.Cleanup(func() { cancel(); wg.Wait() })
	}
	// Until every instance answers.
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, err := h.call(operator, fundsapi.OpGet, fundsapi.GetFund{FundID: "none"}, nil)
		if code := fundbridge.ErrorCode(err); code != fundbridge.EUNAVAILABLE && code != fundbridge.ENOTFOUND {
			t.Fatalf("probe: %v", err)
		}
		if !slices.ContainsFunc(h.served, func(s *atomic.Int64) bool { return s.Load() == 0 }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the service never came up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return h
}

// call sends payload (raw JSON as a string or json.RawMessage, anything
// else marshalled) and decodes the result into out.
func (h *harness) call(actor fundbridge.Actor, op string, payload any, out any, opts ...func(*svc.Request)) (svc.Reply, error) {
	var data json.RawMessage
	switch p := payload.(type) {
	case string:
		data = json.RawMessage(p)
	case json.RawMessage:
		data = p
	default:
		var err error
		if data, err = json.Marshal(p); err != nil {
			return svc.Reply{}, err
		}
	}
	req := &svc.Request{Actor: actor, Payload: data}
	for _, o := range opts {
		o(req)
	}
	return h.client.Call(context.Background(), funds.Name, op, req, out)
}

func withKey(key string) func(*svc.Request) {
	return func(r *svc.Request) { r.IdempotencyKey = key }
}

func ifMatch(v uint64) func(*svc.Request) {
	return func(r *svc.Request) { r.ExpectedVersion = &v }
}

func (h *harness) head(t *testing.T) uint64 {
	t.Helper()
	p, err := h.env.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// register registers a fund and returns it.
func (h *harness) register(t *testing.T, actor fundbridge.Actor, cmd fundsapi.RegisterFund) (fundsapi.FundView, svc.Reply) {
	t.Helper()
	var f fundsapi.FundView
	reply, err := h.call(actor, fundsapi.OpRegister, cmd, &f)
	if err != nil {
		t.Fatalf("register %s: %v", cmd.Name, err)
	}
	return f, reply
}

func (h *harness) get(t *testing.T, actor fundbridge.Actor, id string, after uint64) fundsapi.FundView {
	t.Helper()
	var f fundsapi.FundView
	if _, err := h.call(actor, fundsapi.OpGet, fundsapi.GetFund{FundID: id, After: after}, &f); err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return f
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := fundbridge.ErrorCode(err); got != code {
		t.Errorf("%s: %v (code %q), want %q", what, err, got, code)
	}
}

func amt(s string) money.Amount { return money.MustParse(s) }

func mandate(id string) fundsapi.SetMandate {
	return fundsapi.SetMandate{
		FundID: id, Stages: []fundbridge.Stage{"seed", "startup"}, Layers: []fundbridge.Layer{"application"},
		Sectors: []fundbridge.Sector{"robotics", "healthcare"}, Cities: []fundbridge.City{"shenzhen"},
		TicketMin: amt("1000000.00"), TicketMax: amt("30000000.00"), MaxOwnership: "0.20",
	}
}

func TestEveryOperation(t *testing.T) {
	h := start(t, 1)
	f, reply := h.register(t, managerA, fundsapi.RegisterFund{Name: "Shenzhen Robotics Seed", Type: fundsapi.FundSeed, CommittedCapital: amt("50000000.00")})
	if f.ID == "" || f.ManagerOrg != "org-a" || f.Status != fundsapi.StatusOpen || f.DryPowder.String() != "50000000.00" ||
		f.Version != 1 || reply.Version != 1 || reply.Position == 0 || f.Mandate != nil || f.Commitments == nil {
		t.Fatalf("registered %+v (reply %+v)", f, reply)
	}
	if got := h.get(t, managerA, f.ID, reply.Position); got.Name != f.Name || got.Version != 1 {
		t.Fatalf("get = %+v", got)
	}

	var m fundsapi.FundView
	reply, err := h.call(managerA, fundsapi.OpSetMandate, mandate(f.ID), &m)
	if err != nil || m.Mandate == nil || reply.Version != 2 || m.Mandate.MaxOwnership.String() != "0.2" || len(m.Mandate.Sectors) != 2 {
		t.Fatalf("set mandate = %+v %+v %v", m, reply, err)
	}

	// The company the fund commits to, as the applications service records it.
	if _, err := h.env.Store.Append(context.Background(), events.AppendRequest{StreamID: "company-co-1", Expected: events.NoStream,
		Events: []events.NewEvent{newEvent(t, applicationsapi.CompanyRegistered{CompanyID: "co-1", CompanyProfile: applicationsapi.CompanyProfile{Name: "深度视觉"}})},
		Meta:   events.Meta{Actor: platform}}); err != nil {
		t.Fatal(err)
	}
	commit := fundsapi.CommitCapital{FundID: f.ID, DealID: "deal-1", ApplicationID: "app-1", CompanyID: "co-1", Amount: amt("30000000.00")}
	var c fundsapi.FundView
	reply, err = h.call(platform, fundsapi.OpCommit, commit, &c)
	if err != nil || c.DryPowder.String() != "20000000.00" || c.Invested.String() != "30000000.00" || len(c.Commitments) != 1 ||
		c.Commitments[0].DryPowderAfter.String() != "20000000.00" || reply.Version != 3 {
		t.Fatalf("commit = %+v %+v %v", c, reply, err)
	}
	committed := reply
	// The same deal again, without an idempotency key: nothing new.
	before := h.head(t)
	reply, err = h.call(platform, fundsapi.OpCommit, commit, &c)
	if err != nil || reply.Version != 3 || reply.Position != committed.Position || len(c.Commitments) != 1 || h.head(t) != before {
		t.Fatalf("commit of the same deal again = %+v %+v %v", c, reply, err)
	}
	bigger := commit
	bigger.DealID, bigger.Amount = "deal-2", amt("30000000.00")
	_, err = h.call(operator, fundsapi.OpCommit, bigger, nil)
	wantCode(t, "commit beyond dry powder", err, fundbridge.EUNPROCESSABLE)
	if msg := fundbridge.ErrorMessage(err); msg != "commitment ¥30m exceeds dry powder ¥20m" {
		t.Errorf("message %q", msg)
	}

	var page fundsapi.FundList
	if _, err := h.call(managerA, fundsapi.OpList, fundsapi.ListFunds{After: reply.Position}, &page); err != nil || len(page.Items) != 1 ||
		page.Items[0].ID != f.ID || page.Items[0].CommitmentCount != 1 || page.Items[0].Commitments != nil {
		t.Fatalf("list = %+v %v", page, err)
	}

	var closed fundsapi.FundView
	reply, err = h.call(managerA, fundsapi.OpClose, fundsapi.CloseFund{FundID: f.ID, Reason: "fully invested"}, &closed)
	if err != nil || closed.Status != fundsapi.StatusClosed || closed.CloseReason != "fully invested" || reply.Version != 4 {
		t.Fatalf("close = %+v %v", closed, err)
	}
	before = h.head(t)
	commit.DealID = "deal-3"
	_, err = h.call(platform, fundsapi.OpCommit, commit, nil)
	wantCode(t, "commit to a closed fund", err, fundbridge.ECONFLICT)
	_, err = h.call(managerA, fundsapi.OpSetMandate, mandate(f.ID), nil)
	wantCode(t, "mandate of a closed fund", err, fundbridge.ECONFLICT)
	_, err = h.call(managerA, fundsapi.OpClose, fundsapi.CloseFund{FundID: f.ID}, nil)
	wantCode(t, "close twice", err, fundbridge.ECONFLICT)
	if h.head(t) != before {
		t.Error("a refused command appended")
	}
	if got := h.get(t, operator, f.ID, reply.Position); got.Status != fundsapi.StatusClosed || got.Version != 4 || len(got.Commitments) != 1 {
		t.Fatalf("closed fund reads %+v", got)
	}
	// A manager reads its commitments by company name, the ID beside it.
	if got := h.get(t, managerA, f.ID, reply.Position); got.Commitments[0].CompanyName != "深度视觉" || got.Commitments[0].CompanyID != "co-1" {
		t.Errorf("a commitment reads %+v", got.Commitments[0])
	}
}

// newEvent is payload as an event to append.
func newEvent(t *testing.T, payload events.Payload) events.NewEvent {
	t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return events.NewEvent{Type: payload.EventType(), Payload: data}
}

func TestBadInputIsRefusedNamingTheFieldAndAppendsNothing(t *testing.T) {
	h := start(t, 1)
	f, _ := h.register(t, managerA, fundsapi.RegisterFund{Name: "Fund", Type: fundsapi.FundVC, CommittedCapital: amt("100000000.00")})
	register := func(name, typ, capital string) string {
		return fmt.Sprintf(`{"name":%s,"type":%s,"committed_capital":%s}`, name, typ, capital)
	}
	mandateJSON := func(replace map[string]string) string {
		fields := map[string]string{
			"fund_id": `"` + f.ID + `"`, "stages": `["seed"]`, "ticket_min": `"1000000.00"`, "ticket_max": `"5000000.00"`, "max_ownership": `"0.20"`,
		}
		for k, v := range replace {
			if v == "" {
				delete(fields, k)
			} else {
				fields[k] = v
			}
		}
		out := map[string]json.RawMessage{}
		for k, v := range fields {
			out[k] = json.RawMessage(v) // values are raw JSON
		}
		data, _ := json.Marshal(out)
		return string(data)
	}
	cases := []struct {
		name, op, payload string
		fields            []string // named in the error; none for malformed JSON
	}{
		{"not an object", fundsapi.OpRegister, `["x"]`, nil},
		{"unknown field", fundsapi.OpRegister, `{"name":"x","type":"vc","committed_capital":"1.00","colour":"red"}`, []string{"colour"}},
		{"missing fields", fundsapi.OpRegister, `{}`, []string{"name", "type", "committed_capital"}},
		{"empty payload", fundsapi.OpRegister, ``, []string{"name", "type", "committed_capital"}},
		{"name as a number", fundsapi.OpRegister, register(`5`, `"vc"`, `"1.00"`), []string{"name"}},
		{"type as an array", fundsapi.OpRegister, register(`"x"`, `["vc"]`, `"1.00"`), []string{"type"}},
		{"wrong types at once", fundsapi.OpRegister, register(`true`, `"vc"`, `100`), []string{"name", "committed_capital"}},
		{"capital as a number", fundsapi.OpRegister, register(`"x"`, `"vc"`, `1000000`), []string{"committed_capital"}},
		{"negative capital", fundsapi.OpRegister, register(`"x"`, `"vc"`, `"-1.00"`), []string{"committed_capital"}},
		{"zero capital", fundsapi.OpRegister, register(`"x"`, `"vc"`, `"0.00"`), []string{"committed_capital"}},
		{"capital with 3 places", fundsapi.OpRegister, register(`"x"`, `"vc"`, `"1000.005"`), []string{"committed_capital"}},
		{"overflowing capital", fundsapi.OpRegister, register(`"x"`, `"vc"`, `"10000000000000.01"`), []string{"committed_capital"}},
		{"capital not a number", fundsapi.OpRegister, register(`"x"`, `"vc"`, `"lots"`), []string{"committed_capital"}},
		{"bad type", fundsapi.OpRegister, register(`"x"`, `"hedge"`, `"1.00"`), []string{"type"}},
		{"blank name", fundsapi.OpRegister, register(`"  "`, `"vc"`, `"1.00"`), []string{"name"}},

		{"unknown field", fundsapi.OpSetMandate, mandateJSON(map[string]string{"ticket": `"1.00"`}), []string{"ticket"}},
		{"missing fields", fundsapi.OpSetMandate, `{"fund_id":"` + f.ID + `"}`, []string{"stages", "ticket_min", "ticket_max", "max_ownership"}},
		{"missing fund", fundsapi.OpSetMandate, mandateJSON(map[string]string{"fund_id": ""}), []string{"fund_id"}},
		{"stages as a string", fundsapi.OpSetMandate, mandateJSON(map[string]string{"stages": `"seed"`}), []string{"stages"}},
		{"stage as a number", fundsapi.OpSetMandate, mandateJSON(map[string]string{"stages": `["seed", 5]`}), []string{"stages[1]"}},
		{"unknown stage", fundsapi.OpSetMandate, mandateJSON(map[string]string{"stages": `["seed", "series_b"]`}), []string{"stages[1]"}},
		{"unknown layer", fundsapi.OpSetMandate, mandateJSON(map[string]string{"layers": `["quantum"]`}), []string{"layers[0]"}},
		{"unknown sector", fundsapi.OpSetMandate, mandateJSON(map[string]string{"sectors": `["nlp","crypto"]`}), []string{"sectors[1]"}},
		{"sector outside the layers", fundsapi.OpSetMandate, mandateJSON(map[string]string{"layers": `["foundation"]`, "sectors": `["ai_chips","nlp"]`}), []string{"sectors[1]"}},
		{"unknown city", fundsapi.OpSetMandate, mandateJSON(map[string]string{"cities": `["atlantis"]`}), []string{"cities[0]"}},
		{"ticket as a number", fundsapi.OpSetMandate, mandateJSON(map[string]string{"ticket_min": `1000000`}), []string{"ticket_min"}},
		{"negative ticket", fundsapi.OpSetMandate, mandateJSON(map[string]string{"ticket_min": `"-1.00"`}), []string{"ticket_min"}},
		{"zero ticket", fundsapi.OpSetMandate, mandateJSON(map[string]string{"ticket_max": `"0.00"`}), []string{"ticket_max"}},
		{"ticket with 3 places", fundsapi.OpSetMandate, mandateJSON(map[string]string{"ticket_max": `"5000000.001"`}), []string{"ticket_max"}},
		{"overflowing ticket", fundsapi.OpSetMandate, mandateJSON(map[string]string{"ticket_max": `"99999999999999.99"`}), []string{"ticket_max"}},
		{"ticket range upside down", fundsapi.OpSetMandate, mandateJSON(map[string]string{"ticket_max": `"999999.99"`}), []string{"ticket_max"}},
		{"max ownership as a number", fundsapi.OpSetMandate, mandateJSON(map[string]string{"max_ownership": `0.2`}), []string{"max_ownership"}},
		{"max ownership above 1", fundsapi.OpSetMandate, mandateJSON(map[string]string{"max_ownership": `"1.5"`}), []string{"max_ownership"}},
		{"max ownership zero", fundsapi.OpSetMandate, mandateJSON(map[string]string{"max_ownership": `"0.00"`}), []string{"max_ownership"}},
		{"max ownership with 5 places", fundsapi.OpSetMandate, mandateJSON(map[string]string{"max_ownership": `"0.00001"`}), []string{"max_ownership"}},
		{"excluded sector unknown", fundsapi.OpSetMandate, mandateJSON(map[string]string{"excluded_sectors": `["casinos"]`}), []string{"excluded_sectors[0]"}},
		{"excluded company blank", fundsapi.OpSetMandate, mandateJSON(map[string]string{"excluded_companies": `["co-1", ""]`}), []string{"excluded_companies[1]"}},
		{"excluded companies as numbers", fundsapi.OpSetMandate, mandateJSON(map[string]string{"excluded_companies": `[1]`}), []string{"excluded_companies[0]"}},
	}
	before := h.head(t)
	for _, tc := range cases {
		_, err := h.call(managerA, tc.op, tc.payload, nil)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID {
			t.Errorf("%s %s: %v, want invalid", tc.op, tc.name, err)
			continue
		}
		named := fundbridge.ErrorFields(err)
		for _, want := range tc.fields {
			if !slices.ContainsFunc(named, func(f fundbridge.FieldError) bool { return f.Field == want }) {
				t.Errorf("%s %s: %v does not name %s", tc.op, tc.name, err, want)
			}
		}
		if len(tc.fields) > 0 && len(named) != len(tc.fields) {
			t.Errorf("%s %s: named %v, want exactly %v", tc.op, tc.name, named, tc.fields)
		}
	}
	// Malformed JSON cannot travel inside a request's payload; a request
	// that is itself malformed is refused the same way.
	for _, op := range []string{fundsapi.OpRegister, fundsapi.OpSetMandate} {
		data := `{"actor":{"user":"u-a","role":"fund_manager","org":"org-a"},"payload":{"name": "x",}`
		msg, err := h.env.Conn.Request(svc.Subject(funds.Name, op), []byte(data), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var reply svc.Reply
		if err := json.Unmarshal(msg.Data, &reply); err != nil || reply.OK || reply.Error == nil || reply.Error.Code != fundbridge.EINVALID {
			t.Errorf("%s malformed JSON: %s, want invalid", op, msg.Data)
		}
	}
	if after := h.head(t); after != before {
		t.Fatalf("bad input appended: head moved from %d to %d", before, after)
	}
	// The valid base payload is accepted, so the cases above failed for
	// the reason each names.
	if _, err := h.call(managerA, fundsapi.OpSetMandate, mandateJSON(nil), nil); err != nil {
		t.Fatalf("valid mandate: %v", err)
	}
	if _, err := h.call(managerA, fundsapi.OpRegister, register(`"x"`, `"vc"`, `"1.00"`), nil); err != nil {
		t.Fatalf("valid registration: %v", err)
	}
}

func TestRolesSeeAndChangeOnlyWhatTheyMay(t *testing.T) {
	h := start(t, 1)
	a, _ := h.register(t, managerA, fundsapi.RegisterFund{Name: "A Fund", Type: fundsapi.FundVC, CommittedCapital: amt("100000000.00")})
	_, reply := h.register(t, managerB, fundsapi.RegisterFund{Name: "B Fund", Type: fundsapi.FundAngel, CommittedCapital: amt("10000000.00")})
	g, _ := h.register(t, operator, fundsapi.RegisterFund{Name: "Guidance Fund", Type: fundsapi.FundGuidance, CommittedCapital: amt("1000000000.00"), ManagerOrg: "org-gov"})
	if g.ManagerOrg != "org-gov" {
		t.Fatalf("operator registered for %q", g.ManagerOrg)
	}
	_, err := h.call(operator, fundsapi.OpRegister, fundsapi.RegisterFund{Name: "No org", Type: fundsapi.FundVC, CommittedCapital: amt("1.00")}, nil)
	wantCode(t, "operator registering without manager_org", err, fundbridge.EINVALID)
	_, err = h.call(managerB, fundsapi.OpRegister, fundsapi.RegisterFund{Name: "Squat", Type: fundsapi.FundVC, CommittedCapital: amt("1.00"), ManagerOrg: "org-a"}, nil)
	wantCode(t, "manager registering for another org", err, fundbridge.EFORBIDDEN)
	var keyed fundsapi.FundView
	mandated, err := h.call(managerA, fundsapi.OpSetMandate, mandate(a.ID), &keyed, withKey("mandate-1"))
	if err != nil {
		t.Fatal(err)
	}

	before := h.head(t)
	_, err = h.call(managerB, fundsapi.OpGet, fundsapi.GetFund{FundID: a.ID, After: reply.Position}, nil)
	wantCode(t, "B reads A's fund", err, fundbridge.ENOTFOUND)
	_, err = h.call(managerB, fundsapi.OpSetMandate, mandate(a.ID), nil)
	wantCode(t, "B sets A's mandate", err, fundbridge.ENOTFOUND)
	_, err = h.call(managerB, fundsapi.OpSetMandate, mandate(a.ID), nil, ifMatch(1))
	wantCode(t, "B sets A's mandate with a stale If-Match", err, fundbridge.ENOTFOUND)
	_, err = h.call(managerB, fundsapi.OpSetMandate, mandate(a.ID), nil, withKey("mandate-1"))
	wantCode(t, "B replays A's idempotency key", err, fundbridge.ENOTFOUND)
	_, err = h.call(managerB, fundsapi.OpClose, fundsapi.CloseFund{FundID: a.ID}, nil)
	wantCode(t, "B closes A's fund", err, fundbridge.ENOTFOUND)
	_, err = h.call(managerB, fundsapi.OpCommit, fundsapi.CommitCapital{FundID: a.ID, DealID: "d", ApplicationID: "ap", CompanyID: "c", Amount: amt("1.00")}, nil)
	wantCode(t, "fund manager commits directly", err, fundbridge.EFORBIDDEN)
	for _, actor := range []fundbridge.Actor{startup, bank, insurer} {
		_, err = h.call(actor, fundsapi.OpList, fundsapi.ListFunds{}, nil)
		wantCode(t, string(actor.Role)+" lists", err, fundbridge.EFORBIDDEN)
		_, err = h.call(actor, fundsapi.OpGet, fundsapi.GetFund{FundID: a.ID}, nil)
		wantCode(t, string(actor.Role)+" reads", err, fundbridge.ENOTFOUND)
		_, err = h.call(actor, fundsapi.OpRegister, fundsapi.RegisterFund{Name: "x", Type: fundsapi.FundVC, CommittedCapital: amt("1.00"), ManagerOrg: actor.OrgID}, nil)
		wantCode(t, string(actor.Role)+" registers", err, fundbridge.EFORBIDDEN)
		_, err = h.call(actor, fundsapi.OpSetMandate, mandate(a.ID), nil)
		wantCode(t, string(actor.Role)+" sets a mandate", err, fundbridge.EFORBIDDEN)
		_, err = h.call(actor, fundsapi.OpClose, fundsapi.CloseFund{FundID: a.ID}, nil)
		wantCode(t, string(actor.Role)+" closes", err, fundbridge.EFORBIDDEN)
	}
	if h.head(t) != before {
		t.Fatal("a refused command appended")
	}

	names := func(actor fundbridge.Actor, q fundsapi.ListFunds) []string {
		t.Helper()
		var page fundsapi.FundList
		if _, err := h.call(actor, fundsapi.OpList, q, &page); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range page.Items {
			out = append(out, f.Name)
		}
		return out
	}
	if got := names(managerB, fundsapi.ListFunds{}); !slices.Equal(got, []string{"B Fund"}) {
		t.Errorf("B lists %v", got)
	}
	if got := names(managerB, fundsapi.ListFunds{ManagerOrg: "org-a"}); len(got) != 0 {
		t.Errorf("B lists A's funds by org: %v", got)
	}
	if got := names(operator, fundsapi.ListFunds{}); !slices.Equal(got, []string{"A Fund", "B Fund", "Guidance Fund"}) {
		t.Errorf("operator lists %v", got)
	}
	if got := names(platform, fundsapi.ListFunds{ManagerOrg: "org-a"}); !slices.Equal(got, []string{"A Fund"}) {
		t.Errorf("platform lists %v", got)
	}
	if got := h.get(t, operator, a.ID, 0); got.ManagerOrg != "org-a" {
		t.Errorf("operator reads %+v", got)
	}
	if got := h.get(t, managerA, a.ID, mandated.Position); got.Mandate == nil {
		t.Errorf("A reads its own fund without its mandate: %+v", got)
	}
	var byOperator fundsapi.FundView
	if _, err := h.call(operator, fundsapi.OpClose, fundsapi.CloseFund{FundID: a.ID, Reason: "wound down"}, &byOperator); err != nil || byOperator.Status != fundsapi.StatusClosed {
		t.Fatalf("operator closes A's fund: %+v %v", byOperator, err)
	}
}

func TestConcurrentCommitmentsNeverExceedCommittedCapital(t *testing.T) {
	h := start(t, 2) // two instances: their caches go stale behind each other
	// A round usually makes the instances conflict; repeat until one has,
	// so the test always covers the repository's retry from fresh state.
	for round := 0; h.conflicts.Load() == 0; round++ {
		if round == 5 {
			t.Fatal("five rounds of 20 concurrent commitments never conflicted")
		}
		raceCommitments(t, h, fmt.Sprintf("Hot Fund %d", round))
	}
}

// raceCommitments sends 20 commitments of ¥7m at once to a ¥100m fund.
func raceCommitments(t *testing.T, h *harness, name string) {
	f, _ := h.register(t, operator, fundsapi.RegisterFund{Name: name, Type: fundsapi.FundVC, CommittedCapital: amt("100000000.00"), ManagerOrg: "org-a"})
	served := []int64{h.served[0].Load(), h.served[1].Load()}
	conflicts := h.conflicts.Load()
	var (
		wg       sync.WaitGroup
		accepted atomic.Int64
		refused  atomic.Int64
		last     atomic.Uint64
	)
	for i := range 20 {
		wg.Go(func() {
			deal := fmt.Sprintf("deal-%02d", i)
			reply, err := h.call(platform, fundsapi.OpCommit, fundsapi.CommitCapital{
				FundID: f.ID, DealID: deal, ApplicationID: "app-" + deal, CompanyID: "co-" + deal, Amount: amt("7000000.00"),
			}, nil)
			switch fundbridge.ErrorCode(err) {
			case "":
				accepted.Add(1)
				for p := last.Load(); reply.Position > p && !last.CompareAndSwap(p, reply.Position); p = last.Load() {
				}
			case fundbridge.EUNPROCESSABLE:
				refused.Add(1)
			default:
				t.Errorf("commit %s: %v", deal, err)
			}
		})
	}
	wg.Wait()
	t.Logf("%s: instances served %d and %d commitments; %d appends conflicted and were retried", name,
		h.served[0].Load()-served[0], h.served[1].Load()-served[1], h.conflicts.Load()-conflicts)
	// ¥100m holds 14 tickets of ¥7m: every refusal came when less than ¥7m was left.
	if accepted.Load() != 14 || refused.Load() != 6 {
		t.Errorf("%d accepted, %d refused; want 14 and 6", accepted.Load(), refused.Load())
	}
	got := h.get(t, operator, f.ID, last.Load())
	sum := money.Zero
	for _, c := range got.Commitments {
		sum = sum.Add(c.Amount)
	}
	if sum.GreaterThan(got.CommittedCapital) || got.DryPowder.IsNegative() || !sum.Equal(got.Invested) ||
		!got.CommittedCapital.Sub(sum).Equal(got.DryPowder) || got.DryPowder.String() != "2000000.00" || len(got.Commitments) != 14 {
		t.Fatalf("after the race: %d commitments summing to %s of %s, dry powder %s", len(got.Commitments), sum, got.CommittedCapital, got.DryPowder)
	}
	// The log itself: consecutive versions, each commitment's dry powder
	// after is the capital less all commitments so far.
	evs, err := h.env.Store.ReadStream(context.Background(), "fund-"+f.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	left := got.CommittedCapital
	for i, e := range evs {
		if e.Version != uint64(i+1) {
			t.Fatalf("event %d has version %d", i, e.Version)
		}
		if e.Type != (fundsapi.CapitalCommitted{}).EventType() {
			continue
		}
		var c fundsapi.CapitalCommitted
		if err := json.Unmarshal(e.Payload, &c); err != nil {
			t.Fatal(err)
		}
		left = left.Sub(c.Amount)
		if !c.DryPowderAfter.Equal(left) || left.IsNegative() {
			t.Fatalf("%s: dry powder after %s, want %s", c.DealID, c.DryPowderAfter, left)
		}
	}
}

func TestIdempotencyKeyAndIfMatch(t *testing.T) {
	h := start(t, 1)
	cmd := fundsapi.RegisterFund{Name: "Retry Fund", Type: fundsapi.FundPE, CommittedCapital: amt("80000000.00")}
	var first, again, other fundsapi.FundView
	r1, err := h.call(managerA, fundsapi.OpRegister, cmd, &first, withKey("k-1"))
	if err != nil {
		t.Fatal(err)
	}
	head := h.head(t)
	r2, err := h.call(managerA, fundsapi.OpRegister, cmd, &again, withKey("k-1"))
	if err != nil || again.ID != first.ID || r2.Position != r1.Position || r2.Version != 1 || h.head(t) != head {
		t.Fatalf("retry = %s at %d (%v), want %s at %d and nothing appended", again.ID, r2.Position, err, first.ID, r1.Position)
	}
	if _, err := h.call(managerA, fundsapi.OpRegister, cmd, &other, withKey("k-2")); err != nil || other.ID == first.ID {
		t.Fatalf("another key = %s (%v), want a new fund", other.ID, err)
	}
	if _, err := h.call(managerB, fundsapi.OpRegister, cmd, &other, withKey("k-1")); err != nil || other.ID == first.ID || other.ManagerOrg != "org-b" {
		t.Fatalf("another org's key = %+v (%v), want its own fund", other, err)
	}

	// If-Match: the version the client last saw.
	_, err = h.call(managerA, fundsapi.OpSetMandate, mandate(first.ID), nil, ifMatch(0))
	wantCode(t, "stale If-Match", err, fundbridge.ECONFLICT)
	if h.get(t, managerA, first.ID, r1.Position).Version != 1 {
		t.Fatal("a conflicting command appended")
	}
	reply, err := h.call(managerA, fundsapi.OpSetMandate, mandate(first.ID), nil, ifMatch(1))
	if err != nil || reply.Version != 2 {
		t.Fatalf("current If-Match = %+v %v", reply, err)
	}
	_, err = h.call(managerA, fundsapi.OpClose, fundsapi.CloseFund{FundID: first.ID}, nil, ifMatch(1))
	wantCode(t, "If-Match on a version since changed", err, fundbridge.ECONFLICT)
}

func TestReadYourWrites(t *testing.T) {
	h := start(t, 1)
	for i := range 10 {
		f, reply := h.register(t, managerA, fundsapi.RegisterFund{Name: fmt.Sprintf("Fund %d", i), Type: fundsapi.FundSeed, CommittedCapital: amt("100000000.00")})
		if got := h.get(t, managerA, f.ID, reply.Position); got.ID != f.ID {
			t.Fatalf("fund %d not visible right after its write", i)
		}
		var m fundsapi.FundView
		reply, err := h.call(managerA, fundsapi.OpSetMandate, mandate(f.ID), &m)
		if err != nil {
			t.Fatal(err)
		}
		var page fundsapi.FundList
		if _, err := h.call(managerA, fundsapi.OpList, fundsapi.ListFunds{Stage: "seed", After: reply.Position}, &page); err != nil || len(page.Items) != i+1 {
			t.Fatalf("list after mandate %d: %d items %v", i, len(page.Items), err)
		}
	}
}

func TestListFiltersSortsAndPages(t *testing.T) {
	h := start(t, 1)
	type spec struct {
		name, org, capital string
		typ                fundsapi.FundType
		mandate            func(id string) *fundsapi.SetMandate
	}
	only := func(f func(*fundsapi.SetMandate)) func(string) *fundsapi.SetMandate {
		return func(id string) *fundsapi.SetMandate { m := mandate(id); f(&m); return &m }
	}
	specs := []spec{
		{"Alpha Seed", "org-a", "50000000.00", fundsapi.FundSeed, only(func(m *fundsapi.SetMandate) {})},
		{"beta Angel", "org-a", "10000000.00", fundsapi.FundAngel, only(func(m *fundsapi.SetMandate) {
			m.Layers, m.Sectors, m.Cities, m.TicketMax = nil, nil, nil, amt("5000000.00") // any sector, anywhere
		})},
		{"Gamma VC", "org-b", "300000000.00", fundsapi.FundVC, only(func(m *fundsapi.SetMandate) {
			m.Stages, m.Layers, m.Sectors = []fundbridge.Stage{"growth"}, []fundbridge.Layer{"technology"}, nil // the whole layer
		})},
		{"Delta PE", "org-b", "900000000.00", fundsapi.FundPE, nil},
		{"Epsilon Guidance", "org-gov", "2000000000.00", fundsapi.FundGuidance, only(func(m *fundsapi.SetMandate) {
			m.Sectors, m.Layers, m.Cities, m.ExcludedSectors = nil, nil, []fundbridge.City{"hefei", "shenzhen"}, []fundbridge.Sector{"healthcare"}
		})},
	}
	ids := map[string]string{}
	var last uint64
	for _, s := range specs {
		f, reply := h.register(t, operator, fundsapi.RegisterFund{Name: s.name, Type: s.typ, CommittedCapital: amt(s.capital), ManagerOrg: s.org})
		ids[s.name], last = f.ID, reply.Position
		if s.mandate != nil {
			if reply, err := h.call(operator, fundsapi.OpSetMandate, s.mandate(f.ID), nil); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			} else {
				last = reply.Position
			}
		}
	}
	commitment := fundsapi.CommitCapital{FundID: ids["Gamma VC"], DealID: "d1", ApplicationID: "a1", CompanyID: "c1", Amount: amt("295000000.00")}
	if _, err := h.call(platform, fundsapi.OpCommit, commitment, nil); err != nil {
		t.Fatal(err)
	}
	reply, err := h.call(operator, fundsapi.OpClose, fundsapi.CloseFund{FundID: ids["Delta PE"]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	last = reply.Position

	list := func(q fundsapi.ListFunds) ([]string, string) {
		t.Helper()
		q.After = last
		var page fundsapi.FundList
		if _, err := h.call(operator, fundsapi.OpList, q, &page); err != nil {
			t.Fatalf("list %+v: %v", q, err)
		}
		var out []string
		for _, f := range page.Items {
			out = append(out, f.Name)
		}
		return out, page.NextCursor
	}
	for _, tc := range []struct {
		name string
		q    fundsapi.ListFunds
		want []string
	}{
		{"all by name, case-insensitively", fundsapi.ListFunds{}, []string{"Alpha Seed", "beta Angel", "Delta PE", "Epsilon Guidance", "Gamma VC"}},
		{"by type", fundsapi.ListFunds{Type: fundsapi.FundAngel}, []string{"beta Angel"}},
		{"open", fundsapi.ListFunds{Status: fundsapi.StatusOpen}, []string{"Alpha Seed", "beta Angel", "Epsilon Guidance", "Gamma VC"}},
		{"closed", fundsapi.ListFunds{Status: fundsapi.StatusClosed}, []string{"Delta PE"}},
		{"by manager org", fundsapi.ListFunds{ManagerOrg: "org-b"}, []string{"Delta PE", "Gamma VC"}},
		{"by stage", fundsapi.ListFunds{Stage: "growth"}, []string{"Gamma VC"}},
		{"by sector: listed, any, or the whole layer", fundsapi.ListFunds{Sector: "robotics"}, []string{"Alpha Seed", "beta Angel", "Epsilon Guidance"}},
		{"by sector: an exclusion wins", fundsapi.ListFunds{Sector: "healthcare"}, []string{"Alpha Seed", "beta Angel"}},
		{"by sector: by layer", fundsapi.ListFunds{Sector: "nlp"}, []string{"beta Angel", "Epsilon Guidance", "Gamma VC"}},
		{"by city: listed or anywhere", fundsapi.ListFunds{City: "hefei"}, []string{"beta Angel", "Epsilon Guidance"}},
		{"by minimum dry powder", fundsapi.ListFunds{MinDryPowder: amt("10000000.00")}, []string{"Alpha Seed", "beta Angel", "Delta PE", "Epsilon Guidance"}},
		{"by dry powder, most first", fundsapi.ListFunds{Sort: fundsapi.SortDryPowderDesc}, []string{"Epsilon Guidance", "Delta PE", "Alpha Seed", "beta Angel", "Gamma VC"}},
		{"by dry powder", fundsapi.ListFunds{Sort: fundsapi.SortDryPowder, Status: fundsapi.StatusOpen}, []string{"Gamma VC", "beta Angel", "Alpha Seed", "Epsilon Guidance"}},
		{"by committed capital, most first", fundsapi.ListFunds{Sort: fundsapi.SortCommittedCapitalDesc}, []string{"Epsilon Guidance", "Delta PE", "Gamma VC", "Alpha Seed", "beta Angel"}},
		{"filters combine", fundsapi.ListFunds{Stage: "seed", City: "shenzhen", Sort: "-name"}, []string{"Epsilon Guidance", "beta Angel", "Alpha Seed"}},
	} {
		if got, _ := list(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	// Pages of two walk the whole list once, in order.
	for _, sort := range []string{fundsapi.SortName, fundsapi.SortDryPowderDesc, fundsapi.SortCommittedCapital} {
		all, _ := list(fundsapi.ListFunds{Sort: sort})
		var walked []string
		cursor := ""
		for pages := 0; ; pages++ {
			got, next := list(fundsapi.ListFunds{Sort: sort, Limit: 2, Cursor: cursor})
			walked = append(walked, got...)
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatalf("%s: pages never end", sort)
			}
			cursor = next
		}
		if !slices.Equal(walked, all) {
			t.Errorf("%s: pages walked %v, want %v", sort, walked, all)
		}
	}
	_, next := list(fundsapi.ListFunds{Limit: 2})
	for _, tc := range []struct {
		name  string
		q     fundsapi.ListFunds
		field string
	}{
		{"cursor of another sort", fundsapi.ListFunds{Limit: 2, Cursor: next, Sort: fundsapi.SortDryPowder}, "cursor"},
		{"cursor of other filters", fundsapi.ListFunds{Limit: 2, Cursor: next, Type: fundsapi.FundVC}, "cursor"},
		{"forged cursor", fundsapi.ListFunds{Cursor: "bm90IGEgY3Vyc29y"}, "cursor"},
		{"bad type", fundsapi.ListFunds{Type: "hedge"}, "type"},
		{"bad status", fundsapi.ListFunds{Status: "dormant"}, "status"},
		{"bad stage", fundsapi.ListFunds{Stage: "series_a"}, "stage"},
		{"bad sector", fundsapi.ListFunds{Sector: "crypto"}, "sector"},
		{"bad city", fundsapi.ListFunds{City: "atlantis"}, "city"},
		{"bad sort", fundsapi.ListFunds{Sort: "-age"}, "sort"},
		{"limit too high", fundsapi.ListFunds{Limit: 201}, "limit"},
		{"negative limit", fundsapi.ListFunds{Limit: -1}, "limit"},
	} {
		_, err := h.call(operator, fundsapi.OpList, tc.q, nil)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fundbridge.ErrorFields(err)) == 0 || fundbridge.ErrorFields(err)[0].Field != tc.field {
			t.Errorf("%s: %v, want invalid naming %s", tc.name, err, tc.field)
		}
	}
	_, err = h.call(operator, fundsapi.OpList, `{"min_dry_powder": 5}`, nil)
	if fundbridge.ErrorCode(err) != fundbridge.EINVALID || fundbridge.ErrorFields(err)[0].Field != "min_dry_powder" {
		t.Errorf("min_dry_powder as a number: %v", err)
	}
}
