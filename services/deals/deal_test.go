package deals

import (
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

func application() Application {
	return Application{ID: "app-1", CompanyID: "co-1", Instruments: []fundbridge.Instrument{fundbridge.InstrumentLoanPlusEquity}}
}

func TestProposeDeal(t *testing.T) {
	with := func(t *testing.T) Proposal {
		return Proposal{Application: application(), FundManagerOrg: "mgr-1", LeadBank: leadState(t), WarrantHolder: leadState(t), InsurerOnboarded: true}
	}
	propose := func(a fundbridge.Actor, edit func(*dealsapi.ProposeDeal)) func(Deal) ([]events.Payload, error) {
		return func(d Deal) ([]events.Payload, error) {
			cmd := proposal()
			if edit != nil {
				edit(&cmd)
			}
			return decidePropose(d, a, now, "deal-1", cmd, with(t))
		}
	}
	check(t, DealFolds().Apply, []scenario[Deal]{
		{name: "the lead bank proposes a deal", when: propose(leadBank, nil), then: []events.Payload{proposed()}},
		{name: "the fund's manager proposes it with a partner bank", when: propose(manager, nil), then: []events.Payload{proposed()}},
		{name: "another bank cannot propose a deal it does not lead", when: propose(bankB, nil), code: fundbridge.EFORBIDDEN},
		{name: "a startup cannot propose deals", when: propose(borrower, nil), code: fundbridge.EFORBIDDEN},
		{name: "loss shares not summing to 1", code: fundbridge.EINVALID, field: "risk_sharing",
			when: propose(operator, func(c *dealsapi.ProposeDeal) { c.RiskSharing.Insurer = "0.2" })},
		{name: "a rate of 0", code: fundbridge.EINVALID, field: "loan.annual_rate",
			when: propose(operator, func(c *dealsapi.ProposeDeal) { c.Loan.AnnualRate = "0" })},
		{name: "a rate above 24%", code: fundbridge.EINVALID, field: "loan.annual_rate",
			when: propose(operator, func(c *dealsapi.ProposeDeal) { c.Loan.AnnualRate = "0.2401" })},
		{name: "a tenor of 0 months", code: fundbridge.EINVALID, field: "loan.months",
			when: propose(operator, func(c *dealsapi.ProposeDeal) { c.Loan.Months = 0 })},
		{name: "a tenor of 361 months", code: fundbridge.EINVALID, field: "loan.months",
			when: propose(operator, func(c *dealsapi.ProposeDeal) { c.Loan.Months = 361 })},
		{name: "a deadline already passed", code: fundbridge.EUNPROCESSABLE, field: "syndication_deadline",
			when: propose(operator, func(c *dealsapi.ProposeDeal) { c.SyndicationDeadline = now })},
		{name: "an application that did not ask for a loan plus equity", code: fundbridge.EUNPROCESSABLE, field: "application_id",
			when: func(d Deal) ([]events.Payload, error) {
				p := with(t)
				p.Application.Instruments = []fundbridge.Instrument{fundbridge.InstrumentEquity}
				return decidePropose(d, operator, now, "deal-1", proposal(), p)
			}},
		{name: "proposing twice", given: []events.Payload{proposed()}, when: propose(operator, nil), code: fundbridge.ECONFLICT},
		{name: "a warrant held by the equity fund", when: func(d Deal) ([]events.Payload, error) {
			cmd := proposal()
			cmd.Warrant.HolderID = "fund-1"
			return decidePropose(d, leadBank, now, "deal-1", cmd, Proposal{Application: application(), FundManagerOrg: "mgr-1", LeadBank: leadState(t), InsurerOnboarded: true})
		}, then: []events.Payload{heldBy(proposed(), "fund-1")}},
		{name: "a warrant held by no bank or fund", code: fundbridge.EUNPROCESSABLE, field: "warrant.holder_id",
			msg: "no-such-org is neither an onboarded bank nor the equity fund fund-1: a warrant is held by one of them",
			when: func(d Deal) ([]events.Payload, error) {
				cmd := proposal()
				cmd.Warrant.HolderID = "no-such-org"
				return decidePropose(d, leadBank, now, "deal-1", cmd, Proposal{Application: application(), FundManagerOrg: "mgr-1", LeadBank: leadState(t), InsurerOnboarded: true})
			}},
		{name: "an insurer no operator onboarded", code: fundbridge.EUNPROCESSABLE, field: "risk_sharing.insurer_id",
			when: func(d Deal) ([]events.Payload, error) {
				p := with(t)
				p.InsurerOnboarded = false
				return decidePropose(d, leadBank, now, "deal-1", proposal(), p)
			}},
	})
	p := proposed()
	if p.Equity.PostMoney.String() != "50000000.00" || p.Equity.Ownership.String() != "0.1" || p.Warrant.Amount.String() != "100000.00" {
		t.Errorf("proposed %+v, warrant %+v", p.Equity, p.Warrant)
	}
}

func TestSyndication(t *testing.T) {
	commit := func(a fundbridge.Actor, b func(*testing.T) Bank, amount string, at time.Time) func(Deal) ([]events.Payload, error) {
		return func(d Deal) ([]events.Payload, error) {
			s := b(t)
			return decideCommit(d, s, a, at, dealsapi.CommitToDeal{DealID: "deal-1", BankID: s.ID, Amount: amt(amount)})
		}
	}
	outsiderState := func(t *testing.T) Bank { return bank(t, onboarded("bank-x", "500000000", "50000000")) }
	tight := func(t *testing.T) Bank {
		return bank(t, onboarded("bank-b", "10000000", "2000000"),
			dealsapi.ExposureReserved{BankID: "bank-b", DealID: "deal-0", BorrowerID: "co-1", Amount: amt("1800000")})
	}
	full := func(t *testing.T) Bank {
		return bank(t, onboarded("bank-b", "10000000", "10000000"),
			dealsapi.ExposureReserved{BankID: "bank-b", DealID: "deal-0", BorrowerID: "co-9", Amount: amt("9700000")})
	}
	scaled := dealsapi.BookClosed{DealID: "deal-1", Committed: amt("1200000"), Oversubscribed: true, Allocations: []dealsapi.Allocation{
		{BankID: "bank-lead", Committed: amt("400000"), Allocated: amt("333333.34"), Share: dec("0.33333334")},
		{BankID: "bank-b", Committed: amt("400000"), Allocated: amt("333333.33"), Share: dec("0.33333333")},
		{BankID: "bank-c", Committed: amt("400000"), Allocated: amt("333333.33"), Share: dec("0.33333333")},
	}}
	check(t, DealFolds().Apply, []scenario[Deal]{
		{name: "the lead invites a bank", given: []events.Payload{proposed()},
			when: func(d Deal) ([]events.Payload, error) {
				return decideInvite(d, leadBank, now, dealsapi.InviteBank{DealID: "deal-1", BankID: "bank-b"}, bankBState(t))
			},
			then: []events.Payload{invitedB()}},
		{name: "inviting again changes nothing", given: []events.Payload{proposed(), invitedB()},
			when: func(d Deal) ([]events.Payload, error) {
				return decideInvite(d, leadBank, now, dealsapi.InviteBank{DealID: "deal-1", BankID: "bank-b"}, bankBState(t))
			}},
		{name: "no bank is invited once the book has closed (awaiting the fund's tranche)",
			given: []events.Payload{proposed(), invitedB(), committed("bank-lead", "600000", "600000"), committed("bank-b", "400000", "1000000"), closedBook()},
			when: func(d Deal) ([]events.Payload, error) {
				return decideInvite(d, leadBank, now, dealsapi.InviteBank{DealID: "deal-1", BankID: "bank-c"}, bankCState(t))
			},
			code: fundbridge.ECONFLICT, msg: "the book of deal deal-1 has closed at ¥1,000,000.00, all of it allocated: no bank can join it now"},
		{name: "only the lead invites", given: []events.Payload{proposed(), invitedB()}, code: fundbridge.EFORBIDDEN,
			when: func(d Deal) ([]events.Payload, error) {
				return decideInvite(d, bankB, now, dealsapi.InviteBank{DealID: "deal-1", BankID: "bank-c"}, bankCState(t))
			}},
		{name: "an invited bank commits", given: []events.Payload{proposed(), invitedB()},
			when: commit(bankB, bankBState, "400000", now),
			then: []events.Payload{committed("bank-b", "400000", "400000")}},
		{name: "a bank not invited does not see the deal", given: []events.Payload{proposed(), invitedB()},
			when: commit(outsider, outsiderState, "400000", now), code: fundbridge.ENOTFOUND},
		{name: "an operator cannot commit a bank not invited", given: []events.Payload{proposed(), invitedB()},
			when: commit(operator, outsiderState, "400000", now), code: fundbridge.EUNPROCESSABLE, field: "bank_id"},
		{name: "a bank commits for itself only", given: []events.Payload{proposed(), invitedB()},
			when: commit(leadBank, bankBState, "400000", now), code: fundbridge.EFORBIDDEN},
		{name: "after the deadline", given: []events.Payload{proposed(), invitedB()},
			when: commit(bankB, bankBState, "400000", deadline), code: fundbridge.EUNPROCESSABLE},
		{name: "over the bank's single-borrower limit", given: []events.Payload{proposed(), invitedB()},
			when: commit(bankB, tight, "200000.01", now), code: fundbridge.EUNPROCESSABLE,
			msg: "commitment ¥200,000.01 would take bank bank-b's exposure to ¥2,000,000.01, above its single-borrower limit of ¥2,000,000.00 (¥1,800,000.00 already used)"},
		{name: "over the bank's credit limit", given: []events.Payload{proposed(), invitedB()},
			when: commit(bankB, full, "300000.01", now), code: fundbridge.EUNPROCESSABLE,
			msg: "commitment ¥300,000.01 would take bank bank-b's exposure to ¥10,000,000.01, above its credit limit of ¥10,000,000.00 (¥9,700,000.00 already used)"},
		{name: "more than the whole loan", given: []events.Payload{proposed(), invitedB()},
			when: commit(bankB, bankBState, "1000000.01", now), code: fundbridge.EUNPROCESSABLE, field: "amount"},
		{name: "committing twice", given: []events.Payload{proposed(), invitedB(), committed("bank-b", "400000", "400000")},
			when: commit(bankB, bankBState, "100000", now), code: fundbridge.ECONFLICT},
		{name: "a bank that declined cannot commit", given: []events.Payload{proposed(), invitedB(), dealsapi.BankDeclined{DealID: "deal-1", BankID: "bank-b"}},
			when: commit(bankB, bankBState, "100000", now), code: fundbridge.ECONFLICT},
		{name: "equity first: banks wait for the fund's tranche", given: []events.Payload{proposed(sequence(dealsapi.EquityFirst)), invitedB()},
			when: commit(bankB, bankBState, "400000", now), code: fundbridge.ECONFLICT},
		{name: "equity first: once the tranche is in, the commitment that fills the book closes the deal",
			given: []events.Payload{proposed(sequence(dealsapi.EquityFirst)), invitedB(), equityIn(), committed("bank-lead", "600000", "600000")},
			when:  commit(bankB, bankBState, "400000", now),
			then:  []events.Payload{committed("bank-b", "400000", "1000000"), closedBook(), dealsapi.DealClosed{DealID: "deal-1"}}},
		{name: "the commitment that reaches the loan closes the book", given: []events.Payload{proposed(), invitedB(), committed("bank-lead", "600000", "600000")},
			when: commit(bankB, bankBState, "400000", now),
			then: []events.Payload{committed("bank-b", "400000", "1000000"), closedBook()}},
		{name: "an oversubscribed book is scaled back to exactly the loan, ties to the earlier commitment",
			given: []events.Payload{proposed(), invitedB(), invitedC(), committed("bank-lead", "400000", "400000"), committed("bank-b", "400000", "800000")},
			when:  commit(bankC, bankCState, "400000", now),
			then:  []events.Payload{committed("bank-c", "400000", "1200000"), scaled}},
		{name: "after the book closed", given: []events.Payload{proposed(), invitedB(), invitedC(), committed("bank-lead", "600000", "600000"), committed("bank-b", "400000", "1000000"), closedBook()},
			when: commit(bankC, bankCState, "100000", now), code: fundbridge.ECONFLICT},
		{name: "after the deal closed", given: closedDeal(),
			when: commit(bankB, bankBState, "100000", now), code: fundbridge.ECONFLICT},
		{name: "an invited bank declines", given: []events.Payload{proposed(), invitedB()},
			when: func(d Deal) ([]events.Payload, error) {
				return decideDecline(d, bankB, now, dealsapi.DeclineDeal{DealID: "deal-1", BankID: "bank-b", Reason: " sector cap "})
			},
			then: []events.Payload{dealsapi.BankDeclined{DealID: "deal-1", BankID: "bank-b", Reason: "sector cap"}}},
		{name: "a bank that committed cannot decline", given: []events.Payload{proposed(), invitedB(), committed("bank-b", "400000", "400000")},
			when: func(d Deal) ([]events.Payload, error) {
				return decideDecline(d, bankB, now, dealsapi.DeclineDeal{DealID: "deal-1", BankID: "bank-b"})
			},
			code: fundbridge.ECONFLICT},
		{name: "a bank allocated a part of a closed book cannot decline (the loan would open short of its principal)",
			given: []events.Payload{proposed(), invitedB(), committed("bank-lead", "600000", "600000"), committed("bank-b", "400000", "1000000"), closedBook()},
			when: func(d Deal) ([]events.Payload, error) {
				return decideDecline(d, bankB, now, dealsapi.DeclineDeal{DealID: "deal-1", BankID: "bank-b", Reason: "changed our mind"})
			},
			code: fundbridge.ECONFLICT, msg: "the book of deal deal-1 has closed with ¥400,000.00 of the loan allocated to bank bank-b, which cannot decline it now"},
	})
}

func TestEquityTrancheAndExpiry(t *testing.T) {
	record := func(a fundbridge.Actor, amount string) func(Deal) ([]events.Payload, error) {
		return func(d Deal) ([]events.Payload, error) {
			return decideRecordEquity(d, a, now, dealsapi.RecordEquityCommitted{DealID: "deal-1", FundID: "fund-1", Amount: amt(amount)})
		}
	}
	expire := func(at time.Time) func(Deal) ([]events.Payload, error) {
		return func(d Deal) ([]events.Payload, error) {
			return decideExpire(d, platform, at, dealsapi.DealRef{DealID: "deal-1"})
		}
	}
	book := []events.Payload{proposed(sequence(dealsapi.LoanFirst)), invitedB(), committed("bank-lead", "600000", "600000"), committed("bank-b", "400000", "1000000"), closedBook()}
	check(t, DealFolds().Apply, []scenario[Deal]{
		{name: "the tranche comes in first when the deal is together", given: []events.Payload{proposed()},
			when: record(platform, "5000000"), then: []events.Payload{equityIn()}},
		{name: "loan first: the fund waits for the book", given: []events.Payload{proposed(sequence(dealsapi.LoanFirst)), invitedB()},
			when: record(platform, "5000000"), code: fundbridge.ECONFLICT},
		{name: "loan first: the tranche after the book closes the deal", given: book,
			when: record(platform, "5000000"), then: []events.Payload{equityIn(), dealsapi.DealClosed{DealID: "deal-1"}}},
		{name: "the tranche again changes nothing", given: []events.Payload{proposed(), equityIn()},
			when: record(platform, "5000000")},
		{name: "another amount than the tranche", given: []events.Payload{proposed()},
			when: record(platform, "4000000"), code: fundbridge.EUNPROCESSABLE, field: "amount"},
		{name: "a fund manager does not record its own tranche", given: []events.Payload{proposed()},
			when: record(manager, "5000000"), code: fundbridge.EFORBIDDEN},
		{name: "not before the deadline", given: []events.Payload{proposed(), invitedB(), committed("bank-b", "400000", "400000")},
			when: expire(deadline.Add(-time.Second)), code: fundbridge.EUNPROCESSABLE},
		{name: "at the deadline every commitment and the tranche are released",
			given: []events.Payload{proposed(), invitedB(), invitedC(), committed("bank-lead", "300000", "300000"), committed("bank-b", "400000", "700000"),
				dealsapi.BankDeclined{DealID: "deal-1", BankID: "bank-c"}, equityIn()},
			when: expire(deadline),
			then: []events.Payload{dealsapi.DealExpired{DealID: "deal-1", EquityReleased: amt("5000000"), Released: []dealsapi.BankAmount{
				{BankID: "bank-lead", Amount: amt("300000")}, {BankID: "bank-b", Amount: amt("400000")}}}}},
		{name: "a closed book that missed the fund releases the allocations", given: book,
			when: expire(deadline),
			then: []events.Payload{dealsapi.DealExpired{DealID: "deal-1", EquityReleased: amt("0"), Released: []dealsapi.BankAmount{
				{BankID: "bank-lead", Amount: amt("600000")}, {BankID: "bank-b", Amount: amt("400000")}}}}},
		{name: "expiring again changes nothing", given: []events.Payload{proposed(), dealsapi.DealExpired{DealID: "deal-1"}},
			when: expire(deadline)},
		{name: "a closed deal does not expire", given: closedDeal(), when: expire(deadline), code: fundbridge.ECONFLICT},
		{name: "nothing is committed to an expired deal", given: []events.Payload{proposed(), invitedB(), dealsapi.DealExpired{DealID: "deal-1"}},
			when: func(d Deal) ([]events.Payload, error) {
				return decideCommit(d, bankBState(t), bankB, now, dealsapi.CommitToDeal{DealID: "deal-1", BankID: "bank-b", Amount: amt("1")})
			},
			code: fundbridge.ECONFLICT},
	})
}

func TestOpenLoanFromClosedDeal(t *testing.T) {
	d := replay(t, DealFolds().Apply, closedDeal())
	check(t, LoanFolds().Apply, []scenario[Loan]{
		{name: "the platform opens the loan of a closed deal",
			when: func(l Loan) ([]events.Payload, error) { return decideOpenLoan(l, platform, d) },
			then: []events.Payload{opened()}},
		{name: "opening again changes nothing", given: []events.Payload{opened()},
			when: func(l Loan) ([]events.Payload, error) { return decideOpenLoan(l, platform, d) }},
		{name: "a deal still syndicating has no loan",
			when: func(l Loan) ([]events.Payload, error) {
				return decideOpenLoan(l, platform, replay(t, DealFolds().Apply, []events.Payload{proposed()}))
			},
			code: fundbridge.ECONFLICT},
	})
}

// heldBy is the proposal with its warrant held by holder.
func heldBy(p dealsapi.DealProposed, holder string) dealsapi.DealProposed {
	w := *p.Warrant
	w.HolderID = holder
	p.Warrant = &w
	return p
}
