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
	DealID     string       `json:"deal_id"`
	BorrowerID string       `json:"borrower_id"`
	Amount     money.Amount `json:"amount"`
}

// BankView is a bank in the programme with its limits and exposure.
type BankView struct {
	BankID              string         `json:"bank_id"`
	Name                string         `json:"name"`
	CreditLimit         money.Amount   `json:"credit_limit"`
	SingleBorrowerLimit money.Amount   `json:"single_borrower_limit"`
	Exposure            money.Amount   `json:"exposure"`
	Programmes          []Programme    `json:"programmes"`
	Exposures           []ExposureView `json:"exposures"`
	OnboardedAt         time.Time      `json:"onboarded_at"`
	UpdatedAt           time.Time      `json:"updated_at"`
	Version             uint64         `json:"version"`
}

// DealBankView is one bank's line in a deal's book. The borrower sees the
// banks other than the lead as "bank 2", "bank 3".
type DealBankView struct {
	BankID    string           `json:"bank_id"`
	Status    CommitmentStatus `json:"status"`
	Committed money.Amount     `json:"committed"`
	Allocated money.Amount     `json:"allocated"`
	Share     decimal.Decimal  `json:"share"`
	Reason    string           `json:"reason,omitempty"`
}

// DealView is a deal as its reader may see it: a bank invited to it its
// own line only, the fund's manager no book at all.
type DealView struct {
	DealProposed
	Status         DealStatus     `json:"status"`
	Banks          []DealBankView `json:"banks"`
	Committed      money.Amount   `json:"committed"`
	BookClosed     bool           `json:"book_closed"`
	Oversubscribed bool           `json:"oversubscribed"`
	EquityIn       bool           `json:"equity_in"`
	ProposedAt     time.Time      `json:"proposed_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	Version        uint64         `json:"version"`
}

// DealList is a page of deals.
type DealList struct {
	Items      []DealView `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// LoanBankView is one bank's part of a loan.
type LoanBankView struct {
	BankID          string          `json:"bank_id"`
	Commitment      money.Amount    `json:"commitment"`
	Share           decimal.Decimal `json:"share"`
	Drawn           money.Amount    `json:"drawn"`
	PrincipalRepaid money.Amount    `json:"principal_repaid"`
	Outstanding     money.Amount    `json:"outstanding"`
	InterestPaid    money.Amount    `json:"interest_paid"`
	FeesPaid        money.Amount    `json:"fees_paid"`
	Loss            money.Amount    `json:"loss"`
}

// InstallmentView is one period of the schedule and what is paid of it.
type InstallmentView struct {
	ScheduledPeriod
	PaidInterest  money.Amount `json:"paid_interest"`
	PaidPrincipal money.Amount `json:"paid_principal"`
	Overdue       bool         `json:"overdue"`
}

// LoanView is a loan in servicing as its reader may see it.
type LoanView struct {
	LoanID          string            `json:"loan_id"`
	BorrowerID      string            `json:"borrower_id"`
	LeadBankID      string            `json:"lead_bank_id"`
	EquityFundID    string            `json:"equity_fund_id"`
	Terms           LoanTerms         `json:"terms"`
	RiskSharing     RiskSharing       `json:"risk_sharing"`
	Warrant         *Warrant          `json:"warrant,omitempty"`
	Banks           []LoanBankView    `json:"banks"`
	Status          LoanStatus        `json:"status"`
	Drawn           money.Amount      `json:"drawn"`
	Undrawn         money.Amount      `json:"undrawn"`
	PrincipalRepaid money.Amount      `json:"principal_repaid"`
	Outstanding     money.Amount      `json:"outstanding"`
	FeesOwed        money.Amount      `json:"fees_owed"`
	Arrears         money.Amount      `json:"arrears"`
	DaysPastDue     int               `json:"days_past_due"`
	Start           *time.Time        `json:"start,omitempty"`
	Schedule        []InstallmentView `json:"schedule"`
	Default         *LoanDefaulted    `json:"default,omitempty"`
	Exercised       *WarrantExercised `json:"warrant_exercised,omitempty"`
	OpenedAt        time.Time         `json:"opened_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	Version         uint64            `json:"version"`
}

// LoanList is a page of loans.
type LoanList struct {
	Items      []LoanView `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// SchedulePreview is a schedule computed for terms not (yet) agreed.
type SchedulePreview struct {
	Terms loan.Terms `json:"terms"`
	loan.Schedule
}
