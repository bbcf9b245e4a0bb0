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
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
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
