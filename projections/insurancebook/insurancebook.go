// Package insurancebook is each insurer's book of patent insurance and
// each premium subsidy programme's budget, folded from the insurance
// service's events: requests received, quotes open, policies bound and in
// force by coverage type, premium written, claims open and paid, and the
// budget a programme has drawn, returned and left.
package insurancebook

import (
	"fmt"
	"slices"
	"sync"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// Name is the projection's name.
const Name = "insurance_book"

const schema = "insurance_book.v1"

type Fen = projections.Fen

// Cell is one insurer's figures for one coverage type. Counts of things
// that end (quotes open, policies in force, claims open) go down again;
// the others only grow.
type Cell struct {
	Insurer  string
	Coverage string
	Figures
}

// Figures are what an insurer's book counts.
type Figures struct {
	Requests        int // requests sent to the insurer
	Declined        int // of those, declined without a quote
	Quotes          int // quotes given
	QuotesOpen      int // not accepted, expired or withdrawn
	QuotedOpen      Fen // premium of the open quotes
	Bound           int // policies bound
	AwaitingPremium int // bound, premium not yet paid
	InForce         int // premium paid, not expired or cancelled
	SumInsured      Fen // of the policies in force
	PremiumWritten  Fen // premium of every policy bound
	PremiumReceived Fen // premium paid (by the company and by subsidies)
	Refunded        Fen // returned on cancellations
	ClaimsFiled     int
	ClaimsOpen      int // neither paid in full nor denied
	ClaimsDenied    int
	ClaimsPaid      Fen // settlements paid
}

type quote struct {
	ID, Request, Insurer string
	Premium              Fen
	Open                 bool
}

type request struct {
	ID, Coverage string
}

type policy struct {
	ID, Insurer, Coverage string
	SumInsured, Premium   Fen
	Status                uint8
}

// Policy statuses.
const (
	policyBound uint8 = iota
	policyInForce
	policyEnded
)

type claim struct {
	ID, Policy     string
	Assessed, Paid Fen
	Open           bool
}

// Programme is a subsidy programme's budget.
type Programme struct {
	ID, Name, Sponsor string
	Share             string // of the premium, a fraction
	Budget            Fen
	Drawn             Fen // subsidies drawn
	Returned          Fen // given back on cancellations
	Policies          int // policies that drew a subsidy
	Capped            int // of those, capped by the budget or the company's yearly cap
	Closed            bool
}

// State is the snapshot's content: slices in the order first seen.
type State struct {
	Cells      []Cell
	Requests   []request
	Quotes     []quote
	Policies   []policy
	Claims     []claim
	Programmes []Programme
}

// Projection is the insurers' books and the programmes' budgets.
type Projection struct {
	mu         sync.RWMutex
	folds      projections.Folds
	st         State
	cells      map[[2]string]int32
	requests   map[string]int32
	quotes     map[string]int32
	policies   map[string]int32
	claims     map[string]int32
	programmes map[string]int32
	// requestQuotes lists the quotes of a request.
	requestQuotes map[string][]int32
}

// New returns an empty book.
func New() *Projection {
	p := &Projection{}
	p.Reset()
	f := &p.folds
	projections.On(f, p.onRequested)
	projections.On(f, p.onQuoted)
	projections.On(f, p.onDeclined)
	projections.On(f, func(_ events.Event, v insuranceapi.QuoteExpired) error { return p.closeQuote(v.QuoteID) })
	projections.On(f, func(_ events.Event, v insuranceapi.QuoteAccepted) error { return p.closeQuote(v.QuoteID) })
	projections.On(f, p.onWithdrawn)
	projections.On(f, p.onBound)
	projections.On(f, p.onPremiumPaid)
	projections.On(f, func(_ events.Event, v insuranceapi.PolicyExpired) error { return p.endPolicy(v.PolicyID, money.Zero) })
	projections.On(f, func(_ events.Event, v insuranceapi.PolicyCancelled) error { return p.endPolicy(v.PolicyID, v.Refund) })
	projections.On(f, p.onClaimFiled)
	projections.On(f, p.onClaimAssessed)
	projections.On(f, p.onClaimSettled)
	projections.On(f, p.onClaimDenied)
	projections.On(f, p.onProgrammeCreated)
	projections.On(f, p.onSubsidyDrawn)
	projections.On(f, p.onSubsidyReturned)
	projections.On(f, p.onProgrammeClosed)
	projections.On(f, func(_ events.Event, v insuranceapi.RatingTablePublished) error {
		p.cell(v.InsurerID, "") // the insurer has a book from its first table on
		return nil
	})
	return p
}

func (p *Projection) Name() string   { return Name }
func (p *Projection) Schema() string { return schema }

// Handles reports whether the book folds events of this type.
func (p *Projection) Handles(eventType string) bool { return p.folds.Handles(eventType) }

// Apply folds one event. Errors are broken invariants: a quote, policy,
// claim or programme never announced, a bad amount.
func (p *Projection) Apply(e events.Event, payload any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.folds.Apply(e, payload)
}

func (p *Projection) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = State{}
	p.index()
}

func indexOf[T any](xs []T, key func(T) string) map[string]int32 {
	m := make(map[string]int32, len(xs))
	for i, x := range xs {
		m[key(x)] = int32(i)
	}
	return m
}

func (p *Projection) index() {
	p.cells = make(map[[2]string]int32, len(p.st.Cells))
	for i, c := range p.st.Cells {
		p.cells[[2]string{c.Insurer, c.Coverage}] = int32(i)
	}
	p.requests = indexOf(p.st.Requests, func(r request) string { return r.ID })
	p.quotes = indexOf(p.st.Quotes, func(q quote) string { return q.ID })
	p.policies = indexOf(p.st.Policies, func(x policy) string { return x.ID })
	p.claims = indexOf(p.st.Claims, func(c claim) string { return c.ID })
	p.programmes = indexOf(p.st.Programmes, func(x Programme) string { return x.ID })
	p.requestQuotes = map[string][]int32{}
	for i, q := range p.st.Quotes {
		p.requestQuotes[q.Request] = append(p.requestQuotes[q.Request], int32(i))
	}
}

func (p *Projection) MarshalState() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return projections.EncodeState(Name, &p.st)
}

func (p *Projection) UnmarshalState(data []byte) error {
	var st State
	if err := projections.DecodeState(Name, data, &st); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st = st
	p.index()
	return nil
}

// cell is the insurer's figures for the coverage, made when first seen;
// coverage "" only marks that the insurer exists.
func (p *Projection) cell(insurer, coverage string) *Figures {
	k := [2]string{insurer, coverage}
	i, ok := p.cells[k]
	if !ok {
		i = int32(len(p.st.Cells))
		p.st.Cells = append(p.st.Cells, Cell{Insurer: insurer, Coverage: coverage})
		p.cells[k] = i
	}
	return &p.st.Cells[i].Figures
}

func fen(what string, a money.Amount) (Fen, error) { return projections.ToFen(what, a) }

func sum(f *Fen, what string, a money.Amount) error {
	v, err := fen(what, a)
	if err != nil {
		return err
	}
	*f, err = f.Add(v)
	return err
}

func (p *Projection) onRequested(_ events.Event, v insuranceapi.InsuranceRequested) error {
	if _, dup := p.requests[v.RequestID]; dup || v.RequestID == "" {
		return fmt.Errorf("insurance request %q made twice or without an ID", v.RequestID)
	}
	p.requests[v.RequestID] = int32(len(p.st.Requests))
	p.st.Requests = append(p.st.Requests, request{ID: v.RequestID, Coverage: string(v.Coverage)})
	for _, ins := range v.Insurers {
		p.cell(ins, string(v.Coverage)).Requests++
	}
	return nil
}

func (p *Projection) request(id string) (*request, error) {
	i, ok := p.requests[id]
	if !ok {
		return nil, fmt.Errorf("insurance request %q was never made", id)
	}
	return &p.st.Requests[i], nil
}

func (p *Projection) onQuoted(_ events.Event, v insuranceapi.InsuranceQuoted) error {
	r, err := p.request(v.RequestID)
	if err != nil {
		return err
	}
	if _, dup := p.quotes[v.QuoteID]; dup || v.QuoteID == "" {
		return fmt.Errorf("quote %q given twice or without an ID", v.QuoteID)
	}
	premium, err := fen("premium quoted", v.Premium)
	if err != nil {
		return err
	}
	c := p.cell(v.InsurerID, r.Coverage)
	c.Quotes++
	c.QuotesOpen++
	if c.QuotedOpen, err = c.QuotedOpen.Add(premium); err != nil {
		return err
	}
	p.requestQuotes[v.RequestID] = append(p.requestQuotes[v.RequestID], int32(len(p.st.Quotes)))
	p.quotes[v.QuoteID] = int32(len(p.st.Quotes))
	p.st.Quotes = append(p.st.Quotes, quote{ID: v.QuoteID, Request: v.RequestID, Insurer: v.InsurerID, Premium: premium, Open: true})
	return nil
}

func (p *Projection) onDeclined(_ events.Event, v insuranceapi.InsuranceDeclined) error {
	r, err := p.request(v.RequestID)
	if err != nil {
		return err
	}
	p.cell(v.InsurerID, r.Coverage).Declined++
	return nil
}

// closeQuote takes an open quote off the insurer's open quotes; closing
// one already closed changes nothing.
func (p *Projection) closeQuote(id string) error {
	i, ok := p.quotes[id]
	if !ok {
		return fmt.Errorf("quote %q was never given", id)
	}
	q := &p.st.Quotes[i]
	if !q.Open {
		return nil
	}
	r, err := p.request(q.Request)
	if err != nil {
		return err
	}
	q.Open = false
	c := p.cell(q.Insurer, r.Coverage)
	c.QuotesOpen--
	c.QuotedOpen -= q.Premium
	return nil
}

func (p *Projection) onWithdrawn(_ events.Event, v insuranceapi.InsuranceWithdrawn) error {
	if _, err := p.request(v.RequestID); err != nil {
		return err
	}
	for _, i := range p.requestQuotes[v.RequestID] {
		if err := p.closeQuote(p.st.Quotes[i].ID); err != nil {
			return err
		}
	}
	return nil
}

func (p *Projection) onBound(_ events.Event, v insuranceapi.PolicyBound) error {
	if _, dup := p.policies[v.PolicyID]; dup || v.PolicyID == "" {
		return fmt.Errorf("policy %q bound twice or without an ID", v.PolicyID)
	}
	x := policy{ID: v.PolicyID, Insurer: v.InsurerID, Coverage: string(v.Coverage)}
	var err error
	if x.SumInsured, err = fen("sum insured", v.SumInsured); err != nil {
		return err
	}
	if x.Premium, err = fen("premium", v.Premium); err != nil {
		return err
	}
	c := p.cell(x.Insurer, x.Coverage)
	c.Bound++
	c.AwaitingPremium++
	if c.PremiumWritten, err = c.PremiumWritten.Add(x.Premium); err != nil {
		return err
	}
	p.policies[v.PolicyID] = int32(len(p.st.Policies))
	p.st.Policies = append(p.st.Policies, x)
	return nil
}

func (p *Projection) policy(id string) (*policy, *Figures, error) {
	i, ok := p.policies[id]
	if !ok {
		return nil, nil, fmt.Errorf("policy %q was never bound", id)
	}
	x := &p.st.Policies[i]
	return x, p.cell(x.Insurer, x.Coverage), nil
}

func (p *Projection) onPremiumPaid(_ events.Event, v insuranceapi.PremiumPaid) error {
	x, c, err := p.policy(v.PolicyID)
	if err != nil {
		return err
	}
	if err := sum(&c.PremiumReceived, "premium paid", v.Premium); err != nil {
		return err
	}
	if x.Status != policyBound {
		return nil
	}
	x.Status = policyInForce
	c.AwaitingPremium--
	c.InForce++
	c.SumInsured, err = c.SumInsured.Add(x.SumInsured)
	return err
}

// endPolicy takes a policy out of force (expiry or cancellation).
func (p *Projection) endPolicy(id string, refund money.Amount) error {
	x, c, err := p.policy(id)
	if err != nil {
		return err
	}
	if err := sum(&c.Refunded, "refund", refund); err != nil {
		return err
	}
	switch x.Status {
	case policyBound:
		c.AwaitingPremium--
	case policyInForce:
		c.InForce--
		c.SumInsured -= x.SumInsured
	}
	x.Status = policyEnded
	return nil
}

func (p *Projection) onClaimFiled(_ events.Event, v insuranceapi.ClaimFiled) error {
	if _, dup := p.claims[v.ClaimID]; dup || v.ClaimID == "" {
		return fmt.Errorf("claim %q filed twice or without an ID", v.ClaimID)
	}
	_, c, err := p.policy(v.PolicyID)
	if err != nil {
		return err
	}
	c.ClaimsFiled++
	c.ClaimsOpen++
	p.claims[v.ClaimID] = int32(len(p.st.Claims))
	p.st.Claims = append(p.st.Claims, claim{ID: v.ClaimID, Policy: v.PolicyID, Open: true})
	return nil
}

func (p *Projection) claim(id string) (*claim, *Figures, error) {
	i, ok := p.claims[id]
	if !ok {
		return nil, nil, fmt.Errorf("claim %q was never filed", id)
	}
	cl := &p.st.Claims[i]
	_, c, err := p.policy(cl.Policy)
	return cl, c, err
}

func (p *Projection) onClaimAssessed(_ events.Event, v insuranceapi.ClaimAssessed) error {
	cl, _, err := p.claim(v.ClaimID)
	if err != nil {
		return err
	}
	cl.Assessed, err = fen("claim assessed", v.Amount)
	return err
}

// onClaimSettled pays a settlement; the claim closes once paid in full.
func (p *Projection) onClaimSettled(_ events.Event, v insuranceapi.ClaimSettled) error {
	cl, c, err := p.claim(v.ClaimID)
	if err != nil {
		return err
	}
	if err := sum(&c.ClaimsPaid, "claim settled", v.Amount); err != nil {
		return err
	}
	if cl.Paid, err = fen("paid on claim", v.PaidOnClaim); err != nil {
		return err
	}
	if cl.Open && cl.Paid >= cl.Assessed {
		cl.Open = false
		c.ClaimsOpen--
	}
	return nil
}

func (p *Projection) onClaimDenied(_ events.Event, v insuranceapi.ClaimDenied) error {
	cl, c, err := p.claim(v.ClaimID)
	if err != nil {
		return err
	}
	c.ClaimsDenied++
	if cl.Open {
		cl.Open = false
		c.ClaimsOpen--
	}
	return nil
}

func (p *Projection) onProgrammeCreated(_ events.Event, v insuranceapi.SubsidyProgrammeCreated) error {
	if _, dup := p.programmes[v.ProgrammeID]; dup || v.ProgrammeID == "" {
		return fmt.Errorf("subsidy programme %q created twice or without an ID", v.ProgrammeID)
	}
	x := Programme{ID: v.ProgrammeID, Name: v.Name, Sponsor: v.Sponsor, Share: v.Share.String()}
	var err error
	if x.Budget, err = fen("budget", v.Budget); err != nil {
		return err
	}
	p.programmes[v.ProgrammeID] = int32(len(p.st.Programmes))
	p.st.Programmes = append(p.st.Programmes, x)
	return nil
}

func (p *Projection) programme(id string) (*Programme, error) {
	i, ok := p.programmes[id]
	if !ok {
		return nil, fmt.Errorf("subsidy programme %q was never created", id)
	}
	return &p.st.Programmes[i], nil
}

func (p *Projection) onSubsidyDrawn(_ events.Event, v insuranceapi.SubsidyDrawn) error {
	x, err := p.programme(v.ProgrammeID)
	if err != nil {
		return err
	}
	x.Policies++
	if v.Capped {
		x.Capped++
	}
	if err := sum(&x.Drawn, "subsidy drawn", v.Amount); err != nil {
		return err
	}
	if x.Drawn-x.Returned > x.Budget {
		return fmt.Errorf("subsidy programme %s drew %s beyond its budget %s", x.ID, (x.Drawn - x.Returned).Amount(), x.Budget.Amount())
	}
	return nil
}

func (p *Projection) onSubsidyReturned(_ events.Event, v insuranceapi.SubsidyReturned) error {
	x, err := p.programme(v.ProgrammeID)
	if err != nil {
		return err
	}
	return sum(&x.Returned, "subsidy returned", v.Amount)
}

func (p *Projection) onProgrammeClosed(_ events.Event, v insuranceapi.SubsidyProgrammeClosed) error {
	x, err := p.programme(v.ProgrammeID)
	if err != nil {
		return err
	}
	x.Closed = true
	return nil
}

// Book is an insurer's figures by coverage type (in insuranceapi.Coverages
// order, every type listed) and in total; false if the log never named
// the insurer.
func (p *Projection) Book(insurer string) (total Figures, byCoverage []Cell, ok bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if _, ok := p.cells[[2]string{insurer, ""}]; !ok {
		seen := slices.ContainsFunc(p.st.Cells, func(c Cell) bool { return c.Insurer == insurer })
		if !seen {
			return Figures{}, nil, false
		}
	}
	for _, cov := range insuranceapi.Coverages {
		c := Cell{Insurer: insurer, Coverage: string(cov)}
		if i, ok := p.cells[[2]string{insurer, string(cov)}]; ok {
			c = p.st.Cells[i]
		}
		byCoverage = append(byCoverage, c)
		total.add(c.Figures)
	}
	return total, byCoverage, true
}

func (f *Figures) add(g Figures) {
	f.Requests += g.Requests
	f.Declined += g.Declined
	f.Quotes += g.Quotes
	f.QuotesOpen += g.QuotesOpen
	f.QuotedOpen += g.QuotedOpen
	f.Bound += g.Bound
	f.AwaitingPremium += g.AwaitingPremium
	f.InForce += g.InForce
	f.SumInsured += g.SumInsured
	f.PremiumWritten += g.PremiumWritten
	f.PremiumReceived += g.PremiumReceived
	f.Refunded += g.Refunded
	f.ClaimsFiled += g.ClaimsFiled
	f.ClaimsOpen += g.ClaimsOpen
	f.ClaimsDenied += g.ClaimsDenied
	f.ClaimsPaid += g.ClaimsPaid
}

// Programmes lists every subsidy programme, in the order created.
func (p *Projection) Programmes() []Programme {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.st.Programmes)
}
