package funds

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// newFundView renders a fund state; detail adds the commitments. It
// copies what it shares, so a view handed out never aliases a state.
func newFundView(f fund, detail bool) fundsapi.FundView {
	v := fundsapi.FundView{
		ID: f.ID, Name: f.Name, Type: f.Type, ManagerOrg: f.ManagerOrg,
		CommittedCapital: f.CommittedCapital, Invested: f.Invested, DryPowder: f.DryPowder(),
		Status: f.status(), CloseReason: f.CloseReason, CommitmentCount: len(f.Commitments),
		RegisteredAt: f.RegisteredAt, UpdatedAt: f.UpdatedAt, Version: f.Version,
	}
	if f.Mandate != nil {
		m := cloneMandate(*f.Mandate)
		v.Mandate = &m
	}
	if detail {
		v.Commitments = append([]fundsapi.Commitment{}, f.Commitments...)
	}
	return v
}

// view is the read model of every fund, folded from the log with the
// aggregate's own evolve so that it cannot disagree with the decider.
type view struct {
	registry *events.Registry
	folds    *fold.Evolve[fund]
	// companyFolds keep companies' names, for a fund's commitments
	// (called with mu held).
	companyFolds fold.Handlers

	mu        sync.RWMutex
	funds     map[string]fund
	companies map[string]string // company ID → name
}

func newView(registry *events.Registry) *view {
	v := &view{registry: registry, folds: fundFolds(), funds: map[string]fund{}, companies: map[string]string{}}
	applicationsapi.FoldCompanyNames(&v.companyFolds, func(id, name string) { v.companies[id] = name })
	return v
}

// viewState is what a checkpoint keeps.
type viewState struct {
	Funds     map[string]fund
	Companies map[string]string
}

// viewVersion names the fold (evolve) and the checkpoint's encoding of
// its state: change it with either, and checkpoints are folded again.
const viewVersion = "funds/3" // 2: a release of an unknown deal stamps the version; 3: companies' names

// Capture takes the state as it is between appends; evolve copies on
// write, so a copy of the map is a stable picture to encode meanwhile.
func (v *view) Capture() func() ([]byte, error) {
	v.mu.RLock()
	st := viewState{Funds: maps.Clone(v.funds), Companies: maps.Clone(v.companies)}
	v.mu.RUnlock()
	return func() ([]byte, error) { return viewstate.EncodeState(Name, st) }
}

// Restore replaces the state with a checkpoint's.
func (v *view) Restore(data []byte) error {
	var st viewState
	if err := viewstate.DecodeState(Name, data, &st); err != nil {
		return err
	}
	v.mu.Lock()
	v.funds, v.companies = viewstate.Map(st.Funds), viewstate.Map(st.Companies)
	v.mu.Unlock()
	return nil
}

// Reset empties the state.
func (v *view) Reset() {
	v.mu.Lock()
	v.funds, v.companies = map[string]fund{}, map[string]string{}
	v.mu.Unlock()
}

// apply folds one event of the log: the funds', and the companies' names;
// the rest is skipped.
func (v *view) apply(e events.Event) error {
	typ, id, err := events.SplitStreamID(e.StreamID)
	if err != nil || typ != aggregateType && !v.companyFolds.Handles(e.Type) {
		return nil
	}
	if typ != aggregateType {
		e, payload, err := v.registry.Decode(e)
		if err != nil {
			return fmt.Errorf("funds view: %w", err)
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		return v.companyFolds.Apply(e, payload)
	}
	e, payload, err := v.registry.Decode(e)
	if err != nil {
		return fmt.Errorf("funds view: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.funds[id] = v.folds.Apply(v.funds[id], e, payload)
	return nil
}

// get returns the fund if it exists and the actor may see it.
func (v *view) get(a fundbridge.Actor, id string) (fund, bool) {
	v.mu.RLock()
	f, ok := v.funds[id]
	v.mu.RUnlock()
	if !ok || !f.exists() || !visible(a, f) {
		return fund{}, false
	}
	return f, true
}

// named gives a fund's commitments their companies' names (a manager
// reads its portfolio by name; the IDs stay beside them).
func (v *view) named(fv fundsapi.FundView) fundsapi.FundView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for i := range fv.Commitments {
		fv.Commitments[i].CompanyName = v.companies[fv.Commitments[i].CompanyID]
	}
	return fv
}

// manager returns the managing org of a fund the view has seen.
func (v *view) manager(id string) (string, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	f, ok := v.funds[id]
	return f.ManagerOrg, ok && f.exists()
}

// list answers a validated query with the funds the actor may see.
func (v *view) list(a fundbridge.Actor, q fundsapi.ListFunds) (fundsapi.FundList, error) {
	order := q.Sort
	if order == "" {
		order = fundsapi.SortName
	}
	limit := q.Limit
	if limit == 0 {
		limit = fundsapi.DefaultListLimit
	}
	query := fingerprint(q, order)
	var after *sortKey
	if q.Cursor != "" {
		k, err := decodeCursor(q.Cursor, query, order)
		if err != nil {
			return fundsapi.FundList{}, err
		}
		after = &k
	}
	type entry struct {
		f fund
		k sortKey
	}
	var matched []entry
	v.mu.RLock()
	for _, f := range v.funds {
		if !f.exists() || !visible(a, f) || !matches(q, f) {
			continue
		}
		k := keyOf(order, f)
		if after == nil || compareKeys(order, k, *after) > 0 {
			matched = append(matched, entry{f, k})
		}
	}
	v.mu.RUnlock()
	slices.SortFunc(matched, func(x, y entry) int { return compareKeys(order, x.k, y.k) })
	out := fundsapi.FundList{Items: make([]fundsapi.FundView, 0, min(limit, len(matched)))}
	for i, e := range matched {
		if i == limit {
			out.NextCursor = encodeCursor(query, order, matched[i-1].k)
			break
		}
		out.Items = append(out.Items, newFundView(e.f, false))
	}
	return out, nil
}

// matches applies the filters. Stage, sector and city ask whether the
// mandate would take such a company: empty sectors or cities take any.
func matches(q fundsapi.ListFunds, f fund) bool {
	switch {
	case q.Type != "" && f.Type != q.Type,
		q.Status != "" && f.status() != q.Status,
		q.ManagerOrg != "" && f.ManagerOrg != q.ManagerOrg,
		!q.MinDryPowder.IsZero() && f.DryPowder().LessThan(q.MinDryPowder):
		return false
	}
	if q.Stage == "" && q.Sector == "" && q.City == "" {
		return true
	}
	m := f.Mandate
	if m == nil {
		return false
	}
	if q.Stage != "" && !slices.Contains(m.Stages, q.Stage) {
		return false
	}
	if q.Sector != "" && !takesSector(m, q.Sector) {
		return false
	}
	return q.City == "" || len(m.Cities) == 0 || slices.Contains(m.Cities, q.City)
}

// takesSector reports whether the mandate invests in the sector.
func takesSector(m *fundsapi.Mandate, s fundbridge.Sector) bool {
	switch {
	case slices.Contains(m.ExcludedSectors, s):
		return false
	case len(m.Sectors) > 0:
		return slices.Contains(m.Sectors, s)
	case len(m.Layers) > 0:
		return slices.Contains(m.Layers, s.Layer())
	}
	return true
}

// sortKey is where a fund falls in a list; the ID breaks ties so that
// the order is total and a cursor names one exact place in it.
type sortKey struct {
	name   string
	amount money.Amount
	id     string
}

func keyOf(order string, f fund) sortKey {
	k := sortKey{name: f.Name, id: f.ID}
	switch strings.TrimPrefix(order, "-") {
	case fundsapi.SortDryPowder:
		k.amount = f.DryPowder()
	case fundsapi.SortCommittedCapital:
		k.amount = f.CommittedCapital
	}
	return k
}

func compareKeys(order string, a, b sortKey) int {
	var c int
	switch strings.TrimPrefix(order, "-") {
	case fundsapi.SortDryPowder, fundsapi.SortCommittedCapital:
		c = a.amount.Cmp(b.amount)
	default:
		c = cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
		if c == 0 {
			c = cmp.Compare(a.name, b.name)
		}
	}
	if strings.HasPrefix(order, "-") {
		c = -c
	}
	if c == 0 {
		c = cmp.Compare(a.id, b.id)
	}
	return c
}

func fingerprint(q fundsapi.ListFunds, order string) string {
	floor := ""
	if !q.MinDryPowder.IsZero() {
		floor = q.MinDryPowder.String()
	}
	return cursor.For(order, string(q.Type), q.Status, q.ManagerOrg, string(q.Stage), string(q.Sector), string(q.City), floor)
}

func encodeCursor(query, order string, k sortKey) string {
	c := cursor.Cursor{Query: query, ID: k.id, Key: k.name}
	if strings.TrimPrefix(order, "-") != fundsapi.SortName {
		c.Key = k.amount.String()
	}
	return c.String()
}

func decodeCursor(s, query, order string) (sortKey, error) {
	c, err := cursor.Parse(s, query)
	if err != nil {
		return sortKey{}, err
	}
	k := sortKey{name: c.Key, id: c.ID}
	if strings.TrimPrefix(order, "-") != fundsapi.SortName {
		a, err := money.Parse("cursor", c.Key)
		if err != nil {
			return sortKey{}, fundbridge.Invalid("invalid cursor", fundbridge.FieldError{Field: "cursor", Reason: "not a cursor this service issued"})
		}
		k.amount = a
	}
	return k, nil
}
