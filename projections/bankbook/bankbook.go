// Package bankbook is each bank's book as its credit officer watches it,
// folded from the deals service's events (and the insurance service's
// guarantee claims): its commitments, its exposure against both of its
// limits, what it disbursed and has outstanding, what falls due in the
// next 30 days, what is in arrears and for how long, what it lost on
// defaults and what the guarantee cover is to pay back.
//
// Every loan figure is the bank's own part: disbursements and repayments
// as the deals service split them, a period owed split by the principal
// each bank has outstanding (largest remainder), as a repayment of it
// would be.
package bankbook

import (
	"fmt"
	"slices"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// Name is the projection's name.
const Name = "bank_book"

const schema = "bank_book.v1"

type Fen = projections.Fen

// Bank is a bank onboarded to the programme, with its limits.
type Bank struct {
	ID                  string
	Name                string
	CreditLimit         Fen
	SingleBorrowerLimit Fen
}

// Line is one bank's part of one deal.
type Line struct {
	BankID     string
	DealID     string
	BorrowerID string
	// Commitment is where the bank stands in the syndication
	// (dealsapi.CommitmentStatus).
	Commitment       string
	Committed        Fen // what it committed
	Allocated        Fen // its part of the closed book
	Exposure         Fen // reserved minus released
	Disbursed        Fen
	PrincipalRepaid  Fen
	InterestReceived Fen
	FeesReceived     Fen
	Loss             Fen // its share of a default's loss
	RecoveryExpected Fen // its part of the insurer's share of that loss
	RecoveryReceived Fen // its part of what the guarantee claim paid
	RecoveryDenied   bool
}

// Period is one scheduled period of a loan, in fen, with what was paid
// of it; Due is its date as days since 1970-01-01.
type Period struct {
	Number    int32
	Due       int32
	Principal Fen
	Interest  Fen
	Paid      Fen
}

// Deal is a loan-plus-equity deal and, once it closed, its loan.
type Deal struct {
	ID         string
	BorrowerID string
	Status     string   // dealsapi.DealStatus, then dealsapi.LoanStatus once the loan opened
	Banks      []string // the loan's banks, in the loan's order
	Periods    []Period
}

// State is the snapshot's content: slices in the order first seen, so
// the same log encodes to the same bytes.
type State struct {
	Banks  []Bank
	Lines  []Line
	Deals  []Deal
	Claims [][2]string // guarantee claim ID, loan deal ID
}

// Projection is every bank's book. Safe for concurrent queries.
type Projection struct {
	mu    sync.RWMutex
	folds projections.Folds
	st    State
	banks map[string]int32
	lines map[[2]string]int32 // bank, deal
	// byDeal and byBank list the lines of a deal and of a bank.
	byDeal map[string][]int32
	byBank map[string][]int32
	deals  map[string]int32
	claims map[string]string // guarantee claim → deal
}

// New returns an empty book.
func New() *Projection {
	p := &Projection{}
	p.Reset()
	f := &p.folds
	projections.On(f, p.onBankOnboarded)
	projections.On(f, p.onLimitsChanged)
	projections.On(f, p.onExposureReserved)
	projections.On(f, p.onExposureReleased)
	projections.On(f, p.onDealProposed)
	projections.On(f, p.onBankInvited)
	projections.On(f, p.onBankCommitted)
	projections.On(f, p.onBankDeclined)
	projections.On(f, p.onBookClosed)
	projections.On(f, p.onDealClosed)
	projections.On(f, p.onDealExpired)
	projections.On(f, p.onLoanOpened)
	projections.On(f, p.onDrawnDown)
	projections.On(f, p.onScheduleFixed)
	projections.On(f, p.onRepayment)
	projections.On(f, p.onEarlyRepayment)
	projections.On(f, p.onLoanRepaid)
	projections.On(f, p.onLoanDefaulted)
	projections.On(f, p.onClaimFiled)
	projections.On(f, p.onClaimSettled)
	projections.On(f, p.onClaimDenied)
	return p
}

func (p *Projection) Name() string   { return Name }
func (p *Projection) Schema() string { return schema }

// Handles reports whether the book folds events of this type.
func (p *Projection) Handles(eventType string) bool { return p.folds.Handles(eventType) }

// Apply folds one event. Errors are broken invariants: bad amounts, a
// bank, deal or loan that was never announced.
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

// index rebuilds the maps from the state.
func (p *Projection) index() {
	p.banks = make(map[string]int32, len(p.st.Banks))
	for i, b := range p.st.Banks {
		p.banks[b.ID] = int32(i)
	}
	p.lines = make(map[[2]string]int32, len(p.st.Lines))
	p.byDeal, p.byBank = map[string][]int32{}, map[string][]int32{}
	for i, l := range p.st.Lines {
		p.lines[[2]string{l.BankID, l.DealID}] = int32(i)
		p.byDeal[l.DealID] = append(p.byDeal[l.DealID], int32(i))
		p.byBank[l.BankID] = append(p.byBank[l.BankID], int32(i))
	}
	p.deals = make(map[string]int32, len(p.st.Deals))
	for i, d := range p.st.Deals {
		p.deals[d.ID] = int32(i)
	}
	p.claims = make(map[string]string, len(p.st.Claims))
	for _, c := range p.st.Claims {
		p.claims[c[0]] = c[1]
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

// line is the bank's line in the deal, made when first seen.
func (p *Projection) line(bankID, dealID string) *Line {
	k := [2]string{bankID, dealID}
	i, ok := p.lines[k]
	if !ok {
		i = int32(len(p.st.Lines))
		l := Line{BankID: bankID, DealID: dealID}
		if d, ok := p.deals[dealID]; ok {
			l.BorrowerID = p.st.Deals[d].BorrowerID
		}
		p.st.Lines = append(p.st.Lines, l)
		p.lines[k] = i
		p.byDeal[dealID] = append(p.byDeal[dealID], i)
		p.byBank[bankID] = append(p.byBank[bankID], i)
	}
	return &p.st.Lines[i]
}

func (p *Projection) deal(id string) (*Deal, error) {
	i, ok := p.deals[id]
	if !ok {
		return nil, fmt.Errorf("deal %q was never proposed", id)
	}
	return &p.st.Deals[i], nil
}

// add adds amount (negated when minus) to *f, naming what in errors.
func add(f *Fen, what string, a money.Amount, minus bool) error {
	v, err := projections.ToFen(what, a)
	if err != nil {
		return err
	}
	if minus {
		v = -v
	}
	if *f, err = f.Add(v); err != nil {
		return err
	}
	if *f < 0 {
		return fmt.Errorf("%s falls below zero", what)
	}
	return nil
}

func (p *Projection) onBankOnboarded(_ events.Event, v dealsapi.BankOnboarded) error {
	if _, dup := p.banks[v.BankID]; dup || v.BankID == "" {
		return fmt.Errorf("bank %q onboarded twice or without an ID", v.BankID)
	}
	b := Bank{ID: v.BankID, Name: v.Name}
	if err := add(&b.CreditLimit, "credit limit", v.CreditLimit, false); err != nil {
		return err
	}
	if err := add(&b.SingleBorrowerLimit, "single-borrower limit", v.SingleBorrowerLimit, false); err != nil {
		return err
	}
	p.banks[v.BankID] = int32(len(p.st.Banks))
	p.st.Banks = append(p.st.Banks, b)
	return nil
}

func (p *Projection) onLimitsChanged(_ events.Event, v dealsapi.BankLimitsChanged) error {
	i, ok := p.banks[v.BankID]
	if !ok {
		return fmt.Errorf("limits changed of bank %q, never onboarded", v.BankID)
	}
	b := &p.st.Banks[i]
	b.CreditLimit, b.SingleBorrowerLimit = 0, 0
	if err := add(&b.CreditLimit, "credit limit", v.CreditLimit, false); err != nil {
		return err
	}
	return add(&b.SingleBorrowerLimit, "single-borrower limit", v.SingleBorrowerLimit, false)
}

func (p *Projection) onExposureReserved(_ events.Event, v dealsapi.ExposureReserved) error {
	l := p.line(v.BankID, v.DealID)
	if l.BorrowerID == "" {
		l.BorrowerID = v.BorrowerID
	}
	return add(&l.Exposure, "exposure reserved", v.Amount, false)
}

func (p *Projection) onExposureReleased(_ events.Event, v dealsapi.ExposureReleased) error {
	return add(&p.line(v.BankID, v.DealID).Exposure, "exposure released", v.Amount, true)
}

func (p *Projection) onDealProposed(_ events.Event, v dealsapi.DealProposed) error {
	if _, dup := p.deals[v.DealID]; dup || v.DealID == "" {
		return fmt.Errorf("deal %q proposed twice or without an ID", v.DealID)
	}
	p.deals[v.DealID] = int32(len(p.st.Deals))
	p.st.Deals = append(p.st.Deals, Deal{ID: v.DealID, BorrowerID: v.BorrowerID, Status: string(dealsapi.StatusSyndicating)})
	for _, i := range p.byDeal[v.DealID] { // exposure reserved before the proposal was seen
		if l := &p.st.Lines[i]; l.BorrowerID == "" {
			l.BorrowerID = v.BorrowerID
		}
	}
	return nil
}

func (p *Projection) onBankInvited(_ events.Event, v dealsapi.BankInvited) error {
	if _, err := p.deal(v.DealID); err != nil {
		return err
	}
	p.line(v.BankID, v.DealID).Commitment = string(dealsapi.CommitmentInvited)
	return nil
}

func (p *Projection) onBankCommitted(_ events.Event, v dealsapi.BankCommitted) error {
	l := p.line(v.BankID, v.DealID)
	l.Commitment, l.Committed = string(dealsapi.CommitmentCommitted), 0
	return add(&l.Committed, "commitment", v.Amount, false)
}

func (p *Projection) onBankDeclined(_ events.Event, v dealsapi.BankDeclined) error {
	p.line(v.BankID, v.DealID).Commitment = string(dealsapi.CommitmentDeclined)
	return nil
}

func (p *Projection) onBookClosed(_ events.Event, v dealsapi.BookClosed) error {
	for _, a := range v.Allocations {
		l := p.line(a.BankID, v.DealID)
		l.Commitment, l.Allocated = string(dealsapi.CommitmentAllocated), 0
		if err := add(&l.Allocated, "allocation", a.Allocated, false); err != nil {
			return err
		}
	}
	return nil
}

func (p *Projection) onDealClosed(_ events.Event, v dealsapi.DealClosed) error {
	d, err := p.deal(v.DealID)
	if err != nil {
		return err
	}
	if d.Status == string(dealsapi.StatusSyndicating) { // the loan may have opened first
		d.Status = string(dealsapi.StatusClosed)
	}
	return nil
}

func (p *Projection) onDealExpired(_ events.Event, v dealsapi.DealExpired) error {
	d, err := p.deal(v.DealID)
	if err != nil {
		return err
	}
	d.Status = string(dealsapi.StatusExpired)
	for _, i := range p.byDeal[v.DealID] {
		if l := &p.st.Lines[i]; l.Commitment != string(dealsapi.CommitmentDeclined) {
			l.Commitment = string(dealsapi.CommitmentReleased)
		}
	}
	return nil
}

func (p *Projection) onLoanOpened(_ events.Event, v dealsapi.LoanOpened) error {
	d, err := p.deal(v.LoanID)
	if err != nil {
		return err
	}
	d.Status, d.Banks = string(dealsapi.StatusAwaitingDrawdown), make([]string, len(v.Banks))
	for i, b := range v.Banks {
		d.Banks[i] = b.BankID
		p.line(b.BankID, v.LoanID)
	}
	return nil
}

func (p *Projection) onDrawnDown(_ events.Event, v dealsapi.LoanDrawnDown) error {
	if _, err := p.deal(v.LoanID); err != nil {
		return err
	}
	for _, b := range v.Banks {
		if err := add(&p.line(b.BankID, v.LoanID).Disbursed, "disbursement", b.Amount, false); err != nil {
			return err
		}
	}
	return nil
}

func periods(ps []dealsapi.ScheduledPeriod) ([]Period, error) {
	out := make([]Period, len(ps))
	for i, sp := range ps {
		out[i] = Period{Number: int32(sp.Number), Due: int32(sp.Due.Unix() / 86400)}
		if err := add(&out[i].Principal, "scheduled principal", sp.Principal, false); err != nil {
			return nil, err
		}
		if err := add(&out[i].Interest, "scheduled interest", sp.Interest, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *Projection) onScheduleFixed(_ events.Event, v dealsapi.ScheduleFixed) error {
	d, err := p.deal(v.LoanID)
	if err != nil {
		return err
	}
	scheduled, err := v.Schedule()
	if err != nil {
		return err
	}
	if d.Periods, err = periods(scheduled); err != nil {
		return err
	}
	d.Status = string(dealsapi.StatusRepaying)
	return nil
}

// received adds each bank's part of a repayment to its line.
func (p *Projection) received(loanID string, banks []dealsapi.BankRepayment) error {
	for _, b := range banks {
		l := p.line(b.BankID, loanID)
		if err := add(&l.PrincipalRepaid, "principal repaid", b.Principal, false); err != nil {
			return err
		}
		if err := add(&l.InterestReceived, "interest received", b.Interest, false); err != nil {
			return err
		}
		if err := add(&l.FeesReceived, "fees received", b.Fees, false); err != nil {
			return err
		}
	}
	return nil
}

func (p *Projection) onRepayment(_ events.Event, v dealsapi.RepaymentReceived) error {
	d, err := p.deal(v.LoanID)
	if err != nil {
		return err
	}
	for _, pp := range v.Periods {
		k := slices.IndexFunc(d.Periods, func(x Period) bool { return x.Number == int32(pp.Number) })
		if k < 0 {
			return fmt.Errorf("loan %s: repayment of period %d, which is not scheduled", v.LoanID, pp.Number)
		}
		if err := add(&d.Periods[k].Paid, "interest paid", pp.Interest, false); err != nil {
			return err
		}
		if err := add(&d.Periods[k].Paid, "principal paid", pp.Principal, false); err != nil {
			return err
		}
	}
	return p.received(v.LoanID, v.Banks)
}

// onEarlyRepayment settles the period the prepayment was made with (it
// is what was paid of it) and replaces the periods after it with the
// schedule recomputed for what remains.
func (p *Projection) onEarlyRepayment(_ events.Event, v dealsapi.EarlyRepaymentReceived) error {
	d, err := p.deal(v.LoanID)
	if err != nil {
		return err
	}
	k := slices.IndexFunc(d.Periods, func(x Period) bool { return x.Number == int32(v.Period) })
	if k >= 0 {
		pd := &d.Periods[k]
		if err := add(&pd.Paid, "interest prepaid", v.Interest, false); err != nil {
			return err
		}
		if err := add(&pd.Paid, "principal prepaid", v.Principal, false); err != nil {
			return err
		}
		pd.Principal, pd.Interest = pd.Paid, 0
		rest, err := periods(v.Remaining)
		if err != nil {
			return err
		}
		d.Periods = append(d.Periods[:k+1:k+1], rest...)
	}
	return p.received(v.LoanID, v.Banks)
}

func (p *Projection) onLoanRepaid(_ events.Event, v dealsapi.LoanRepaid) error {
	d, err := p.deal(v.LoanID)
	if err != nil {
		return err
	}
	d.Status = string(dealsapi.StatusRepaid)
	return nil
}

// onLoanDefaulted records each bank's loss and expects its part of the
// insurer's share back from the guarantee cover, split as the banks'
// losses are.
func (p *Projection) onLoanDefaulted(_ events.Event, v dealsapi.LoanDefaulted) error {
	d, err := p.deal(v.LoanID)
	if err != nil {
		return err
	}
	d.Status = string(dealsapi.StatusDefaulted)
	for _, b := range v.BankLosses {
		if err := add(&p.line(b.BankID, v.LoanID).Loss, "loss", b.Amount, false); err != nil {
			return err
		}
	}
	parts, err := p.byLoss(v.LoanID, v.BankLosses, v.Allocation.Insurer)
	if err != nil {
		return err
	}
	for i, b := range v.BankLosses {
		if err := add(&p.line(b.BankID, v.LoanID).RecoveryExpected, "guarantee recovery expected", parts[i], false); err != nil {
			return err
		}
	}
	return nil
}

// byLoss splits amount between the banks in proportion to their losses.
func (p *Projection) byLoss(loanID string, losses []dealsapi.BankAmount, amount money.Amount) ([]money.Amount, error) {
	if len(losses) == 0 {
		return nil, nil
	}
	weights := make([]decimal.Decimal, len(losses))
	sum := decimal.Zero
	for i, b := range losses {
		weights[i] = b.Amount.Decimal()
		sum = sum.Add(weights[i])
	}
	if sum.IsZero() {
		for i := range weights {
			weights[i] = decimal.NewFromInt(1)
		}
	}
	parts, err := money.Split(amount, weights)
	if err != nil {
		return nil, fmt.Errorf("loan %s: splitting the guarantee recovery: %w", loanID, err)
	}
	return parts, nil
}

// losses lists the banks' losses on a loan, from their lines.
func (p *Projection) losses(d *Deal) []dealsapi.BankAmount {
	var out []dealsapi.BankAmount
	for _, id := range d.Banks {
		if i, ok := p.lines[[2]string{id, d.ID}]; ok && p.st.Lines[i].Loss > 0 {
			out = append(out, dealsapi.BankAmount{BankID: id, Amount: p.st.Lines[i].Loss.Amount()})
		}
	}
	return out
}

func (p *Projection) onClaimFiled(_ events.Event, v insuranceapi.ClaimFiled) error {
	if v.LoanDealID == "" {
		return nil // not a guarantee claim: no bank's concern
	}
	if _, ok := p.deals[v.LoanDealID]; !ok {
		return nil // a deal this book never saw cannot be in any bank's lines
	}
	p.claims[v.ClaimID] = v.LoanDealID
	p.st.Claims = append(p.st.Claims, [2]string{v.ClaimID, v.LoanDealID})
	return nil
}

func (p *Projection) onClaimSettled(_ events.Event, v insuranceapi.ClaimSettled) error {
	dealID, ok := p.claims[v.ClaimID]
	if !ok {
		return nil
	}
	d, err := p.deal(dealID)
	if err != nil {
		return err
	}
	losses := p.losses(d)
	parts, err := p.byLoss(dealID, losses, v.Amount)
	if err != nil {
		return err
	}
	for i, b := range losses {
		if err := add(&p.line(b.BankID, dealID).RecoveryReceived, "guarantee recovery received", parts[i], false); err != nil {
			return err
		}
	}
	return nil
}

func (p *Projection) onClaimDenied(_ events.Event, v insuranceapi.ClaimDenied) error {
	dealID, ok := p.claims[v.ClaimID]
	if !ok {
		return nil
	}
	for _, i := range p.byDeal[dealID] {
		if l := &p.st.Lines[i]; l.Loss > 0 {
			l.RecoveryDenied = true
		}
	}
	return nil
}
