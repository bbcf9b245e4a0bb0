package deals

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
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// view is the read model of every bank, deal and loan, folded from the
// log with the aggregates' own evolve functions so that it cannot
// disagree with the deciders, the managing org of every fund (who sees a
// deal's equity side), and the name of every company (which the views
// show beside a borrower's ID: see names.go).
type view struct {
	registry *events.Registry
	// The folds: the aggregates' own, and of the funds and applications
	// services' events those that matter here (called with mu held).
	bankFolds    *fold.Evolve[Bank]
	dealFolds    *fold.Evolve[Deal]
	loanFolds    *fold.Evolve[Loan]
	fundFolds    fold.Handlers
	companyFolds fold.Handlers

	mu        sync.RWMutex
	banks     map[string]Bank
	deals     map[string]Deal
	loans     map[string]Loan
	funds     map[string]string // fund → managing org
	companies map[string]string // company → its name
}

func newView(registry *events.Registry) *view {
	v := &view{registry: registry, bankFolds: BankFolds(), dealFolds: DealFolds(), loanFolds: LoanFolds(),
		banks: map[string]Bank{}, deals: map[string]Deal{}, loans: map[string]Loan{}, funds: map[string]string{}, companies: map[string]string{}}
	fold.On(&v.fundFolds, func(_ events.Event, f fundsapi.FundRegistered) error {
		v.funds[f.FundID] = f.ManagerOrg
		return nil
	})
	v.foldCompanyNames()
	return v
}

// viewVersion names the folds and the checkpoint's encoding of their
// state: change it with either, and checkpoints are folded again.
const viewVersion = "deals/2" // 2: the companies' names

// viewState is the view's state as a checkpoint holds it.
type viewState struct {
	Banks     map[string]Bank
	Deals     map[string]Deal
	Loans     map[string]Loan
	Funds     map[string]string
	Companies map[string]string
}

// Capture takes the state as it is between appends; the evolve functions
// copy on write, so copies of the maps are a stable picture to encode
// meanwhile.
func (v *view) Capture() func() ([]byte, error) {
	v.mu.RLock()
	st := viewState{Banks: maps.Clone(v.banks), Deals: maps.Clone(v.deals), Loans: maps.Clone(v.loans), Funds: maps.Clone(v.funds), Companies: maps.Clone(v.companies)}
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
	v.banks, v.deals, v.loans, v.funds = viewstate.Map(st.Banks), viewstate.Map(st.Deals), viewstate.Map(st.Loans), viewstate.Map(st.Funds)
	v.companies = viewstate.Map(st.Companies)
	return nil
}

// Reset empties the state.
func (v *view) Reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.banks, v.deals, v.loans, v.funds = map[string]Bank{}, map[string]Deal{}, map[string]Loan{}, map[string]string{}
	v.companies = map[string]string{}
}

// apply folds one event of the log; events of other aggregates are skipped.
func (v *view) apply(e events.Event) error {
	typ, id, err := events.SplitStreamID(e.StreamID)
	if err != nil {
		return nil
	}
	switch typ {
	case BankAggregate, DealAggregate, LoanAggregate, "fund", applicationsapi.CompanyAggregate:
	default:
		return nil
	}
	e, payload, err := v.registry.Decode(e)
	if err != nil {
		return fmt.Errorf("deals view: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch typ {
	case BankAggregate:
		v.banks[id] = v.bankFolds.Apply(v.banks[id], e, payload)
	case DealAggregate:
		v.deals[id] = v.dealFolds.Apply(v.deals[id], e, payload)
	case LoanAggregate:
		v.loans[id] = v.loanFolds.Apply(v.loans[id], e, payload)
	case "fund":
		if v.fundFolds.Handles(e.Type) {
			return v.fundFolds.Apply(e, payload)
		}
	case applicationsapi.CompanyAggregate:
		if v.companyFolds.Handles(e.Type) {
			return v.companyFolds.Apply(e, payload)
		}
	}
	return nil
}

func (v *view) bank(id string) (Bank, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	b, ok := v.banks[id]
	return b, ok && b.exists()
}

func (v *view) deal(id string) (Deal, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	d, ok := v.deals[id]
	return d, ok && d.exists()
}

func (v *view) loan(id string) (Loan, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l, ok := v.loans[id]
	return l, ok && l.exists()
}

func (v *view) fundManager(fundID string) (string, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	org, ok := v.funds[fundID]
	return org, ok
}

func (v *view) fundManagerOf(fundID string) string {
	org, _ := v.fundManager(fundID)
	return org
}

// loansOf lists the loans a bank lends in.
func (v *view) loansOf(bankID string) []Loan {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []Loan
	for _, l := range v.loans {
		if slices.ContainsFunc(l.Banks, func(b LoanBank) bool { return b.BankID == bankID }) {
			out = append(out, l)
		}
	}
	return out
}

// listKey orders lists newest first; the ID makes the order total.
type listKey struct {
	at time.Time
	id string
}

func compareKeys(a, b listKey) int {
	if c := b.at.Compare(a.at); c != 0 {
		return c
	}
	return cmp.Compare(b.id, a.id)
}

// page cuts the sorted items after the cursor to the limit.
func page[T any](items []T, key func(T) listKey, fingerprint string, c string, limit int) ([]T, string, error) {
	if limit == 0 {
		limit = dealsapi.DefaultListLimit
	}
	slices.SortFunc(items, func(a, b T) int { return compareKeys(key(a), key(b)) })
	if c != "" {
		cur, err := cursor.Parse(c, fingerprint)
		if err != nil {
			return nil, "", err
		}
		at, err := time.Parse(time.RFC3339Nano, cur.Key)
		if err != nil {
			return nil, "", fundbridge.Invalid("invalid cursor", fundbridge.FieldError{Field: "cursor", Reason: "not a cursor this service issued"})
		}
		after := listKey{at: at, id: cur.ID}
		i, _ := slices.BinarySearchFunc(items, after, func(x T, k listKey) int { return compareKeys(key(x), k) })
		for i < len(items) && compareKeys(key(items[i]), after) <= 0 {
			i++
		}
		items = items[i:]
	}
	if len(items) <= limit {
		return items, "", nil
	}
	last := key(items[limit-1])
	return items[:limit], cursor.Cursor{Query: fingerprint, ID: last.id, Key: last.at.Format(time.RFC3339Nano)}.String(), nil
}

func fingerprint(parts ...string) string { return cursor.For(parts...) }

func (v *view) listDeals(a fundbridge.Actor, q dealsapi.ListDeals) (dealsapi.DealList, error) {
	var seen []Deal
	v.mu.RLock()
	for _, d := range v.deals {
		if q.Status != "" && d.Status != q.Status || q.BorrowerID != "" && d.BorrowerID != q.BorrowerID {
			continue
		}
		if x, ok := DealFor(a, d, v.funds[d.Equity.FundID]); ok {
			seen = append(seen, x)
		}
	}
	v.mu.RUnlock()
	items, next, err := page(seen, func(d Deal) listKey { return listKey{d.ProposedAt, d.DealID} }, fingerprint("deals", string(q.Status), q.BorrowerID), q.Cursor, q.Limit)
	if err != nil {
		return dealsapi.DealList{}, err
	}
	out := dealsapi.DealList{Items: make([]dealsapi.DealView, len(items)), NextCursor: next}
	for i, d := range items {
		out.Items[i] = dealView(d, v)
	}
	return out, nil
}

// listLoans lists the loans the reader may read, each as GET
// /loans/{id} shows it: the syndicate's as LoanFor cuts it, and those of
// the equity fund's manager or the warrant's holder as outsiderView does.
func (v *view) listLoans(a fundbridge.Actor, q dealsapi.ListLoans, now time.Time) (dealsapi.LoanList, error) {
	type seenLoan struct {
		Loan
		how outsideKind // notOutside: as LoanFor cut it
	}
	var seen []seenLoan
	v.mu.RLock()
	for _, l := range v.loans {
		if q.Status != "" && l.Status != q.Status || q.BorrowerID != "" && l.BorrowerID != q.BorrowerID {
			continue
		}
		if x, ok := LoanFor(a, l); ok {
			seen = append(seen, seenLoan{Loan: x})
		} else if how := outsideReader(a, l, v.funds[l.EquityFundID]); how != notOutside {
			seen = append(seen, seenLoan{Loan: l, how: how})
		}
	}
	v.mu.RUnlock()
	items, next, err := page(seen, func(l seenLoan) listKey { return listKey{l.OpenedAt, l.ID} }, fingerprint("loans", string(q.Status), q.BorrowerID), q.Cursor, q.Limit)
	if err != nil {
		return dealsapi.LoanList{}, err
	}
	out := dealsapi.LoanList{Items: make([]dealsapi.LoanView, len(items)), NextCursor: next}
	for i, l := range items {
		if l.how != notOutside {
			out.Items[i] = outsiderView(l.Loan, l.how, now, v)
			continue
		}
		out.Items[i] = loanView(l.Loan, now, v)
	}
	return out, nil
}

// dealView renders a deal already cut for its reader, named by n.
func dealView(d Deal, n namer) dealsapi.DealView {
	// The state keeps EquityIn once the tranche came in; an expiry's
	// release is read from the status.
	released := d.EquityIn && d.Status == dealsapi.StatusExpired
	v := dealsapi.DealView{
		DealProposed: d.DealProposed, Status: d.Status, Banks: make([]dealsapi.DealBankView, len(d.Banks)), Committed: d.Committed,
		BookClosed: d.BookClosed, Oversubscribed: d.Oversubscribed,
		EquityIn: d.EquityIn && !released, EquityReleased: released,
		ProposedAt: d.ProposedAt, UpdatedAt: d.UpdatedAt, Version: d.Version,
		BorrowerName: n.companyName(d.BorrowerID), LeadBankName: n.bankName(d.LeadBankID),
	}
	for i, b := range d.Banks {
		v.Banks[i] = dealsapi.DealBankView{BankID: b.BankID, BankName: n.bankName(b.BankID), Status: b.Status,
			Committed: b.Committed, Allocated: b.Allocated, Share: b.Share, Reason: b.Reason}
	}
	return v
}

// loanView renders a loan already cut for its reader, named by n, with
// its arrears on the day of now.
func loanView(l Loan, now time.Time, n namer) dealsapi.LoanView {
	v := dealsapi.LoanView{
		LoanID: l.ID, BorrowerID: l.BorrowerID, LeadBankID: l.LeadBankID, EquityFundID: l.EquityFundID,
		BorrowerName: n.companyName(l.BorrowerID), LeadBankName: n.bankName(l.LeadBankID),
		Terms: l.Terms, RiskSharing: l.RiskSharing, Warrant: l.Warrant, Banks: make([]dealsapi.LoanBankView, len(l.Banks)),
		Status: l.Status, Drawn: l.Drawn, Undrawn: l.Undrawn(), PrincipalRepaid: l.PrincipalRepaid, Outstanding: l.Outstanding(),
		FeesOwed: l.FeesOwed, Schedule: make([]dealsapi.InstallmentView, len(l.Schedule)),
		Default: l.Default, Exercised: l.Exercised, OpenedAt: l.OpenedAt, UpdatedAt: l.UpdatedAt, Version: l.Version,
	}
	for i, b := range l.Banks {
		v.Banks[i] = dealsapi.LoanBankView{BankID: b.BankID, BankName: n.bankName(b.BankID), Commitment: b.Commitment, Share: b.Share, Drawn: b.Drawn,
			PrincipalRepaid: b.PrincipalRepaid, Outstanding: b.Outstanding(), InterestPaid: b.InterestPaid, FeesPaid: b.FeesPaid, Loss: b.Loss}
	}
	for i := range l.Schedule {
		in := l.Installment(i)
		v.Schedule[i] = dealsapi.InstallmentView{ScheduledPeriod: in.ScheduledPeriod, PaidInterest: in.PaidInterest, PaidPrincipal: in.PaidPrincipal, Overdue: in.Overdue}
	}
	if !l.Start.IsZero() {
		start := l.Start
		v.Start = &start
	}
	if l.Status == dealsapi.StatusRepaying {
		v.Arrears, v.DaysPastDue = l.Arrears(now)
	}
	return v
}
