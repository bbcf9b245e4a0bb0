package matching

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// viewsVersion names the views' fold and their checkpoint's encoding
// (viewstate): change it with either, and checkpoints of the old version
// are folded again from 0.
const viewsVersion = "matching/2" // 2: the companies' names

// viewsState is the views' state as a checkpoint holds it. JSON, as every
// type it holds already has its wire form.
type viewsState struct {
	Engine       engineState                 `json:"engine"`
	Apps         map[string]appCheckpoint    `json:"apps"`
	Deals        map[string]matchingapi.Deal `json:"deals"`
	DealsByFund  map[string][]string         `json:"deals_by_fund"`
	DealsByApp   map[string][]string         `json:"deals_by_app"`
	DealsByOwner map[string][]string         `json:"deals_by_owner"`
	Companies    map[string]string           `json:"companies"` // company → its name
}

// appCheckpoint is an appState with its fields exported.
type appCheckpoint struct {
	CompanyID   string   `json:"company_id"`
	Status      string   `json:"status"`
	Matched     []string `json:"matched,omitempty"`
	MatchEvents int      `json:"match_events,omitempty"`
	Reviewing   []string `json:"reviewing,omitempty"`
}

// engineState is the engine's inputs as they stand: its funds, open
// applications (the company as it is now), banks and programmes. The
// boards and buckets derive from them and are rebuilt on restore.
type engineState struct {
	Funds map[string]FundInfo `json:"funds"`
	ByOrg map[string][]string `json:"by_org"`
	// Apps in handle order, so restored handles keep their order.
	Apps       []applicationsapi.ApplicationSubmitted `json:"apps"`
	Banks      map[string]string                      `json:"banks"`
	Programmes []ProgrammeInfo                        `json:"programmes"` // in publication order
}

// Capture encodes the views as they are now. It runs between appends on
// the folding goroutine, so it encodes at once, under the read lock,
// rather than copying the engine's pointer graph to encode later.
func (v *views) Capture() func() ([]byte, error) {
	v.mu.RLock()
	st := viewsState{Engine: v.engine.state(), Apps: make(map[string]appCheckpoint, len(v.apps)), Deals: v.deals,
		DealsByFund: v.dealsByFund, DealsByApp: v.dealsByApp, DealsByOwner: v.dealsByOwner, Companies: v.companies}
	for id, a := range v.apps {
		st.Apps[id] = appCheckpoint{CompanyID: a.companyID, Status: a.status, Matched: sortedKeys(a.matched),
			MatchEvents: a.matchEvents, Reviewing: sortedKeys(a.reviewing)}
	}
	data, err := json.Marshal(st)
	v.mu.RUnlock()
	if err != nil {
		err = fmt.Errorf("matching: encode the views: %w", err)
	}
	return func() ([]byte, error) { return data, err }
}

// Restore replaces the views with a checkpoint's.
func (v *views) Restore(data []byte) error {
	var st viewsState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("matching: decode the views: %w", err)
	}
	engine := NewEngine()
	engine.restore(st.Engine)
	apps := make(map[string]*appState, len(st.Apps))
	for id, a := range st.Apps {
		s := &appState{companyID: a.CompanyID, status: a.Status, matchEvents: a.MatchEvents}
		if len(a.Matched) > 0 {
			addTo(&s.matched, a.Matched...)
		}
		if len(a.Reviewing) > 0 {
			addTo(&s.reviewing, a.Reviewing...)
		}
		apps[id] = s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.engine, v.apps = engine, apps
	v.deals, v.dealsByFund = orEmpty(st.Deals), orEmpty(st.DealsByFund)
	v.dealsByApp, v.dealsByOwner = orEmpty(st.DealsByApp), orEmpty(st.DealsByOwner)
	v.companies = orEmpty(st.Companies)
	return nil
}

// Reset empties the views, as before the first event.
func (v *views) Reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.engine, v.apps = NewEngine(), map[string]*appState{}
	v.deals = map[string]matchingapi.Deal{}
	v.dealsByFund, v.dealsByApp, v.dealsByOwner = map[string][]string{}, map[string][]string{}, map[string][]string{}
	v.companies = map[string]string{}
}

func sortedKeys(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

// orEmpty is m, or an empty map for a checkpoint that held none, so the
// restored views take writes as folded ones do.
func orEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

// state returns the engine's inputs as they stand.
func (e *Engine) state() engineState {
	st := engineState{Funds: make(map[string]FundInfo, len(e.funds)), ByOrg: e.byOrg, Banks: e.bankNames}
	for id, f := range e.funds {
		st.Funds[id] = f.info
	}
	for _, a := range e.handles {
		if a != nil {
			st.Apps = append(st.Apps, a.src)
		}
	}
	for _, p := range e.progList {
		st.Programmes = append(st.Programmes, p.info)
	}
	return st
}

// restore rebuilds an empty engine from st. The applications open first,
// while no fund is indexed, so each pair is evaluated once: when its
// fund is indexed and rematched, or its programme published.
func (e *Engine) restore(st engineState) {
	for id, info := range st.Funds {
		f := &fund{info: info, dry: fen(info.DryPowder)}
		if info.Mandate != nil {
			m := *info.Mandate
			f.info.Mandate, f.m = &m, e.compileMandate(m)
		}
		e.funds[id] = f
	}
	e.byOrg, e.bankNames = orEmpty(st.ByOrg), orEmpty(st.Banks)
	for _, s := range st.Apps {
		e.OpenApplication(s)
	}
	for _, id := range slices.Sorted(maps.Keys(e.funds)) {
		if f := e.funds[id]; f.info.Open && f.m != nil {
			e.rematch(f)
		}
	}
	for _, p := range st.Programmes {
		e.PublishProgramme(p.BankID, p.Programme)
	}
}
