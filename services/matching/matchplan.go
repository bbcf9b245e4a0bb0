package matching

import (
	"context"
	"maps"
	"slices"

	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// planMatches answers the matchmaking process (matchmaking.go) from the
// views once they reflect the event it observed.
func (s *Service) planMatches(ctx context.Context, req *svc.Request, q matchingapi.PlanMatches) (svc.Result[matchingapi.MatchPlan], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[matchingapi.MatchPlan]{}, err
	}
	return svc.Result[matchingapi.MatchPlan]{Value: s.views.plan(q, req.IdempotencyKey), Position: s.follower.Position()}, nil
}

// plan lists what the applications service must record so that the
// subject's open applications hold the funds on their boards (and the
// reviews their deals ask for): the difference between the board and the
// matches its events recorded, nothing when they agree. key is the plan's
// idempotency key: changes another plan asked for and not yet recorded are
// left out.
func (v *views) plan(q matchingapi.PlanMatches, key string) matchingapi.MatchPlan {
	v.mu.Lock() // the plan is remembered in v.planned
	defer v.mu.Unlock()
	p := &planning{views: v, key: key}
	switch q.Subject {
	case matchingapi.SubjectApplication:
		v.planApplication(p, q.ID)
	case matchingapi.SubjectCompany:
		for _, id := range slices.Sorted(maps.Keys(v.apps)) {
			if v.apps[id].companyID == q.ID {
				v.planApplication(p, id)
			}
		}
	case matchingapi.SubjectFund:
		v.planFund(p, q.ID)
	case matchingapi.SubjectDeal:
		v.planReview(p, q.ID)
	}
	return p.MatchPlan
}

// planning is one plan being made.
type planning struct {
	matchingapi.MatchPlan
	views *views
	key   string
}

// planApplication makes an open application's recorded matches its
// board: the funds not recorded yet, best first, then the recorded funds
// no longer on it; and the reviews its deals wait for.
func (v *views) planApplication(p *planning, appID string) {
	st := v.apps[appID]
	if st == nil || !st.open() {
		return
	}
	board := v.engine.ApplicationBoard(appID)
	p.add(matchingapi.ChangeMatch, appID, newFunds(board, st.matched))
	p.add(matchingapi.ChangeUnmatch, appID, staleFunds(board, st.matched))
	for _, id := range v.dealsByApp[appID] {
		v.planReview(p, id)
	}
}

// planFund makes one fund's matches recorded on every open application
// agree with the fund's board.
func (v *views) planFund(p *planning, fundID string) {
	on := map[string]struct{}{}
	for _, m := range v.engine.FundBoard(fundID) {
		on[m.ApplicationID] = struct{}{}
	}
	for _, appID := range slices.Sorted(maps.Keys(v.apps)) {
		st := v.apps[appID]
		if !st.open() {
			continue
		}
		switch _, board := on[appID]; {
		case board && !has(st.matched, fundID):
			p.add(matchingapi.ChangeMatch, appID, []string{fundID})
		case !board && has(st.matched, fundID):
			p.add(matchingapi.ChangeUnmatch, appID, []string{fundID})
		}
	}
}

// planReview puts an application under review by the fund screening its
// deal. The applications service refuses a review by a fund not recorded
// as matched, so until the match is recorded the plan asks for the match;
// its event makes the application's instance plan the review.
func (v *views) planReview(p *planning, dealID string) {
	d, ok := v.deals[dealID]
	if !ok || !dealOpen(d) || d.Step == matchingapi.StepSourced {
		return
	}
	st := v.apps[d.ApplicationID]
	if st == nil || !st.open() || has(st.reviewing, d.FundID) {
		return
	}
	if has(st.matched, d.FundID) {
		p.add(matchingapi.ChangeReview, d.ApplicationID, []string{d.FundID})
		return
	}
	if _, on := v.engine.Score(d.FundID, d.ApplicationID); on {
		p.add(matchingapi.ChangeMatch, d.ApplicationID, []string{d.FundID})
	} // else the fund no longer matches: the review would be refused
}

// add appends changes of funds, at most maxFundsPerChange each, leaving
// out those this plan or another one not yet recorded already asks for,
// and remembers them as planned by this plan.
func (p *planning) add(change, appID string, funds []string) {
	planned := p.views.planned[appID]
	funds = slices.DeleteFunc(slices.Clone(funds), func(f string) bool {
		by, ok := planned[plannedChange{change, f}]
		return ok && (by != p.key || p.key == "") || slices.ContainsFunc(p.Changes, func(c matchingapi.MatchChange) bool {
			return c.Change == change && c.ApplicationID == appID && slices.Contains(c.FundIDs, f)
		})
	})
	if len(funds) == 0 {
		return
	}
	if planned == nil {
		planned = map[plannedChange]string{}
		p.views.planned[appID] = planned
	}
	for _, f := range funds {
		planned[plannedChange{change, f}] = p.key
	}
	for chunk := range slices.Chunk(funds, maxFundsPerChange) {
		p.Changes = append(p.Changes, matchingapi.MatchChange{Change: change, ApplicationID: appID, FundIDs: chunk})
	}
}

// newFunds lists, best first, the funds on an application's board that
// its recorded matches do not hold.
func newFunds(board []Match, recorded map[string]struct{}) []string {
	var fresh []string
	for _, m := range board {
		if !has(recorded, m.FundID) {
			fresh = append(fresh, m.FundID)
		}
	}
	return fresh
}

// staleFunds lists, sorted, the recorded funds that are not on the board.
func staleFunds(board []Match, recorded map[string]struct{}) []string {
	on := make(map[string]struct{}, len(board))
	for _, m := range board {
		on[m.FundID] = struct{}{}
	}
	var stale []string
	for f := range recorded {
		if !has(on, f) {
			stale = append(stale, f)
		}
	}
	slices.Sort(stale)
	return stale
}
