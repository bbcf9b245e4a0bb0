package dealsapi

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
)

// The replies of the deals service: what a caller reads back, already cut
// to what the caller may see (another bank's identity and figures are not
// in it).

// ExposureView is what a bank carries for one deal.
type ExposureView struct {
	DealID     string `json:"deal_id"`
	BorrowerID string `json:"borrower_id"`
	// The borrowing company's name as it registered it; absent if unknown.
	BorrowerName string       `json:"borrower_name,omitempty"`
	Amount       money.Amount `json:"amount"`
}

// BankView is a bank in the programme with its limits and exposure.
type BankView struct {
	BankID string `json:"bank_id"`
	Name   string `json:"name"`
	// The bank's credit limit: the most it may have at risk across all
	// borrowers.
	CreditLimit money.Amount `json:"credit_limit"`
	// The most the bank may have at risk with any one borrower.
	SingleBorrowerLimit money.Amount `json:"single_borrower_limit"`
	// What the bank has at risk: its live commitments plus its outstanding
	// principal.
	Exposure money.Amount `json:"exposure"`
	// The programmes the bank has published: what it lends to.
	Programmes []Programme `json:"programmes"`
	// The bank's exposure by borrower.
	Exposures []ExposureView `json:"exposures"`
	// When an operator onboarded the bank.
	OnboardedAt time.Time `json:"onboarded_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     uint64    `json:"version"`
}

// DealBankView is one bank's line in a deal's book. The borrower sees the
// banks other than the lead as "bank 2", "bank 3".
type DealBankView struct {
	BankID string `json:"bank_id"`
	// The bank's name; absent where the bank is unnamed ("bank 2").
	BankName string           `json:"bank_name,omitempty"`
	Status   CommitmentStatus `json:"status"`
	// What the bank committed.
	Committed money.Amount `json:"committed"`
	// The part of the loan the bank gets once the book closes: its commitment,
	// scaled back pro rata when the book is oversubscribed (largest remainder to
	// the fen).
	Allocated money.Amount `json:"allocated"`
	// allocated / the loan's principal, a decimal fraction.
	Share  decimal.Decimal `json:"share"`
	Reason string          `json:"reason,omitempty"`
}

// DealView is a deal as its reader may see it: a bank invited to it its
// own line only, the fund's manager no book at all.
type DealView struct {
	DealProposed
	// The borrowing company's name as it registered it; absent if unknown.
	BorrowerName string `json:"borrower_name,omitempty"`
	// The lead bank's name.
	LeadBankName string     `json:"lead_bank_name,omitempty"`
	Status       DealStatus `json:"status"`
	// The banks invited and their lines in the book (the borrower sees banks
	// other than the lead as "bank 2", "bank 3").
	Banks []DealBankView `json:"banks"`
	// What the banks committed, in total.
	Committed money.Amount `json:"committed"`
	// Whether the banks' commitments reached the loan's principal.
	BookClosed bool `json:"book_closed"`
	// Whether the banks committed more than the loan: their lines were scaled
	// back.
	Oversubscribed bool `json:"oversubscribed"`
	// Whether the fund's equity tranche is committed to the deal: false
	// again once an expiry released it.
	EquityIn bool `json:"equity_in"`
	// Whether the deal expired with the tranche committed, releasing it.
	EquityReleased bool `json:"equity_released"`
	// When the lead bank proposed the deal.
	ProposedAt time.Time `json:"proposed_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Version    uint64    `json:"version"`
}

// BankDirectory is every bank onboarded on the platform, by name.
type BankDirectory struct {
	Items []BankEntry `json:"items"`
}

// BankEntry is a bank as any other bank may know it: its ID and name,
// nothing of its limits, programmes or book.
type BankEntry struct {
	BankID string `json:"bank_id"`
	Name   string `json:"name"`
}

// DealList is a page of deals.
type DealList struct {
	Items      []DealView `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// LoanBankView is one bank's part of a loan.
type LoanBankView struct {
	BankID string `json:"bank_id"`
	// The bank's name; absent where the bank is unnamed ("bank 2").
	BankName string `json:"bank_name,omitempty"`
	// The bank's part of the loan.
	Commitment money.Amount `json:"commitment"`
	// The bank's share of the loan, a decimal fraction: repayments and losses
	// split by it.
	Share decimal.Decimal `json:"share"`
	// The bank's part of every drawdown.
	Drawn money.Amount `json:"drawn"`
	// Principal repaid to the bank.
	PrincipalRepaid money.Amount `json:"principal_repaid"`
	// The bank's part of the principal still owed.
	Outstanding money.Amount `json:"outstanding"`
	// Interest paid to the bank.
	InterestPaid money.Amount `json:"interest_paid"`
	// Fees paid to the bank.
	FeesPaid money.Amount `json:"fees_paid"`
	// The bank's loss if the loan defaulted.
	Loss money.Amount `json:"loss"`
}

// InstallmentView is one period of the schedule and what is paid of it.
type InstallmentView struct {
	ScheduledPeriod
	// What was paid of the period's interest.
	PaidInterest money.Amount `json:"paid_interest"`
	// What was paid of the period's principal.
	PaidPrincipal money.Amount `json:"paid_principal"`
	// Whether the period is past due and not paid in full.
	Overdue bool `json:"overdue"`
}

// LoanView is a loan in servicing as its reader may see it.
type LoanView struct {
	LoanID     string `json:"loan_id"`
	BorrowerID string `json:"borrower_id"`
	// The borrowing company's name as it registered it; absent if unknown.
	BorrowerName string `json:"borrower_name,omitempty"`
	LeadBankID   string `json:"lead_bank_id"`
	// The lead bank's name.
	LeadBankName string `json:"lead_bank_name,omitempty"`
	EquityFundID string `json:"equity_fund_id"`
	// The loan as agreed.
	Terms LoanTerms `json:"terms"`
	// Who bears a default's loss, as fractions summing to 1.
	RiskSharing RiskSharing `json:"risk_sharing"`
	// The warrant that comes with the loan, if any.
	Warrant *Warrant `json:"warrant,omitempty"`
	// Each bank's part of the loan.
	Banks  []LoanBankView `json:"banks"`
	Status LoanStatus     `json:"status"`
	// Principal drawn so far.
	Drawn money.Amount `json:"drawn"`
	// Principal not yet drawn.
	Undrawn money.Amount `json:"undrawn"`
	// Principal repaid so far.
	PrincipalRepaid money.Amount `json:"principal_repaid"`
	// Principal still owed.
	Outstanding money.Amount `json:"outstanding"`
	// Fees charged and not yet paid.
	FeesOwed money.Amount `json:"fees_owed"`
	// What is past due and unpaid.
	Arrears money.Amount `json:"arrears"`
	// Days since the oldest unpaid due date (China calendar days); 0 when
	// nothing is overdue.
	DaysPastDue int `json:"days_past_due"`
	// When the schedule was fixed (its first period starts then); absent before.
	Start *time.Time `json:"start,omitempty"`
	// The repayment schedule and what is paid of each period; empty until it is
	// fixed.
	Schedule []InstallmentView `json:"schedule"`
	// The default, if the lead bank declared one. The equity fund's manager
	// sees it without each bank's loss; a warrant holder outside the loan
	// does not see it.
	Default *LoanDefaulted `json:"default,omitempty"`
	// The equity the warrant created, if it was exercised.
	Exercised *WarrantExercised `json:"warrant_exercised,omitempty"`
	// When the deal closed and the loan opened.
	OpenedAt  time.Time `json:"opened_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   uint64    `json:"version"`
}

// LoanList is a page of loans.
type LoanList struct {
	Items      []LoanView `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// SchedulePreview is a schedule computed for terms not (yet) agreed.
type SchedulePreview struct {
	// The terms the schedule was computed from.
	Terms loan.Terms `json:"terms"`
	loan.Schedule
}
