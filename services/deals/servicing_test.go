package deals

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi/loan"
)

func drawn(amount, lead, b, after, undrawn string) dealsapi.LoanDrawnDown {
	return dealsapi.LoanDrawnDown{LoanID: "deal-1", Amount: amt(amount), DrawnAfter: amt(after), UndrawnAfter: amt(undrawn),
		Banks: []dealsapi.BankAmount{{BankID: "bank-lead", Amount: amt(lead)}, {BankID: "bank-b", Amount: amt(b)}}}
}

// fixed is the schedule fixed on the day of now for principal.
func fixed(t *testing.T, principal string, undrawn ...dealsapi.BankAmount) dealsapi.ScheduleFixed {
	t.Helper()
	s, err := fixSchedule(replay(t, LoanFolds().Apply, []events.Payload{opened()}), amt(principal), undrawn, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inRepayment is the test loan fully drawn on 1 March 2026 and in repayment:
// periods fall due on the 1st of each month from April.
func inRepayment(t *testing.T) []events.Payload {
	return []events.Payload{opened(), drawn("1000000", "600000", "400000", "1000000", "0"), fixed(t, "1000000")}
}

// fundHeld is inRepayment with the warrant held by the equity fund.
func fundHeld(t *testing.T) []events.Payload {
	h := inRepayment(t)
	o := h[0].(dealsapi.LoanOpened)
	w := *o.Warrant
	w.HolderID = "fund-1"
	o.Warrant = &w
	h[0] = o
	return h
}

func with(history []events.Payload, more ...events.Payload) []events.Payload {
	return append(append([]events.Payload{}, history...), more...)
}

// firstPaid is the first installment, 29,679.93, as the banks receive it:
// interest 3,625.00 and principal 26,054.93 by what each has outstanding
// (60% and 40%), the fen of principal left over to the larger remainder.
func firstPaid() dealsapi.RepaymentReceived {
	return dealsapi.RepaymentReceived{LoanID: "deal-1", Amount: amt("29679.93"), Interest: amt("3625"), Principal: amt("26054.93"),
		Periods: []dealsapi.PeriodPaid{{Number: 1, Interest: amt("3625"), Principal: amt("26054.93")}},
		Banks: []dealsapi.BankRepayment{
			{BankID: "bank-lead", Interest: amt("2175"), Principal: amt("15632.96")},
			{BankID: "bank-b", Interest: amt("1450"), Principal: amt("10421.97")},
		}, OutstandingAfter: amt("973945.07")}
}

func TestScheduleFixedAtDisbursement(t *testing.T) {
	s := fixed(t, "1000000")
	periods, err := s.Schedule()
	if err != nil || len(periods) != 36 {
		t.Fatalf("schedule of %d periods: %v", len(periods), err)
	}
	first, last := periods[0], periods[35]
	if !s.Start.Equal(date("2026-03-01")) ||
		first.Payment.String() != "29679.93" || first.Interest.String() != "3625.00" || !first.Due.Equal(date("2026-04-01")) ||
		last.Payment.String() != "29680.10" || !last.Balance.IsZero() || !last.Due.Equal(date("2029-03-01")) {
		t.Errorf("schedule from %s: first %+v, last %+v", s.Start, first, last)
	}
}

func TestDrawdowns(t *testing.T) {
	draw := func(a fundbridge.Actor, amount string) func(Loan) ([]events.Payload, error) {
		return func(l Loan) ([]events.Payload, error) {
			return decideDrawDown(l, a, now, dealsapi.LoanAmount{LoanID: "deal-1", Amount: amt(amount)})
		}
	}
	partly := []events.Payload{opened(), drawn("250000", "150000", "100000", "250000", "750000")}
	check(t, LoanFolds().Apply, []scenario[Loan]{
		{name: "a drawdown is split to the banks by what each has left", given: []events.Payload{opened()},
			when: draw(leadBank, "250000"), then: []events.Payload{drawn("250000", "150000", "100000", "250000", "750000")}},
		{name: "beyond the undrawn amount", given: partly, when: draw(leadBank, "750000.01"), code: fundbridge.EUNPROCESSABLE, field: "amount",
			msg: "drawdown ¥750,000.01 is beyond the undrawn ¥750,000.00 of loan deal-1"},
		{name: "the drawdown that draws the whole loan fixes the schedule", given: partly, when: draw(leadBank, "750000"),
			then: []events.Payload{drawn("750000", "450000", "300000", "1000000", "0"), fixed(t, "1000000")}},
		{name: "only the lead bank draws down", given: []events.Payload{opened()}, when: draw(bankB, "1"), code: fundbridge.EFORBIDDEN},
		{name: "a bank outside the loan does not see it", given: []events.Payload{opened()}, when: draw(outsider, "1"), code: fundbridge.ENOTFOUND},
		{name: "no drawdown once the schedule is fixed", given: inRepayment(t), when: draw(leadBank, "1"), code: fundbridge.ECONFLICT},
		{name: "ending drawing fixes the schedule on what was drawn and releases the rest", given: partly,
			when: func(l Loan) ([]events.Payload, error) {
				return decideFixSchedule(l, leadBank, now, dealsapi.LoanRef{LoanID: "deal-1"})
			},
			then: []events.Payload{fixed(t, "250000", dealsapi.BankAmount{BankID: "bank-lead", Amount: amt("450000")}, dealsapi.BankAmount{BankID: "bank-b", Amount: amt("300000")})}},
		{name: "nothing drawn, nothing to schedule", given: []events.Payload{opened()},
			when: func(l Loan) ([]events.Payload, error) {
				return decideFixSchedule(l, leadBank, now, dealsapi.LoanRef{LoanID: "deal-1"})
			},
			code: fundbridge.ECONFLICT},
	})
}

// Once drawing ends on part of the loan, nothing is left to draw.
func TestNothingUndrawnOnceTheScheduleIsFixed(t *testing.T) {
	partly := []events.Payload{opened(), drawn("250000", "150000", "100000", "250000", "750000")}
	if l := replay(t, LoanFolds().Apply, partly); !l.Undrawn().Equal(amt("750000")) {
		t.Errorf("while drawing: undrawn %s, want 750000.00", l.Undrawn())
	}
	ended := with(partly, fixed(t, "250000", dealsapi.BankAmount{BankID: "bank-lead", Amount: amt("450000")}, dealsapi.BankAmount{BankID: "bank-b", Amount: amt("300000")}))
	if l := replay(t, LoanFolds().Apply, ended); !l.Undrawn().IsZero() {
		t.Errorf("after the schedule was fixed on what was drawn: undrawn %s, want 0", l.Undrawn())
	}
}

func TestRepayments(t *testing.T) {
	due1 := date("2026-04-01")
	repay := func(a fundbridge.Actor, at time.Time, amount string) func(Loan) ([]events.Payload, error) {
		return func(l Loan) ([]events.Payload, error) {
			return decideRepay(l, a, at, dealsapi.LoanAmount{LoanID: "deal-1", Amount: amt(amount)})
		}
	}
	fee := dealsapi.FeeCharged{LoanID: "deal-1", Amount: amt("100"), Reason: "late fee"}
	check(t, LoanFolds().Apply, []scenario[Loan]{
		{name: "the first installment on its due date", given: inRepayment(t), when: repay(borrower, due1, "29679.93"), then: []events.Payload{firstPaid()}},
		{name: "fees first, then interest, then principal", given: with(inRepayment(t), fee), when: repay(borrower, due1, "1100"),
			then: []events.Payload{dealsapi.RepaymentReceived{LoanID: "deal-1", Amount: amt("1100"), Fees: amt("100"), Interest: amt("1000"),
				Periods: []dealsapi.PeriodPaid{{Number: 1, Interest: amt("1000")}},
				Banks: []dealsapi.BankRepayment{
					{BankID: "bank-lead", Fees: amt("60"), Interest: amt("600")},
					{BankID: "bank-b", Fees: amt("40"), Interest: amt("400")},
				}, OutstandingAfter: amt("1000000")}}},
		{name: "the next installment may be paid ahead of its date, not more", given: inRepayment(t), when: repay(borrower, now, "29679.94"),
			code: fundbridge.EUNPROCESSABLE, field: "amount",
			msg: "repayment ¥29,679.94 is more than the ¥29,679.93 owed through period 1; prepay principal with an early repayment"},
		{name: "another company's loan is not found", given: inRepayment(t),
			when: repay(fundbridge.Actor{UserID: "u-2", Role: fundbridge.RoleStartup, OrgID: "co-2"}, due1, "1"), code: fundbridge.ENOTFOUND},
		{name: "a fund manager does not repay", given: inRepayment(t), when: repay(manager, due1, "1"), code: fundbridge.EFORBIDDEN},
		{name: "no repayment before the schedule is fixed", given: []events.Payload{opened()}, when: repay(borrower, due1, "1"), code: fundbridge.ECONFLICT},
		{name: "no repayment on a closed loan", given: with(inRepayment(t), dealsapi.LoanRepaid{LoanID: "deal-1"}), when: repay(borrower, due1, "1"),
			code: fundbridge.ECONFLICT, msg: "loan deal-1 is repaid and closed; nothing is owed"},
		{name: "a period unpaid after its due date is in arrears", given: inRepayment(t),
			when: func(l Loan) ([]events.Payload, error) {
				return decideRecordArrears(l, platform, days(due1, 10), dealsapi.LoanRef{LoanID: "deal-1"})
			},
			then: []events.Payload{dealsapi.PeriodOverdue{LoanID: "deal-1", Number: 1, Due: due1, Overdue: amt("29679.93"), DaysPastDue: 10}}},
		{name: "arrears are recorded once", given: with(inRepayment(t), dealsapi.PeriodOverdue{LoanID: "deal-1", Number: 1, Due: due1, Overdue: amt("29679.93"), DaysPastDue: 10}),
			when: func(l Loan) ([]events.Payload, error) {
				return decideRecordArrears(l, platform, days(due1, 11), dealsapi.LoanRef{LoanID: "deal-1"})
			}},
		{name: "not on the due date itself", given: inRepayment(t),
			when: func(l Loan) ([]events.Payload, error) {
				return decideRecordArrears(l, platform, due1.Add(15*time.Hour+59*time.Minute), dealsapi.LoanRef{LoanID: "deal-1"}) // 23:59 in China
			}},
	})
	l := replay(t, LoanFolds().Apply, with(inRepayment(t), dealsapi.RepaymentReceived{LoanID: "deal-1", Amount: amt("1000"), Interest: amt("1000"),
		Periods: []dealsapi.PeriodPaid{{Number: 1, Interest: amt("1000")}}}))
	if owed, dpd := l.Arrears(days(due1, 45)); owed.String() != "58359.86" || dpd != 45 {
		t.Errorf("arrears 45 days after the first due date: %s, %d days", owed, dpd)
	}
	// The first period paid on time, the second recorded in arrears:
	// only the second is overdue (the demo showed both).
	l = replay(t, LoanFolds().Apply, with(inRepayment(t), firstPaid(), dealsapi.PeriodOverdue{LoanID: "deal-1", Number: 2, Overdue: amt("29679.93"), DaysPastDue: 3}))
	if first, second := l.Installment(0), l.Installment(1); first.Overdue || !second.Overdue {
		t.Errorf("period 1 paid on time overdue: %v; period 2 in arrears overdue: %v", first.Overdue, second.Overdue)
	}
}

func TestEarlyRepayment(t *testing.T) {
	paid := with(inRepayment(t), firstPaid())
	early := func(at time.Time, amount string) func(Loan) ([]events.Payload, error) {
		return func(l Loan) ([]events.Payload, error) {
			return decideRepayEarly(l, borrower, at, dealsapi.LoanAmount{LoanID: "deal-1", Amount: amt(amount)})
		}
	}
	mid := date("2026-04-15")
	check(t, LoanFolds().Apply, []scenario[Loan]{
		{name: "not while a period is overdue", given: inRepayment(t), when: early(mid, "500000"), code: fundbridge.ECONFLICT},
		{name: "not for less than the next installment", given: paid, when: early(mid, "29679.93"), code: fundbridge.EUNPROCESSABLE, field: "amount"},
		{name: "not for more than repays the loan", given: paid, when: early(mid, "977475.63"), code: fundbridge.EUNPROCESSABLE, field: "amount",
			msg: "early repayment ¥977,475.63 is more than the ¥977,475.62 that repays loan deal-1 in full"},
		{name: "no early repayment on a defaulted loan", given: with(paid, dealsapi.LoanDefaulted{LoanID: "deal-1"}), when: early(mid, "500000"), code: fundbridge.ECONFLICT},
	})

	// In full: period 2's interest (973,945.07 × 0.3625% = 3,530.55) and
	// every fen of principal.
	got, err := early(mid, "977475.62")(replay(t, LoanFolds().Apply, paid))
	if err != nil || len(got) != 2 {
		t.Fatalf("full early repayment: %v %v", got, err)
	}
	full := got[0].(dealsapi.EarlyRepaymentReceived)
	if !full.Full || full.Interest.String() != "3530.55" || full.Principal.String() != "973945.07" || !full.OutstandingAfter.IsZero() || len(full.Remaining) != 0 {
		t.Errorf("full early repayment %+v", full)
	}
	if _, ok := got[1].(dealsapi.LoanRepaid); !ok {
		t.Errorf("a full early repayment did not close the loan: %v", got[1])
	}

	// In part: ¥500,000 with period 2; the 34 months left are recomputed
	// on 477,475.62 with the same end date.
	got, err = early(mid, "500000")(replay(t, LoanFolds().Apply, paid))
	if err != nil || len(got) != 1 {
		t.Fatalf("partial early repayment: %v %v", got, err)
	}
	part := got[0].(dealsapi.EarlyRepaymentReceived)
	want, err := loan.Remaining(loan.Terms{Principal: amt("1000000"), AnnualRate: dec("0.0435"), Months: 36, Method: loan.EqualInstallment}, 2, amt("477475.62"))
	if err != nil {
		t.Fatal(err)
	}
	if part.Full || part.Period != 2 || part.Interest.String() != "3530.55" || part.Principal.String() != "496469.45" ||
		part.OutstandingAfter.String() != "477475.62" || mustJSON(t, part.Remaining) != mustJSON(t, dealsapi.Scheduled(date("2026-03-01"), want.Periods)) {
		t.Errorf("partial early repayment %+v", part)
	}
	if r := part.Remaining; len(r) != 34 || r[0].Number != 3 || !r[0].Due.Equal(date("2026-06-01")) || !r[33].Due.Equal(date("2029-03-01")) ||
		!r[0].Payment.LessThan(amt("29679.93")) {
		t.Errorf("remaining schedule %+v … %+v", r[0], r[len(r)-1])
	}
	l := replay(t, LoanFolds().Apply, append(paid, part))
	if l.Outstanding().String() != "477475.62" || len(l.Schedule) != 36 || !l.Installment(1).settled() || l.Installment(1).Principal.String() != "496469.45" {
		t.Errorf("after the early repayment: outstanding %s, period 2 %+v", l.Outstanding(), l.Installment(1))
	}
	sumBanks := money.Zero
	for _, b := range l.Banks {
		sumBanks = sumBanks.Add(b.Outstanding())
	}
	if !sumBanks.Equal(l.Outstanding()) {
		t.Errorf("banks' outstanding %s, loan's %s", sumBanks, l.Outstanding())
	}
}

func TestDefaultAndWarrant(t *testing.T) {
	due1 := date("2026-04-01")
	overdue := with(inRepayment(t), dealsapi.PeriodOverdue{LoanID: "deal-1", Number: 1, Due: due1, Overdue: amt("29679.93"), DaysPastDue: 20})
	declare := func(a fundbridge.Actor) func(Loan) ([]events.Payload, error) {
		return func(l Loan) ([]events.Payload, error) {
			return decideDeclareDefault(l, a, days(due1, 20), dealsapi.DeclareDefault{LoanID: "deal-1", Reason: "stopped paying"})
		}
	}
	exercise := func(a fundbridge.Actor, at time.Time) func(Loan) ([]events.Payload, error) {
		return func(l Loan) ([]events.Payload, error) {
			return decideExerciseWarrant(l, a, "mgr-1", at, dealsapi.LoanRef{LoanID: "deal-1"})
		}
	}
	exercised := dealsapi.WarrantExercised{LoanID: "deal-1", HolderID: "bank-lead", Amount: amt("100000"), StrikeValuation: amt("60000000"), Ownership: dec("0.0016638935")}
	fundExercised := exercised
	fundExercised.HolderID = "fund-1"
	otherManager := fundbridge.Actor{UserID: "u-m2", Role: fundbridge.RoleFundManager, OrgID: "mgr-2"}
	check(t, LoanFolds().Apply, []scenario[Loan]{
		// Loss 1,003,625.00 (principal and period 1's interest): banks 50%,
		// fund 10%, risk-compensation fund 30%, insurer 10%; the banks'
		// half 60/40 by outstanding principal.
		{name: "the lead bank declares a default and the loss is allocated by the table", given: overdue, when: declare(leadBank),
			then: []events.Payload{dealsapi.LoanDefaulted{LoanID: "deal-1", Reason: "stopped paying",
				Principal: amt("1000000"), Interest: amt("3625"), Loss: amt("1003625"),
				Allocation: dealsapi.LossAllocation{Banks: amt("501812.50"), Fund: amt("100362.50"), RiskCompensationFund: amt("301087.50"), Insurer: amt("100362.50")},
				BankLosses: []dealsapi.BankAmount{{BankID: "bank-lead", Amount: amt("301087.50")}, {BankID: "bank-b", Amount: amt("200725.00")}}},
				// The same allocation, self-contained for the parties' books
				// and the insurer's guarantee claim.
				dealsapi.LossAllocated{LoanID: "deal-1", DealID: "deal-1", BorrowerID: "co-1", LeadBankID: "bank-lead", Loss: amt("1003625"),
					Shares:     dealsapi.RiskSharing{Banks: dec("0.5"), Fund: dec("0.1"), RiskCompensationFund: dec("0.3"), Insurer: dec("0.1"), InsurerID: "ins-1"},
					Allocation: dealsapi.LossAllocation{Banks: amt("501812.50"), Fund: amt("100362.50"), RiskCompensationFund: amt("301087.50"), Insurer: amt("100362.50")},
					BankLosses: []dealsapi.BankAmount{{BankID: "bank-lead", Amount: amt("301087.50")}, {BankID: "bank-b", Amount: amt("200725.00")}},
					FundID:     "fund-1", InsurerID: "ins-1"}}},
		{name: "another bank in the loan cannot declare it", given: overdue, when: declare(bankB), code: fundbridge.EFORBIDDEN},
		{name: "the platform does not declare defaults", given: overdue, when: declare(platform), code: fundbridge.EFORBIDDEN},
		{name: "a repaid loan does not default", given: with(inRepayment(t), dealsapi.LoanRepaid{LoanID: "deal-1"}), when: declare(leadBank), code: fundbridge.ECONFLICT},
		{name: "no repayment after a default", given: with(overdue, dealsapi.LoanDefaulted{LoanID: "deal-1"}),
			when: func(l Loan) ([]events.Payload, error) {
				return decideRepay(l, borrower, days(due1, 91), dealsapi.LoanAmount{LoanID: "deal-1", Amount: amt("1")})
			},
			code: fundbridge.ECONFLICT},
		{name: "the holder exercises the warrant in its window", given: inRepayment(t), when: exercise(leadBank, date("2026-06-01")),
			then: []events.Payload{exercised}},
		{name: "on the window's last day", given: inRepayment(t), when: exercise(leadBank, date("2028-12-31").Add(15*time.Hour+59*time.Minute)), // 23:59 in China
			then: []events.Payload{exercised}},
		{name: "before its window", given: inRepayment(t), when: exercise(leadBank, date("2026-05-31")), code: fundbridge.EUNPROCESSABLE,
			msg: "the warrant of loan deal-1 may be exercised from 2026-06-01 to 2028-12-31; today is 2026-05-31"},
		{name: "after its window", given: inRepayment(t), when: exercise(leadBank, date("2029-01-01")), code: fundbridge.EUNPROCESSABLE},
		{name: "by another bank", given: inRepayment(t), when: exercise(bankB, date("2026-06-01")), code: fundbridge.EFORBIDDEN},
		{name: "twice", given: with(inRepayment(t), exercised), when: exercise(leadBank, date("2026-06-02")), code: fundbridge.ECONFLICT},
		{name: "the equity fund's manager exercises a warrant the fund holds", given: fundHeld(t), when: exercise(manager, date("2026-06-01")),
			then: []events.Payload{fundExercised}},
		{name: "another fund's manager does not see it", given: fundHeld(t), when: exercise(otherManager, date("2026-06-01")), code: fundbridge.ENOTFOUND},
	})
}

// A loan's state reads back from JSON as it was (snapshots), its
// schedule written as the contract writes periods, amounts as strings.
func TestLoanStateRoundTrips(t *testing.T) {
	l := replay(t, LoanFolds().Apply, with(inRepayment(t), firstPaid(), dealsapi.PeriodOverdue{LoanID: "deal-1", Number: 2}))
	data := mustJSON(t, l)
	var back Loan
	if err := json.Unmarshal([]byte(data), &back); err != nil {
		t.Fatal(err)
	}
	if again := mustJSON(t, back); again != data {
		t.Errorf("wrote %.400s\nread back %.400s", data, again)
	}
	periods, err := fixed(t, "1000000").Schedule()
	if err != nil {
		t.Fatal(err)
	}
	if want := mustJSON(t, periods[0]); !strings.Contains(data, want) {
		t.Errorf("period 1 is not written as the contract writes it (%s): %.300s", want, data)
	}
}
