// Package dealsapi is the contract of the deals service: loan plus
// external direct investment (贷款+外部直投, 投贷联动) deals co-underwritten
// by banks, and the loans they service. It holds the event payloads others
// read and the commands others send. Who caused an event and when is in
// its envelope (events.Event), never in the payload.
//
// Three aggregates write these events:
//   - bank-<bankID>: a bank's limits, lending programmes and exposure
//     reservations ("bank.*").
//   - loan_deal-<dealID>: a deal's syndication, from proposal to close or
//     expiry ("loan_deal.*"). The prefix "deal." belongs to the screening
//     deals of the matching service.
//   - loan-<dealID>: the loan once the deal closed: drawdowns, schedule,
//     repayments, arrears, default and the warrant ("loan.*").
package dealsapi

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
)

// RepaymentMethod is how a loan is repaid; see package loan.
type RepaymentMethod = loan.Method

const (
	EqualInstallment   = loan.EqualInstallment   // 等额本息
	EqualPrincipal     = loan.EqualPrincipal     // 等额本金
	InterestOnlyBullet = loan.InterestOnlyBullet // 先息后本
)

// Sequence is the order in which a deal's two tranches come in.
type Sequence string

const (
	EquityFirst Sequence = "equity_first" // 先投后贷: banks commit once the fund's tranche is in
	LoanFirst   Sequence = "loan_first"   // 先贷后投: the fund commits once the loan book has closed
	Together    Sequence = "together"     // either order
)

// Sequences lists every sequence.
var Sequences = []Sequence{EquityFirst, LoanFirst, Together}

// Valid reports whether s is a known sequence.
func (s Sequence) Valid() bool { return slices.Contains(Sequences, s) }

// DealStatus is where a deal stands.
type DealStatus string

const (
	StatusSyndicating DealStatus = "syndicating" // taking bank commitments and the equity tranche
	StatusClosed      DealStatus = "closed"      // both tranches in; the loan exists
	StatusExpired     DealStatus = "expired"     // the deadline passed first; every commitment released
)

// CommitmentStatus is where one bank stands in a deal.
type CommitmentStatus string

const (
	CommitmentInvited   CommitmentStatus = "invited"
	CommitmentCommitted CommitmentStatus = "committed"
	CommitmentDeclined  CommitmentStatus = "declined"
	CommitmentAllocated CommitmentStatus = "allocated" // the book closed; its part is fixed
	CommitmentReleased  CommitmentStatus = "released"  // the deal expired
)

// LoanStatus is where a loan stands. Arrears are not a status: a loan in
// repayment is in arrears while a period is unpaid after its due date.
type LoanStatus string

const (
	StatusAwaitingDrawdown LoanStatus = "awaiting_drawdown" // opened; drawdowns until the schedule is fixed
	StatusRepaying         LoanStatus = "repaying"
	StatusRepaid           LoanStatus = "repaid"
	StatusDefaulted        LoanStatus = "defaulted"
)

// LoanTerms are a deal's loan as agreed.
type LoanTerms struct {
	// The loan's principal.
	Principal  money.Amount    `json:"principal"`
	AnnualRate decimal.Decimal `json:"annual_rate"` // the annual interest rate, a fraction: "0.0435" for 4.35%
	// The loan's term in months.
	Months int `json:"months"`
	// How the loan is repaid: equal payments, equal principal or interest-only
	// then bullet.
	Method RepaymentMethod `json:"method"`
	// Months at the start in which only interest is paid.
	InterestOnlyMonths int `json:"interest_only_months,omitempty"`
}

// Schedule returns the terms for the schedule calculator.
func (t LoanTerms) Schedule() loan.Terms {
	return loan.Terms{Principal: t.Principal, AnnualRate: t.AnnualRate, Months: t.Months, Method: t.Method, InterestOnlyMonths: t.InterestOnlyMonths}
}

// EquityTranche is the fund's part of a deal; ownership = amount /
// post-money, post-money = pre-money + amount, as in the screening pipeline.
type EquityTranche struct {
	FundID    string          `json:"fund_id"`
	Amount    money.Amount    `json:"amount"`
	PreMoney  money.Amount    `json:"pre_money"`
	PostMoney money.Amount    `json:"post_money"`
	Ownership decimal.Decimal `json:"ownership"` // the share of the company the fund takes: amount / post_money, a fraction with 10 places
}

// Warrant is an option on the borrower's shares (认股权) that comes with
// the loan: its holder may buy shares worth Coverage × principal at the
// strike valuation within the exercise window (dates inclusive, UTC).
type Warrant struct {
	Coverage decimal.Decimal `json:"coverage"` // the warrant's size as a fraction of the principal: "0.10" for 10%
	Amount   money.Amount    `json:"amount"`   // coverage × principal, half-up to the fen
	// The company valuation the shares are bought at.
	StrikeValuation money.Amount `json:"strike_valuation"`
	// The first day the warrant may be exercised (inclusive, UTC).
	ExerciseFrom time.Time `json:"exercise_from"`
	// The last day the warrant may be exercised (inclusive, UTC).
	ExerciseUntil time.Time `json:"exercise_until"`
	HolderID      string    `json:"holder_id"` // a bank or fund org
}

// RiskSharing is who bears a default's loss, as fractions summing to
// exactly 1.
type RiskSharing struct {
	// The banks' share of a loss, a decimal fraction.
	Banks decimal.Decimal `json:"banks"`
	// The fund's share of a loss, a decimal fraction.
	Fund                 decimal.Decimal `json:"fund"`
	RiskCompensationFund decimal.Decimal `json:"risk_compensation_fund"` // 风险补偿资金池
	Insurer              decimal.Decimal `json:"insurer"`                // the insurer's share of a loss (a claim on the guarantee cover), a decimal fraction
	// InsurerID names the insurer's org when the proposal did (an
	// optional field added later: older deals name none).
	InsurerID string `json:"insurer_id,omitempty"`
}

// Shares lists the fractions in the order losses are reported.
func (r RiskSharing) Shares() []decimal.Decimal {
	return []decimal.Decimal{r.Banks, r.Fund, r.RiskCompensationFund, r.Insurer}
}

// BankAmount is one bank's part of a figure.
type BankAmount struct {
	BankID string       `json:"bank_id"`
	Amount money.Amount `json:"amount"`
}

// Bank events (stream bank-<bankID>).

type BankOnboarded struct {
	BankID              string       `json:"bank_id"`
	Name                string       `json:"name"`
	CreditLimit         money.Amount `json:"credit_limit"`          // for this programme: all deals together
	SingleBorrowerLimit money.Amount `json:"single_borrower_limit"` // one company, all its deals
}

type BankLimitsChanged struct {
	BankID              string       `json:"bank_id"`
	CreditLimit         money.Amount `json:"credit_limit"`
	SingleBorrowerLimit money.Amount `json:"single_borrower_limit"`
}

// Programme is what a bank lends to. Empty lists mean "any".
type Programme struct {
	// The programme's ID, unique within the bank.
	ProgrammeID string              `json:"programme_id"`
	Name        string              `json:"name"`
	Stages      []fundbridge.Stage  `json:"stages"`
	Layers      []fundbridge.Layer  `json:"layers,omitempty"`
	Sectors     []fundbridge.Sector `json:"sectors,omitempty"`
	Cities      []fundbridge.City   `json:"cities,omitempty"`
	// The smallest loan the bank makes under the programme (inclusive).
	LoanMin money.Amount `json:"loan_min"`
	// The largest loan the bank makes under the programme (inclusive).
	LoanMax money.Amount `json:"loan_max"`
	// The longest term the programme lends for, in months.
	MaxMonths int `json:"max_months"`
	// Whether the bank lends only beside a fund's equity tranche.
	RequiresEquityPartner bool `json:"requires_equity_partner"`
	// Whether the company must consent to sharing its credit data.
	NeedsCreditConsent bool `json:"needs_credit_consent"`
}

// ProgrammePublished publishes or replaces one of a bank's programmes.
type ProgrammePublished struct {
	BankID string `json:"bank_id"`
	Programme
}

type ProgrammeWithdrawn struct {
	BankID      string `json:"bank_id"`
	ProgrammeID string `json:"programme_id"`
}

// ExposureReserved is exposure a bank took on for a deal: a commitment
// first, which stays exposure as principal once drawn.
type ExposureReserved struct {
	BankID                string       `json:"bank_id"`
	DealID                string       `json:"deal_id"`
	BorrowerID            string       `json:"borrower_id"`
	Amount                money.Amount `json:"amount"`
	ExposureAfter         money.Amount `json:"exposure_after"`
	BorrowerExposureAfter money.Amount `json:"borrower_exposure_after"`
}

// ExposureReleased is exposure a bank no longer carries for a deal: a
// commitment scaled back, released on expiry or left undrawn, principal
// repaid, or a loss written off.
type ExposureReleased struct {
	BankID        string       `json:"bank_id"`
	DealID        string       `json:"deal_id"`
	Amount        money.Amount `json:"amount"`
	Reason        string       `json:"reason"`
	ExposureAfter money.Amount `json:"exposure_after"`
}

// Deal events (stream loan_deal-<dealID>).

type DealProposed struct {
	DealID        string `json:"deal_id"`
	BorrowerID    string `json:"borrower_id"` // the company
	ApplicationID string `json:"application_id"`
	LeadBankID    string `json:"lead_bank_id"` // the arranger; invited and may commit too
	// The loan as agreed.
	Loan LoanTerms `json:"loan"`
	// The fund's equity tranche.
	Equity EquityTranche `json:"equity"`
	// Which of loan and equity must be in first.
	Sequence Sequence `json:"sequence"`
	// The warrant that comes with the loan, if any.
	Warrant *Warrant `json:"warrant,omitempty"`
	// Who bears a default's loss, as fractions summing to 1.
	RiskSharing RiskSharing `json:"risk_sharing"`
	// When the book must have closed; after it the deal expires.
	SyndicationDeadline time.Time `json:"syndication_deadline"`
}

type BankInvited struct {
	DealID string `json:"deal_id"`
	BankID string `json:"bank_id"`
}

// BankCommitted is a bank's commitment to lend up to Amount.
type BankCommitted struct {
	DealID         string       `json:"deal_id"`
	BankID         string       `json:"bank_id"`
	Amount         money.Amount `json:"amount"`
	CommittedAfter money.Amount `json:"committed_after"` // the book's total
}

type BankDeclined struct {
	DealID string `json:"deal_id"`
	BankID string `json:"bank_id"`
	Reason string `json:"reason,omitempty"`
}

// Allocation is one bank's part of a closed book.
type Allocation struct {
	BankID    string          `json:"bank_id"`
	Committed money.Amount    `json:"committed"`
	Allocated money.Amount    `json:"allocated"` // scaled back pro rata when oversubscribed
	Share     decimal.Decimal `json:"share"`     // allocated / loan, 10 places
}

// BookClosed: the commitments reached the loan amount. Allocations sum to
// exactly the loan; an oversubscribed book was scaled back pro rata.
type BookClosed struct {
	DealID         string       `json:"deal_id"`
	Committed      money.Amount `json:"committed"`
	Oversubscribed bool         `json:"oversubscribed"`
	Allocations    []Allocation `json:"allocations"`
}

// EquityTrancheCommitted: the fund committed the tranche (the funds
// service took it out of dry powder).
type EquityTrancheCommitted struct {
	DealID string       `json:"deal_id"`
	FundID string       `json:"fund_id"`
	Amount money.Amount `json:"amount"`
}

// DealClosed: both tranches are in; the loan is opened.
type DealClosed struct {
	DealID string `json:"deal_id"`
}

// DealExpired: the deadline passed before the deal closed. Every bank
// commitment is released, and the equity tranche if it was committed.
type DealExpired struct {
	DealID         string       `json:"deal_id"`
	Released       []BankAmount `json:"released"`
	EquityReleased money.Amount `json:"equity_released"`
}

// Loan events (stream loan-<dealID>).

// LoanBank is one bank's part of a loan.
type LoanBank struct {
	BankID     string          `json:"bank_id"`
	Commitment money.Amount    `json:"commitment"`
	Share      decimal.Decimal `json:"share"`
}

type LoanOpened struct {
	LoanID       string      `json:"loan_id"` // the deal's ID
	BorrowerID   string      `json:"borrower_id"`
	LeadBankID   string      `json:"lead_bank_id"`
	EquityFundID string      `json:"equity_fund_id"`
	Terms        LoanTerms   `json:"terms"`
	Banks        []LoanBank  `json:"banks"`
	RiskSharing  RiskSharing `json:"risk_sharing"`
	Warrant      *Warrant    `json:"warrant,omitempty"`
}

// LoanDrawnDown is money disbursed to the borrower, split to the banks by
// what each has left to draw.
type LoanDrawnDown struct {
	LoanID       string       `json:"loan_id"`
	Amount       money.Amount `json:"amount"`
	Banks        []BankAmount `json:"banks"`
	DrawnAfter   money.Amount `json:"drawn_after"`
	UndrawnAfter money.Amount `json:"undrawn_after"`
}

// ScheduledPeriod is one period of a fixed schedule.
type ScheduledPeriod struct {
	// The period's number, from 1.
	Number int `json:"period"`
	// When the period falls due.
	Due time.Time `json:"due"`
	// What falls due: principal plus interest.
	Payment money.Amount `json:"payment"`
	// The principal part of the payment.
	Principal money.Amount `json:"principal"`
	// The interest part of the payment.
	Interest money.Amount `json:"interest"`
	// Principal still owed after the period's payment.
	Balance money.Amount `json:"balance"`
}

// ScheduleFixed fixes the repayment schedule on the principal drawn, once
// the loan is fully drawn or drawing ended; undrawn commitments are
// released. Since v2 it carries what the schedule is computed from — the
// principal, the first day, the terms and the rules that compute it —
// and not the periods (a 360-month schedule written out was 48 KiB an
// event); Schedule computes them. Events recorded as v1 carry their
// periods written out and no terms, and are read with those periods, so
// a v1 schedule stays exactly what was written.
type ScheduleFixed struct {
	LoanID string `json:"loan_id"`
	// The principal drawn, which the schedule repays.
	Principal money.Amount `json:"principal"`
	// The day the schedule starts (the schedule's disbursement day,
	// midnight UTC): period n falls due n months later (loan.DueDate).
	Start time.Time `json:"start"`
	// The annual interest rate, a fraction ("0.0435" for 4.35%); the
	// monthly rate is a twelfth of it. Absent in v1 events.
	AnnualRate decimal.Decimal `json:"annual_rate,omitzero"`
	// The loan's term in months. Absent in v1 events.
	Months int `json:"months,omitempty"`
	// How the loan is repaid. Absent in v1 events.
	Method loan.Method `json:"method,omitempty"`
	// Months at the start in which only interest is paid.
	InterestOnlyMonths int `json:"interest_only_months,omitempty"`
	// The rules that compute the periods from the terms (ScheduleRules
	// when written); absent in v1 events, which carry Periods.
	Rules string `json:"rules,omitempty"`
	// The periods as written by v1 events only; read them with Schedule.
	Periods []ScheduledPeriod `json:"periods,omitempty"`
	Undrawn []BankAmount      `json:"undrawn,omitempty"` // released, per bank
}

// PeriodPaid is what one repayment paid of one period.
type PeriodPaid struct {
	Number    int          `json:"period"`
	Interest  money.Amount `json:"interest"`
	Principal money.Amount `json:"principal"`
}

// BankRepayment is one bank's part of a repayment.
type BankRepayment struct {
	BankID    string       `json:"bank_id"`
	Fees      money.Amount `json:"fees"`
	Interest  money.Amount `json:"interest"`
	Principal money.Amount `json:"principal"`
}

// RepaymentReceived: applied to fees, then the interest and then the
// principal of the oldest period owed, and split to the banks: fees and
// interest by share, principal by what each has outstanding.
type RepaymentReceived struct {
	LoanID           string          `json:"loan_id"`
	Amount           money.Amount    `json:"amount"`
	Fees             money.Amount    `json:"fees"`
	Interest         money.Amount    `json:"interest"`
	Principal        money.Amount    `json:"principal"`
	Periods          []PeriodPaid    `json:"periods"`
	Banks            []BankRepayment `json:"banks"`
	OutstandingAfter money.Amount    `json:"outstanding_after"`
}

// FeeCharged adds a fee the borrower owes (late fee, arrangement fee).
type FeeCharged struct {
	LoanID string       `json:"loan_id"`
	Amount money.Amount `json:"amount"`
	Reason string       `json:"reason"`
}

// PeriodOverdue: a period was still unpaid after its due date.
type PeriodOverdue struct {
	LoanID      string       `json:"loan_id"`
	Number      int          `json:"period"`
	Due         time.Time    `json:"due"`
	Overdue     money.Amount `json:"overdue"` // unpaid interest and principal of the period
	DaysPastDue int          `json:"days_past_due"`
}

// ArrearsCleared: a repayment paid every period recorded overdue; the
// loan is no longer in arrears.
type ArrearsCleared struct {
	LoanID  string `json:"loan_id"`
	Through int    `json:"through_period"` // the last overdue period it paid
}

// EarlyRepaymentReceived prepays principal with the next period: that
// period's interest, then principal beyond its own. The schedule of what
// remains is recomputed (same method and end date) and written out.
type EarlyRepaymentReceived struct {
	LoanID           string            `json:"loan_id"`
	Amount           money.Amount      `json:"amount"`
	Period           int               `json:"period"`
	Interest         money.Amount      `json:"interest"`
	Principal        money.Amount      `json:"principal"`
	Full             bool              `json:"full"`
	Banks            []BankRepayment   `json:"banks"`
	OutstandingAfter money.Amount      `json:"outstanding_after"`
	Remaining        []ScheduledPeriod `json:"remaining"`
}

// LoanRepaid: nothing is owed any more; the loan is closed.
type LoanRepaid struct {
	LoanID string `json:"loan_id"`
}

// LossAllocation is who bears a default's loss, by the risk-sharing table.
type LossAllocation struct {
	// The banks' part of the loss.
	Banks money.Amount `json:"banks"`
	// The fund's part of the loss.
	Fund money.Amount `json:"fund"`
	// The risk compensation fund's (风险补偿资金池) part of the loss.
	RiskCompensationFund money.Amount `json:"risk_compensation_fund"`
	Insurer              money.Amount `json:"insurer"` // a claim on the guarantee cover
}

// LoanDefaulted: the lead bank declared a default; the loss (principal
// outstanding, interest due and fees) is allocated by the risk-sharing
// table, the banks' part by what each has outstanding. The loan is closed.
type LoanDefaulted struct {
	LoanID string `json:"loan_id"`
	Reason string `json:"reason"`
	// Principal outstanding at default.
	Principal money.Amount `json:"principal"`
	// Interest due at default.
	Interest money.Amount `json:"interest"`
	// Fees owed at default.
	Fees money.Amount `json:"fees"`
	// The whole loss: principal, interest and fees.
	Loss money.Amount `json:"loss"`
	// Who bears the loss, by the risk-sharing table.
	Allocation LossAllocation `json:"allocation"`
	// Each bank's part of the banks' loss, by what each had outstanding.
	BankLosses []BankAmount `json:"bank_losses"`
}

// LossAllocated is a default's loss as each party bears it, for the
// parties' books and claims: recorded with LoanDefaulted, self-contained
// (no need to fold the loan to know who the banks, the fund or the
// insurer are). The insurer's part is a claim on its guarantee cover.
type LossAllocated struct {
	LoanID     string         `json:"loan_id"`
	DealID     string         `json:"deal_id"` // the loan's deal (the same ID)
	BorrowerID string         `json:"borrower_id"`
	LeadBankID string         `json:"lead_bank_id"`
	Loss       money.Amount   `json:"loss"`
	Shares     RiskSharing    `json:"shares"`
	Allocation LossAllocation `json:"allocation"`
	BankLosses []BankAmount   `json:"bank_losses"`
	FundID     string         `json:"fund_id"`              // the equity fund, bearing Allocation.Fund
	InsurerID  string         `json:"insurer_id,omitempty"` // bearing Allocation.Insurer, if named
}

// WarrantExercised records the equity the warrant created: Amount at the
// strike valuation, ownership = amount / (strike + amount).
type WarrantExercised struct {
	LoanID string `json:"loan_id"`
	// The org that exercised it.
	HolderID string       `json:"holder_id"`
	Amount   money.Amount `json:"amount"`
	// The company valuation the shares were bought at.
	StrikeValuation money.Amount    `json:"strike_valuation"`
	Ownership       decimal.Decimal `json:"ownership"`
}

func (BankOnboarded) EventType() string          { return "bank.onboarded.v1" }
func (BankLimitsChanged) EventType() string      { return "bank.limits_changed.v1" }
func (ProgrammePublished) EventType() string     { return "bank.programme_published.v1" }
func (ProgrammeWithdrawn) EventType() string     { return "bank.programme_withdrawn.v1" }
func (ExposureReserved) EventType() string       { return "bank.exposure_reserved.v1" }
func (ExposureReleased) EventType() string       { return "bank.exposure_released.v1" }
func (DealProposed) EventType() string           { return "loan_deal.proposed.v1" }
func (BankInvited) EventType() string            { return "loan_deal.bank_invited.v1" }
func (BankCommitted) EventType() string          { return "loan_deal.bank_committed.v1" }
func (BankDeclined) EventType() string           { return "loan_deal.bank_declined.v1" }
func (BookClosed) EventType() string             { return "loan_deal.book_closed.v1" }
func (EquityTrancheCommitted) EventType() string { return "loan_deal.equity_committed.v1" }
func (DealClosed) EventType() string             { return "loan_deal.closed.v1" }
func (DealExpired) EventType() string            { return "loan_deal.expired.v1" }
func (LoanOpened) EventType() string             { return "loan.opened.v1" }
func (LoanDrawnDown) EventType() string          { return "loan.drawn_down.v1" }
func (ScheduleFixed) EventType() string          { return "loan.schedule_fixed.v2" }
func (RepaymentReceived) EventType() string      { return "loan.repayment_received.v1" }
func (FeeCharged) EventType() string             { return "loan.fee_charged.v1" }
func (PeriodOverdue) EventType() string          { return "loan.period_overdue.v1" }
func (ArrearsCleared) EventType() string         { return "loan.arrears_cleared.v1" }
func (EarlyRepaymentReceived) EventType() string { return "loan.early_repayment_received.v1" }
func (LoanRepaid) EventType() string             { return "loan.repaid.v1" }
func (LoanDefaulted) EventType() string          { return "loan.defaulted.v1" }
func (LossAllocated) EventType() string          { return "loan.loss_allocated.v1" }
func (WarrantExercised) EventType() string       { return "loan.warrant_exercised.v1" }

// Register adds the deals service's event types to r.
func Register(r *events.Registry) {
	events.Register[BankOnboarded](r, BankOnboarded{}.EventType())
	events.Register[BankLimitsChanged](r, BankLimitsChanged{}.EventType())
	events.Register[ProgrammePublished](r, ProgrammePublished{}.EventType())
	events.Register[ProgrammeWithdrawn](r, ProgrammeWithdrawn{}.EventType())
	events.Register[ExposureReserved](r, ExposureReserved{}.EventType())
	events.Register[ExposureReleased](r, ExposureReleased{}.EventType())
	events.Register[DealProposed](r, DealProposed{}.EventType())
	events.Register[BankInvited](r, BankInvited{}.EventType())
	events.Register[BankCommitted](r, BankCommitted{}.EventType())
	events.Register[BankDeclined](r, BankDeclined{}.EventType())
	events.Register[BookClosed](r, BookClosed{}.EventType())
	events.Register[EquityTrancheCommitted](r, EquityTrancheCommitted{}.EventType())
	events.Register[DealClosed](r, DealClosed{}.EventType())
	events.Register[DealExpired](r, DealExpired{}.EventType())
	events.Register[LoanOpened](r, LoanOpened{}.EventType())
	events.Register[LoanDrawnDown](r, LoanDrawnDown{}.EventType())
	events.Register[ScheduleFixed](r, ScheduleFixed{}.EventType())
	r.Upcast(ScheduleFixedV1, ScheduleFixed{}.EventType(), upcastScheduleFixedV1)
	events.Register[RepaymentReceived](r, RepaymentReceived{}.EventType())
	events.Register[FeeCharged](r, FeeCharged{}.EventType())
	events.Register[PeriodOverdue](r, PeriodOverdue{}.EventType())
	events.Register[ArrearsCleared](r, ArrearsCleared{}.EventType())
	events.Register[EarlyRepaymentReceived](r, EarlyRepaymentReceived{}.EventType())
	events.Register[LoanRepaid](r, LoanRepaid{}.EventType())
	events.Register[LoanDefaulted](r, LoanDefaulted{}.EventType())
	events.Register[LossAllocated](r, LossAllocated{}.EventType())
	events.Register[WarrantExercised](r, WarrantExercised{}.EventType())
}
