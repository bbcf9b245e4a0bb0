package matching

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/process"
)

// The matchmaking process as given/when/then: its state from what it
// recorded, an input (an event of the log, a reply), and the decision.

// mmGiven folds what an instance recorded, as the manager does.
func mmGiven(ps ...any) Matchmaking {
	s := Matchmaking{}
	for _, p := range ps {
		s = evolveMatchmaking(s, p)
	}
	return s
}

func observed(pos uint64) process.Observed { return process.Observed{Position: pos} }

func issuedPlan(t *testing.T, step, subject, id string, after uint64) process.CommandIssued {
	t.Helper()
	payload, err := json.Marshal(matchingapi.PlanMatches{Subject: subject, ID: id, After: after})
	if err != nil {
		t.Fatal(err)
	}
	return process.CommandIssued{CommandSpec: process.CommandSpec{Step: step, Service: Name, Op: matchingapi.OpPlanMatches, Payload: payload}}
}

func issuedChange(step string) process.CommandIssued {
	return process.CommandIssued{CommandSpec: process.CommandSpec{Step: step, Service: applicationsapi.Name, Op: applicationsapi.MarkMatchedEndpoint.Op}}
}

// commands lists a decision's commands as "step service op payload".
func commands(t *testing.T, d process.Decision) []string {
	t.Helper()
	if d.Complete || d.Compensate != "" || d.Fail != "" || len(d.Record) != 0 {
		t.Fatalf("decision = %+v, want commands only", d)
	}
	var out []string
	for _, c := range d.Send {
		payload, err := json.Marshal(c.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Step+" "+c.Service+" "+c.Op+" "+string(payload))
	}
	return out
}

func submittedEvent(pos uint64) process.Observation {
	p := applicationsapi.ApplicationSubmitted{ApplicationID: "a1", Slice: applicationsapi.Slice{CompanyID: "c1"}}
	return process.Observation{ProcessID: "application-a1", Event: events.Event{Type: p.EventType(), Position: pos}, Payload: p}
}

func planReply(t *testing.T, step string, changes ...matchingapi.MatchChange) process.Reply {
	t.Helper()
	data, err := json.Marshal(matchingapi.MatchPlan{Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	return process.Reply{ProcessID: "application-a1", Step: step, Result: data}
}

func TestMatchmakingRoutesEachTriggerToItsSubject(t *testing.T) {
	route := MatchmakingProcess().Route
	for _, tc := range []struct {
		payload events.Payload
		want    string
	}{
		{applicationsapi.ApplicationSubmitted{ApplicationID: "a1"}, "application-a1"},
		{applicationsapi.ApplicationMatched{ApplicationID: "a1"}, "application-a1"},
		{applicationsapi.ApplicationUnmatched{ApplicationID: "a1"}, "application-a1"},
		{applicationsapi.CompanyStageChanged{CompanyID: "c1"}, "company-c1"},
		{applicationsapi.CompanyProfileUpdated{CompanyID: "c1"}, "company-c1"},
		{fundsapi.MandateSet{FundID: "f1"}, "fund-f1"},
		{fundsapi.CapitalCommitted{FundID: "f1"}, "fund-f1"},
		{fundsapi.CapitalReleased{FundID: "f1"}, "fund-f1"},
		{fundsapi.FundClosed{FundID: "f1"}, "fund-f1"},
		{matchingapi.DealAdvanced{DealID: "f1_a1", To: matchingapi.StepScreening}, "deal-f1_a1"},
		// Only screening asks for a review: later steps start nothing.
		{matchingapi.DealAdvanced{DealID: "f1_a1", To: matchingapi.StepFirstMeeting}, ""},
	} {
		r, ok := route[tc.payload.EventType()]
		if !ok {
			t.Errorf("%s is not routed", tc.payload.EventType())
			continue
		}
		if got := r(events.Event{}, tc.payload); got != tc.want {
			t.Errorf("%T routed to %q, want %q", tc.payload, got, tc.want)
		}
	}
	long := strings.Repeat("x", 120)
	if id := matchmakingID(matchingapi.SubjectApplication, long); len(id) > 80 || id == matchmakingID(matchingapi.SubjectApplication, long+"y") {
		t.Errorf("long id = %q", id)
	}
}

func TestMatchmakingAsksForAPlanAsOfTheEvent(t *testing.T) {
	got := commands(t, onMatchmakingEvent(Matchmaking{}, submittedEvent(7)))
	want := `plan_1 matching matches.plan {"subject":"application","id":"a1","after":7}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("on submitted:\n got %q\nwant %q", got, want)
	}
	// A deal advanced past screening asks nothing, and starts no instance.
	p := matchingapi.DealAdvanced{DealID: "f1_a1", To: matchingapi.StepDueDiligence}
	if d := onMatchmakingEvent(Matchmaking{}, process.Observation{Payload: p}); !d.Empty() {
		t.Errorf("on a later step: %+v", d)
	}
}

func TestMatchmakingSendsEveryChangeOfThePlan(t *testing.T) {
	s := mmGiven(observed(7), issuedPlan(t, "plan_1", "application", "a1", 7), process.CommandSucceeded{Step: "plan_1"})
	got := commands(t, onMatchmakingReply(s, planReply(t, "plan_1",
		matchingapi.MatchChange{Change: matchingapi.ChangeMatch, ApplicationID: "a1", FundIDs: []string{"f2", "f1"}},
		matchingapi.MatchChange{Change: matchingapi.ChangeUnmatch, ApplicationID: "a1", FundIDs: []string{"f9"}},
		matchingapi.MatchChange{Change: matchingapi.ChangeReview, ApplicationID: "a1", FundIDs: []string{"f1"}},
	)))
	want := []string{
		`plan_1_1 applications application.mark_matched {"application_id":"a1","fund_ids":["f2","f1"]}`,
		`plan_1_2 applications application.mark_unmatched {"application_id":"a1","fund_ids":["f9"]}`,
		`plan_1_3 applications application.mark_under_review {"application_id":"a1","fund_id":"f1"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes sent:\n got %q\nwant %q", got, want)
	}
	// A plan with nothing to change, and no event since: the instance rests.
	if d := onMatchmakingReply(s, planReply(t, "plan_1")); !d.Empty() {
		t.Errorf("an empty plan: %+v", d)
	}
}

// Events while a plan or its changes are out are observed only; once
// everything is answered the instance asks one more plan, as of the
// newest event.
func TestMatchmakingPlansOnceMoreAfterABurst(t *testing.T) {
	s := mmGiven(observed(7), issuedPlan(t, "plan_1", "application", "a1", 7))
	for _, pos := range []uint64{8, 9} {
		if d := onMatchmakingEvent(s, submittedEvent(pos)); !d.Empty() {
			t.Fatalf("event at %d while planning: %+v", pos, d)
		}
		s = evolveMatchmaking(s, observed(pos))
	}
	s = evolveMatchmaking(s, process.CommandSucceeded{Step: "plan_1"})
	got := commands(t, onMatchmakingReply(s, planReply(t, "plan_1")))
	want := `plan_2 matching matches.plan {"subject":"application","id":"a1","after":9}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("after the burst:\n got %q\nwant %q", got, want)
	}
	// With changes out, the replan waits for the last reply.
	s = mmGiven(observed(7), issuedPlan(t, "plan_1", "application", "a1", 7), process.CommandSucceeded{Step: "plan_1"},
		issuedChange("plan_1_1"), issuedChange("plan_1_2"), observed(9), process.CommandSucceeded{Step: "plan_1_1"})
	if d := onMatchmakingReply(s, process.Reply{Step: "plan_1_1"}); !d.Empty() {
		t.Errorf("a change answered, another out: %+v", d)
	}
	s = evolveMatchmaking(s, process.CommandSucceeded{Step: "plan_1_2"})
	if got := commands(t, onMatchmakingReply(s, process.Reply{Step: "plan_1_2"})); len(got) != 1 || !strings.HasPrefix(got[0], "plan_2 ") {
		t.Errorf("the last change answered: %q, want plan_2", got)
	}
}

// A refused change is not sent again (the application moved on: its event
// makes its instance look again); a refused plan sends nothing.
func TestMatchmakingRefusals(t *testing.T) {
	refusal := &fundbridge.Error{Code: fundbridge.ECONFLICT, Message: "application a1 is withdrawn: it cannot be matched"}
	s := mmGiven(observed(7), issuedPlan(t, "plan_1", "application", "a1", 7), process.CommandSucceeded{Step: "plan_1"},
		issuedChange("plan_1_1"), process.CommandRefused{Step: "plan_1_1", Code: refusal.Code})
	if d := onMatchmakingReply(s, process.Reply{Step: "plan_1_1", Refusal: refusal}); !d.Empty() {
		t.Errorf("a refused change: %+v", d)
	}
	s = mmGiven(observed(7), issuedPlan(t, "plan_1", "application", "a1", 7), process.CommandRefused{Step: "plan_1", Code: fundbridge.EINVALID})
	if d := onMatchmakingReply(s, process.Reply{Step: "plan_1", Refusal: &fundbridge.Error{Code: fundbridge.EINVALID}}); !d.Empty() {
		t.Errorf("a refused plan: %+v", d)
	}
	// ... unless events came meanwhile: then it plans again.
	s = evolveMatchmaking(evolveMatchmaking(s, observed(8)), process.CommandRefused{})
	s.Out = 0
	if got := commands(t, onMatchmakingReply(s, process.Reply{Step: "plan_1", Refusal: refusal})); len(got) != 1 || !strings.HasPrefix(got[0], "plan_2 ") {
		t.Errorf("refused, with an event since: %q", got)
	}
}

// The plan, from views folded from events: what the board holds and the
// applications service has not recorded, in both directions, for each
// subject; nothing asked twice while on its way.
func TestPlanIsTheBoardLessWhatIsRecorded(t *testing.T) {
	reg := events.NewRegistry()
	applicationsapi.Register(reg)
	fundsapi.Register(reg)
	matchingapi.Register(reg)
	v := newViews(reg)
	fold := func(stream string, p events.Payload) {
		t.Helper()
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.apply(events.Event{Type: p.EventType(), StreamID: stream, Payload: data}); err != nil {
			t.Fatal(err)
		}
	}
	mandate := testMandate(func(m *fundsapi.Mandate) { m.Stages = []fundbridge.Stage{fundbridge.StageGrowth} })
	for _, f := range []string{"f1", "f2"} {
		fold("fund-"+f, fundsapi.FundRegistered{FundID: f, ManagerOrg: "org-" + f, Name: f, Type: fundsapi.FundVC, CommittedCapital: yuanM(1000)})
		fold("fund-"+f, fundsapi.MandateSet{FundID: f, Mandate: mandate})
	}
	fold("application-a1", testApplication("a1")) // of company c-a1
	fold("application-a1", applicationsapi.ApplicationMatched{ApplicationID: "a1", FundIDs: []string{"f1", "f-gone"}})

	plan := func(subject, id, key string) string {
		b, _ := json.Marshal(v.plan(matchingapi.PlanMatches{Subject: subject, ID: id}, key))
		return string(b)
	}
	want := `{"changes":[{"change":"match","application_id":"a1","fund_ids":["f2"]},{"change":"unmatch","application_id":"a1","fund_ids":["f-gone"]}]}`
	if got := plan("application", "a1", "k1"); got != want {
		t.Errorf("application plan:\n got %s\nwant %s", got, want)
	}
	// The same plan asked again (a resend) gets the same answer; another
	// plan leaves out what is on its way.
	if got := plan("application", "a1", "k1"); got != want {
		t.Errorf("the same plan again:\n got %s\nwant %s", got, want)
	}
	if got := plan("application", "a1", "k2"); got != `{"changes":null}` {
		t.Errorf("another plan while on its way: %s", got)
	}
	fold("application-a1", applicationsapi.ApplicationMatched{ApplicationID: "a1", FundIDs: []string{"f2"}})
	fold("application-a1", applicationsapi.ApplicationUnmatched{ApplicationID: "a1", FundIDs: []string{"f-gone"}})
	if got := plan("application", "a1", "k3"); got != `{"changes":null}` {
		t.Errorf("once recorded: %s", got)
	}
	// The fund's mandate narrows: the fund's plan unmatches it, once.
	fold("fund-f2", fundsapi.MandateSet{FundID: "f2", Mandate: testMandate(func(m *fundsapi.Mandate) { m.Stages = []fundbridge.Stage{fundbridge.StageSeed} })})
	if got := plan("fund", "f2", "k4"); got != `{"changes":[{"change":"unmatch","application_id":"a1","fund_ids":["f2"]}]}` {
		t.Errorf("fund plan: %s", got)
	}
	// The company moves out of f1's stages too: its plan unmatches f1.
	fold("company-c-a1", applicationsapi.CompanyStageChanged{CompanyID: "c-a1", From: fundbridge.StageGrowth, To: fundbridge.StageExpansion})
	if got := plan("company", "c-a1", "k5"); got != `{"changes":[{"change":"unmatch","application_id":"a1","fund_ids":["f1"]}]}` {
		t.Errorf("company plan: %s", got)
	}
	// A withdrawn application is told nothing more.
	fold("application-a1", applicationsapi.ApplicationWithdrawn{ApplicationID: "a1"})
	if got := plan("company", "c-a1", "k6") + plan("application", "a1", "k6"); got != `{"changes":null}{"changes":null}` {
		t.Errorf("withdrawn: %s", got)
	}
}
