package matching

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/process"
)

// Matchmaking is the process (services/process) that tells the
// applications service what matching learned: new matches, matches lost
// (a mandate, dry powder, a fund's closing or the company changed), and a
// fund starting to screen. One instance follows each subject the events
// concern: an application, a fund, a company or a deal.
//
// On an event the instance asks matching's own views for a plan
// (matching.matches.plan, as of the event's position), then sends each
// change of the plan to the applications service. The plan is a question
// rather than a computation in the decision because it needs the whole
// match engine, which a pure decision cannot read; its answer is recorded
// in the process stream, so a replay decides the same again. Events that
// come while a plan or its changes are out are observed and answered with
// one more plan once everything is back, so a burst costs one plan.
//
// The applications service records each change once whatever the key
// (marking a fund matched twice records nothing), so two instances whose
// plans overlap (an application's and its fund's) are harmless; what an
// instance sent shows up as application events, which make the
// application's own instance look again until nothing differs.

// MatchmakingName is the process's name, and MatchmakingAggregate the
// type of its instances' streams ("matching_process-matchmaking-<id>"):
// matching's own, so that no other service's NATS user may write them.
const (
	MatchmakingName      = "matchmaking"
	MatchmakingAggregate = "matching_process"
)

// planStep prefixes the steps that ask for a plan: "plan_<n>"; a plan's
// changes are "plan_<n>_<i>".
const planStep = "plan_"

// maxFundsPerChange bounds the funds of one mark_matched or
// mark_unmatched; more go in further changes of the plan.
const maxFundsPerChange = 500

// Matchmaking is the state of one instance.
type Matchmaking struct {
	Subject string `json:"subject"`
	ID      string `json:"id"`
	// Plans counts the plans asked for: the next is plan_<Plans+1>.
	Plans int `json:"plans"`
	// Out counts the commands sent and not yet answered.
	Out int `json:"out"`
	// Seen is the position of the newest event observed, and Planned
	// the Seen the last plan was asked as of: Seen > Planned means an
	// event came after it.
	Seen    uint64 `json:"seen"`
	Planned uint64 `json:"planned"`
}

// MatchmakingProcess is the definition the process manager runs.
func MatchmakingProcess() process.Definition[Matchmaking] {
	route := map[string]func(events.Event, any) string{}
	for _, t := range matchmakingTriggers() {
		route[t] = func(e events.Event, p any) string {
			subject, id := subjectOf(p)
			return matchmakingID(subject, id)
		}
	}
	return process.Definition[Matchmaking]{
		Name:    MatchmakingName,
		Initial: func() Matchmaking { return Matchmaking{} },
		Evolve:  evolveMatchmaking,
		Route:   route,
		On:      onMatchmakingEvent,
		OnReply: onMatchmakingReply,
	}
}

// matchmakingTriggers are the events that may change what the
// applications service should record: those that change a board, and
// those that record what was sent (so the application looks again).
func matchmakingTriggers() []string {
	return []string{
		applicationsapi.ApplicationSubmitted{}.EventType(),
		applicationsapi.ApplicationMatched{}.EventType(),
		applicationsapi.ApplicationUnmatched{}.EventType(),
		applicationsapi.CompanyStageChanged{}.EventType(),
		applicationsapi.CompanyProfileUpdated{}.EventType(),
		fundsapi.MandateSet{}.EventType(),
		fundsapi.CapitalCommitted{}.EventType(),
		fundsapi.CapitalReleased{}.EventType(),
		fundsapi.FundClosed{}.EventType(),
		matchingapi.DealAdvanced{}.EventType(),
	}
}

// subjectOf names what an event concerns; "" for an event that asks
// nothing of matchmaking (a deal advanced to a step other than screening).
func subjectOf(p any) (subject, id string) {
	switch p := p.(type) {
	case applicationsapi.ApplicationSubmitted:
		return matchingapi.SubjectApplication, p.ApplicationID
	case applicationsapi.ApplicationMatched:
		return matchingapi.SubjectApplication, p.ApplicationID
	case applicationsapi.ApplicationUnmatched:
		return matchingapi.SubjectApplication, p.ApplicationID
	case applicationsapi.CompanyStageChanged:
		return matchingapi.SubjectCompany, p.CompanyID
	case applicationsapi.CompanyProfileUpdated:
		return matchingapi.SubjectCompany, p.CompanyID
	case fundsapi.MandateSet:
		return matchingapi.SubjectFund, p.FundID
	case fundsapi.CapitalCommitted:
		return matchingapi.SubjectFund, p.FundID
	case fundsapi.CapitalReleased:
		return matchingapi.SubjectFund, p.FundID
	case fundsapi.FundClosed:
		return matchingapi.SubjectFund, p.FundID
	case matchingapi.DealAdvanced:
		if p.To == matchingapi.StepScreening {
			return matchingapi.SubjectDeal, p.DealID
		}
	}
	return "", ""
}

// matchmakingID is the instance following a subject: "<subject>-<id>",
// the ID hashed when too long for a process ID.
func matchmakingID(subject, id string) string {
	if subject == "" || id == "" {
		return ""
	}
	if len(subject)+1+len(id) > 80 {
		sum := sha256.Sum256([]byte(id))
		id = "h" + hex.EncodeToString(sum[:16])
	}
	return subject + "-" + id
}

func evolveMatchmaking(s Matchmaking, p any) Matchmaking {
	switch p := p.(type) {
	case process.Observed:
		s.Seen = max(s.Seen, p.Position)
	case process.CommandIssued:
		s.Out++
		if q, ok := planOf(p); ok {
			s.Plans++
			s.Subject, s.ID, s.Planned = q.Subject, q.ID, s.Seen
		}
	case process.CommandSucceeded, process.CommandRefused:
		s.Out--
	}
	return s
}

// planOf reads the question a plan step asked.
func planOf(c process.CommandIssued) (matchingapi.PlanMatches, bool) {
	var q matchingapi.PlanMatches
	if c.Op != matchingapi.OpPlanMatches || json.Unmarshal(c.Payload, &q) != nil {
		return q, false
	}
	return q, true
}

// onMatchmakingEvent asks for a plan, unless one (or its changes) is out:
// then the event is only observed, and the answer brings one more plan.
func onMatchmakingEvent(s Matchmaking, in process.Observation) process.Decision {
	subject, id := subjectOf(in.Payload)
	if subject == "" || s.Out > 0 {
		return process.Decision{}
	}
	return plan(s, subject, id, in.Event.Position)
}

func plan(s Matchmaking, subject, id string, after uint64) process.Decision {
	return send(process.Command{
		Step: planStep + strconv.Itoa(s.Plans+1), Service: Name, Op: matchingapi.OpPlanMatches,
		Payload: matchingapi.PlanMatches{Subject: subject, ID: id, After: after},
	})
}

// onMatchmakingReply sends a plan's changes, and once every command is
// answered asks again if events came meanwhile. A refused change is not
// sent again: the application moved on (withdrawn, funded), and what it
// did is an event that makes its instance look again.
func onMatchmakingReply(s Matchmaking, r process.Reply) process.Decision {
	if r.OK() && isPlan(r.Step) {
		var p matchingapi.MatchPlan
		if err := json.Unmarshal(r.Result, &p); err == nil && len(p.Changes) > 0 {
			return process.Decision{Send: changes(r.Step, p.Changes)}
		}
	}
	if s.Out == 0 && s.Seen > s.Planned {
		return plan(s, s.Subject, s.ID, s.Seen)
	}
	return process.Decision{}
}

// isPlan reports whether a step asked for a plan (plan_<n>, not one of
// its changes plan_<n>_<i>).
func isPlan(step string) bool {
	n, ok := strings.CutPrefix(step, planStep)
	return ok && !strings.Contains(n, "_")
}

// changes are a plan's commands to the applications service.
func changes(step string, cs []matchingapi.MatchChange) []process.Command {
	out := make([]process.Command, 0, len(cs))
	for i, c := range cs {
		cmd := process.Command{Step: step + "_" + strconv.Itoa(i+1), Service: applicationsapi.Name}
		switch c.Change {
		case matchingapi.ChangeMatch:
			cmd.Op, cmd.Payload = applicationsapi.MarkMatchedEndpoint.Op, applicationsapi.MarkMatched{ApplicationID: c.ApplicationID, FundIDs: c.FundIDs}
		case matchingapi.ChangeUnmatch:
			cmd.Op, cmd.Payload = applicationsapi.MarkUnmatchedEndpoint.Op, applicationsapi.MarkUnmatched{ApplicationID: c.ApplicationID, FundIDs: c.FundIDs}
		case matchingapi.ChangeReview:
			if len(c.FundIDs) != 1 {
				continue
			}
			cmd.Op, cmd.Payload = applicationsapi.MarkUnderReviewEndpoint.Op, applicationsapi.MarkUnderReview{ApplicationID: c.ApplicationID, FundID: c.FundIDs[0]}
		default:
			continue
		}
		out = append(out, cmd)
	}
	return out
}
