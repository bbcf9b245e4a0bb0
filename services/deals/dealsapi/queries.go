package dealsapi

import (
	"fmt"
	"strconv"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
	"github.com/fundbridge/fundbridge/services/svc/check"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
)

// List sizes.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// BankRef names a bank: its detail, its book.
type BankRef struct {
	BankID string `json:"bank_id"`
	After  uint64 `json:"after,omitempty"`
}

func (q BankRef) Validate() error {
	var fe fieldErrors
	fe.ID("bank_id", q.BankID, maxIDLength, true)
	return fe.Err("invalid bank")
}

// ListBanks asks for the banks onboarded on the platform, by name: the
// banks a lead bank may invite into a syndicate.
type ListBanks struct {
	After uint64 `json:"after,omitempty"`
}

// Validate has nothing to check: the query has no filters.
func (q ListBanks) Validate() error { return nil }

// GetDeal reads one deal.
type GetDeal struct {
	DealID string `json:"deal_id"`
	After  uint64 `json:"after,omitempty"`
}

func (q GetDeal) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", q.DealID, maxIDLength, true)
	return fe.Err("invalid deal")
}

// GetLoan reads one loan.
type GetLoan struct {
	LoanID string `json:"loan_id"`
	After  uint64 `json:"after,omitempty"`
}

func (q GetLoan) Validate() error {
	var fe fieldErrors
	fe.ID("loan_id", q.LoanID, maxIDLength, true)
	return fe.Err("invalid loan")
}

// ListDeals lists the deals the caller may see, newest first.
type ListDeals struct {
	Status     DealStatus `json:"status,omitempty"`
	BorrowerID string     `json:"borrower_id,omitempty"`
	Sort       string     `json:"sort,omitempty"` // only the default order, newest first
	Limit      int        `json:"limit,omitempty"`
	Cursor     string     `json:"cursor,omitempty"`
	After      uint64     `json:"after,omitempty"`
}

// DealStatuses and LoanStatuses are the values the list filters take.
var (
	DealStatuses = []DealStatus{StatusSyndicating, StatusClosed, StatusExpired}
	LoanStatuses = []LoanStatus{StatusAwaitingDrawdown, StatusRepaying, StatusRepaid, StatusDefaulted}
)

func (q ListDeals) Validate() error {
	var fe fieldErrors
	check.Enum(&fe.Fields, "status", q.Status, DealStatuses, false)
	if q.BorrowerID != "" {
		fe.Ref("borrower_id", q.BorrowerID, maxRefLength)
	}
	listChecks(&fe, q.Sort, q.Limit, q.Cursor)
	return fe.Err("invalid query")
}

// ListLoans lists the loans the caller may see, newest first.
type ListLoans struct {
	Status     LoanStatus `json:"status,omitempty"`
	BorrowerID string     `json:"borrower_id,omitempty"`
	Sort       string     `json:"sort,omitempty"`
	Limit      int        `json:"limit,omitempty"`
	Cursor     string     `json:"cursor,omitempty"`
	After      uint64     `json:"after,omitempty"`
}

func (q ListLoans) Validate() error {
	var fe fieldErrors
	check.Enum(&fe.Fields, "status", q.Status, LoanStatuses, false)
	if q.BorrowerID != "" {
		fe.Ref("borrower_id", q.BorrowerID, maxRefLength)
	}
	listChecks(&fe, q.Sort, q.Limit, q.Cursor)
	return fe.Err("invalid query")
}

func listChecks(fe *fieldErrors, sort string, limit int, c string) {
	if sort != "" && sort != "-proposed_at" {
		fe.Add("sort", `must be "-proposed_at" (newest first), the only order`)
	}
	fe.Limit(limit, MaxListLimit, DefaultListLimit)
	if c != "" {
		if err := cursor.WellFormed(c); err != nil {
			fe.Add("cursor", "not a cursor this service issued")
		}
	}
}

// PreviewSchedule asks for the schedule of terms. Every parameter is a
// query string as typed; Terms reads them by the calculator's rules.
type PreviewSchedule struct {
	// The loan's principal, CNY as a decimal string with at most two places.
	Principal string `json:"principal"`
	// The annual interest rate as a decimal fraction, "0.0435" for 4.35%; at
	// most 0.24.
	AnnualRate string `json:"annual_rate"`
	// The loan's term in months.
	Months string `json:"months"`
	// How the loan is repaid.
	Method string `json:"method"`
	// Months at the start in which only interest is paid.
	InterestOnlyMonths string `json:"interest_only_months,omitempty"`
}

func (q PreviewSchedule) Validate() error {
	_, err := q.Terms()
	return err
}

// Terms reads the terms, naming every bad parameter once.
func (q PreviewSchedule) Terms() (loan.Terms, error) {
	var fe fieldErrors
	t := loan.Terms{Method: loan.Method(q.Method)}
	switch p, err := money.Parse("principal", q.Principal); {
	case q.Principal == "":
		fe.Add("principal", "required: the amount lent, like 1000000.00")
	case err != nil:
		fe.merge(fundbridge.ErrorFields(err))
	default:
		t.Principal = p
	}
	if q.AnnualRate == "" {
		fe.Add("annual_rate", `required: a fraction like "0.0435" for 4.35%`)
	} else if r, reason := loan.ParseRate(q.AnnualRate); reason != "" {
		fe.Add("annual_rate", reason)
	} else {
		t.AnnualRate = r
	}
	t.Months = wholeMonths(&fe, "months", q.Months, true)
	t.InterestOnlyMonths = wholeMonths(&fe, "interest_only_months", q.InterestOnlyMonths, false)
	var more fundbridge.FieldErrors
	t.Check(&more, "")
	fe.merge(more)
	if err := fe.Err("invalid loan terms"); err != nil {
		return loan.Terms{}, err
	}
	return t, nil
}

func wholeMonths(fe *fieldErrors, field, s string, required bool) int {
	if s == "" {
		if required {
			fe.Add(field, fmt.Sprintf("required: a number of months, 1 to %d", loan.MaxMonths))
		}
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || len(s) > 4 {
		fe.Add(field, fmt.Sprintf("%q is not a whole number of months", s))
		return 0
	}
	return n
}

// ForActor lets a bank commit for itself without naming itself.
func (c CommitToDeal) ForActor(a fundbridge.Actor) (CommitToDeal, error) {
	if c.BankID == "" && a.Role == fundbridge.RoleBank {
		c.BankID = a.OrgID
	}
	return c, nil
}

// ForActor lets a bank decline for itself without naming itself.
func (c DeclineDeal) ForActor(a fundbridge.Actor) (DeclineDeal, error) {
	if c.BankID == "" && a.Role == fundbridge.RoleBank {
		c.BankID = a.OrgID
	}
	return c, nil
}

// BankBook is what a bank's credit officer watches: exposure against both
// limits, what it lent and has outstanding, what falls due in the next 30
// days, what is in arrears and what was lost. Every loan figure is the
// bank's own part, split as a repayment of it would be.
type BankBook struct {
	BankID string `json:"bank_id"`
	// The bank's credit limit: the most it may have at risk across all
	// borrowers.
	CreditLimit money.Amount `json:"credit_limit"`
	// The most the bank may have at risk with any one borrower.
	SingleBorrowerLimit money.Amount `json:"single_borrower_limit"`
	// What the bank has at risk: its live commitments plus its outstanding
	// principal.
	Exposure       money.Amount `json:"exposure"`
	CreditHeadroom money.Amount `json:"credit_headroom"` // negative when a lowered limit is exceeded
	// The bank's exposure to each borrower against the single-borrower limit.
	Borrowers []BorrowerExposure `json:"borrowers"`
	// The bank's part of every drawdown so far.
	Disbursed money.Amount `json:"disbursed"`
	// The bank's part of the principal still owed.
	Outstanding money.Amount `json:"outstanding"`
	// The bank's part of the periods falling due in the next 30 days (China
	// time).
	DueSoon []BookDue `json:"due_next_30_days"`
	// The bank's part of the periods past due and unpaid.
	Arrears []BookDue `json:"arrears"`
	// The bank's part of losses on defaulted loans.
	Losses money.Amount `json:"losses"`
}

// BorrowerExposure is the bank's exposure to one company against its
// single-borrower limit.
type BorrowerExposure struct {
	BorrowerID string `json:"borrower_id"`
	// The company's name as it registered it; absent if unknown.
	BorrowerName string `json:"borrower_name,omitempty"`
	// The bank's exposure to this borrower.
	Exposure money.Amount `json:"exposure"`
	// What the bank may still commit to this borrower: its single-borrower limit
	// less the exposure.
	Headroom money.Amount `json:"headroom"`
}

// BookDue is the bank's part of one period owed.
type BookDue struct {
	LoanID string `json:"loan_id"`
	// The loan's borrower: a credit officer chases a company, not a loan.
	BorrowerID string `json:"borrower_id"`
	// The borrower's name as it registered it; absent if unknown.
	BorrowerName string `json:"borrower_name,omitempty"`
	// The period's number, from 1.
	Period int `json:"period"`
	// When the period falls due.
	Due    time.Time    `json:"due"`
	Amount money.Amount `json:"amount"`
	// Days since the due date (China calendar days); absent when not yet due.
	DaysPastDue int    `json:"days_past_due,omitempty"`
	Bucket      string `json:"bucket,omitempty"` // "1-30", "31-60", "61-90", "90+"
}
