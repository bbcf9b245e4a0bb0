package matching

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// The match engine: open funds and open applications in memory, indexed
// so that each change evaluates only the pairs it can affect, and each
// fund's board of matching applications with their scores. It does no
// I/O and is not safe for concurrent use; the service guards it.
//
// Index: a bucket per (stage, sector, amount band). An application sits in
// the one bucket of its stage, sector and amount; a fund sits in every
// bucket its mandate could take (its stages × accepted sectors × the bands
// its ticket range spans). A bucket is a superset: evaluate decides.

const (
	amountBands     = 48 // log2 bands of the yuan amount; the last takes all above 2^46
	centralityBands = 5  // how central an amount sits in a ticket range
	noBucket        = -1
)

// FundInfo is what the engine knows of a fund.
type FundInfo struct {
	ID               string            `json:"fund_id"`
	ManagerOrg       string            `json:"manager_org"`
	Name             string            `json:"name"`
	Type             fundsapi.FundType `json:"type"`
	CommittedCapital money.Amount      `json:"committed_capital"`
	DryPowder        money.Amount      `json:"dry_powder"`
	Open             bool              `json:"open"`
	Mandate          *fundsapi.Mandate `json:"mandate,omitempty"` // nil until set; read-only
}

// Match is one entry of a board.
type Match struct {
	FundID        string
	ApplicationID string
	Score         int
}

// Evaluation is the engine's verdict on one (fund, application) pair,
// explained for a fund manager.
type Evaluation struct {
	FundID        string   `json:"fund_id"`
	ApplicationID string   `json:"application_id"`
	Matches       bool     `json:"matches"`
	Score         int      `json:"score"`
	For           []string `json:"reasons_for"`
	Against       []string `json:"reasons_against"`
	// The same reasons as codes and values, index by index.
	ForCodes     []matchingapi.Reason `json:"reason_codes_for,omitempty"`
	AgainstCodes []matchingapi.Reason `json:"reason_codes_against,omitempty"`
}

// pro adds a reason for: the English sentence and, beside it, its code
// and the values it names (reasons.go).
func (ev *Evaluation) pro(code, format string, args ...any) {
	ev.For = append(ev.For, fmt.Sprintf(format, args...))
	ev.ForCodes = append(ev.ForCodes, reasonOf(code, args))
}

func (ev *Evaluation) con(code, format string, args ...any) {
	ev.Against = append(ev.Against, fmt.Sprintf(format, args...))
	ev.AgainstCodes = append(ev.AgainstCodes, reasonOf(code, args))
}

type fund struct {
	info  FundInfo
	dry   int64 // dry powder in fen
	m     *mandate
	board board
	// buckets the fund sits in, to leave them on a mandate change or close.
	buckets []int32
}

type mandate struct {
	src               fundsapi.Mandate
	stages            uint8
	layers            uint8
	sectors           uint32
	excluded          uint32
	cities            uint32
	restrictCities    bool
	excludedCompanies map[string]struct{}
	min, max          int64 // fen
	// lo[k]..hi[k] is the middle (k+1)/centralityBands of the ticket range.
	lo, hi        [centralityBands]int64
	maxOwn        decimal.Decimal // 10 places
	maxOwnE10     int64           // maxOwn × 10^10, to compare as integers
	capsOwnership bool
}

type app struct {
	h         uint32
	src       applicationsapi.ApplicationSubmitted // as submitted, with the company as it is now
	info      matchingapi.Application
	stageBit  uint8
	layerBit  uint8
	sectorBit uint32 // 0 for a sector the engine does not know
	cityBit   uint32
	amount    int64 // fen
	// the amount times 2, 5 and 10, to grade dry-powder headroom by comparison
	x2, x5, x10 int64
	own         decimal.Decimal // amount / (valuation ask + amount), 10 places
	ownE10      int64           // own × 10^10 (own is at most 1)
	hasOwn      bool
	equity      bool
	loan, pair  bool // wants a loan; wants it with equity (loan_plus_equity)
	consent     bool // to share credit data with banks
	bucket      int32
}

// Engine is the in-memory match index and boards.
type Engine struct {
	stageOf   map[fundbridge.Stage]int
	layerOf   map[fundbridge.Layer]int
	sectorOf  map[fundbridge.Sector]int
	cityOf    map[fundbridge.City]int
	sectors   []fundbridge.Sector
	sectorLay []uint8 // layer bit of each sector
	slots     int     // sectors plus one for a sector the engine does not know

	funds map[string]*fund
	byOrg map[string][]string
	apps  map[string]*app
	// byCompany holds each company's open applications, which follow it
	// when it changes stage, layer, sector or city.
	byCompany map[string]map[string]struct{}
	handles   []*app
	free      []uint32

	fundBuckets []map[*fund]struct{}
	appBuckets  []map[*app]struct{}

	// Lending programmes (lending.go), in publication order, and the open
	// applications that want a loan.
	progs     map[string]*programme
	progList  []*programme
	loanApps  map[uint32]*app
	bankNames map[string]string

	// Evaluations counts the pairs changes evaluated (not explanations,
	// which readers ask for concurrently), to check the index narrows work.
	Evaluations uint64
}

// NewEngine returns an empty engine.
func NewEngine() *Engine {
	e := &Engine{
		stageOf: map[fundbridge.Stage]int{}, layerOf: map[fundbridge.Layer]int{},
		sectorOf: map[fundbridge.Sector]int{}, cityOf: map[fundbridge.City]int{},
		funds: map[string]*fund{}, byOrg: map[string][]string{}, apps: map[string]*app{},
		byCompany: map[string]map[string]struct{}{},
		progs:     map[string]*programme{}, loanApps: map[uint32]*app{}, bankNames: map[string]string{},
	}
	for i, s := range fundbridge.Stages {
		e.stageOf[s] = i
	}
	for i, l := range fundbridge.Layers {
		e.layerOf[l] = i
	}
	e.sectors = fundbridge.AllSectors()
	for i, s := range e.sectors {
		e.sectorOf[s] = i
		e.sectorLay = append(e.sectorLay, 1<<e.layerOf[s.Layer()])
	}
	for i, c := range fundbridge.Cities {
		e.cityOf[c] = i
	}
	e.slots = len(e.sectors) + 1
	n := len(fundbridge.Stages) * e.slots * amountBands
	e.fundBuckets = make([]map[*fund]struct{}, n)
	e.appBuckets = make([]map[*app]struct{}, n)
	return e
}

func (e *Engine) bucket(stage, slot, band int) int32 {
	return int32((stage*e.slots+slot)*amountBands + band)
}

// band is the log2 band of an amount's whole yuan. It only picks buckets;
// every decision compares decimals.
func (e *Engine) band(fen int64) int {
	yuan := fen / 100
	if yuan <= 0 {
		return 0
	}
	if yuan >= 1<<46 {
		return amountBands - 1
	}
	return bits.Len64(uint64(yuan))
}

// fen is an amount in fen. Amounts have at most two places and are at
// most ¥10 trillion (money.Parse), so every one fits an int64 exactly and
// the hot path compares integers rather than decimals.
func fen(a money.Amount) int64 { return a.Decimal().Shift(2).IntPart() }

// yuanOf shows fen as an amount.
func yuanOf(fen int64) money.Amount { return money.FromDecimal(decimal.New(fen, -2)) }

// RegisterFund adds a fund, open, its dry powder its committed capital.
func (e *Engine) RegisterFund(id, managerOrg, name string, typ fundsapi.FundType, committed money.Amount) {
	f := e.funds[id]
	if f == nil {
		f = &fund{}
		e.funds[id] = f
		e.byOrg[managerOrg] = append(e.byOrg[managerOrg], id)
		f.info.Open = true
		f.info.DryPowder, f.dry = committed, fen(committed)
	}
	f.info.ID, f.info.ManagerOrg, f.info.Name, f.info.Type, f.info.CommittedCapital = id, managerOrg, name, typ, committed
}

// fundOrNew returns the fund, creating an anonymous one for a fund
// event seen before its registration (never in a well-formed log).
func (e *Engine) fundOrNew(id string) *fund {
	if f := e.funds[id]; f != nil {
		return f
	}
	e.RegisterFund(id, "", "", "", money.Zero)
	return e.funds[id]
}

// SetMandate replaces a fund's mandate and rematches it against the open
// applications its new mandate could take. It returns the applications
// whose matches changed: those that newly match the fund and those that
// no longer do.
func (e *Engine) SetMandate(fundID string, m fundsapi.Mandate) (changed []string) {
	f := e.fundOrNew(fundID)
	src := m
	f.info.Mandate = &src
	f.m = e.compileMandate(m)
	return e.rematch(f)
}

// SetDryPowder records a fund's dry powder after a commitment. Less dry
// powder can only drop or rescore current matches; more may add some. It
// returns the applications whose matches changed.
func (e *Engine) SetDryPowder(fundID string, dry money.Amount) (changed []string) {
	f := e.fundOrNew(fundID)
	before := f.dry
	f.info.DryPowder, f.dry = dry, fen(dry)
	if f.dry > before {
		return e.rematch(f)
	}
	f.board.filter(func(h uint32) (uint8, bool) {
		e.Evaluations++
		score, ok := e.evaluate(f, e.handles[h], nil)
		if !ok {
			changed = append(changed, e.handles[h].info.ID)
		}
		return uint8(score), ok
	})
	return changed
}

// CloseFund takes a fund off every board; it stays known for its deals.
// It returns the applications that matched it.
func (e *Engine) CloseFund(fundID string) (changed []string) {
	f := e.fundOrNew(fundID)
	f.info.Open = false
	e.unindexFund(f)
	for _, h := range f.board.apps {
		changed = append(changed, e.handles[h].info.ID)
	}
	f.board = board{}
	return changed
}

// rematch rebuilds a fund's board from the applications in its buckets
// and returns the applications that gained or lost the fund.
func (e *Engine) rematch(f *fund) (changed []string) {
	e.unindexFund(f)
	old := f.board
	f.board = board{}
	if f.info.Open && f.m != nil {
		e.indexFund(f)
	}
	var entries []uint64
	for _, b := range f.buckets {
		for a := range e.appBuckets[b] {
			e.Evaluations++
			score, ok := e.evaluate(f, a, nil)
			if !ok {
				continue
			}
			entries = append(entries, uint64(a.h)<<8|uint64(score))
			if _, had := old.get(a.h); !had {
				changed = append(changed, a.info.ID)
			}
		}
	}
	f.board = newBoard(entries)
	for _, h := range old.apps {
		if _, kept := f.board.get(h); !kept {
			changed = append(changed, e.handles[h].info.ID)
		}
	}
	return changed
}

func (e *Engine) indexFund(f *fund) {
	m := f.m
	if m.min > m.max {
		return
	}
	lo, hi := e.band(m.min), e.band(m.max)
	for stage := range fundbridge.Stages {
		if m.stages&(1<<stage) == 0 {
			continue
		}
		for slot := 0; slot < e.slots; slot++ {
			if slot < len(e.sectors) && !m.accepts(slot, e.sectorLay[slot]) {
				continue
			}
			for band := lo; band <= hi; band++ {
				b := e.bucket(stage, slot, band)
				if e.fundBuckets[b] == nil {
					e.fundBuckets[b] = map[*fund]struct{}{}
				}
				e.fundBuckets[b][f] = struct{}{}
				f.buckets = append(f.buckets, b)
			}
		}
	}
}

func (e *Engine) unindexFund(f *fund) {
	for _, b := range f.buckets {
		delete(e.fundBuckets[b], f)
	}
	f.buckets = f.buckets[:0]
}

// accepts reports whether the mandate could take a sector: any sector,
// the sector listed, or its layer listed; and not excluded.
func (m *mandate) accepts(slot int, layerBit uint8) bool {
	bit := uint32(1) << slot
	if m.excluded&bit != 0 {
		return false
	}
	return (m.sectors == 0 && m.layers == 0) || m.sectors&bit != 0 || m.layers&layerBit != 0
}

func (e *Engine) compileMandate(src fundsapi.Mandate) *mandate {
	// Fresh copies, allocated together, so one evaluation's comparisons
	// touch few cache lines.
	m := &mandate{src: src, min: fen(src.TicketMin), max: fen(src.TicketMax), restrictCities: len(src.Cities) > 0}
	for _, s := range src.Stages {
		if i, ok := e.stageOf[s]; ok {
			m.stages |= 1 << i
		}
	}
	for _, l := range src.Layers {
		if i, ok := e.layerOf[l]; ok {
			m.layers |= 1 << i
		}
	}
	for _, s := range src.Sectors {
		if i, ok := e.sectorOf[s]; ok {
			m.sectors |= 1 << i
		}
	}
	for _, s := range src.ExcludedSectors {
		if i, ok := e.sectorOf[s]; ok {
			m.excluded |= 1 << i
		}
	}
	for _, c := range src.Cities {
		if i, ok := e.cityOf[c]; ok {
			m.cities |= 1 << i
		}
	}
	if len(src.ExcludedCompanies) > 0 {
		m.excludedCompanies = make(map[string]struct{}, len(src.ExcludedCompanies))
		for _, c := range src.ExcludedCompanies {
			m.excludedCompanies[c] = struct{}{}
		}
	}
	m.lo, m.hi = centrality(m.min, m.max)
	m.maxOwn = src.MaxOwnership.Round(10)
	m.maxOwnE10 = m.maxOwn.Shift(10).IntPart()
	m.capsOwnership = m.maxOwn.IsPositive()
	return m
}

// OpenApplication indexes a submitted application and puts it on the
// board of every fund and programme it matches. It returns how many funds
// it matches.
func (e *Engine) OpenApplication(s applicationsapi.ApplicationSubmitted) int {
	if _, open := e.apps[s.ApplicationID]; open {
		e.CloseApplication(s.ApplicationID)
	}
	a := e.compileApp(s)
	e.apps[a.info.ID] = a
	if e.byCompany[s.CompanyID] == nil {
		e.byCompany[s.CompanyID] = map[string]struct{}{}
	}
	e.byCompany[s.CompanyID][a.info.ID] = struct{}{}
	e.matchProgrammes(a)
	if a.bucket == noBucket {
		return 0
	}
	if e.appBuckets[a.bucket] == nil {
		e.appBuckets[a.bucket] = map[*app]struct{}{}
	}
	e.appBuckets[a.bucket][a] = struct{}{}
	n := 0
	for f := range e.fundBuckets[a.bucket] {
		e.Evaluations++
		if score, ok := e.evaluate(f, a, nil); ok {
			f.board.set(a.h, uint8(score))
			n++
		}
	}
	return n
}

// CloseApplication takes an application off every board.
func (e *Engine) CloseApplication(id string) {
	a := e.apps[id]
	if a == nil {
		return
	}
	e.unmatchProgrammes(a)
	if a.bucket != noBucket {
		delete(e.appBuckets[a.bucket], a)
		for f := range e.fundBuckets[a.bucket] {
			f.board.del(a.h)
		}
	}
	delete(e.apps, id)
	if open := e.byCompany[a.src.CompanyID]; open != nil {
		delete(open, id)
		if len(open) == 0 {
			delete(e.byCompany, a.src.CompanyID)
		}
	}
	e.handles[a.h] = nil
	e.free = append(e.free, a.h)
}

// MoveCompany rematches a company's open applications after it changed
// stage, layer, sector or city: move gives the company as it is now from
// the slice it was. Each application leaves the boards of funds it no
// longer matches and joins those it now matches. It returns the
// applications it moved.
func (e *Engine) MoveCompany(companyID string, move func(applicationsapi.Slice) applicationsapi.Slice) (moved []string) {
	for id := range e.byCompany[companyID] {
		moved = append(moved, id)
	}
	slices.Sort(moved)
	for _, id := range moved {
		s := e.apps[id].src
		s.Slice = move(s.Slice)
		s.CompanyID = companyID
		e.OpenApplication(s)
	}
	return moved
}

func (e *Engine) compileApp(s applicationsapi.ApplicationSubmitted) *app {
	a := &app{
		src: s,
		info: matchingapi.Application{
			ID: s.ApplicationID, CompanyName: s.CompanyName, Amount: s.AmountRequested,
			Instruments: slices.Clone(s.Instruments), Slice: s.Slice,
		},
		amount: fen(s.AmountRequested), bucket: noBucket,
	}
	if s.ValuationAsk != nil {
		v := *s.ValuationAsk
		a.info.Valuation = &v
		if post := v.Add(s.AmountRequested); post.IsPositive() {
			a.own, a.hasOwn = s.AmountRequested.Ratio(post).Round(10), true
			a.ownE10 = a.own.Shift(10).IntPart()
		}
	}
	a.x2, a.x5, a.x10 = 2*a.amount, 5*a.amount, 10*a.amount
	// Equity and loan_plus_equity want a fund; venture_loan and
	// loan_plus_equity want a bank's programme.
	a.loan, a.pair = wantsLoan(s.Instruments)
	a.equity = a.pair || slices.Contains(s.Instruments, fundbridge.InstrumentEquity)
	a.consent = s.CreditDataConsent
	if i, ok := e.layerOf[s.Layer]; ok {
		a.layerBit = 1 << i
	}
	if i, ok := e.cityOf[s.City]; ok {
		a.cityBit = 1 << i
	}
	slot := len(e.sectors) // a sector unknown or not of the stated layer
	if i, ok := e.sectorOf[s.Sector]; ok && e.sectorLay[i] == a.layerBit {
		slot = i
		a.sectorBit = 1 << i
	}
	stage, knownStage := e.stageOf[s.Stage]
	if knownStage {
		a.stageBit = 1 << stage
	}
	if knownStage && a.equity {
		a.bucket = e.bucket(stage, slot, e.band(a.amount))
	}
	if n := len(e.free); n > 0 {
		a.h = e.free[n-1]
		e.free = e.free[:n-1]
		e.handles[a.h] = a
	} else {
		a.h = uint32(len(e.handles))
		e.handles = append(e.handles, a)
	}
	return a
}

// Fund returns what the engine knows of a fund, open or closed.
func (e *Engine) Fund(id string) (FundInfo, bool) {
	f := e.funds[id]
	if f == nil {
		return FundInfo{}, false
	}
	return f.info, true
}

// FundsOf lists the funds a management org registered.
func (e *Engine) FundsOf(org string) []string { return e.byOrg[org] }

// Application returns an open application.
func (e *Engine) Application(id string) (matchingapi.Application, bool) {
	a := e.apps[id]
	if a == nil {
		return matchingapi.Application{}, false
	}
	return a.info, true
}

// Score reports whether an application is on a fund's board, and its score.
func (e *Engine) Score(fundID, applicationID string) (int, bool) {
	f, a := e.funds[fundID], e.apps[applicationID]
	if f == nil || a == nil {
		return 0, false
	}
	s, ok := f.board.get(a.h)
	return int(s), ok
}

// FundBoard ranks the applications matching a fund: score descending,
// then application ID.
func (e *Engine) FundBoard(fundID string) []Match {
	f := e.funds[fundID]
	if f == nil {
		return nil
	}
	out := make([]Match, len(f.board.apps))
	for i, h := range f.board.apps {
		out[i] = Match{FundID: fundID, ApplicationID: e.handles[h].info.ID, Score: int(f.board.scores[i])}
	}
	slices.SortFunc(out, func(x, y Match) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), strings.Compare(x.ApplicationID, y.ApplicationID))
	})
	return out
}

// ApplicationBoard ranks the funds an open application matches: score
// descending, then fund ID.
func (e *Engine) ApplicationBoard(applicationID string) []Match {
	a := e.apps[applicationID]
	if a == nil || a.bucket == noBucket {
		return nil
	}
	var out []Match
	for f := range e.fundBuckets[a.bucket] {
		if s, ok := f.board.get(a.h); ok {
			out = append(out, Match{FundID: f.info.ID, ApplicationID: applicationID, Score: int(s)})
		}
	}
	slices.SortFunc(out, func(x, y Match) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), strings.Compare(x.FundID, y.FundID))
	})
	return out
}
