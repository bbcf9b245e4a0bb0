package dealsapi

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
	"github.com/fundbridge/fundbridge/services/svc/check"
)

// The commands of the deals service. Rates and fractions are strings on
// the wire ("0.0435"): decimal.Decimal would also accept a JSON number,
// and numbers are how fractions go wrong. Validate names every bad field
// by its JSON path; rules that need state (limits, deadlines, who may)
// are the deciders'.

// OnboardBank adds a bank to the programme (operators). BankID is the
// bank's org.
type OnboardBank struct {
	BankID string `json:"bank_id"`
	Name   string `json:"name"`
	// The bank's credit limit: the most it may have at risk across all
	// borrowers.
	CreditLimit money.Amount `json:"credit_limit"`
	// The most the bank may have at risk with any one borrower; at most the
	// credit limit.
	SingleBorrowerLimit money.Amount `json:"single_borrower_limit"`
}

func (c OnboardBank) Validate() error {
	var fe fieldErrors
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	fe.Line("name", c.Name, maxNameLength, true)
	fe.limits(c.CreditLimit, c.SingleBorrowerLimit)
	return fe.Err("invalid bank")
}

// SetBankLimits changes a bank's limits. Lowering one below the bank's
// exposure is allowed: it refuses new commitments, not what is lent.
type SetBankLimits struct {
	BankID string `json:"bank_id"`
	// The new credit limit.
	CreditLimit money.Amount `json:"credit_limit"`
	// The new single-borrower limit; at most the credit limit.
	SingleBorrowerLimit money.Amount `json:"single_borrower_limit"`
}

func (c SetBankLimits) Validate() error {
	var fe fieldErrors
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	fe.limits(c.CreditLimit, c.SingleBorrowerLimit)
	return fe.Err("invalid limits")
}

// PublishProgramme publishes, or replaces, one of a bank's lending
// programmes.
type PublishProgramme struct {
	BankID string `json:"bank_id"`
	Programme
}

func (c PublishProgramme) Validate() error {
	var fe fieldErrors
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	fe.ID("programme_id", c.ProgrammeID, maxIDLength, true)
	fe.Line("name", c.Name, maxNameLength, true)
	if len(c.Stages) == 0 {
		fe.Add("stages", "at least one stage is required")
	}
	check.EnumList(&fe.Fields, "stages", c.Stages, fundbridge.Stages)
	check.EnumList(&fe.Fields, "layers", c.Layers, fundbridge.Layers)
	check.EnumList(&fe.Fields, "sectors", c.Sectors, fundbridge.AllSectors())
	check.EnumList(&fe.Fields, "cities", c.Cities, fundbridge.Cities)
	minOK := fe.Amount("loan_min", c.LoanMin, maxAmount())
	maxOK := fe.Amount("loan_max", c.LoanMax, maxAmount())
	if minOK && maxOK && c.LoanMax.LessThan(c.LoanMin) {
		fe.Add("loan_max", "must be at least loan_min "+c.LoanMin.String())
	}
	if c.MaxMonths < 1 || c.MaxMonths > loan.MaxMonths {
		fe.Add("max_months", fmt.Sprintf("%d is outside 1 to %d months", c.MaxMonths, loan.MaxMonths))
	}
	return fe.Err("invalid programme")
}

type WithdrawProgramme struct {
	BankID string `json:"bank_id"`
	// The programme to withdraw.
	ProgrammeID string `json:"programme_id"`
}

func (c WithdrawProgramme) Validate() error {
	var fe fieldErrors
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	fe.ID("programme_id", c.ProgrammeID, maxIDLength, true)
	return fe.Err("invalid withdrawal")
}

// ReserveExposure takes on exposure for a deal (the platform, as a bank
// commits); refused beyond either of the bank's limits.
type ReserveExposure struct {
	BankID     string       `json:"bank_id"`
	DealID     string       `json:"deal_id"`
	BorrowerID string       `json:"borrower_id"`
	Amount     money.Amount `json:"amount"`
}

func (c ReserveExposure) Validate() error {
	var fe fieldErrors
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.Ref("borrower_id", c.BorrowerID, maxRefLength)
	fe.Amount("amount", c.Amount, maxAmount())
	return fe.Err("invalid reservation")
}

// ReleaseExposure gives exposure back (the platform).
type ReleaseExposure struct {
	BankID string       `json:"bank_id"`
	DealID string       `json:"deal_id"`
	Amount money.Amount `json:"amount"`
	Reason string       `json:"reason"`
}

func (c ReleaseExposure) Validate() error {
	var fe fieldErrors
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.Amount("amount", c.Amount, maxAmount())
	fe.Text("reason", c.Reason, maxReasonLength, true)
	return fe.Err("invalid release")
}

// LoanTermsInput is a loan as proposed.
type LoanTermsInput struct {
	// The loan's principal.
	Principal money.Amount `json:"principal"`
	// The annual interest rate as a decimal fraction, "0.0435" for 4.35%; at
	// most 0.24.
	AnnualRate string `json:"annual_rate"`
	// The loan's term in months.
	Months int `json:"months"`
	// How the loan is repaid.
	Method RepaymentMethod `json:"method"`
	// Months at the start in which only interest is paid.
	InterestOnlyMonths int `json:"interest_only_months,omitempty"`
}

// EquityInput is the fund's tranche as proposed.
type EquityInput struct {
	FundID   string       `json:"fund_id"`
	Amount   money.Amount `json:"amount"`
	PreMoney money.Amount `json:"pre_money"`
}

// WarrantInput is a warrant as proposed; dates are "2027-06-30" (UTC).
type WarrantInput struct {
	// The warrant's size as a fraction of the principal, "0.10" for 10%.
	Coverage string `json:"coverage"`
	// The company valuation the shares are bought at.
	StrikeValuation money.Amount `json:"strike_valuation"`
	// The first day it may be exercised, YYYY-MM-DD (UTC, inclusive).
	ExerciseFrom string `json:"exercise_from"`
	// The last day it may be exercised, YYYY-MM-DD (UTC, inclusive).
	ExerciseUntil string `json:"exercise_until"`
	// The org that holds it: a bank or the fund.
	HolderID string `json:"holder_id"`
}

// RiskSharingInput is the loss table as proposed: fractions summing to 1.
type RiskSharingInput struct {
	// The banks' share of a loss, a decimal fraction such as "0.70".
	Banks string `json:"banks"`
	// The fund's share of a loss, a decimal fraction.
	Fund string `json:"fund"`
	// The risk compensation fund's (风险补偿资金池) share of a loss, a decimal
	// fraction.
	RiskCompensationFund string `json:"risk_compensation_fund"`
	Insurer              string `json:"insurer"` // the insurer's share of a loss, a decimal fraction
	// InsurerID optionally names the insurer (its org) whose guarantee
	// cover takes the insurer's share: its claim follows a default.
	InsurerID string `json:"insurer_id,omitempty"`
}

// ProposeDeal opens a deal for a company whose application asked for a
// loan plus equity. The deal's ID comes from the request.
type ProposeDeal struct {
	BorrowerID    string `json:"borrower_id"`
	ApplicationID string `json:"application_id"`
	LeadBankID    string `json:"lead_bank_id"`
	// The loan as proposed.
	Loan LoanTermsInput `json:"loan"`
	// The fund's equity tranche.
	Equity EquityInput `json:"equity"`
	// Which of loan and equity must be in first.
	Sequence Sequence `json:"sequence"`
	// The warrant that comes with the loan, if any.
	Warrant *WarrantInput `json:"warrant,omitempty"`
	// Who bears a default's loss, as fractions summing to 1.
	RiskSharing RiskSharingInput `json:"risk_sharing"`
	// When the book must have closed; after it the deal expires. In the future.
	SyndicationDeadline time.Time `json:"syndication_deadline"`
}

func (c ProposeDeal) Validate() error {
	_, err := c.Proposal("")
	return err
}

// Proposal validates the command and returns the deal it proposes.
func (c ProposeDeal) Proposal(dealID string) (DealProposed, error) {
	var fe fieldErrors
	fe.Ref("borrower_id", c.BorrowerID, maxRefLength)
	fe.Ref("application_id", c.ApplicationID, maxRefLength)
	fe.ID("lead_bank_id", c.LeadBankID, maxIDLength, true)
	terms := LoanTerms{Principal: c.Loan.Principal, Months: c.Loan.Months, Method: c.Loan.Method, InterestOnlyMonths: c.Loan.InterestOnlyMonths}
	if c.Loan.AnnualRate == "" {
		fe.Add("loan.annual_rate", `required: a fraction like "0.0435" for 4.35%`)
	} else if r, reason := loan.ParseRate(c.Loan.AnnualRate); reason != "" {
		fe.Add("loan.annual_rate", reason)
	} else {
		terms.AnnualRate = r
	}
	// The rate was read above; the other terms by the calculator's rules.
	var sched fundbridge.FieldErrors
	terms.Schedule().Check(&sched, "loan.")
	fe.merge(sched)
	equity := c.equity(&fe)
	check.Enum(&fe.Fields, "sequence", c.Sequence, Sequences, true)
	warrant := c.warrant(&fe, terms.Principal)
	risk := c.riskSharing(&fe)
	if c.SyndicationDeadline.IsZero() {
		fe.Add("syndication_deadline", "required: when an unfinished deal expires, like \"2026-06-30T18:00:00+08:00\"")
	}
	if err := fe.Err("invalid deal"); err != nil {
		return DealProposed{}, err
	}
	return DealProposed{
		DealID: dealID, BorrowerID: c.BorrowerID, ApplicationID: c.ApplicationID, LeadBankID: c.LeadBankID,
		Loan: terms, Equity: equity, Sequence: c.Sequence, Warrant: warrant, RiskSharing: risk,
		SyndicationDeadline: c.SyndicationDeadline.UTC(),
	}, nil
}

func (c ProposeDeal) equity(fe *fieldErrors) EquityTranche {
	fe.Ref("equity.fund_id", c.Equity.FundID, maxRefLength)
	amountOK := fe.Amount("equity.amount", c.Equity.Amount, maxAmount())
	preOK := fe.Amount("equity.pre_money", c.Equity.PreMoney, maxAmount())
	if !amountOK || !preOK {
		return EquityTranche{}
	}
	post := c.Equity.PreMoney.Add(c.Equity.Amount)
	return EquityTranche{
		FundID: c.Equity.FundID, Amount: c.Equity.Amount, PreMoney: c.Equity.PreMoney,
		PostMoney: post, Ownership: c.Equity.Amount.Ratio(post),
	}
}

func (c ProposeDeal) warrant(fe *fieldErrors, principal money.Amount) *Warrant {
	w := c.Warrant
	if w == nil {
		return nil
	}
	coverage, _ := fe.fraction("warrant.coverage", w.Coverage, false)
	fe.Amount("warrant.strike_valuation", w.StrikeValuation, maxAmount())
	from, fromOK := fe.date("warrant.exercise_from", w.ExerciseFrom)
	until, untilOK := fe.date("warrant.exercise_until", w.ExerciseUntil)
	if fromOK && untilOK && until.Before(from) {
		fe.Add("warrant.exercise_until", "must not be before exercise_from "+w.ExerciseFrom)
	}
	fe.Ref("warrant.holder_id", w.HolderID, maxRefLength)
	return &Warrant{
		Coverage: coverage, Amount: principal.Mul(coverage), StrikeValuation: w.StrikeValuation,
		ExerciseFrom: from, ExerciseUntil: until, HolderID: w.HolderID,
	}
}

func (c ProposeDeal) riskSharing(fe *fieldErrors) RiskSharing {
	r := c.RiskSharing
	var shares RiskSharing
	var ok [4]bool
	shares.Banks, ok[0] = fe.fraction("risk_sharing.banks", r.Banks, true)
	shares.Fund, ok[1] = fe.fraction("risk_sharing.fund", r.Fund, true)
	shares.RiskCompensationFund, ok[2] = fe.fraction("risk_sharing.risk_compensation_fund", r.RiskCompensationFund, true)
	shares.Insurer, ok[3] = fe.fraction("risk_sharing.insurer", r.Insurer, true)
	if r.InsurerID != "" && fe.ID("risk_sharing.insurer_id", r.InsurerID, maxIDLength, false) {
		shares.InsurerID = r.InsurerID
	}
	if ok == [4]bool{true, true, true, true} {
		if sum := decimal.Sum(shares.Banks, shares.Fund, shares.RiskCompensationFund, shares.Insurer); !sum.Equal(decimal.NewFromInt(1)) {
			fe.Add("risk_sharing", fmt.Sprintf("the loss shares sum to %s; they must sum to exactly 1", sum))
		}
	}
	return shares
}

// InviteBank invites a bank into a deal's syndicate (the lead bank).
type InviteBank struct {
	DealID string `json:"deal_id"`
	BankID string `json:"bank_id"`
}

func (c InviteBank) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	return fe.Err("invalid invitation")
}

// CommitToDeal commits a bank to lend up to Amount.
type CommitToDeal struct {
	DealID string       `json:"deal_id"`
	BankID string       `json:"bank_id"`
	Amount money.Amount `json:"amount"`
}

func (c CommitToDeal) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	fe.Amount("amount", c.Amount, maxAmount())
	return fe.Err("invalid commitment")
}

// DeclineDeal declines an invitation.
type DeclineDeal struct {
	DealID string `json:"deal_id"`
	BankID string `json:"bank_id"`
	Reason string `json:"reason,omitempty"`
}

func (c DeclineDeal) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	fe.Text("reason", c.Reason, maxReasonLength, false)
	return fe.Err("invalid decline")
}

// RecordEquityCommitted records the fund's tranche as committed (the
// platform, once the funds service took it out of dry powder).
type RecordEquityCommitted struct {
	DealID string       `json:"deal_id"`
	FundID string       `json:"fund_id"`
	Amount money.Amount `json:"amount"`
}

func (c RecordEquityCommitted) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.Ref("fund_id", c.FundID, maxRefLength)
	fe.Amount("amount", c.Amount, maxAmount())
	return fe.Err("invalid equity commitment")
}

// DealRef names a deal: ExpireDeal is the deadline firing.
type DealRef struct {
	DealID string `json:"deal_id"`
}

func (c DealRef) Validate() error {
	var fe fieldErrors
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	return fe.Err("invalid deal")
}

// LoanAmount is a loan command with an amount: a drawdown, a repayment,
// an early repayment.
type LoanAmount struct {
	LoanID string       `json:"loan_id"`
	Amount money.Amount `json:"amount"`
}

func (c LoanAmount) Validate() error {
	var fe fieldErrors
	fe.ID("loan_id", c.LoanID, maxIDLength, true)
	fe.Amount("amount", c.Amount, maxAmount())
	return fe.Err("invalid amount")
}

// ChargeFee adds a fee the borrower owes (the lead bank).
type ChargeFee struct {
	LoanID string       `json:"loan_id"`
	Amount money.Amount `json:"amount"`
	Reason string       `json:"reason"`
}

func (c ChargeFee) Validate() error {
	var fe fieldErrors
	fe.ID("loan_id", c.LoanID, maxIDLength, true)
	fe.Amount("amount", c.Amount, maxAmount())
	fe.Text("reason", c.Reason, maxReasonLength, true)
	return fe.Err("invalid fee")
}

// LoanRef names a loan: fixing the schedule, recording arrears,
// exercising the warrant.
type LoanRef struct {
	LoanID string `json:"loan_id"`
}

func (c LoanRef) Validate() error {
	var fe fieldErrors
	fe.ID("loan_id", c.LoanID, maxIDLength, true)
	return fe.Err("invalid loan")
}

// DeclareDefault is the lead bank declaring the borrower in default.
type DeclareDefault struct {
	LoanID string `json:"loan_id"`
	Reason string `json:"reason"`
}

func (c DeclareDefault) Validate() error {
	var fe fieldErrors
	fe.ID("loan_id", c.LoanID, maxIDLength, true)
	fe.Text("reason", c.Reason, maxReasonLength, true)
	return fe.Err("invalid default")
}

// SettleExposure brings a bank's exposure for a deal down to Target (the
// platform: the syndication process after a book closes or a deal
// expires). It never reserves: a bank already at or below Target is left
// as it is, so settling again, or late, changes nothing.
type SettleExposure struct {
	BankID string       `json:"bank_id"`
	DealID string       `json:"deal_id"`
	Target money.Amount `json:"target"`
	Reason string       `json:"reason"`
}

func (c SettleExposure) Validate() error {
	var fe fieldErrors
	fe.ID("bank_id", c.BankID, maxIDLength, true)
	fe.ID("deal_id", c.DealID, maxIDLength, true)
	fe.Text("reason", c.Reason, maxReasonLength, true)
	return fe.Err("invalid settlement")
}
