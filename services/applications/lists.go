package applications

import (
	"slices"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
)

// The list queries of the views: company.list and application.list,
// filtered to what the actor may see, sorted and paginated by cursor.

// listForbidden refuses a list to the roles that do not list what.
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
