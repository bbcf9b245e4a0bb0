package matching

import (
	"cmp"
	"container/heap"
	"slices"
	"strings"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// Lending programmes in the match engine: applications that want a loan
// (venture_loan or loan_plus_equity) are matched with the banks'
// published programmes as funds are with mandates, and a loan-plus-equity
// application is offered pairs of a fund and a programme that both fit.
//
// Programmes are few beside applications (a bank publishes a handful), so
// an application is evaluated against every open programme with bit
// filters first; a programme published or withdrawn is evaluated against
// every open application that wants a loan.

// ProgrammeInfo is what the engine knows of a bank's programme.
type ProgrammeInfo struct {
	BankID   string `json:"bank_id"`
	BankName string `json:"bank_name"`
	dealsapi.Programme
}

// ProgrammeMatch is one entry of a programme's board.
type ProgrammeMatch struct {
	BankID        string
	ProgrammeID   string
	ApplicationID string
	Score         int
}

// Pair is a fund and a bank's programme that both fit a loan-plus-equity
// application, ranked by their mean score.
type Pair struct {
	FundID         string
	BankID         string
	ProgrammeID    string
	FundScore      int
	ProgrammeScore int
	Score          int
}

type programme struct {
	info           ProgrammeInfo
	stages, layers uint8
	sectors        uint32
	cities         uint32
	restrictCities bool
	min, max       int64 // fen
	lo, hi         [centralityBands]int64
	board          board
}

func programmeKey(bankID, programmeID string) string { return bankID + "\x00" + programmeID }

// NameBank records a bank's name, shown beside its programmes.
func (e *Engine) NameBank(bankID, name string) {
	e.bankNames[bankID] = name
	for _, p := range e.progs {
		if p.info.BankID == bankID {
			p.info.BankName = name
		}
	}
}

// PublishProgramme adds or replaces a bank's programme and rematches it
// against every open application that wants a loan. It returns the
// applications whose programme matches changed.
func (e *Engine) PublishProgramme(bankID string, src dealsapi.Programme) (changed []string) {
	key := programmeKey(bankID, src.ProgrammeID)
	p := e.progs[key]
	if p == nil {
		p = &programme{}
		e.progs[key] = p
		e.progList = append(e.progList, p)
	}
	old := p.board
	*p = e.compileProgramme(bankID, src)
	var entries []uint64
	for _, a := range e.loanApps {
		e.Evaluations++
		if score, ok := e.evaluateProgramme(p, a, nil); ok {
			entries = append(entries, uint64(a.h)<<8|uint64(score))
		}
	}
	p.board = newBoard(entries)
	return e.boardChanges(old, p.board)
}

// WithdrawProgramme takes a programme off every board. It returns the
// applications that matched it.
func (e *Engine) WithdrawProgramme(bankID, programmeID string) (changed []string) {
	key := programmeKey(bankID, programmeID)
	p := e.progs[key]
	if p == nil {
		return nil
	}
	delete(e.progs, key)
	e.progList = slices.DeleteFunc(e.progList, func(q *programme) bool { return q == p })
	return e.boardChanges(p.board, board{})
}

// boardChanges lists the applications on one board and not the other.
func (e *Engine) boardChanges(before, after board) (changed []string) {
	for _, h := range after.apps {
		if _, had := before.get(h); !had {
			changed = append(changed, e.handles[h].info.ID)
		}
	}
	for _, h := range before.apps {
		if _, kept := after.get(h); !kept {
			changed = append(changed, e.handles[h].info.ID)
		}
	}
	return changed
}

func (e *Engine) compileProgramme(bankID string, src dealsapi.Programme) programme {
	p := programme{
		info: ProgrammeInfo{BankID: bankID, BankName: e.bankNames[bankID], Programme: src},
		min:  fen(src.LoanMin), max: fen(src.LoanMax), restrictCities: len(src.Cities) > 0,
	}
	p.stages = bitsOf[uint8](e.stageOf, src.Stages)
	p.layers = bitsOf[uint8](e.layerOf, src.Layers)
	p.sectors = bitsOf[uint32](e.sectorOf, src.Sectors)
	p.cities = bitsOf[uint32](e.cityOf, src.Cities)
	p.lo, p.hi = centrality(p.min, p.max)
	return p
}

// bitsOf sets the bit of each known value.
func bitsOf[B uint8 | uint32, T comparable](index map[T]int, values []T) B {
	var b B
	for _, v := range values {
		if i, ok := index[v]; ok {
			b |= 1 << i
		}
	}
	return b
}

// centrality splits [min, max] into nested middles: lo[k]..hi[k] is the
// middle (k+1)/centralityBands of the range.
// Bounds are in fen, each rounded half-up.
func centrality(min, max int64) (lo, hi [centralityBands]int64) {
	span := max - min
	const d = 2 * centralityBands
	for k := range centralityBands {
		n := span * int64(centralityBands-1-k) // the offset is n/d
		lo[k], hi[k] = halfUp(min*d+n, d), halfUp(max*d-n, d)
	}
	return lo, hi
}

// halfUp is x/d rounded half-up, for x ≥ 0 and d > 0.
func halfUp(x, d int64) int64 { return (2*x + d) / (2 * d) }

// matchProgrammes puts a newly opened application on the board of every
// programme it fits.
func (e *Engine) matchProgrammes(a *app) int {
	if !a.loan {
		return 0
	}
	e.loanApps[a.h] = a
	n := 0
	for _, p := range e.progList {
		e.Evaluations++
		if score, ok := e.evaluateProgramme(p, a, nil); ok {
			p.board.set(a.h, uint8(score))
			n++
		}
	}
	return n
}

// unmatchProgrammes takes a closing application off the programmes' boards.
func (e *Engine) unmatchProgrammes(a *app) {
	if !a.loan {
		return
	}
	delete(e.loanApps, a.h)
	for _, p := range e.progList {
		p.board.del(a.h)
	}
}

// evaluateProgramme applies a programme's hard filters and scores the
// pair, as evaluate does for funds. The score adds up to 100: stage 15;
// sector listed 25, its layer listed 15, any sector 10; loan centrality in
// the range 20 down to 4 at the edges; city listed 10, any city 7; credit
// data consent given 10, not asked for and not given 5; a loan plus equity
// with a programme that wants an equity partner 20, any other fit 15.
func (e *Engine) evaluateProgramme(p *programme, a *app, why *Evaluation) (int, bool) {
	if why == nil {
		return scoreProgramme(p, a)
	}
	ok, score := true, 0
	fail := func(code, format string, args ...any) {
		ok = false
		if why != nil {
			why.con(code, format, args...)
		}
	}
	pro := func(points int, code, format string, args ...any) {
		score += points
		if why != nil {
			why.pro(code, format, args...)
		}
	}
	if !a.loan {
		fail("wants_no_loan", "wants %s; the programme lends", listOf(a.info.Instruments))
	} else {
		pro(0, "wants_instruments", "wants %s", listOf(a.info.Instruments))
	}
	switch {
	case p.stages == 0:
		pro(15, "programme_any_stage", "programme lends at any stage")
	case a.stageBit&p.stages != 0:
		pro(15, "stage_in_programme", "stage %s is in programme", a.info.Stage)
	default:
		fail("stage_not_in_programme", "stage %s is not in programme (%s)", a.info.Stage, listOf(p.info.Stages))
	}
	switch {
	case p.sectors == 0 && p.layers == 0:
		pro(10, "programme_any_sector", "programme is open to any sector")
	case a.sectorBit&p.sectors != 0:
		pro(25, "sector_in_programme", "sector %s is a programme sector", a.info.Sector)
	case a.layerBit&p.layers != 0:
		pro(15, "layer_in_programme", "layer %s is in programme (sector %s not listed by name)", a.info.Layer, a.info.Sector)
	default:
		fail("sector_outside_programme", "sector %s is outside programme (sectors %s; layers %s)", a.info.Sector, listOf(p.info.Sectors), listOf(p.info.Layers))
	}
	switch {
	case a.amount < p.min:
		fail("loan_below_minimum", "loan %s below programme minimum %s", human(a.info.Amount), human(p.info.LoanMin))
	case a.amount > p.max:
		fail("loan_above_maximum", "loan %s above programme maximum %s", human(a.info.Amount), human(p.info.LoanMax))
	default:
		k := 0
		for k < centralityBands-1 && (a.amount < p.lo[k] || a.amount > p.hi[k]) {
			k++
		}
		pro(20-4*k, "loan_within_range", "loan %s is within programme range %s", human(a.info.Amount), amountRange{p.info.LoanMin, p.info.LoanMax})
	}
	switch {
	case !p.restrictCities:
		pro(7, "programme_any_city", "programme lends in any city")
	case a.cityBit&p.cities != 0:
		pro(10, "city_in_programme", "city %s is a programme city", a.info.City)
	default:
		fail("city_outside_programme", "city %s is outside programme cities (%s)", a.info.City, listOf(p.info.Cities))
	}
	switch {
	case a.consent:
		pro(10, "credit_consent_given", "consents to share credit data with banks")
	case p.info.NeedsCreditConsent:
		fail("credit_consent_missing", "programme needs consent to share credit data; the application gives none")
	default:
		pro(5, "credit_consent_not_needed", "no consent to share credit data; the programme does not need it")
	}
	switch {
	case p.info.RequiresEquityPartner && a.pair:
		pro(20, "equity_partner_as_required", "wants a loan plus equity, as the programme requires an equity partner")
	case p.info.RequiresEquityPartner:
		fail("equity_partner_missing", "programme requires an equity partner; the application asks for a loan alone")
	default:
		pro(15, "equity_partner_optional", "programme lends with or without an equity partner")
	}
	if why != nil && p.info.MaxMonths > 0 {
		why.pro("programme_max_months", "programme lends for up to %d months", p.info.MaxMonths)
	}
	if !ok {
		return 0, false
	}
	return score, true
}

// scoreProgramme is evaluateProgramme without the explanation: the hot
// path, which formats nothing. The tests hold both to the same verdicts.
func scoreProgramme(p *programme, a *app) (int, bool) {
	if !a.loan || p.stages != 0 && a.stageBit&p.stages == 0 || p.restrictCities && a.cityBit&p.cities == 0 ||
		p.info.RequiresEquityPartner && !a.pair || p.info.NeedsCreditConsent && !a.consent || a.amount < p.min || a.amount > p.max {
		return 0, false
	}
	score := 15 + 10 + 15 // stage, city listed, any fit of the equity-partner rule
	switch {
	case p.sectors == 0 && p.layers == 0:
		score += 10
	case a.sectorBit&p.sectors != 0:
		score += 25
	case a.layerBit&p.layers != 0:
		score += 15
	default:
		return 0, false
	}
	k := 0
	for k < centralityBands-1 && (a.amount < p.lo[k] || a.amount > p.hi[k]) {
		k++
	}
	score += 20 - 4*k
	if !p.restrictCities {
		score -= 3
	}
	switch {
	case a.consent:
		score += 10
	default:
		score += 5
	}
	if p.info.RequiresEquityPartner {
		score += 5
	}
	return score, true
}

// ExplainProgramme evaluates a programme against an open application
// with reasons. ok is false when either is unknown.
func (e *Engine) ExplainProgramme(bankID, programmeID, applicationID string) (ev Evaluation, ok bool) {
	p, a := e.progs[programmeKey(bankID, programmeID)], e.apps[applicationID]
	if p == nil || a == nil {
		return Evaluation{}, false
	}
	ev = Evaluation{ApplicationID: applicationID, For: []string{}, Against: []string{}}
	ev.Score, ev.Matches = e.evaluateProgramme(p, a, &ev)
	return ev, true
}

// Programme returns what the engine knows of a published programme.
func (e *Engine) Programme(bankID, programmeID string) (ProgrammeInfo, bool) {
	p := e.progs[programmeKey(bankID, programmeID)]
	if p == nil {
		return ProgrammeInfo{}, false
	}
	return p.info, true
}

// ProgrammeBoard ranks the applications matching a programme: score
// descending, then application ID.
func (e *Engine) ProgrammeBoard(bankID, programmeID string) []ProgrammeMatch {
	p := e.progs[programmeKey(bankID, programmeID)]
	if p == nil {
		return nil
	}
	out := make([]ProgrammeMatch, len(p.board.apps))
	for i, h := range p.board.apps {
		out[i] = ProgrammeMatch{BankID: bankID, ProgrammeID: programmeID, ApplicationID: e.handles[h].info.ID, Score: int(p.board.scores[i])}
	}
	slices.SortFunc(out, func(x, y ProgrammeMatch) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), strings.Compare(x.ApplicationID, y.ApplicationID))
	})
	return out
}

// ApplicationProgrammes ranks the programmes an open application
// matches: score descending, then bank and programme ID.
func (e *Engine) ApplicationProgrammes(applicationID string) []ProgrammeMatch {
	a := e.apps[applicationID]
	if a == nil || !a.loan {
		return nil
	}
	var out []ProgrammeMatch
	for _, p := range e.progList {
		if s, ok := p.board.get(a.h); ok {
			out = append(out, ProgrammeMatch{BankID: p.info.BankID, ProgrammeID: p.info.ProgrammeID, ApplicationID: applicationID, Score: int(s)})
		}
	}
	slices.SortFunc(out, func(x, y ProgrammeMatch) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), strings.Compare(x.BankID, y.BankID), strings.Compare(x.ProgrammeID, y.ProgrammeID))
	})
	return out
}

// Pairs ranks, best first, up to limit pairs of a fund and a programme
// that both match a loan-plus-equity application; keep, when set, admits
// only some pairs (those an actor may see). The score of a pair is the
// mean of its two scores, rounded down; ties go to the better fund, then
// by fund, bank and programme ID.
func (e *Engine) Pairs(applicationID string, limit int, keep func(Pair) bool) []Pair {
	a := e.apps[applicationID]
	if a == nil || !a.pair || limit <= 0 {
		return nil
	}
	funds, progs := e.ApplicationBoard(applicationID), e.ApplicationProgrammes(applicationID)
	if len(funds) == 0 || len(progs) == 0 {
		return nil
	}
	// The best sums of two descending lists, lazily: a heap of (i, j)
	// starting at (0, 0), each popped pair offering (i+1, j) and (i, j+1).
	h := &pairHeap{funds: funds, progs: progs}
	seen := map[[2]int]bool{{0, 0}: true}
	heap.Push(h, [2]int{0, 0})
	var out []Pair
	for h.Len() > 0 && len(out) < limit {
		ij := heap.Pop(h).([2]int)
		f, p := funds[ij[0]], progs[ij[1]]
		pair := Pair{FundID: f.FundID, BankID: p.BankID, ProgrammeID: p.ProgrammeID, FundScore: f.Score, ProgrammeScore: p.Score, Score: (f.Score + p.Score) / 2}
		if keep == nil || keep(pair) {
			out = append(out, pair)
		}
		for _, next := range [][2]int{{ij[0] + 1, ij[1]}, {ij[0], ij[1] + 1}} {
			if next[0] < len(funds) && next[1] < len(progs) && !seen[next] {
				seen[next] = true
				heap.Push(h, next)
			}
		}
	}
	return out
}

type pairHeap struct {
	funds []Match
	progs []ProgrammeMatch
	items [][2]int
}

func (h *pairHeap) Len() int { return len(h.items) }
func (h *pairHeap) Less(x, y int) bool {
	a, b := h.items[x], h.items[y]
	fa, pa, fb, pb := h.funds[a[0]], h.progs[a[1]], h.funds[b[0]], h.progs[b[1]]
	if sa, sb := fa.Score+pa.Score, fb.Score+pb.Score; sa != sb {
		return sa > sb
	}
	if fa.Score != fb.Score {
		return fa.Score > fb.Score
	}
	return cmp.Or(strings.Compare(fa.FundID, fb.FundID), strings.Compare(pa.BankID, pb.BankID), strings.Compare(pa.ProgrammeID, pb.ProgrammeID)) < 0
}
func (h *pairHeap) Swap(x, y int) { h.items[x], h.items[y] = h.items[y], h.items[x] }
func (h *pairHeap) Push(x any)    { h.items = append(h.items, x.([2]int)) }
func (h *pairHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// wantsLoan reports whether instruments ask for a loan, and for a loan
// paired with equity.
func wantsLoan(instruments []fundbridge.Instrument) (loan, pair bool) {
	pair = slices.Contains(instruments, fundbridge.InstrumentLoanPlusEquity)
	return pair || slices.Contains(instruments, fundbridge.InstrumentVentureLoan), pair
}
