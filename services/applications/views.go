package applications

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

func presentCompany(c Company, today time.Time) applicationsapi.CompanyView {
	v := applicationsapi.CompanyView{
		ID: c.ID, Name: c.Profile.Name, USCC: c.USCC, City: c.Profile.City, Layer: c.Profile.Layer, Sector: c.Profile.Sector,
		FoundedOn: c.Profile.FoundedOn, Headcount: c.Profile.Headcount, Stage: c.Stage,
		Patents: make([]applicationsapi.PatentView, len(c.Patents)), StageHistory: nonNil(c.StageHistory),
		RegisteredAt: c.RegisteredAt, UpdatedAt: c.UpdatedAt, Version: c.Version,
	}
	day := today.Format(applicationsapi.DateLayout)
	for i, p := range c.Patents {
		v.Patents[i] = applicationsapi.PatentView{Patent: p, Valid: p.GrantedOn != "" && p.GrantedOn <= day && day < p.ExpiresOn}
	}
	return v
}

// presentApplication shows a to a reader; own, when set, limits the funds
// shown to the reader's own, so a fund manager does not learn who else
// was matched or what they paid.
func presentApplication(a Application, own func(fundID string) bool) applicationsapi.ApplicationView {
	v := applicationsapi.ApplicationView{
		ID: a.ID, CompanyName: a.CompanyName, Slice: a.Slice, Status: a.Status, ApplicationTerms: a.Terms,
		CreditDataShared: a.Terms.CreditDataConsent,
		FundIDs:          nonNil(a.FundIDs), ReviewedBy: nonNil(a.ReviewedBy), Deals: nonNil(a.Deals),
		StatusHistory: nonNil(a.History), Reason: a.Reason, ClosingDeal: a.ReservedBy,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Version: a.Version,
	}
	v.Instruments = nonNil(v.Instruments)
	if !a.SubmittedAt.IsZero() {
		at := a.SubmittedAt
		v.SubmittedAt = &at
	}
	if own != nil {
		v.FundIDs = slices.DeleteFunc(slices.Clone(v.FundIDs), func(f string) bool { return !own(f) })
		v.ReviewedBy = slices.DeleteFunc(slices.Clone(v.ReviewedBy), func(f string) bool { return !own(f) })
		v.Deals = slices.DeleteFunc(slices.Clone(v.Deals), func(d applicationsapi.FundedDeal) bool { return !own(d.FundID) })
	}
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// views are the service's read models, folded from the whole log: the
// companies and applications (with the same evolve functions as the
// aggregates) and, from the funds service's events, which org manages
// which fund, so fund managers see the applications matched to them.
type views struct {
	registry         *events.Registry
	now              func() time.Time
	companyFolds     *fold.Evolve[Company]
	applicationFolds *fold.Evolve[Application]
	fundFolds        fold.Handlers // of the funds service's events, those that matter here

	mu            sync.RWMutex
	companies     map[string]Company
	applications  map[string]Application
	appsByCompany map[string][]string // in drafting order
	appsByFund    map[string][]string // applications matched to each fund
	fundManager   map[string]string   // fund ID → managing org
	fundsByOrg    map[string][]string
	// byCreated is every application in (created_at, ID) order, so that a
	// page of the newest (the list's default) walks only as far as it
	// shows instead of sorting them all. Rebuilt from applications on
	// restore: a checkpoint does not hold it.
	byCreated []keyed
}

// keyed is an item's sort key (a string that orders as the value does)
// beside its ID, which breaks ties.
type keyed struct{ key, id string }

func compareKeyed(a, b keyed) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// indexCreated adds a newly drafted application to byCreated; drafts come
// in log order, so this nearly always appends. The caller holds the lock.
func (v *views) indexCreated(a Application) {
	k := keyed{timeKey(a.CreatedAt), a.ID}
	i, _ := slices.BinarySearchFunc(v.byCreated, k, compareKeyed)
	v.byCreated = slices.Insert(v.byCreated, i, k)
}

func newViews(registry *events.Registry, now func() time.Time) *views {
	v := &views{
		registry: registry, now: now, companyFolds: companyFolds(), applicationFolds: applicationFolds(),
		companies: map[string]Company{}, applications: map[string]Application{},
		appsByCompany: map[string][]string{}, appsByFund: map[string][]string{},
		fundManager: map[string]string{}, fundsByOrg: map[string][]string{},
	}
	fold.On(&v.fundFolds, func(_ events.Event, reg fundsapi.FundRegistered) error { v.learnFund(reg); return nil })
	return v
}

// viewsVersion names the folds and the checkpoint's encoding of their
// state: change it with either, and checkpoints are folded again.
const viewsVersion = "applications/1"

// viewsState is the views' state as a checkpoint holds it.
type viewsState struct {
	Companies     map[string]Company
	Applications  map[string]Application
	AppsByCompany map[string][]string
	AppsByFund    map[string][]string
	FundManager   map[string]string
	FundsByOrg    map[string][]string
}

// Capture takes the state as it is between appends. The folds copy on
// write and only append to the index slices, so copies of the maps are a
// stable picture to encode meanwhile.
func (v *views) Capture() func() ([]byte, error) {
	v.mu.RLock()
	st := viewsState{
		Companies: maps.Clone(v.companies), Applications: maps.Clone(v.applications),
		AppsByCompany: maps.Clone(v.appsByCompany), AppsByFund: maps.Clone(v.appsByFund),
		FundManager: maps.Clone(v.fundManager), FundsByOrg: maps.Clone(v.fundsByOrg),
	}
	v.mu.RUnlock()
	return func() ([]byte, error) { return viewstate.EncodeState(Name, st) }
}

// Restore replaces the state with a checkpoint's.
func (v *views) Restore(data []byte) error {
	var st viewsState
	if err := viewstate.DecodeState(Name, data, &st); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.companies, v.applications = viewstate.Map(st.Companies), viewstate.Map(st.Applications)
	v.appsByCompany, v.appsByFund = viewstate.Map(st.AppsByCompany), viewstate.Map(st.AppsByFund)
	v.fundManager, v.fundsByOrg = viewstate.Map(st.FundManager), viewstate.Map(st.FundsByOrg)
	v.byCreated = v.byCreated[:0:0]
	for id, a := range v.applications {
		if a.Exists() {
			v.byCreated = append(v.byCreated, keyed{timeKey(a.CreatedAt), id})
		}
	}
	slices.SortFunc(v.byCreated, compareKeyed)
	return nil
}

// Reset empties the state.
func (v *views) Reset() {
	empty := newViews(v.registry, v.now)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.companies, v.applications = empty.companies, empty.applications
	v.appsByCompany, v.appsByFund = empty.appsByCompany, empty.appsByFund
	v.fundManager, v.fundsByOrg = empty.fundManager, empty.fundsByOrg
	v.byCreated = nil
}

// apply folds one event of the log; events of other streams pass by.
func (v *views) apply(e events.Event) error {
	kind, id, err := events.SplitStreamID(e.StreamID)
	if err != nil {
		return nil
	}
	switch kind {
	case "company", "application":
	case "fund":
		return v.applyFund(e)
	default:
		return nil
	}
	e, payload, err := v.registry.Decode(e)
	if err != nil {
		return fmt.Errorf("applications view: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if kind == "company" {
		v.companies[id] = v.companyFolds.Apply(v.companies[id], e, payload)
		return nil
	}
	before := v.applications[id]
	a := v.applicationFolds.Apply(before, e, payload)
	v.applications[id] = a
	if a.Exists() && !before.Exists() { // drafted: the one event that makes it exist
		v.appsByCompany[a.Slice.CompanyID] = append(v.appsByCompany[a.Slice.CompanyID], id)
		v.indexCreated(a)
	}
	for _, f := range a.FundIDs {
		if !before.matchedTo(f) {
			v.appsByFund[f] = append(v.appsByFund[f], id)
		}
	}
	return nil
}

// applyFund learns who manages each fund. It reads the funds service's
// published event type; it decodes it itself when the registry does not
// know it, so this service runs without the funds service's registration.
func (v *views) applyFund(e events.Event) error {
	if !strings.HasPrefix(e.Type, "fund.registered.") { // nothing else of a fund matters here
		return nil
	}
	switch {
	case v.registry.Readable(e.Type):
		e, payload, err := v.registry.Decode(e)
		if err != nil {
			return fmt.Errorf("applications view: %w", err)
		}
		if !v.fundFolds.Handles(e.Type) {
			return nil
		}
		return v.fundFolds.Apply(e, payload)
	case e.Type == (fundsapi.FundRegistered{}).EventType():
		var reg fundsapi.FundRegistered
		if err := json.Unmarshal(e.Payload, &reg); err != nil {
			return fmt.Errorf("applications view: decode %s@%d: %w", e.StreamID, e.Version, err)
		}
		v.learnFund(reg)
	}
	return nil
}

// learnFund records who manages a fund.
func (v *views) learnFund(reg fundsapi.FundRegistered) {
	if reg.FundID == "" || reg.ManagerOrg == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if old, ok := v.fundManager[reg.FundID]; ok {
		v.fundsByOrg[old] = slices.DeleteFunc(slices.Clone(v.fundsByOrg[old]), func(f string) bool { return f == reg.FundID })
	}
	v.fundManager[reg.FundID] = reg.ManagerOrg
	v.fundsByOrg[reg.ManagerOrg] = append(v.fundsByOrg[reg.ManagerOrg], reg.FundID)
}

// ownFunds tells, for a fund manager, which funds are its own; nil for
// readers who see every fund. The caller holds the lock.
func (v *views) ownFunds(actor fundbridge.Actor) func(string) bool {
	if actor.Role != fundbridge.RoleFundManager {
		return nil
	}
	return func(fundID string) bool { return actor.OrgID != "" && v.fundManager[fundID] == actor.OrgID }
}

// canSeeApplication applies the visibility rules; the caller holds the lock.
func (v *views) canSeeApplication(actor fundbridge.Actor, a Application) bool {
	switch actor.Role {
	case fundbridge.RoleOperator, fundbridge.RoleSystem:
		return true
	case fundbridge.RoleStartup:
		return actor.OrgID != "" && a.Slice.CompanyID == actor.OrgID
	case fundbridge.RoleFundManager:
		// A fund that took it under review keeps seeing it after the match
		// is gone (the company or the mandate changed): its deal goes on.
		own := v.ownFunds(actor)
		return slices.ContainsFunc(a.FundIDs, own) || slices.ContainsFunc(a.ReviewedBy, own)
	}
	return false
}

// canSeeCompany: fund managers see a company once one of its applications
// is visible to them. The caller holds the lock.
func (v *views) canSeeCompany(actor fundbridge.Actor, companyID string) bool {
	switch actor.Role {
	case fundbridge.RoleOperator, fundbridge.RoleSystem:
		return true
	case fundbridge.RoleStartup:
		return actor.OrgID != "" && companyID == actor.OrgID
	case fundbridge.RoleFundManager:
		for _, id := range v.appsByCompany[companyID] {
			if v.canSeeApplication(actor, v.applications[id]) {
				return true
			}
		}
	}
	return false
}

// companyState is the company as the view has folded it.
func (v *views) companyState(id string) (Company, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c, ok := v.companies[id]
	return c, ok
}

func (v *views) company(actor fundbridge.Actor, id string) (applicationsapi.CompanyView, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c, ok := v.companies[id]
	if !ok || !c.Registered() || !v.canSeeCompany(actor, id) {
		return applicationsapi.CompanyView{}, companyNotFound(id)
	}
	return presentCompany(c, applicationsapi.ChinaToday(v.now())), nil
}

func (v *views) application(actor fundbridge.Actor, id string) (applicationsapi.ApplicationView, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a, ok := v.applications[id]
	if !ok || !a.Exists() || !v.canSeeApplication(actor, a) {
		return applicationsapi.ApplicationView{}, applicationNotFound(id)
	}
	return presentApplication(a, v.ownFunds(actor)), nil
}

func listForbidden(actor fundbridge.Actor, what string) error {
	switch actor.Role {
	case fundbridge.RoleOperator, fundbridge.RoleSystem, fundbridge.RoleStartup, fundbridge.RoleFundManager:
		return nil
	}
	return fundbridge.Errorf(fundbridge.EFORBIDDEN, "%s does not list %s", fundbridge.Article(actor.Role), what)
}

func (v *views) listCompanies(actor fundbridge.Actor, q applicationsapi.ListCompanies) (applicationsapi.ListResult[applicationsapi.CompanyView], error) {
	if err := listForbidden(actor, "companies"); err != nil {
		return applicationsapi.ListResult[applicationsapi.CompanyView]{}, err
	}
	sortBy := q.Sort
	if sortBy == "" {
		sortBy = "name"
	}
	query := cursor.For(sortBy, string(q.Stage), string(q.Layer), string(q.Sector), string(q.City))
	after, err := decodeCursor(q.Cursor, query)
	if err != nil {
		return applicationsapi.ListResult[applicationsapi.CompanyView]{}, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	var ids []string
	switch actor.Role {
	case fundbridge.RoleStartup:
		ids = []string{actor.OrgID}
	case fundbridge.RoleFundManager:
		seen := map[string]bool{}
		for _, appID := range v.fundManagerApplications(actor) {
			if cid := v.applications[appID].Slice.CompanyID; !seen[cid] {
				seen[cid] = true
				ids = append(ids, cid)
			}
		}
	default:
		for id := range v.companies {
			ids = append(ids, id)
		}
	}
	key := func(c Company) string { return strings.ToLower(c.Profile.Name) }
	if strings.TrimPrefix(sortBy, "-") == "founded_on" {
		key = func(c Company) string { return c.Profile.FoundedOn }
	}
	var hits []keyed // each key made once, not at every comparison of the sort
	for _, id := range ids {
		c, ok := v.companies[id]
		if !ok || !c.Registered() ||
			q.Stage != "" && c.Stage != q.Stage || q.Layer != "" && c.Profile.Layer != q.Layer ||
			q.Sector != "" && c.Profile.Sector != q.Sector || q.City != "" && c.Profile.City != q.City {
			continue
		}
		hits = append(hits, keyed{key(c), c.ID})
	}
	page, next := paginateKeyed(hits, sortBy, query, after, q.Limit)
	today := applicationsapi.ChinaToday(v.now())
	out := applicationsapi.ListResult[applicationsapi.CompanyView]{Items: make([]applicationsapi.CompanyView, len(page)), NextCursor: next}
	for i, k := range page {
		out.Items[i] = presentCompany(v.companies[k.id], today)
	}
	return out, nil
}

// fundManagerApplications lists the applications matched to the actor's
// funds; the caller holds the lock.
func (v *views) fundManagerApplications(actor fundbridge.Actor) []string {
	if actor.OrgID == "" {
		return nil
	}
	var ids []string
	seen := map[string]bool{}
	for _, f := range v.fundsByOrg[actor.OrgID] {
		for _, id := range v.appsByFund[f] {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func (v *views) listApplications(actor fundbridge.Actor, q applicationsapi.ListApplications) (applicationsapi.ListResult[applicationsapi.ApplicationView], error) {
	if err := listForbidden(actor, "applications"); err != nil {
		return applicationsapi.ListResult[applicationsapi.ApplicationView]{}, err
	}
	sortBy := q.Sort
	if sortBy == "" {
		sortBy = "-created_at"
	}
	query := cursor.For(sortBy, string(q.Status), string(q.Stage), string(q.Layer), string(q.Sector), string(q.City),
		string(q.Instrument), amountFilter(q.AmountMin), amountFilter(q.AmountMax), q.CompanyID)
	after, err := decodeCursor(q.Cursor, query)
	if err != nil {
		return applicationsapi.ListResult[applicationsapi.ApplicationView]{}, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	keep := func(id string) bool {
		a, ok := v.applications[id]
		return ok && v.canSeeApplication(actor, a) && matches(q, a)
	}
	var page []keyed
	var next string
	var ids []string
	switch {
	case actor.Role == fundbridge.RoleStartup:
		ids = v.appsByCompany[actor.OrgID]
	case actor.Role == fundbridge.RoleFundManager:
		ids = v.fundManagerApplications(actor)
	case q.CompanyID != "":
		ids = v.appsByCompany[q.CompanyID]
	case strings.TrimPrefix(sortBy, "-") == "created_at":
		// Every application, in the index's order: walk only as far as
		// the page goes.
		page, next = walkIndex(v.byCreated, sortBy, query, after, q.Limit, keep)
		return v.presentPage(actor, page, next), nil
	default:
		ids = make([]string, 0, len(v.applications))
		for id := range v.applications {
			ids = append(ids, id)
		}
	}
	var key func(Application) string
	switch strings.TrimPrefix(sortBy, "-") {
	case "submitted_at":
		key = func(a Application) string { return timeKey(a.SubmittedAt) }
	case "amount_requested":
		key = func(a Application) string { return amountKey(a.Terms.AmountRequested) }
	default:
		key = func(a Application) string { return timeKey(a.CreatedAt) }
	}
	var hits []keyed // each key made once, not at every comparison of the sort
	for _, id := range ids {
		if keep(id) {
			hits = append(hits, keyed{key(v.applications[id]), id})
		}
	}
	page, next = paginateKeyed(hits, sortBy, query, after, q.Limit)
	return v.presentPage(actor, page, next), nil
}

// presentPage shows a page of applications to actor; the caller holds the
// lock.
func (v *views) presentPage(actor fundbridge.Actor, page []keyed, next string) applicationsapi.ListResult[applicationsapi.ApplicationView] {
	own := v.ownFunds(actor)
	out := applicationsapi.ListResult[applicationsapi.ApplicationView]{Items: make([]applicationsapi.ApplicationView, len(page)), NextCursor: next}
	for i, k := range page {
		out.Items[i] = presentApplication(v.applications[k.id], own)
	}
	return out
}

func matches(q applicationsapi.ListApplications, a Application) bool {
	s := a.Slice
	switch {
	case q.Status != "" && a.Status != q.Status,
		q.Stage != "" && s.Stage != q.Stage,
		q.Layer != "" && s.Layer != q.Layer,
		q.Sector != "" && s.Sector != q.Sector,
		q.City != "" && s.City != q.City,
		q.CompanyID != "" && s.CompanyID != q.CompanyID,
		q.Instrument != "" && !slices.Contains(a.Terms.Instruments, q.Instrument),
		q.AmountMin != nil && a.Terms.AmountRequested.LessThan(*q.AmountMin),
		q.AmountMax != nil && a.Terms.AmountRequested.GreaterThan(*q.AmountMax):
		return false
	}
	return true
}

// Sort keys are strings that order as their values do, so one cursor
// shape serves every sort.

func timeKey(t time.Time) string { return t.UTC().Format("20060102150405.000000000") }

// amountKey pads the amount to the width of money.MaxAmount.
func amountKey(a money.Amount) string {
	s := a.String()
	const width = len("10000000000000.00")
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// paginateKeyed is paginate over items whose keys are made already.
func paginateKeyed(items []keyed, sortBy, query string, after *cursor.Cursor, limit int) ([]keyed, string) {
	return paginate(items, func(k keyed) string { return k.key }, func(k keyed) string { return k.id }, sortBy, query, after, limit)
}

// walkIndex is paginate over an index already in ascending (key, ID)
// order, keeping only the items keep accepts: it starts at the cursor and
// stops once it has a page and knows whether more follow, so a page costs
// what it shows (and what keep refuses on the way), not the whole index.
func walkIndex(index []keyed, sortBy, query string, after *cursor.Cursor, limit int, keep func(id string) bool) ([]keyed, string) {
	if limit == 0 {
		limit = applicationsapi.DefaultLimit
	}
	desc := strings.HasPrefix(sortBy, "-")
	// i is the first position after the cursor in the walk's direction.
	i, step := 0, 1
	if desc {
		i, step = len(index)-1, -1
	}
	if after != nil {
		at := keyed{after.Key, after.ID}
		j, found := slices.BinarySearchFunc(index, at, compareKeyed)
		switch {
		case !desc && found:
			i = j + 1
		case !desc:
			i = j
		default:
			i = j - 1 // j is the first at or after the cursor: the walk goes down from the one before
		}
	}
	var page []keyed
	for ; i >= 0 && i < len(index); i += step {
		if !keep(index[i].id) {
			continue
		}
		if len(page) == limit {
			last := page[len(page)-1]
			return page, cursor.Cursor{Query: query, Key: last.key, ID: last.id}.String()
		}
		page = append(page, index[i])
	}
	return page, ""
}

// decodeCursor reads a cursor given out for query (cursor.For of the
// list's sort and filters); nil for none.
func decodeCursor(s, query string) (*cursor.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	c, err := cursor.Parse(s, query)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// paginate orders items by (key, id), ascending or, for a sort starting
// with '-', descending; skips those up to the cursor; and returns one page
// and the cursor of the next, if there is more, bound to query.
func paginate[T any](items []T, key, id func(T) string, sortBy, query string, after *cursor.Cursor, limit int) ([]T, string) {
	if limit == 0 {
		limit = applicationsapi.DefaultLimit
	}
	desc := strings.HasPrefix(sortBy, "-")
	cmp := func(k1, id1, k2, id2 string) int {
		c := strings.Compare(k1, k2)
		if c == 0 {
			c = strings.Compare(id1, id2)
		}
		if desc {
			c = -c
		}
		return c
	}
	slices.SortFunc(items, func(a, b T) int { return cmp(key(a), id(a), key(b), id(b)) })
	start := 0
	if after != nil {
		start = len(items)
		for i, it := range items {
			if cmp(key(it), id(it), after.Key, after.ID) > 0 {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(items))
	page := items[start:end]
	if end == len(items) {
		return page, ""
	}
	last := page[len(page)-1]
	return page, cursor.Cursor{Query: query, Key: key(last), ID: id(last)}.String()
}

// amountFilter is an amount bound of a list query as its cursor is bound
// to it: "" for none.
func amountFilter(a *money.Amount) string {
	if a == nil {
		return ""
	}
	return a.String()
}
