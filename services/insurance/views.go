package insurance

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// view is the read model of every insurer, request, policy and
// programme, folded from the log with the aggregates' own evolve
// functions so that it cannot disagree with the deciders, and the name
// of every company (which the views show beside its ID: see names.go).
type view struct {
	registry     *events.Registry
	companyFolds fold.Handlers // the applications service's events that name companies (called with mu held)

	mu         sync.RWMutex
	tables     map[string]TableState
	requests   map[string]Request
	policies   map[string]Policy
	programmes map[string]Programme
	companies  map[string]string // company → its name
}

func newView(registry *events.Registry) *view {
	v := &view{registry: registry, tables: map[string]TableState{}, requests: map[string]Request{},
		policies: map[string]Policy{}, programmes: map[string]Programme{}, companies: map[string]string{}}
	v.foldCompanyNames()
	return v
}

// viewVersion names the folds and the checkpoint's encoding of their
// state: change it with either, and checkpoints are folded again.
const viewVersion = "insurance/2" // 2: the companies' names

// viewState is the view's state as a checkpoint holds it.
type viewState struct {
	Tables     map[string]TableState
	Requests   map[string]Request
	Policies   map[string]Policy
	Programmes map[string]Programme
	Companies  map[string]string
}

// Capture takes the state as it is between appends; the evolve functions
// copy on write, so copies of the maps are a stable picture to encode
// meanwhile.
func (v *view) Capture() func() ([]byte, error) {
	v.mu.RLock()
	st := viewState{Tables: maps.Clone(v.tables), Requests: maps.Clone(v.requests), Policies: maps.Clone(v.policies), Programmes: maps.Clone(v.programmes),
		Companies: maps.Clone(v.companies)}
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
	defer v.mu.Unlock()
	v.tables, v.requests = viewstate.Map(st.Tables), viewstate.Map(st.Requests)
	v.policies, v.programmes = viewstate.Map(st.Policies), viewstate.Map(st.Programmes)
	v.companies = viewstate.Map(st.Companies)
	return nil
}

// Reset empties the state.
func (v *view) Reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.tables, v.requests, v.policies, v.programmes = map[string]TableState{}, map[string]Request{}, map[string]Policy{}, map[string]Programme{}
	v.companies = map[string]string{}
}

// apply folds one event of the log; events of other aggregates are skipped.
func (v *view) apply(e events.Event) error {
	typ, id, err := events.SplitStreamID(e.StreamID)
	if err != nil {
		return nil
	}
	switch typ {
	case tableType, requestType, policyType, programmeType, applicationsapi.CompanyAggregate:
	default:
		return nil
	}
	e, payload, err := v.registry.Decode(e)
	if err != nil {
		return fmt.Errorf("insurance view: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch typ {
	case tableType:
		v.tables[id] = evolveTable(v.tables[id], e, payload)
	case requestType:
		v.requests[id] = evolveRequest(v.requests[id], e, payload)
	case policyType:
		v.policies[id] = evolvePolicy(v.policies[id], e, payload)
	case programmeType:
		v.programmes[id] = evolveProgramme(v.programmes[id], e, payload)
	case applicationsapi.CompanyAggregate:
		if v.companyFolds.Handles(e.Type) {
			return v.companyFolds.Apply(e, payload)
		}
	}
	return nil
}

func (v *view) insurer(id string) (TableState, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	t, ok := v.tables[id]
	return t, ok && t.Onboarded()
}

func (v *view) request(id string) (Request, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r, ok := v.requests[id]
	return r, ok && r.Exists()
}

func (v *view) policy(id string) (Policy, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	p, ok := v.policies[id]
	return p, ok && p.Exists()
}

func (v *view) programme(id string) (Programme, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	g, ok := v.programmes[id]
	return g, ok && g.Exists()
}

func pageSize(n int) int {
	if n == 0 {
		return api.MaxPage
	}
	return n
}

func (v *view) insurers(limit int) api.InsurerList {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := api.InsurerList{Items: []api.InsurerView{}}
	for _, t := range v.tables {
		if t.Onboarded() {
			out.Items = append(out.Items, insurerView(t))
		}
	}
	slices.SortFunc(out.Items, func(a, b api.InsurerView) int { return cmp.Compare(a.InsurerID, b.InsurerID) })
	out.Items = out.Items[:min(len(out.Items), pageSize(limit))]
	return out
}

// newestFirst pages items sorted newest first (ties by ID): the page
// after the cursor, and the cursor of the next page if there is one.
func newestFirst[T any](items []T, at func(T) (time.Time, string), query, after string, limit int) ([]T, string, error) {
	key := func(t time.Time) string { return t.UTC().Format("20060102T150405.000000000") }
	slices.SortFunc(items, func(x, y T) int {
		tx, ix := at(x)
		ty, iy := at(y)
		return cmp.Or(ty.Compare(tx), cmp.Compare(ix, iy))
	})
	if after != "" {
		c, err := cursor.Parse(after, query)
		if err != nil {
			return nil, "", err
		}
		i, _ := slices.BinarySearchFunc(items, c, func(x T, c cursor.Cursor) int {
			t, id := at(x)
			return cmp.Or(cmp.Compare(c.Key, key(t)), cmp.Compare(id, c.ID), -1)
		})
		items = items[i:]
	}
	if len(items) <= limit {
		return items, "", nil
	}
	t, id := at(items[limit-1])
	return items[:limit], cursor.Cursor{Query: query, Key: key(t), ID: id}.String(), nil
}

func (v *view) listRequests(a fundbridge.Actor, q api.ListRequests) (api.RequestList, error) {
	v.mu.RLock()
	var found []Request
	for _, r := range v.requests {
		if r.Exists() && r.visible(a) && (q.CompanyID == "" || r.CompanyID == q.CompanyID) && (q.Status == "" || r.Status == q.Status) {
			found = append(found, r)
		}
	}
	v.mu.RUnlock()
	page, next, err := newestFirst(found, func(r Request) (time.Time, string) { return r.RequestedAt, r.ID },
		"requests:"+q.CompanyID+":"+q.Status, q.Cursor, pageSize(q.Limit))
	if err != nil {
		return api.RequestList{}, err
	}
	out := api.RequestList{Items: []api.RequestView{}, NextCursor: next}
	for _, r := range page {
		out.Items = append(out.Items, requestView(r, a, v))
	}
	return out, nil
}

func (v *view) listPolicies(a fundbridge.Actor, q api.ListPolicies) (api.PolicyList, error) {
	v.mu.RLock()
	var found []Policy
	for _, p := range v.policies {
		if p.Exists() && p.visible(a) && (q.CompanyID == "" || p.CompanyID == q.CompanyID) &&
			(q.Coverage == "" || p.Coverage == q.Coverage) && (q.Status == "" || p.Status == q.Status) {
			found = append(found, p)
		}
	}
	v.mu.RUnlock()
	page, next, err := newestFirst(found, func(p Policy) (time.Time, string) { return p.BoundAt, p.ID },
		"policies:"+q.CompanyID+":"+string(q.Coverage)+":"+q.Status, q.Cursor, pageSize(q.Limit))
	if err != nil {
		return api.PolicyList{}, err
	}
	out := api.PolicyList{Items: []api.PolicyView{}, NextCursor: next}
	for _, p := range page {
		out.Items = append(out.Items, policyView(p, v))
	}
	return out, nil
}

// openProgrammes are the programmes a bound policy may draw from, in the
// order they are tried: open, with budget left, covering its coverage
// and city; oldest ID first, so that every instance tries them alike.
func (v *view) openProgrammes(p Policy) []Programme {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []Programme
	for _, g := range v.programmes {
		// A programme the policy already drew from comes back whatever
		// is left of it: the bind that drew crashed before recording it
		// on the policy, and must not draw twice.
		_, _, drew := g.draw(p.ID)
		if drew || g.Exists() && !g.Closed && g.Left().IsPositive() && slices.Contains(g.Coverages, p.Coverage) &&
			(len(g.Cities) == 0 || slices.Contains(g.Cities, p.City)) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b Programme) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (v *view) listProgrammes(a fundbridge.Actor, limit int) api.ProgrammeList {
	v.mu.RLock()
	out := api.ProgrammeList{Items: []api.ProgrammeView{}}
	for _, g := range v.programmes {
		if g.Exists() {
			out.Items = append(out.Items, programmeView(g, a))
		}
	}
	v.mu.RUnlock()
	slices.SortFunc(out.Items, func(x, y api.ProgrammeView) int { return cmp.Compare(x.ProgrammeID, y.ProgrammeID) })
	out.Items = out.Items[:min(len(out.Items), pageSize(limit))]
	return out
}

func insurerView(t TableState) api.InsurerView {
	v := api.InsurerView{InsurerID: t.InsurerID, Name: t.Name, PublishesTable: t.Exists(), Offers: []string{}, OnboardedAt: t.OnboardedAt, Version: t.Version}
	for _, c := range api.Coverages {
		if t.Exists() && t.Table.Offers(c) {
			v.Offers = append(v.Offers, string(c))
		}
	}
	return v
}

func tableView(t TableState) api.RatingTableView {
	return api.RatingTableView{InsurerID: t.InsurerID, Table: t.Table, QuoteBandPercent: api.QuoteBandPercent,
		QuoteValidDays: api.QuoteValidDays, PublishedAt: t.PublishedAt, Version: t.Version}
}

// quoteStatus is a quote's status as views show it: closed, not open,
// once its request is no longer open.
func quoteStatus(q Quote, r Request) string {
	if q.Status == QuoteOpen && r.Status != RequestOpen {
		return QuoteClosed
	}
	return q.Status
}

// requestView cuts a request to what a reads, named by n: an insurer
// sees its own quotes and declines, not its competitors'.
func requestView(r Request, a fundbridge.Actor, n namer) api.RequestView {
	v := api.RequestView{
		RequestID: r.ID, CompanyID: r.CompanyID, CompanyName: n.companyName(r.CompanyID), City: r.City, Stage: r.Stage, Coverage: r.Coverage,
		Patents: slices.Clone(r.Patents), SumInsured: r.SumInsured, StartsOn: day(r.StartsOn), Months: r.Months, EndsOn: day(r.EndsOn),
		Claims: r.Claims, LoanDealID: r.LoanDealID, Insurers: slices.Clone(r.Insurers), Quotes: []api.QuoteView{}, Declines: []api.DeclineView{},
		Status: r.Status, AcceptedQuote: r.Accepted, PolicyID: r.PolicyID, RequestedAt: r.RequestedAt, UpdatedAt: r.UpdatedAt, Version: r.Version,
	}
	own := func(insurer string) bool { return a.Role != fundbridge.RoleInsurer || a.OrgID == insurer }
	if a.Role == fundbridge.RoleInsurer {
		v.Insurers = []string{a.OrgID}
		if q, ok := r.quote(r.Accepted); ok && q.InsurerID != a.OrgID {
			// Another insurer's quote won: its policy is none of this one's business.
			v.AcceptedQuote, v.PolicyID = "", ""
		}
	}
	for _, q := range r.Quotes {
		if own(q.InsurerID) {
			v.Quotes = append(v.Quotes, api.QuoteView{QuoteID: q.QuoteID, InsurerID: q.InsurerID, Premium: q.Premium, TablePremium: q.TablePremium,
				AggregateLimit: q.AggregateLimit, ValidUntil: day(q.ValidUntil), Note: q.Note, Status: quoteStatus(q, r), QuotedAt: q.QuotedAt})
		}
	}
	for _, d := range r.Declines {
		if own(d.InsurerID) {
			v.Declines = append(v.Declines, api.DeclineView(d))
		}
	}
	return v
}

// policyView is the policy with its claims, named by n.
func policyView(p Policy, n namer) api.PolicyView {
	v := api.PolicyView{
		PolicyID: p.ID, PolicyNumber: p.Number, RequestID: p.RequestID, QuoteID: p.QuoteID, CompanyID: p.CompanyID,
		CompanyName: n.companyName(p.CompanyID), InsurerID: p.InsurerID,
		City: p.City, Coverage: p.Coverage, Patents: slices.Clone(p.Patents), SumInsured: p.SumInsured, AggregateLimit: p.AggregateLimit,
		RemainingLimit: p.RemainingLimit(), Premium: p.Premium, Subsidy: p.Subsidy, ProgrammeID: p.ProgrammeID, PremiumDue: p.PremiumDue(),
		PremiumPaid: p.PremiumPaid, StartsOn: day(p.StartsOn), EndsOn: day(p.EndsOn), LoanDealID: p.LoanDealID, Status: p.Status,
		Claims: []api.ClaimView{}, ClaimsPaid: p.ClaimsPaid, Cancellation: p.Cancellation, BoundAt: p.BoundAt, UpdatedAt: p.UpdatedAt, Version: p.Version,
	}
	for _, c := range p.Claims {
		cv := api.ClaimView{ClaimID: c.ClaimID, IncidentOn: day(c.IncidentOn), Claimed: c.Claimed, Description: c.Description,
			Assessed: c.Assessed, Paid: c.Paid, Status: c.Status, DenyReason: c.DenyReason, LoanDealID: c.LoanDealID, DefaultID: c.DefaultID, FiledAt: c.FiledAt}
		if c.DefaultID != "" {
			cv.ExpectedRecovery = c.Claimed
		}
		v.Claims = append(v.Claims, cv)
	}
	return v
}

// programmeView shows the draws, which name companies and policies, to
// the platform only.
func programmeView(g Programme, a fundbridge.Actor) api.ProgrammeView {
	v := api.ProgrammeView{ProgrammeID: g.ID, Name: g.Name, Sponsor: g.Sponsor, Share: g.Share, CapPerYear: g.CapPerYear, Budget: g.Budget,
		Drawn: g.Drawn, Left: g.Left(), Coverages: slices.Clone(g.Coverages), Cities: slices.Clone(g.Cities), Closed: g.Closed, Version: g.Version}
	if platform(a) {
		for _, d := range g.Draws {
			v.Draws = append(v.Draws, api.DrawView(d))
		}
	}
	return v
}

func day(t interface{ Format(string) string }) string { return t.Format(api.DateLayout) }
