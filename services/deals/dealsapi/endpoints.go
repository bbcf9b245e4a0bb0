package dealsapi

import (
	"net/http"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = "deals"

// Operations of the service.
const (
	OpOnboardBank       = "bank.onboard"
	OpSetBankLimits     = "bank.set_limits"
	OpPublishProgramme  = "bank.publish_programme"
	OpWithdrawProgramme = "bank.withdraw_programme"
	OpGetBank           = "bank.get"
	OpBankBook          = "bank.book"
	OpListBanks         = "bank.list"
	OpPropose           = "deal.propose"
	OpInvite            = "deal.invite"
	OpCommit            = "deal.commit"
	OpDecline           = "deal.decline"
	OpRecordEquity      = "deal.record_equity"
	OpExpire            = "deal.expire"
	OpGetDeal           = "deal.get"
	OpListDeals         = "deal.list"
	OpDrawDown          = "loan.draw_down"
	OpFixSchedule       = "loan.fix_schedule"
	OpRepay             = "loan.repay"
	OpChargeFee         = "loan.charge_fee"
	OpRecordArrears     = "loan.record_arrears"
	OpRepayEarly        = "loan.repay_early"
	OpDeclareDefault    = "loan.declare_default"
	OpExerciseWarrant   = "loan.exercise_warrant"
	OpGetLoan           = "loan.get"
	OpListLoans         = "loan.list"
	OpPreviewSchedule   = "schedule.preview"
	OpSettleExposure    = "bank.settle_exposure"
	OpOpenLoan          = "loan.open"
)

const (
	v1      = svc.APIPrefix
	tag     = "loan-deals"
	tagLoan = "loans"
)

func roles(r ...fundbridge.Role) []fundbridge.Role { return r }

var (
	operators = roles(fundbridge.RoleOperator, fundbridge.RoleSystem)
	banks     = roles(fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem)
	proposers = roles(fundbridge.RoleBank, fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem)
	payers    = roles(fundbridge.RoleStartup, fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem)
	readers   = roles(fundbridge.RoleStartup, fundbridge.RoleBank, fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem)
	holders   = roles(fundbridge.RoleBank, fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem)
	platform  = roles(fundbridge.RoleSystem)
)

func post(path, summary string) *svc.Route {
	return &svc.Route{Method: http.MethodPost, Path: v1 + path, Tag: tag, Summary: summary}
}

func postLoan(path, summary string) *svc.Route {
	return &svc.Route{Method: http.MethodPost, Path: v1 + path, Tag: tagLoan, Summary: summary}
}

// The service's endpoints. Roles are the first check; which bank, deal or
// loan the caller may act on is the service's.
var (
	OnboardBankEndpoint = svc.NewCommand[OnboardBank, BankView](Name, OpOnboardBank, operators,
		&svc.Route{Method: http.MethodPost, Path: v1 + "/banks", Tag: tag, Created: true,
			Summary: "Onboard a bank (an org with role bank) with its credit limit and single-borrower limit"}).Doing("onboard banks")
	SetBankLimitsEndpoint = svc.NewCommand[SetBankLimits, BankView](Name, OpSetBankLimits, operators,
		&svc.Route{Method: http.MethodPut, Path: v1 + "/banks/{bank_id}/limits", Tag: tag,
			Summary: "Change a bank's limits; lowering one below its exposure refuses new commitments only"}).Doing("set bank limits")
	PublishProgrammeEndpoint = svc.NewCommand[PublishProgramme, BankView](Name, OpPublishProgramme, banks,
		&svc.Route{Method: http.MethodPut, Path: v1 + "/banks/{bank_id}/programmes/{programme_id}", Tag: tag,
			Summary: "Publish or replace one of the bank's lending programmes (the loan maximum is at most its single-borrower limit)"}).Doing("publish lending programmes")
	WithdrawProgrammeEndpoint = svc.NewCommand[WithdrawProgramme, BankView](Name, OpWithdrawProgramme, banks,
		post("/banks/{bank_id}/programmes/{programme_id}/withdraw", "Withdraw a lending programme")).Doing("withdraw lending programmes")
	GetBankEndpoint = svc.NewQuery[BankRef, BankView](Name, OpGetBank, banks,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/banks/{bank_id}", Tag: tag,
			Summary: "A bank with its limits, programmes and exposure (the bank itself and operators)"})
	BankBookEndpoint = svc.NewQuery[BankRef, BankBook](Name, OpBankBook, banks,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/banks/{bank_id}/book", Tag: tag,
			Summary: "A bank's book: exposure against both limits, disbursed and outstanding principal, what falls due in 30 days, arrears by days past due, losses"})

	ListBanksEndpoint = svc.NewQuery[ListBanks, BankDirectory](Name, OpListBanks, banks,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/banks", Tag: tag,
			Summary: "The banks onboarded on the platform, by ID and name only: the banks a lead bank may invite into its syndicate"})

	ProposeDealEndpoint = svc.NewCommand[ProposeDeal, DealView](Name, OpPropose, proposers,
		&svc.Route{Method: http.MethodPost, Path: v1 + "/loan-deals", Tag: tag, Created: true,
			Summary: "Propose a loan plus equity deal (贷款+外部直投) for an application that asked for loan_plus_equity; a bank proposes deals it leads"}).Doing("propose loan plus equity deals")
	InviteBankEndpoint = svc.NewCommand[InviteBank, DealView](Name, OpInvite, banks,
		post("/loan-deals/{deal_id}/invitations", "Invite a bank into the syndicate (the lead bank)")).Doing("invite banks")
	CommitToDealEndpoint = svc.NewCommand[CommitToDeal, DealView](Name, OpCommit, banks,
		post("/loan-deals/{deal_id}/commitments", "Commit to lend up to an amount (an invited bank, within both of its limits); the commitment that reaches the loan closes the book, scaled back pro rata when oversubscribed")).Doing("commit to deals")
	DeclineDealEndpoint = svc.NewCommand[DeclineDeal, DealView](Name, OpDecline, banks,
		post("/loan-deals/{deal_id}/declines", "Decline an invitation (an invited bank)")).Doing("decline deals")
	RecordEquityEndpoint = svc.NewCommand[RecordEquityCommitted, DealView](Name, OpRecordEquity, roles(fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem),
		post("/loan-deals/{deal_id}/equity", "Commit the fund's equity tranche (the fund's manager): taken from its dry powder; the deal closes when both tranches are in")).Doing("commit equity tranches")
	ExpireDealEndpoint = svc.NewCommand[DealRef, DealView](Name, OpExpire, operators,
		post("/loan-deals/{deal_id}/expire", "Manual override: expire a deal past its syndication deadline, releasing every commitment. The syndication process does this itself when the deadline (a durable timer) fires; an operator needs it only if that process is stopped")).Doing("expire deals")
	GetDealEndpoint = svc.NewQuery[GetDeal, DealView](Name, OpGetDeal, readers,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/loan-deals/{deal_id}", Tag: tag,
			Summary: "A deal as the caller may see it: the lead bank the whole book, another bank its own line, the borrower the book without other banks' names, the fund its tranche"})
	ListDealsEndpoint = svc.NewQuery[ListDeals, DealList](Name, OpListDeals, readers,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/loan-deals", Tag: tag,
			Summary: "The deals the caller may see, newest first"})

	DrawDownEndpoint = svc.NewCommand[LoanAmount, LoanView](Name, OpDrawDown, banks,
		postLoan("/loans/{loan_id}/drawdowns", "Disburse part of the loan (the lead bank), split to the banks; drawing the whole loan fixes the schedule")).Doing("draw down loans")
	FixScheduleEndpoint = svc.NewCommand[LoanRef, LoanView](Name, OpFixSchedule, banks,
		postLoan("/loans/{loan_id}/schedule", "End drawing and fix the schedule on what was drawn (the lead bank)")).Doing("fix loan schedules")
	RepayEndpoint = svc.NewCommand[LoanAmount, LoanView](Name, OpRepay, payers,
		postLoan("/loans/{loan_id}/repayments", "Record a repayment: fees, then interest, then principal of the oldest period owed, split to the banks")).Doing("repay loans")
	ChargeFeeEndpoint = svc.NewCommand[ChargeFee, LoanView](Name, OpChargeFee, banks,
		postLoan("/loans/{loan_id}/fees", "Charge the borrower a fee (the lead bank)")).Doing("charge fees")
	RecordArrearsEndpoint = svc.NewCommand[LoanRef, LoanView](Name, OpRecordArrears, operators,
		postLoan("/loans/{loan_id}/arrears", "Manual override: record every period unpaid after its due date, with days past due. The arrears process does this itself the day after each due date (a durable timer); an operator runs it by hand only to check at once")).Doing("record arrears")
	RepayEarlyEndpoint = svc.NewCommand[LoanAmount, LoanView](Name, OpRepayEarly, payers,
		postLoan("/loans/{loan_id}/early-repayments", "Repay early, partly or in full; the schedule of what remains is recomputed")).Doing("repay loans early")
	DeclareDefaultEndpoint = svc.NewCommand[DeclareDefault, LoanView](Name, OpDeclareDefault, banks,
		postLoan("/loans/{loan_id}/default", "Declare the borrower in default (the lead bank); the loss is allocated by the risk-sharing table")).Doing("declare defaults")
	ExerciseWarrantEndpoint = svc.NewCommand[LoanRef, LoanView](Name, OpExerciseWarrant, holders,
		postLoan("/loans/{loan_id}/warrant/exercise", "Exercise the loan's warrant within its window (its holder)")).Doing("exercise warrants")
	GetLoanEndpoint = svc.NewQuery[GetLoan, LoanView](Name, OpGetLoan, readers,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/loans/{loan_id}", Tag: tagLoan,
			Summary: "A loan with its schedule as the caller may see it: a bank its own share of every figure"})
	ListLoansEndpoint = svc.NewQuery[ListLoans, LoanList](Name, OpListLoans, readers,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/loans", Tag: tagLoan,
			Summary: "The loans the caller may see"})

	PreviewScheduleEndpoint = svc.NewQuery[PreviewSchedule, SchedulePreview](Name, OpPreviewSchedule, nil,
		&svc.Route{Method: http.MethodGet, Path: v1 + "/schedules/preview", Tag: tagLoan,
			Summary: "A repayment schedule for terms (any signed-in user): monthly rate = annual rate / 12, every figure half-up to the fen, the last period ends the balance at 0.00"})

	// The syndication process's steps (services/deals, syndication
	// process): the platform's only, on the bus only.
	SettleExposureEndpoint = svc.NewCommand[SettleExposure, BankView](Name, OpSettleExposure, platform, nil).Doing("settle bank exposure")
	OpenLoanEndpoint       = svc.NewCommand[DealRef, LoanView](Name, OpOpenLoan, platform, nil).Doing("open loans")
)

// Endpoints lists every endpoint of the service.
func Endpoints() []svc.Described {
	return []svc.Described{
		OnboardBankEndpoint, SetBankLimitsEndpoint, PublishProgrammeEndpoint, WithdrawProgrammeEndpoint, GetBankEndpoint, BankBookEndpoint, ListBanksEndpoint,
		ProposeDealEndpoint, InviteBankEndpoint, CommitToDealEndpoint, DeclineDealEndpoint, RecordEquityEndpoint, ExpireDealEndpoint,
		GetDealEndpoint, ListDealsEndpoint,
		DrawDownEndpoint, FixScheduleEndpoint, RepayEndpoint, ChargeFeeEndpoint, RecordArrearsEndpoint, RepayEarlyEndpoint,
		DeclareDefaultEndpoint, ExerciseWarrantEndpoint, GetLoanEndpoint, ListLoansEndpoint,
		PreviewScheduleEndpoint,
		SettleExposureEndpoint, OpenLoanEndpoint,
	}
}
