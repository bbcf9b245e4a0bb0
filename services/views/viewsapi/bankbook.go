package viewsapi

import (
	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/projections"
)

// BankBookQuery asks for a bank's book; a bank may leave out its own ID.
type BankBookQuery struct {
	BankID string `json:"bank_id,omitempty" jsonschema_description:"The bank (its org ID). A bank sees only its own book and may leave this out; an operator names any bank."`
	AsOf   string `json:"as_of,omitempty" jsonschema_description:"The book as it stood by the end of this China day (YYYY-MM-DD) or at this RFC 3339 time, its dues and arrears counted on that day: the log folded up to then."`
	After  uint64 `json:"after,omitempty" jsonschema_description:"Wait (at most 5 s) until the view has folded the log up to this position: pass a command's Fundbridge-Position to see your own write."`
}

// ForActor makes a bank's omitted bank its own.
func (q BankBookQuery) ForActor(a fundbridge.Actor) (BankBookQuery, error) {
	if q.BankID == "" && a.Role == fundbridge.RoleBank {
		q.BankID = a.OrgID
	}
	return q, nil
}

// Validate names every bad field.
func (q BankBookQuery) Validate() error {
	if q.BankID == "" {
		return fundbridge.Invalid("no bank", fundbridge.FieldError{Field: "bank_id", Reason: "required"})
	}
	_, err := projections.ParseAsOf("as_of", q.AsOf)
	return err
}

// BankBookResult is a bank's book on today's China date: its limits and
// exposure, what it lent, what falls due and what is in arrears, its
// losses and the guarantee's recovery; Items has one line per deal it
// was invited to (the CSV).
type BankBookResult struct {
	BankID              string          `json:"bank_id"`
	Name                string          `json:"name"`
	On                  string          `json:"on" jsonschema_description:"The China date (UTC+8) the dues and arrears are counted on: YYYY-MM-DD."`
	CreditLimit         money.Amount    `json:"credit_limit" jsonschema_description:"The bank's credit limit for this programme: its exposure over all deals may not pass it."`
	SingleBorrowerLimit money.Amount    `json:"single_borrower_limit" jsonschema_description:"The most the bank may be exposed to one company over all its deals."`
	Exposure            money.Amount    `json:"exposure" jsonschema_description:"Exposure reserved for live commitments plus principal outstanding: what counts against both limits."`
	CreditHeadroom      money.Amount    `json:"credit_headroom" jsonschema_description:"Credit limit minus exposure; negative when a lowered limit is exceeded."`
	CreditUsed          string          `json:"credit_used" jsonschema_description:"Exposure divided by the credit limit, a fraction with 4 places; \"0\" when the limit is 0."`
	Borrowers           []BorrowerLimit `json:"borrowers" jsonschema_description:"Exposure per company against the single-borrower limit, largest first; companies with no exposure left are not listed."`
	OpenCommitments     int             `json:"open_commitments" jsonschema_description:"Commitments in deals whose book is still open (syndicating): not yet allocated, expired or declined."`
	Committed           money.Amount    `json:"committed" jsonschema_description:"The amount of those open commitments."`
	Disbursed           money.Amount    `json:"disbursed" jsonschema_description:"Principal the bank has disbursed over all its loans, its own part of every drawdown."`
	Outstanding         money.Amount    `json:"outstanding" jsonschema_description:"Principal disbursed and not repaid, over all the bank's loans (as the deals service's own book counts it)."`
	Defaulted           money.Amount    `json:"outstanding_defaulted" jsonschema_description:"Of outstanding, the principal of loans in default (the bank's share of their loss is in losses)."`
	DueNext30Days       money.Amount    `json:"due_next_30_days" jsonschema_description:"The bank's part of principal and interest unpaid of periods falling due from today to 30 days ahead, both China dates included."`
	DueNext30Periods    int             `json:"due_next_30_days_periods" jsonschema_description:"How many (loan, period) pairs make up due_next_30_days."`
	Arrears             []ArrearsBucket `json:"arrears" jsonschema_description:"Loans with a period unpaid after its due date, by the days past due of their oldest unpaid period (1-30, 31-60, 61-90, 90+), always all four buckets."`
	Losses              money.Amount    `json:"losses" jsonschema_description:"The bank's share of defaults' losses by the deals' risk-sharing tables."`
	RecoveryExpected    money.Amount    `json:"recovery_expected" jsonschema_description:"The bank's part of the insurer's share of defaults' losses, which the guarantee cover is to pay (split as the banks' losses are); only what was paid once a claim is denied."`
	RecoveryReceived    money.Amount    `json:"recovery_received" jsonschema_description:"What guarantee claims have paid the bank so far."`
	Items               []BankBookLine  `json:"items" jsonschema_description:"One line per deal the bank was invited to, in the order it was invited."`
	Position            uint64          `json:"position" jsonschema_description:"The log position the answer reflects."`
}

// BorrowerLimit is a bank's exposure to one company.
type BorrowerLimit struct {
	BorrowerID string       `json:"borrower_id"`
	Exposure   money.Amount `json:"exposure" jsonschema_description:"The bank's exposure to the company: reserved for live commitments plus principal outstanding, over all its deals."`
	Headroom   money.Amount `json:"headroom" jsonschema_description:"Single-borrower limit minus exposure; negative when exceeded."`
}

// ArrearsBucket is the loans in arrears for one band of days past due.
type ArrearsBucket struct {
	Bucket string       `json:"bucket" jsonschema:"enum=1-30,enum=31-60,enum=61-90,enum=90+" jsonschema_description:"Days past due of the oldest unpaid period, counted in China days from the day after it fell due."`
	Loans  int          `json:"loans" jsonschema_description:"How many of the bank's loans are in this bucket."`
	Amount money.Amount `json:"amount" jsonschema_description:"The bank's part of everything overdue on those loans."`
}

// BankBookLine is the bank's part of one deal.
type BankBookLine struct {
	DealID           string       `json:"deal_id" jsonschema_description:"The loan-plus-equity deal; its loan has the same ID."`
	BorrowerID       string       `json:"borrower_id"`
	DealStatus       string       `json:"deal_status" jsonschema_description:"syndicating, closed or expired; once the loan opened: awaiting_drawdown, repaying, repaid or defaulted."`
	Commitment       string       `json:"commitment" jsonschema_description:"Where the bank stands in the syndication: invited, committed, declined, allocated or released."`
	Committed        money.Amount `json:"committed" jsonschema_description:"What the bank committed."`
	Allocated        money.Amount `json:"allocated" jsonschema_description:"Its part of the closed book (scaled back pro rata when oversubscribed)."`
	Exposure         money.Amount `json:"exposure" jsonschema_description:"Exposure reserved for this deal minus released: the live commitment, then the principal outstanding."`
	Disbursed        money.Amount `json:"disbursed" jsonschema_description:"The bank's part of the loan paid out to the borrower."`
	PrincipalRepaid  money.Amount `json:"principal_repaid" jsonschema_description:"The bank's part of the principal repaid."`
	InterestReceived money.Amount `json:"interest_received" jsonschema_description:"The bank's part of the interest paid."`
	Outstanding      money.Amount `json:"outstanding" jsonschema_description:"Disbursed minus principal repaid."`
	DueNext30Days    money.Amount `json:"due_next_30_days" jsonschema_description:"The bank's part of what falls due from today to 30 China days ahead, inclusive, and is not yet paid."`
	NextDue          string       `json:"next_due,omitempty" jsonschema_description:"The due date (YYYY-MM-DD) of the first unpaid period from today on, if within 30 days."`
	Overdue          money.Amount `json:"overdue" jsonschema_description:"The bank's part of what fell due before today and is not paid."`
	DaysPastDue      int          `json:"days_past_due" jsonschema_description:"Of the oldest unpaid period past its due date; 0 when nothing is overdue."`
	Bucket           string       `json:"bucket,omitempty" jsonschema_description:"The arrears bucket of days_past_due; empty when nothing is overdue."`
	Loss             money.Amount `json:"loss" jsonschema_description:"The bank's share of the loss if the loan defaulted, by the deal's risk-sharing table; 0 otherwise."`
	RecoveryExpected money.Amount `json:"recovery_expected" jsonschema_description:"The bank's part of the insurer's share of the loss, which the guarantee cover is to pay; only what was paid once the claim is denied."`
	RecoveryReceived money.Amount `json:"recovery_received" jsonschema_description:"What guarantee claims have paid the bank on this deal so far."`
}
