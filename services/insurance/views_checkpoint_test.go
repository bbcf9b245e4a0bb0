package insurance

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
	"github.com/fundbridge/fundbridge/services/svc/viewstate/viewstatetest"
)

// instance is one start of the service's view for viewstatetest.
type instance struct{ *Service }

func (i instance) WaitFor(ctx context.Context, p uint64) error { return i.follower.WaitFor(ctx, p) }
func (i instance) Stats() viewstate.Stats                      { return i.follower.Stats() }

// State is the view's state and what it answers the platform with, so a
// restored slice that comes back nil where the fold had it empty shows.
func (i instance) State() ([]byte, error) {
	v := i.view
	requests, err := v.listRequests(operator, api.ListRequests{})
	if err != nil {
		return nil, err
	}
	policies, err := v.listPolicies(operator, api.ListPolicies{})
	if err != nil {
		return nil, err
	}
	answers := map[string]any{"insurers": v.insurers(0), "requests": requests, "policies": policies, "programmes": v.listProgrammes(operator, 0)}
	v.mu.RLock()
	defer v.mu.RUnlock()
	return json.Marshal(map[string]any{"state": viewState{Tables: v.tables, Requests: v.requests, Policies: v.policies, Programmes: v.programmes, Companies: v.companies}, "answers": answers})
}

// market appends the life of two insurers, a subsidy programme, a request
// bound, subsidised, paid, claimed, part settled and cancelled, and
// another quoted, declined and expired, in phases.
func market(t *testing.T, store events.Store) []func() {
	appendTo := func(stream string, ps ...events.Payload) {
		t.Helper()
		req := events.AppendRequest{StreamID: stream, Expected: events.Any, Meta: events.Meta{Actor: fundbridge.Actor{UserID: "given", Role: fundbridge.RoleSystem}}}
		for _, p := range ps {
			data, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			req.Events = append(req.Events, events.NewEvent{Type: p.EventType(), Payload: data})
		}
		if _, err := store.Append(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	r2 := requested
	r2.RequestID, r2.Insurers = "r2", []string{"ins-b"}
	q2 := quoted
	q2.RequestID, q2.QuoteID, q2.InsurerID = "r2", "r2-q1", "ins-b"
	return []func(){
		func() {
			for _, ins := range []string{"ins-a", "ins-b"} {
				appendTo(tableType+"-"+ins, api.InsurerOnboarded{InsurerID: ins, Name: "Insurer " + ins})
				appendTo(tableType+"-"+ins, api.RatingTablePublished{InsurerID: ins, Table: api.SampleRatingTable(ins)})
			}
			appendTo(programmeType+"-sz-2026", programme)
			appendTo(applicationsapi.CompanyAggregate+"-co-1", applicationsapi.CompanyRegistered{CompanyID: "co-1", CompanyProfile: applicationsapi.CompanyProfile{Name: "Xinghe Robotics"}})
		},
		func() {
			appendTo(requestType+"-r1", requested, quoted, api.InsuranceDeclined{RequestID: "r1", InsurerID: "ins-b", Reason: "outside our appetite"})
			appendTo(requestType+"-r2", r2, q2)
		},
		func() {
			appendTo(requestType+"-r1", accepted)
			appendTo(policyType+"-"+policyID, bound)
			appendTo(programmeType+"-sz-2026", drawn(policyID, "co-1", "15000.00", "7500.00", "7500.00", "22500.00"))
			appendTo(policyType+"-"+policyID, subsidy, halfPaid)
			appendTo(requestType+"-r2", api.QuoteExpired{RequestID: "r2", QuoteID: "r2-q1", InsurerID: "ins-b"}, api.InsuranceWithdrawn{RequestID: "r2"})
		},
		func() {
			appendTo(policyType+"-"+policyID, filed, assessed, partPaid, cancelled)
			appendTo(programmeType+"-sz-2026", api.SubsidyReturned{ProgrammeID: "sz-2026", PolicyID: policyID, CompanyID: "co-1", Year: 2026, Amount: amt("100.00"), BudgetLeft: amt("22600.00")},
				api.SubsidyProgrammeClosed{ProgrammeID: "sz-2026"})
		},
	}
}

func checkpointEnv(t *testing.T) (*testenv.Env, *events.Registry) {
	reg := events.NewRegistry()
	api.Register(reg)
	applicationsapi.Register(reg)
	return testenv.Start(t, reg), reg
}

func openView(env *testenv.Env, reg *events.Registry, dir string, log *bytes.Buffer) instance {
	l := slog.New(slog.DiscardHandler)
	if log != nil {
		l = slog.New(slog.NewTextHandler(log, nil))
	}
	return instance{New(env.Store, reg, WithCheckpoints(dir), WithLogger(l))}
}

func head(t *testing.T, env *testenv.Env) uint64 {
	t.Helper()
	h, err := env.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The view restarts from its checkpoint at every stage of a request, a
// policy and a programme, folds only the tail, and reaches the state a
// fold from 0 reaches.
func TestViewResumesFromItsCheckpoint(t *testing.T) {
	env, reg := checkpointEnv(t)
	phases := market(t, env.Store)
	write := func(between func(int)) error {
		for i, phase := range phases {
			phase()
			if i < len(phases)-1 {
				between(i)
			}
		}
		return nil
	}
	viewstatetest.CheckResume(t, env.Store, write, func(dir string) viewstatetest.Instance {
		return openView(env, reg, dir, nil)
	})
}

// A damaged checkpoint is ignored, said in the log, and the view folds
// the log from 0 to the same state; an intact one resumes where it
// stopped.
func TestDamagedCheckpointRefoldsFromZero(t *testing.T) {
	env, reg := checkpointEnv(t)
	for _, phase := range market(t, env.Store) {
		phase()
	}
	h := head(t, env)
	dir := t.TempDir()
	first := viewstatetest.Start(t, openView(env, reg, dir, nil), h)
	want, err := first.State()
	if err != nil {
		t.Fatal(err)
	}
	first.Stop(t)

	resumed := viewstatetest.Start(t, openView(env, reg, dir, nil), h)
	if st := resumed.Stats(); st.RestoredFrom != h || st.Folded != 0 {
		t.Fatalf("intact checkpoint: restored from %d and folded %d, want from %d and 0", st.RestoredFrom, st.Folded, h)
	}
	if got, err := resumed.State(); err != nil || string(got) != string(want) {
		t.Fatalf("resumed state differs from the fold (%v):\ngot  %.2000s\nwant %.2000s", err, got, want)
	}
	resumed.Stop(t)

	path := viewstate.Path(dir, Name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	refolded := viewstatetest.Start(t, openView(env, reg, dir, &logs), h)
	defer refolded.Stop(t)
	if st := refolded.Stats(); st.RestoredFrom != 0 || st.Folded == 0 {
		t.Fatalf("damaged checkpoint: restored from %d and folded %d, want from 0 and the whole log", st.RestoredFrom, st.Folded)
	}
	if got, err := refolded.State(); err != nil || string(got) != string(want) {
		t.Fatalf("refolded state differs from the first fold (%v):\ngot  %.2000s\nwant %.2000s", err, got, want)
	}
	if !strings.Contains(logs.String(), "checkpoint ignored") {
		t.Errorf("the log does not say the checkpoint was ignored:\n%s", logs.String())
	}
}

// A checkpoint ahead of the log (the log was reset, or the directory
// came from another deployment) is never served from: the view folds the
// log it has from 0, and answers for no policy that log does not hold.
func TestCheckpointAheadOfTheLogIsRefolded(t *testing.T) {
	longer, reg := checkpointEnv(t)
	for _, phase := range market(t, longer.Store) {
		phase()
	}
	dir := t.TempDir()
	viewstatetest.Start(t, openView(longer, reg, dir, nil), head(t, longer)).Stop(t)

	shorter, _ := checkpointEnv(t)
	market(t, shorter.Store)[0]()
	h := head(t, shorter)
	var logs bytes.Buffer
	r := viewstatetest.Start(t, openView(shorter, reg, dir, &logs), h)
	defer r.Stop(t)
	fresh := viewstatetest.Start(t, openView(shorter, reg, "", nil), h)
	defer fresh.Stop(t)
	if st := r.Stats(); st.RestoredFrom != 0 || st.Folded != fresh.Stats().Folded {
		t.Errorf("checkpoint ahead of the log: %+v, want the shorter log folded from 0", st)
	}
	if _, ok := r.Instance.(instance).view.policy(policyID); ok {
		t.Errorf("policy %s, which the log does not hold, is served", policyID)
	}
	got, errA := r.State()
	want, errB := fresh.State()
	if errA != nil || errB != nil || string(got) != string(want) {
		t.Errorf("state differs from a fold of the log from 0 (%v %v):\ngot  %.2000s\nwant %.2000s", errA, errB, got, want)
	}
	if !strings.Contains(logs.String(), "ahead of the log") {
		t.Errorf("the log does not say the checkpoint is ahead of the log:\n%s", logs.String())
	}
}
