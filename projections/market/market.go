// Package market is the operators' overview of the whole market: how many
// applications came in and for how much, how much was funded, how many
// funds registered with how much committed capital, how much they have
// invested and how much dry powder is left; in total and by city, layer,
// sector, instrument, month and fund type.
package market

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

// Name is the projection's name.
const Name = "market"

const schema = "market.v3" // v3: insurance in layer and sector cells

// Dimensions of the overview, in the order rows are listed.
const (
	DimTotal      = "total"
	DimStage      = "stage"
	DimCity       = "city"
	DimLayer      = "layer"
	DimSector     = "sector"
	DimInstrument = "instrument"
	DimMonth      = "month"
	DimFundType   = "fund_type"
)

func dimensions() []string {
	return []string{DimTotal, DimStage, DimCity, DimLayer, DimSector, DimInstrument, DimMonth, DimFundType, DimCoverage}
}

// Totals are the figures of one cell. Applications count submissions;
// Funded counts applications at their first funding (for an instrument:
// their first funding by it).
type Totals struct {
	Applications int
	Requested    projections.Fen
	Funded       int
	AmountFunded projections.Fen
	Funds        int
	Committed    projections.Fen // committed capital of the funds registered
	Invested     projections.Fen // capital the funds committed to deals
	Others
}

// Cell is one (dimension, key) of the overview.
type Cell struct {
	Dim string
	Key string
	Totals
}

// Fund is what the overview keeps of a fund, for dry powder.
type Fund struct {
	ID        string
	Type      string
	Committed projections.Fen
	Invested  projections.Fen
	Closed    bool
}

// Funded is an application funded so far and by which instruments
// (bits in fundbridge.Instruments order).
type Funded struct {
	ID          string
	Instruments uint8
}

// State is the snapshot's content: slices only, in the order first seen,
// so the same log encodes to the same bytes.
type State struct {
	Cells    []Cell
	Funds    []Fund
	Funded   []Funded
	Apps     []AppSlice // never changed
	Deals    []Deal     // never changed
	Policies []Policy   // never changed
	// Companies are the layer and sector of each company's latest
	// submitted application, where its insurance counts.
	Companies []CompanySlice
}

// Projection is the market overview. Safe for concurrent queries.
type Projection struct {
	mu        sync.RWMutex
	folds     projections.Folds
	st        State
	cells     map[[2]string]int32
	funds     map[string]int32
	funded    map[string]int32
	months    map[projections.Month]string // labels, made once each
	apps      map[string]int32
	deals     map[string]int32
	policies  map[string]int32
	companies map[string]int32
}

// New returns an empty overview.
func New() *Projection {
	p := &Projection{}
	p.Reset()
	projections.On(&p.folds, p.onApplicationSubmitted)
	projections.On(&p.folds, p.onApplicationFunded)
	projections.On(&p.folds, p.onFundRegistered)
	projections.On(&p.folds, p.onCapitalCommitted)
	projections.On(&p.folds, p.onCapitalReleased)
	projections.On(&p.folds, p.onFundClosed)
	p.otherFolds()
	return p
}

func (p *Projection) Name() string   { return Name }
func (p *Projection) Schema() string { return schema }

// Handles reports whether the overview folds events of this type.
func (p *Projection) Handles(eventType string) bool { return p.folds.Handles(eventType) }

func (p *Projection) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = State{}
	p.cells = map[[2]string]int32{}
	p.funds = map[string]int32{}
	p.funded = map[string]int32{}
	p.months = map[projections.Month]string{}
	p.apps, p.deals, p.policies, p.companies = map[string]int32{}, map[string]int32{}, map[string]int32{}, map[string]int32{}
}

// cellsOf returns the cells of the (dim, key) pairs, adding any that are
// new; all are added before any pointer is taken, as adding may move them.
func (p *Projection) cellsOf(pairs ...[2]string) []*Totals {
	idx := make([]int32, len(pairs))
	for n, pair := range pairs {
		i, ok := p.cells[pair]
		if !ok {
			i = int32(len(p.st.Cells))
			p.st.Cells = append(p.st.Cells, Cell{Dim: pair[0], Key: pair[1]})
			p.cells[pair] = i
		}
		idx[n] = i
	}
	out := make([]*Totals, len(idx))
	for n, i := range idx {
		out[n] = &p.st.Cells[i].Totals
	}
	return out
}

// month is the label of the event's China month.
func (p *Projection) month(e events.Event) string {
	m := projections.MonthOf(e.RecordedAt)
	label, ok := p.months[m]
	if !ok {
		label = m.Label()
		p.months[m] = label
	}
	return label
}

// slicePairs are the cells an application event counts in.
func (p *Projection) slicePairs(e events.Event, s applicationsapi.Slice) [][2]string {
	return [][2]string{
		{DimTotal, ""}, {DimStage, string(s.Stage)}, {DimCity, string(s.City)}, {DimLayer, string(s.Layer)},
		{DimSector, string(s.Sector)}, {DimMonth, p.month(e)},
	}
}

// Apply folds one event. Errors are broken invariants: bad amounts, an
// unknown instrument, a commitment or closing of a fund never registered.
func (p *Projection) Apply(e events.Event, payload any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.folds.Apply(e, payload)
}

func (p *Projection) onApplicationSubmitted(e events.Event, v applicationsapi.ApplicationSubmitted) error {
	amount, err := projections.ToFen("amount requested", v.AmountRequested)
	if err != nil {
		return err
	}
	p.noteApp(v.Slice, v.ApplicationID)
	pairs := p.slicePairs(e, v.Slice)
	for _, inst := range v.Instruments {
		if !inst.Valid() {
			return fmt.Errorf("application %s asks for unknown instrument %q", v.ApplicationID, inst)
		}
		pairs = append(pairs, [2]string{DimInstrument, string(inst)})
	}
	for _, c := range p.cellsOf(pairs...) {
		c.Applications++
		if c.Requested, err = c.Requested.Add(amount); err != nil {
			return err
		}
	}
	return nil
}

func (p *Projection) onApplicationFunded(e events.Event, v applicationsapi.ApplicationFunded) error {
	amount, err := projections.ToFen("amount funded", v.Amount)
	if err != nil {
		return err
	}
	bit := slices.Index(fundbridge.Instruments, v.Instrument)
	if bit < 0 {
		return fmt.Errorf("application %s funded by unknown instrument %q", v.ApplicationID, v.Instrument)
	}
	i, seen := p.funded[v.ApplicationID]
	if !seen {
		i = int32(len(p.st.Funded))
		p.st.Funded = append(p.st.Funded, Funded{ID: v.ApplicationID})
		p.funded[v.ApplicationID] = i
	}
	f := &p.st.Funded[i]
	cells := p.cellsOf(append(p.slicePairs(e, v.Slice), [2]string{DimInstrument, string(v.Instrument)})...)
	for _, c := range cells[:len(cells)-1] {
		if !seen {
			c.Funded++
		}
		if c.AmountFunded, err = c.AmountFunded.Add(amount); err != nil {
			return err
		}
	}
	c := cells[len(cells)-1]
	if f.Instruments&(1<<bit) == 0 {
		f.Instruments |= 1 << bit
		c.Funded++
	}
	if c.AmountFunded, err = c.AmountFunded.Add(amount); err != nil {
		return err
	}
	return nil
}

func (p *Projection) onFundRegistered(e events.Event, v fundsapi.FundRegistered) error {
	if v.FundID == "" {
		return fmt.Errorf("fund registered without an ID")
	}
	if _, dup := p.funds[v.FundID]; dup {
		return fmt.Errorf("fund %s registered twice", v.FundID)
	}
	capital, err := projections.ToFen("committed capital", v.CommittedCapital)
	if err != nil {
		return err
	}
	p.funds[v.FundID] = int32(len(p.st.Funds))
	p.st.Funds = append(p.st.Funds, Fund{ID: v.FundID, Type: string(v.Type), Committed: capital})
	for _, c := range p.cellsOf([2]string{DimTotal, ""}, [2]string{DimMonth, p.month(e)}, [2]string{DimFundType, string(v.Type)}) {
		c.Funds++
		if c.Committed, err = c.Committed.Add(capital); err != nil {
			return err
		}
	}
	return nil
}

func (p *Projection) onCapitalCommitted(e events.Event, v fundsapi.CapitalCommitted) error {
	amount, err := projections.ToFen("capital committed", v.Amount)
	if err != nil {
		return err
	}
	return p.invest(e, v.FundID, amount)
}

// onCapitalReleased undoes a commitment whose closing could not complete:
// invested falls in the month of the release.
func (p *Projection) onCapitalReleased(e events.Event, v fundsapi.CapitalReleased) error {
	amount, err := projections.ToFen("capital released", v.Amount)
	if err != nil {
		return err
	}
	return p.invest(e, v.FundID, -amount)
}

// invest adds amount (negative for a release) to what the fund invested,
// in its cells for the event's month.
func (p *Projection) invest(e events.Event, fundID string, amount projections.Fen) error {
	i, ok := p.funds[fundID]
	if !ok {
		return fmt.Errorf("capital moved by fund %q, which was never registered", fundID)
	}
	f := &p.st.Funds[i]
	var err error
	if f.Invested, err = f.Invested.Add(amount); err != nil {
		return err
	}
	for _, c := range p.cellsOf([2]string{DimTotal, ""}, [2]string{DimMonth, p.month(e)}, [2]string{DimFundType, f.Type}) {
		if c.Invested, err = c.Invested.Add(amount); err != nil {
			return err
		}
	}
	return nil
}

func (p *Projection) onFundClosed(e events.Event, v fundsapi.FundClosed) error {
	i, ok := p.funds[v.FundID]
	if !ok {
		return fmt.Errorf("fund %q closed, but it was never registered", v.FundID)
	}
	p.st.Funds[i].Closed = true
	return nil
}

// MarshalState encodes the state with gob (see lifecycle for why).
func (p *Projection) MarshalState() ([]byte, error) { return p.Freeze()() }

// Freeze copies the state: Apply changes all of it in place.
func (p *Projection) Freeze() func() ([]byte, error) {
	p.mu.RLock()
	st := State{Cells: slices.Clone(p.st.Cells), Funds: slices.Clone(p.st.Funds), Funded: slices.Clone(p.st.Funded),
		Apps: p.st.Apps, Deals: p.st.Deals, Policies: p.st.Policies, Companies: slices.Clone(p.st.Companies)} // a company's slice changes in place
	p.mu.RUnlock()
	return func() ([]byte, error) {
		return projections.EncodeState(Name, &st)
	}
}

func (p *Projection) UnmarshalState(data []byte) error {
	var st State
	if err := projections.DecodeState(Name, data, &st); err != nil {
		return err
	}
	cells := make(map[[2]string]int32, len(st.Cells))
	for i, c := range st.Cells {
		cells[[2]string{c.Dim, c.Key}] = int32(i)
	}
	fs := make(map[string]int32, len(st.Funds))
	for i, f := range st.Funds {
		fs[f.ID] = int32(i)
	}
	funded := make(map[string]int32, len(st.Funded))
	for i, f := range st.Funded {
		funded[f.ID] = int32(i)
	}
	index := func(n int, id func(int) string) map[string]int32 {
		m := make(map[string]int32, n)
		for i := range n {
			m[id(i)] = int32(i)
		}
		return m
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st, p.cells, p.funds, p.funded, p.months = st, cells, fs, funded, map[projections.Month]string{}
	p.apps = index(len(st.Apps), func(i int) string { return st.Apps[i].ID })
	p.deals = index(len(st.Deals), func(i int) string { return st.Deals[i].ID })
	p.policies = index(len(st.Policies), func(i int) string { return st.Policies[i].ID })
	p.companies = index(len(st.Companies), func(i int) string { return st.Companies[i].ID })
	return nil
}

// Row is one line of the overview. DryPowder (committed capital not yet
// invested, of the funds still open) is shown in total and by fund type,
// where it means something.
type Row struct {
	Dimension        string        `json:"dimension" jsonschema_description:"total, stage (the company's lifecycle stage at the event), city, layer, sector, instrument, month (China time, 2026-11), fund_type or coverage."`
	Key              string        `json:"key" jsonschema_description:"The value of the dimension; empty for total."`
	Applications     int           `json:"applications" jsonschema_description:"Applications submitted (an application asking for several instruments counts under each)."`
	AmountRequested  money.Amount  `json:"amount_requested" jsonschema_description:"What they asked for."`
	Funded           int           `json:"funded" jsonschema_description:"Applications at their first funding (for an instrument: their first funding by it)."`
	AmountFunded     money.Amount  `json:"amount_funded" jsonschema_description:"Every funding."`
	FundsRegistered  int           `json:"funds_registered" jsonschema_description:"Funds registered (fund_type, month and total cells)."`
	CommittedCapital money.Amount  `json:"committed_capital" jsonschema_description:"The committed capital of those funds."`
	CapitalInvested  money.Amount  `json:"capital_invested" jsonschema_description:"Capital the funds committed to deals, less what closings that failed released."`
	DryPowder        *money.Amount `json:"dry_powder,omitempty" jsonschema_description:"Committed capital not yet invested of the funds still open; in the total and fund_type cells only."`
	LoanDeals        int           `json:"loan_deals" jsonschema_description:"Loan-plus-equity deals proposed for submitted applications, in the cells of the application each finances and the month proposed."`
	LoanDealsClosed  int           `json:"loan_deals_closed" jsonschema_description:"Loan-plus-equity deals closed, in the month they closed."`
	LoanDealsRatio   string        `json:"conversion_loan_deals_closed_proposed" jsonschema_description:"loan_deals_closed / loan_deals of this cell, 4 places; \"0\" when none was proposed (a month's deals may close in a later month)."`
	LoansRaised      money.Amount  `json:"loans_raised" jsonschema_description:"The bank loans of the loan-plus-equity deals closed."`
	LoanDealEquity   money.Amount  `json:"loan_deal_equity_raised" jsonschema_description:"The equity tranches of the loan-plus-equity deals closed."`
	InsuranceAsked   int           `json:"insurance_requests" jsonschema_description:"Patent insurance requests, at the stage and city the company had; layer and sector: its latest submitted application's (none when it never submitted one, so a layer or sector cell leaves those out)."`
	PoliciesBound    int           `json:"policies_bound" jsonschema_description:"Patent insurance policies bound, in the month bound."`
	PremiumWritten   money.Amount  `json:"premium_written" jsonschema_description:"The premium of the policies bound, before subsidies."`
	SumInsuredBound  money.Amount  `json:"sum_insured_bound" jsonschema_description:"The sums insured of the policies bound."`
	ClaimsPaid       money.Amount  `json:"claims_paid" jsonschema_description:"Claim settlements paid, in the month paid, under the policy's city and coverage."`
}

// Overview lists every cell: the total first, then each dimension in
// turn, its keys in order (months in time order).
func (p *Projection) Overview() []Row {
	p.mu.RLock()
	defer p.mu.RUnlock()
	dryTotal := decimal.Zero
	dryByType := map[string]decimal.Decimal{}
	for _, f := range p.st.Funds {
		if f.Closed {
			continue
		}
		left := decimal.New(int64(f.Committed)-int64(f.Invested), -2)
		dryTotal = dryTotal.Add(left)
		dryByType[f.Type] = dryByType[f.Type].Add(left)
	}
	rank := map[string]int{}
	for i, d := range dimensions() {
		rank[d] = i
	}
	cells := slices.Clone(p.st.Cells)
	slices.SortFunc(cells, func(a, b Cell) int {
		return cmp.Or(cmp.Compare(rank[a.Dim], rank[b.Dim]), cmp.Compare(a.Key, b.Key))
	})
	if len(cells) == 0 {
		cells = []Cell{{Dim: DimTotal}}
	}
	rows := make([]Row, len(cells))
	for i, c := range cells {
		rows[i] = Row{
			Dimension: c.Dim, Key: c.Key,
			Applications: c.Applications, AmountRequested: c.Requested.Amount(),
			Funded: c.Funded, AmountFunded: c.AmountFunded.Amount(),
			FundsRegistered: c.Funds, CommittedCapital: c.Committed.Amount(), CapitalInvested: c.Invested.Amount(),
			LoanDeals: c.LoanDeals, LoanDealsClosed: c.LoanDealsClosed, LoanDealsRatio: projections.Ratio(c.LoanDealsClosed, c.LoanDeals),
			LoansRaised: c.LoansRaised.Amount(), LoanDealEquity: c.LoanDealEquity.Amount(),
			InsuranceAsked: c.InsuranceAsked, PoliciesBound: c.PoliciesBound, PremiumWritten: c.PremiumWritten.Amount(),
			SumInsuredBound: c.SumInsuredBound.Amount(), ClaimsPaid: c.ClaimsPaid.Amount(),
		}
		switch c.Dim {
		case DimTotal:
			d := money.FromDecimal(dryTotal)
			rows[i].DryPowder = &d
		case DimFundType:
			d := money.FromDecimal(dryByType[c.Key])
			rows[i].DryPowder = &d
		}
	}
	return rows
}
