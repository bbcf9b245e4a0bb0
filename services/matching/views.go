package matching

import (
	"cmp"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
)

// Application statuses as matching folds them from the applications
// service's events.
const (
	statusDraft       = "draft"
	statusSubmitted   = "submitted"
	statusMatched     = "matched"
	statusUnderReview = "under_review"
	statusFunded      = "funded"
	statusWithdrawn   = "withdrawn"
	statusRejected    = "rejected"
	statusExpired     = "expired"
)

// appState is what matching folds of an application's lifecycle: enough
// to authorize its owner and to tell which of its facts the applications
// service already holds, so the matchmaking plans ask only what is missing.
type appState struct {
	companyID string
	status    string
	matched   map[string]struct{} // funds its application.matched.v1 events hold and application.unmatched.v1 events have not taken back
	// matchEvents counts its application.matched.v1 and .unmatched.v1
	// events (kept in checkpoints of this version; nothing reads it now
	// that the matchmaking process keys its commands by its own steps).
	matchEvents int
	reviewing   map[string]struct{} // funds in its application.under_review.v1 events
}

func (a *appState) open() bool {
	return a.status == statusSubmitted || a.status == statusMatched || a.status == statusUnderReview
}

func addTo(m *map[string]struct{}, ids ...string) {
	if *m == nil {
		*m = make(map[string]struct{}, len(ids))
	}
	for _, id := range ids {
		(*m)[id] = struct{}{}
	}
}

func has(m map[string]struct{}, id string) bool {
	_, ok := m[id]
	return ok
}

// views are the service's read models, all fed by one follower from
// position 0: the match engine, the applications' lifecycles, the deals.
type views struct {
	registry *events.Registry
	folds    projections.Folds

	mu           sync.RWMutex
	engine       *Engine
	apps         map[string]*appState
	deals        map[string]matchingapi.Deal
	dealsByFund  map[string][]string
	dealsByApp   map[string][]string
	dealsByOwner map[string][]string // company ID → deal IDs

	// companyFolds keeps companies' names (companies), shown beside the
	// company ID of a deal its reader already sees.
	companyFolds projections.Folds
	companies    map[string]string

	// planned holds, by application, the changes plans asked for whose
	// events are not folded yet, with the key of the plan that asked:
	// another plan leaves them out (they are on their way, and the
	// applications service would be asked twice), while the same plan
	// asked again (its manager resending after a crash) gets them again.
	// Memory only: after a restart a change may be asked once more, which
	// the applications service records once.
	planned map[string]map[plannedChange]string
}

type plannedChange struct{ change, fund string }

// landed forgets the planned changes of an application that its events
// now show.
func (v *views) landed(appID, change string, funds ...string) {
	for _, f := range funds {
		delete(v.planned[appID], plannedChange{change, f})
	}
	if len(v.planned[appID]) == 0 {
		delete(v.planned, appID)
	}
}

func newViews(registry *events.Registry) *views {
	v := &views{
		registry: registry, engine: NewEngine(), apps: map[string]*appState{}, deals: map[string]matchingapi.Deal{},
		dealsByFund: map[string][]string{}, dealsByApp: map[string][]string{}, dealsByOwner: map[string][]string{},
		planned: map[string]map[plannedChange]string{}, companies: map[string]string{},
	}
	v.registerFolds()
	applicationsapi.FoldCompanyNames(&v.companyFolds, func(id, name string) { v.companies[id] = name })
	return v
}

// apply folds one event into the views. It never blocks on anything but
// the views' lock.
func (v *views) apply(e events.Event) error {
	kind, _, _ := strings.Cut(e.Type, ".")
	if kind != "fund" && kind != "application" && kind != "company" && kind != "bank" && kind != matchingapi.DealAggregate {
		return nil
	}
	e, payload, err := v.registry.Decode(e)
	if errors.Is(err, events.ErrUnknownType) {
		return nil // a newer fact than this build knows: not one matching acts on
	}
	if err != nil {
		return err
	}
	p, ok := payload.(events.Payload)
	if !ok {
		return nil
	}
	folds, names := v.folds.Handles(p.EventType()), v.companyFolds.Handles(p.EventType())
	if !folds && !names {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if names {
		if err := v.companyFolds.Apply(e, payload); err != nil {
			return err
		}
	}
	if !folds {
		return nil
	}
	return v.folds.Apply(e, payload)
}

// named is d with its company's name, for a reader (called with mu held).
func (v *views) named(d matchingapi.Deal) matchingapi.Deal {
	d.CompanyName = v.companies[d.CompanyID]
	return d
}

// companyName is the company's name as the views last folded it.
func (v *views) companyName(id string) string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.companies[id]
}

func (v *views) app(id, companyID string) *appState {
	a := v.apps[id]
	if a == nil {
		a = &appState{companyID: companyID}
		v.apps[id] = a
	}
	if companyID != "" {
		a.companyID = companyID
	}
	return a
}

// appStatus is the application's status as matching last folded it, ""
// if it never saw it.
func (v *views) appStatus(id string) string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if a := v.apps[id]; a != nil {
		return a.status
	}
	return ""
}

func (v *views) closeApp(id, companyID, status string) {
	delete(v.planned, id)
	v.app(id, companyID).status = status
	v.engine.CloseApplication(id)
}

// manages reports whether the actor runs the fund (or sees everything).
func manages(actor fundbridge.Actor, f FundInfo) bool {
	switch actor.Role {
	case fundbridge.RoleOperator, fundbridge.RoleSystem:
		return true
	case fundbridge.RoleFundManager:
		return actor.OrgID != "" && actor.OrgID == f.ManagerOrg
	}
	return false
}

// canSee is the deal visibility rule: the fund's manager, the startup
// that applied, operators.
func (v *views) canSee(actor fundbridge.Actor, d matchingapi.Deal) bool {
	switch actor.Role {
	case fundbridge.RoleOperator, fundbridge.RoleSystem:
		return true
	case fundbridge.RoleFundManager:
		f, ok := v.engine.Fund(d.FundID)
		return ok && manages(actor, f)
	case fundbridge.RoleStartup:
		return actor.OrgID != "" && actor.OrgID == d.CompanyID
	}
	return false
}

func (v *views) fund(id string) (FundInfo, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.engine.Fund(id)
}

// sourcing gathers what deal.source decides on: the fund the actor runs,
// the open application and the engine's verdict on the pair.
func (v *views) sourcing(actor fundbridge.Actor, c matchingapi.SourceDeal) (Sourcing, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	f, ok := v.engine.Fund(c.FundID)
	if !ok || !manages(actor, f) {
		return Sourcing{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no fund %s", c.FundID)
	}
	a, ok := v.engine.Application(c.ApplicationID)
	if !ok {
		return Sourcing{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no open application %s", c.ApplicationID)
	}
	ev, _ := v.engine.Explain(c.FundID, c.ApplicationID)
	if !ev.Matches && actor.Role == fundbridge.RoleFundManager {
		// A manager sees an application only on its fund's board: why one
		// off it does not match would tell its sector, ticket and city.
		return Sourcing{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no open application %s", c.ApplicationID)
	}
	return Sourcing{FundID: c.FundID, Application: a, Evaluation: ev}, nil
}

// fundMatches pages a fund's board, best first, with the reasons.
func (v *views) fundMatches(actor fundbridge.Actor, q matchingapi.MatchesForFund) (matchingapi.FundMatches, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	f, ok := v.engine.Fund(q.FundID)
	if !ok || !manages(actor, f) {
		return matchingapi.FundMatches{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no fund %s", q.FundID)
	}
	board := v.engine.FundBoard(q.FundID)
	query := cursor.For("fund", q.FundID)
	start, err := rankedPageStart(q.Cursor, query, len(board), func(i int) (int, string) { return board[i].Score, board[i].ApplicationID })
	if err != nil {
		return matchingapi.FundMatches{}, err
	}
	page := board[start:min(len(board), start+limitOr(q.Limit))]
	out := matchingapi.FundMatches{FundID: q.FundID, Items: make([]matchingapi.FundMatch, 0, len(page))}
	for _, m := range page {
		a, _ := v.engine.Application(m.ApplicationID)
		ev, _ := v.engine.Explain(q.FundID, m.ApplicationID)
		item := matchingapi.FundMatch{Application: a, Score: m.Score, For: ev.For, Against: ev.Against, ForCodes: ev.ForCodes, AgainstCodes: ev.AgainstCodes}
		if d, ok := v.deals[matchingapi.DealID(q.FundID, m.ApplicationID)]; ok {
			item.DealID, item.DealStep = d.ID, d.Step
		}
		out.Items = append(out.Items, item)
	}
	if start+len(page) < len(board) {
		last := page[len(page)-1]
		out.NextCursor = pageCursor(query, int64(-last.Score), last.ApplicationID)
	}
	return out, nil
}

// applicationMatches lists the funds an application matches, best first.
func (v *views) applicationMatches(actor fundbridge.Actor, q matchingapi.MatchesForApplication) (matchingapi.ApplicationMatches, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a := v.apps[q.ApplicationID]
	if a == nil || !(actor.Role == fundbridge.RoleOperator || actor.Role == fundbridge.RoleSystem || actor.OrgID != "" && actor.OrgID == a.companyID) {
		return matchingapi.ApplicationMatches{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no application %s", q.ApplicationID)
	}
	out := matchingapi.ApplicationMatches{ApplicationID: q.ApplicationID, Status: a.status, Items: []matchingapi.ApplicationMatch{}}
	for _, m := range v.engine.ApplicationBoard(q.ApplicationID) {
		f, _ := v.engine.Fund(m.FundID)
		ev, _ := v.engine.Explain(m.FundID, q.ApplicationID)
		out.Items = append(out.Items, matchingapi.ApplicationMatch{FundID: f.ID, FundName: f.Name, FundType: f.Type, Score: m.Score, For: ev.For, Against: ev.Against, ForCodes: ev.ForCodes, AgainstCodes: ev.AgainstCodes})
	}
	out.Programmes = v.programmeItems(q.ApplicationID)
	return out, nil
}

func (v *views) deal(actor fundbridge.Actor, id string) (matchingapi.Deal, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	d, ok := v.deals[id]
	if !ok || !v.canSee(actor, d) {
		return matchingapi.Deal{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no deal %s", id)
	}
	return v.named(d), nil
}

// listDeals filters the deals the actor may see, counts them per step,
// then pages them in the order asked.
func (v *views) listDeals(actor fundbridge.Actor, q matchingapi.ListDeals) (matchingapi.DealList, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var ids []string
	switch {
	case q.FundID != "":
		ids = v.dealsByFund[q.FundID]
	case q.ApplicationID != "":
		ids = v.dealsByApp[q.ApplicationID]
	case actor.Role == fundbridge.RoleFundManager:
		for _, f := range v.engine.FundsOf(actor.OrgID) {
			ids = append(ids, v.dealsByFund[f]...)
		}
	case actor.Role == fundbridge.RoleStartup:
		ids = v.dealsByOwner[actor.OrgID]
	default:
		ids = make([]string, 0, len(v.deals))
		for id := range v.deals {
			ids = append(ids, id)
		}
	}
	key := func(d matchingapi.Deal) int64 {
		switch q.Sort {
		case matchingapi.SortSourced:
			return int64(d.Position)
		case matchingapi.SortScoreDesc:
			return int64(-d.Score)
		}
		return -int64(d.Position)
	}
	out := matchingapi.DealList{Items: []matchingapi.Deal{}, Counts: map[matchingapi.Step]int{}}
	for _, s := range matchingapi.Steps() {
		out.Counts[s] = 0
	}
	var items []matchingapi.Deal
	for _, id := range ids {
		d := v.deals[id]
		if !v.canSee(actor, d) || (q.FundID != "" && d.FundID != q.FundID) || (q.ApplicationID != "" && d.ApplicationID != q.ApplicationID) {
			continue
		}
		out.Counts[d.Step]++
		if q.Step == "" || d.Step == q.Step {
			items = append(items, v.named(d))
		}
	}
	order := func(x, y matchingapi.Deal) int {
		return cmp.Or(cmp.Compare(key(x), key(y)), strings.Compare(x.ID, y.ID))
	}
	slices.SortFunc(items, order)
	start := 0
	query := cursor.For("deals", q.Sort, q.FundID, q.ApplicationID, string(q.Step))
	if q.Cursor != "" {
		k, id, err := pageAfter(q.Cursor, query)
		if err != nil {
			return matchingapi.DealList{}, err
		}
		start = sort.Search(len(items), func(i int) bool {
			return cmp.Or(cmp.Compare(key(items[i]), k), strings.Compare(items[i].ID, id)) > 0
		})
	}
	page := items[start:min(len(items), start+limitOr(q.Limit))]
	out.Items = append(out.Items, page...)
	if start+len(page) < len(items) {
		last := page[len(page)-1]
		out.NextCursor = pageCursor(query, key(last), last.ID)
	}
	return out, nil
}

// rankedPageStart is where the page after a cursor starts in a board
// ranked by score descending, then ID.
func rankedPageStart(after, query string, n int, at func(i int) (score int, id string)) (int, error) {
	if after == "" {
		return 0, nil
	}
	key, id, err := pageAfter(after, query)
	if err != nil {
		return 0, err
	}
	return sort.Search(n, func(i int) bool {
		score, x := at(i)
		return cmp.Or(cmp.Compare(int64(-score), key), strings.Compare(x, id)) > 0
	}), nil
}

// pageCursor is where a page sorted by a number, then an ID, ended, in
// the list query names (cursor.For of its sort and filters).
func pageCursor(query string, key int64, id string) string {
	return cursor.Cursor{Query: query, Key: strconv.FormatInt(key, 10), ID: id}.String()
}

// pageAfter reads a cursor from pageCursor given out for query; one given
// out for another list is an EINVALID naming the cursor.
func pageAfter(s, query string) (key int64, id string, err error) {
	c, err := cursor.Parse(s, query)
	if err != nil {
		return 0, "", err
	}
	key, err = strconv.ParseInt(c.Key, 10, 64)
	if err != nil {
		return 0, "", fundbridge.Invalid("invalid cursor", fundbridge.FieldError{Field: "cursor", Reason: "not a cursor this service issued"})
	}
	return key, c.ID, nil
}

func limitOr(n int) int {
	if n == 0 {
		return matchingapi.DefaultLimit
	}
	return n
}
