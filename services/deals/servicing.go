package deals

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// Installment is one period of a fixed schedule and what has been paid
// of it, as the loan sees it now.
type Installment struct {
	dealsapi.ScheduledPeriod
	PaidInterest  money.Amount `json:"paid_interest"`
	PaidPrincipal money.Amount `json:"paid_principal"`
	Overdue       bool         `json:"overdue"` // recorded unpaid after its due date
}

func (i Installment) owedInterest() money.Amount  { return i.Interest.Sub(i.PaidInterest) }
func (i Installment) owedPrincipal() money.Amount { return i.Principal.Sub(i.PaidPrincipal) }
func (i Installment) owed() money.Amount          { return i.owedInterest().Add(i.owedPrincipal()) }
func (i Installment) settled() bool               { return i.owed().IsZero() }

// LoanBank is one bank's part of a loan and what has flowed through it.
type LoanBank struct {
	dealsapi.LoanBank
	Drawn           money.Amount `json:"drawn"`
	PrincipalRepaid money.Amount `json:"principal_repaid"`
	InterestPaid    money.Amount `json:"interest_paid"`
	FeesPaid        money.Amount `json:"fees_paid"`
	Loss            money.Amount `json:"loss"`
}

// Outstanding is the bank's principal lent and not yet repaid.
func (b LoanBank) Outstanding() money.Amount { return b.Drawn.Sub(b.PrincipalRepaid) }

// Loan is a closed deal's loan in servicing. It is a value: evolve never
// writes into the slices it was given.
type Loan struct {
	ID           string               `json:"id"`
	BorrowerID   string               `json:"borrower_id"`
	LeadBankID   string               `json:"lead_bank_id"`
	EquityFundID string               `json:"equity_fund_id"`
	Terms        dealsapi.LoanTerms   `json:"terms"` // as agreed; Principal is the loan amount
	RiskSharing  dealsapi.RiskSharing `json:"risk_sharing"`
	Warrant      *dealsapi.Warrant    `json:"warrant,omitempty"`
	Banks        []LoanBank           `json:"banks"`
	Status       dealsapi.LoanStatus  `json:"status"`
	Drawn        money.Amount         `json:"drawn"`
	Principal    money.Amount         `json:"principal"` // the schedule's: what was drawn
	Start        time.Time            `json:"start"`
	// Schedule (in whole fen, see period) is never written into, only
	// replaced by an early repayment, so states share it. Payments go to
	// the oldest period first, so what is paid is a cursor: every period
	// before Next is settled, Next has PaidInterest and PaidPrincipal,
	// later ones nothing. Folding a repayment is then O(periods it pays),
	// not O(schedule).
	Schedule        []period                   `json:"schedule,omitempty"`
	Next            int                        `json:"next"`
	PaidInterest    money.Amount               `json:"paid_interest"`
	PaidPrincipal   money.Amount               `json:"paid_principal"`
	OverdueThrough  int                        `json:"overdue_through"` // arrears recorded up to this period number
	FeesOwed        money.Amount               `json:"fees_owed"`
	PrincipalRepaid money.Amount               `json:"principal_repaid"`
	Default         *dealsapi.LoanDefaulted    `json:"default,omitempty"`
	Exercised       *dealsapi.WarrantExercised `json:"warrant_exercised,omitempty"`
	OpenedAt        time.Time                  `json:"opened_at"`
	UpdatedAt       time.Time                  `json:"updated_at"`
	Version         uint64                     `json:"version"`
}

func (l Loan) exists() bool { return l.ID != "" }

// Outstanding is the principal drawn and not yet repaid.
func (l Loan) Outstanding() money.Amount { return l.Drawn.Sub(l.PrincipalRepaid) }

// Undrawn is what the banks committed and may still disburse: nothing
// once drawing has ended (fixing the schedule releases the rest).
func (l Loan) Undrawn() money.Amount {
	if l.Status != dealsapi.StatusAwaitingDrawdown {
		return money.Zero
	}
	sum := money.Zero
	for _, b := range l.Banks {
		sum = sum.Add(b.Commitment)
	}
	return sum.Sub(l.Drawn)
}

// Arrears is what is unpaid of periods past their due date on the day of
// now, and the days past due of the oldest of them.
func (l Loan) Arrears(now time.Time) (money.Amount, int) {
	today, sum, days := day(now), money.Zero, 0
	for i := l.Next; i < len(l.Schedule); i++ {
		in := l.Installment(i)
		if !today.After(in.Due) {
			break // periods fall due in order
		}
		if in.settled() {
			continue
		}
		if sum.IsZero() {
			days = int(today.Sub(in.Due).Hours() / 24)
		}
		sum = sum.Add(in.owed())
	}
	return sum, days
}

// Installment is period i (from 0) of the schedule with what is paid of it.
func (l Loan) Installment(i int) Installment {
	// Periods before Next are paid in full: never overdue, even when
	// arrears were recorded on a later one.
	in := Installment{ScheduledPeriod: l.Schedule[i].scheduled(), Overdue: i >= l.Next && l.Schedule[i].number <= l.OverdueThrough}
	switch {
	case i < l.Next:
		in.PaidInterest, in.PaidPrincipal = in.Interest, in.Principal
	case i == l.Next:
		in.PaidInterest, in.PaidPrincipal = l.PaidInterest, l.PaidPrincipal
	}
	return in
}

// advance moves the cursor past settled periods (also any a tiny loan's
// rounding left at 0.00).
func (l *Loan) advance() {
	for l.Next < len(l.Schedule) && l.Installment(l.Next).settled() {
		l.Next++
		l.PaidInterest, l.PaidPrincipal = money.Zero, money.Zero
	}
}

// LoanFolds is the loan's fold, one step per event type.
func LoanFolds() *fold.Evolve[Loan] {
	var f fold.Evolve[Loan]
	fold.Step(&f, func(_ Loan, e events.Event, p dealsapi.LoanOpened) Loan {
		l := Loan{ID: p.LoanID, BorrowerID: p.BorrowerID, LeadBankID: p.LeadBankID, EquityFundID: p.EquityFundID,
			Terms: p.Terms, RiskSharing: p.RiskSharing, Warrant: p.Warrant, Status: dealsapi.StatusAwaitingDrawdown, OpenedAt: e.RecordedAt}
		for _, b := range p.Banks {
			l.Banks = append(l.Banks, LoanBank{LoanBank: b})
		}
		return l
	})
	fold.Step(&f, func(l Loan, e events.Event, p dealsapi.LoanDrawnDown) Loan {
		l.Drawn = p.DrawnAfter
		l.Banks = l.withBanks(p.Banks, func(b *LoanBank, a money.Amount) { b.Drawn = b.Drawn.Add(a) })
		return l
	})
	fold.Step(&f, func(l Loan, e events.Event, p dealsapi.ScheduleFixed) Loan {
		l.Status, l.Principal, l.Start = dealsapi.StatusRepaying, p.Principal, p.Start
		// Decoding refused a schedule that does not compute, so this
		// does not fail for an event read from the log.
		periods, _ := p.Schedule()
		l.Schedule, l.Next = compactAll(periods), 0
		l.advance()
		return l
	})
	fold.Step(&f, func(l Loan, e events.Event, p dealsapi.FeeCharged) Loan {
		l.FeesOwed = l.FeesOwed.Add(p.Amount)
		return l
	})
	fold.Step(&f, func(l Loan, e events.Event, p dealsapi.RepaymentReceived) Loan {
		l.FeesOwed = l.FeesOwed.Sub(p.Fees)
		l.PrincipalRepaid = l.PrincipalRepaid.Add(p.Principal)
		for _, pp := range p.Periods {
			if l.Next < len(l.Schedule) && l.Schedule[l.Next].number == pp.Number {
				l.PaidInterest, l.PaidPrincipal = l.PaidInterest.Add(pp.Interest), l.PaidPrincipal.Add(pp.Principal)
				l.advance()
			}
		}
		l.Banks = l.withRepayment(p.Banks)
		return l
	})
	fold.Step(&f, func(l Loan, e events.Event, p dealsapi.PeriodOverdue) Loan {
		l.OverdueThrough = max(l.OverdueThrough, p.Number)
		return l
	})
	// Derived: the overdue periods are paid, the loss as LoanDefaulted
	// allocated it; the fold already shows both (only the version moves).
	fold.Step(&f, func(l Loan, _ events.Event, _ dealsapi.ArrearsCleared) Loan { return l })
	fold.Step(&f, func(l Loan, _ events.Event, _ dealsapi.LossAllocated) Loan { return l })
	fold.Step(&f, func(l Loan, e events.Event, p dealsapi.EarlyRepaymentReceived) Loan {
		l.PrincipalRepaid = l.PrincipalRepaid.Add(p.Principal)
		k := slices.IndexFunc(l.Schedule, func(sp period) bool { return sp.number == p.Period })
		if k >= 0 {
			paid := l.Schedule[k].scheduled()
			paid.Interest, paid.Principal = l.PaidInterest.Add(p.Interest), l.PaidPrincipal.Add(p.Principal)
			paid.Payment, paid.Balance = paid.Principal.Add(paid.Interest), p.OutstandingAfter
			l.Schedule = append(append(slices.Clone(l.Schedule[:k]), compact(paid)), compactAll(p.Remaining)...)
			l.Next, l.PaidInterest, l.PaidPrincipal = k+1, money.Zero, money.Zero
			l.advance()
		}
		l.Banks = l.withRepayment(p.Banks)
		return l
	})
	fold.Step(&f, func(l Loan, e events.Event, p dealsapi.LoanRepaid) Loan {
		l.Status = dealsapi.StatusRepaid
		return l
	})
	fold.Step(&f, func(l Loan, e events.Event, p dealsapi.LoanDefaulted) Loan {
		l.Status, l.Default = dealsapi.StatusDefaulted, &p
		l.Banks = l.withBanks(p.BankLosses, func(b *LoanBank, a money.Amount) { b.Loss = b.Loss.Add(a) })
		return l
	})
	fold.Step(&f, func(l Loan, e events.Event, p dealsapi.WarrantExercised) Loan {
		l.Exercised = &p
		return l
	})
	f.Then(func(l Loan, e events.Event) Loan {
		l.Version, l.UpdatedAt = e.Version, e.RecordedAt
		return l
	})
	return &f
}

// withBanks returns the banks with each named one changed by its amount.
func (l Loan) withBanks(parts []dealsapi.BankAmount, change func(*LoanBank, money.Amount)) []LoanBank {
	banks := slices.Clone(l.Banks)
	for _, p := range parts {
		if i := slices.IndexFunc(banks, func(b LoanBank) bool { return b.BankID == p.BankID }); i >= 0 {
			change(&banks[i], p.Amount)
		}
	}
	return banks
}

func (l Loan) withRepayment(parts []dealsapi.BankRepayment) []LoanBank {
	banks := slices.Clone(l.Banks)
	for _, p := range parts {
		if i := slices.IndexFunc(banks, func(b LoanBank) bool { return b.BankID == p.BankID }); i >= 0 {
			b := &banks[i]
			b.FeesPaid, b.InterestPaid, b.PrincipalRepaid = b.FeesPaid.Add(p.Fees), b.InterestPaid.Add(p.Interest), b.PrincipalRepaid.Add(p.Principal)
		}
	}
	return banks
}

// decideOpenLoan opens the loan of a closed deal (the platform, as the
// deal closes); opening it again changes nothing.
func decideOpenLoan(l Loan, a fundbridge.Actor, d Deal) ([]events.Payload, error) {
	if err := requireRole(a, "open loans", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	opened, err := OpenLoan(d)
	if err != nil {
		return nil, err
	}
	if l.exists() {
		return nil, nil
	}
	return []events.Payload{opened}, nil
}

// decideDrawDown disburses part of the loan, split to the banks by what
// each has left to draw, so no bank lends beyond its part. The drawdown
// that draws the whole loan fixes the schedule.
func decideDrawDown(l Loan, a fundbridge.Actor, now time.Time, cmd dealsapi.LoanAmount) ([]events.Payload, error) {
	if err := authorizeLead(a, l, cmd.LoanID, "draw down loans", cmd.Validate); err != nil {
		return nil, err
	}
	if l.Status != dealsapi.StatusAwaitingDrawdown {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "loan %s is %s: drawing has ended", l.ID, l.Status)
	}
	undrawn := l.Undrawn()
	if cmd.Amount.GreaterThan(undrawn) {
		return nil, unprocessable("amount", "drawdown %s is beyond the undrawn %s of loan %s", yuan(cmd.Amount), yuan(undrawn), l.ID)
	}
	weights := make([]decimal.Decimal, len(l.Banks))
	for i, b := range l.Banks {
		weights[i] = b.Commitment.Sub(b.Drawn).Decimal()
	}
	parts, err := money.Split(cmd.Amount, weights)
	if err != nil {
		return nil, fmt.Errorf("split drawdown of loan %s: %w", l.ID, err)
	}
	drawn := dealsapi.LoanDrawnDown{LoanID: l.ID, Amount: cmd.Amount, Banks: bankAmounts(l.Banks, parts),
		DrawnAfter: l.Drawn.Add(cmd.Amount), UndrawnAfter: undrawn.Sub(cmd.Amount)}
	if drawn.UndrawnAfter.IsPositive() {
		return []events.Payload{drawn}, nil
	}
	fixed, err := fixSchedule(l, drawn.DrawnAfter, nil, now)
	if err != nil {
		return nil, err
	}
	return []events.Payload{drawn, fixed}, nil
}

// decideFixSchedule ends drawing: the schedule is fixed on what was
// drawn, and what the banks did not disburse is released.
func decideFixSchedule(l Loan, a fundbridge.Actor, now time.Time, cmd dealsapi.LoanRef) ([]events.Payload, error) {
	if err := authorizeLead(a, l, cmd.LoanID, "fix loan schedules", cmd.Validate); err != nil {
		return nil, err
	}
	switch {
	case l.Status != dealsapi.StatusAwaitingDrawdown:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "loan %s is %s: its schedule is already fixed", l.ID, l.Status)
	case l.Drawn.IsZero():
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "loan %s has nothing drawn to schedule", l.ID)
	}
	var undrawn []dealsapi.BankAmount
	for _, b := range l.Banks {
		if left := b.Commitment.Sub(b.Drawn); left.IsPositive() {
			undrawn = append(undrawn, dealsapi.BankAmount{BankID: b.BankID, Amount: left})
		}
	}
	fixed, err := fixSchedule(l, l.Drawn, undrawn, now)
	if err != nil {
		return nil, err
	}
	return []events.Payload{fixed}, nil
}

// fixSchedule fixes the schedule of principal drawn from the day of now,
// each period due on the same day of a later month: the event carries
// the terms, and the fold computes the periods.
func fixSchedule(l Loan, principal money.Amount, undrawn []dealsapi.BankAmount, now time.Time) (dealsapi.ScheduleFixed, error) {
	terms := l.Terms.Schedule()
	terms.Principal = principal
	return dealsapi.FixSchedule(l.ID, terms, day(now), undrawn)
}

// decideChargeFee adds a fee the borrower owes, paid before interest.
func decideChargeFee(l Loan, a fundbridge.Actor, cmd dealsapi.ChargeFee) ([]events.Payload, error) {
	if err := authorizeLead(a, l, cmd.LoanID, "charge loan fees", cmd.Validate); err != nil {
		return nil, err
	}
	if err := repaying(l); err != nil {
		return nil, err
	}
	return []events.Payload{dealsapi.FeeCharged{LoanID: l.ID, Amount: cmd.Amount, Reason: strings.TrimSpace(cmd.Reason)}}, nil
}

// decideRepay applies a repayment to fees, then to the interest and then
// the principal of the oldest period owed. It may pay what is due and the
// next period ahead of its date; more is an early repayment.
func decideRepay(l Loan, a fundbridge.Actor, now time.Time, cmd dealsapi.LoanAmount) ([]events.Payload, error) {
	if err := authorizeRepay(a, l, cmd.LoanID, cmd.Validate); err != nil {
		return nil, err
	}
	if err := repaying(l); err != nil {
		return nil, err
	}
	owed, through := l.FeesOwed, 0
	today := day(now)
	for i := l.Next; i < len(l.Schedule); i++ {
		in := l.Installment(i)
		if in.settled() {
			continue
		}
		owed, through = owed.Add(in.owed()), in.Number
		if in.Due.After(today) {
			break // the next period ahead; later ones are prepaid by an early repayment
		}
	}
	if cmd.Amount.GreaterThan(owed) {
		return nil, unprocessable("amount", "repayment %s is more than the %s owed through period %d; prepay principal with an early repayment", yuan(cmd.Amount), yuan(owed), through)
	}
	r := dealsapi.RepaymentReceived{LoanID: l.ID, Amount: cmd.Amount, Periods: []dealsapi.PeriodPaid{}}
	left := cmd.Amount
	take := func(due money.Amount) money.Amount { t := money.Min(left, due); left = left.Sub(t); return t }
	r.Fees = take(l.FeesOwed)
	for i := l.Next; i < len(l.Schedule); i++ {
		in := l.Installment(i)
		if left.IsZero() {
			break
		}
		if in.settled() {
			continue
		}
		pp := dealsapi.PeriodPaid{Number: in.Number, Interest: take(in.owedInterest())}
		pp.Principal = take(in.owedPrincipal())
		r.Interest, r.Principal = r.Interest.Add(pp.Interest), r.Principal.Add(pp.Principal)
		r.Periods = append(r.Periods, pp)
	}
	banks, err := l.splitRepayment(r.Fees, r.Interest, r.Principal)
	if err != nil {
		return nil, err
	}
	r.Banks, r.OutstandingAfter = banks, l.Outstanding().Sub(r.Principal)
	out := []events.Payload{r}
	if l.inArrears() && !LoanFolds().Apply(l, events.Event{Version: l.Version}, r).inArrears() {
		out = append(out, dealsapi.ArrearsCleared{LoanID: l.ID, Through: l.OverdueThrough})
	}
	// Interest is paid before principal, and a period after the balance
	// reaches zero asks for no interest: no principal left and no fees
	// left means nothing is owed.
	if r.OutstandingAfter.IsZero() && r.Fees.Equal(l.FeesOwed) {
		out = append(out, dealsapi.LoanRepaid{LoanID: l.ID})
	}
	return out, nil
}

// splitRepayment splits a repayment's parts to the banks in proportion
// to the principal each has outstanding: what each bank's share of the
// loan is now. Principal so split never takes a bank below zero, and the
// banks' outstanding principal always sums to the loan's.
func (l Loan) splitRepayment(fees, interest, principal money.Amount) ([]dealsapi.BankRepayment, error) {
	weights := make([]decimal.Decimal, len(l.Banks))
	for i, b := range l.Banks {
		weights[i] = b.Outstanding().Decimal()
	}
	if l.Outstanding().IsZero() {
		for i, b := range l.Banks {
			weights[i] = b.Drawn.Decimal()
		}
	}
	out := make([]dealsapi.BankRepayment, len(l.Banks))
	for i, b := range l.Banks {
		out[i] = dealsapi.BankRepayment{BankID: b.BankID}
	}
	for _, part := range []struct {
		amount money.Amount
		set    func(*dealsapi.BankRepayment, money.Amount)
	}{
		{fees, func(r *dealsapi.BankRepayment, a money.Amount) { r.Fees = a }},
		{interest, func(r *dealsapi.BankRepayment, a money.Amount) { r.Interest = a }},
		{principal, func(r *dealsapi.BankRepayment, a money.Amount) { r.Principal = a }},
	} {
		if part.amount.IsZero() {
			continue
		}
		split, err := money.Split(part.amount, weights)
		if err != nil {
			return nil, fmt.Errorf("split repayment of loan %s: %w", l.ID, err)
		}
		for i := range out {
			part.set(&out[i], split[i])
		}
	}
	return out, nil
}

// decideRecordArrears records each period still unpaid after its due
// date, once (the platform, when a period's durable deadline fires).
func decideRecordArrears(l Loan, a fundbridge.Actor, now time.Time, cmd dealsapi.LoanRef) ([]events.Payload, error) {
	if err := platformOnly(a, "record arrears", cmd.Validate); err != nil {
		return nil, err
	}
	if !l.exists() {
		return nil, notFound("loan", cmd.LoanID)
	}
	if l.Status != dealsapi.StatusRepaying {
		return nil, nil
	}
	today := day(now)
	var out []events.Payload
	for i := l.Next; i < len(l.Schedule); i++ {
		in := l.Installment(i)
		if !today.After(in.Due) {
			break // periods fall due in order
		}
		if in.settled() || in.Overdue {
			continue
		}
		out = append(out, dealsapi.PeriodOverdue{LoanID: l.ID, Number: in.Number, Due: in.Due, Overdue: in.owed(),
			DaysPastDue: int(today.Sub(in.Due).Hours() / 24)})
	}
	return out, nil
}

// inArrears reports whether a period recorded overdue is still unpaid.
func (l Loan) inArrears() bool {
	for i := l.Next; i < len(l.Schedule) && l.Schedule[i].number <= l.OverdueThrough; i++ {
		if !l.Installment(i).settled() {
			return true
		}
	}
	return false
}

// china is the zone the loans' days are counted in (UTC+8, no daylight
// saving): a due date, a drawdown's start and days past due are China days.
var china = time.FixedZone("CST", 8*3600)

// day is t's calendar day in China, written as midnight UTC so days
// compare and subtract exactly (as the bank book counts them).
func day(t time.Time) time.Time {
	y, m, d := t.In(china).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// startOfDay is the instant a China day begins.
func startOfDay(d time.Time) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, china)
}

// bankAmounts pairs the loan's banks with parts of a split, in order.
func bankAmounts(banks []LoanBank, parts []money.Amount) []dealsapi.BankAmount {
	out := make([]dealsapi.BankAmount, len(banks))
	for i, b := range banks {
		out[i] = dealsapi.BankAmount{BankID: b.BankID, Amount: parts[i]}
	}
	return out
}

// repaying refuses commands that need a loan in repayment.
func repaying(l Loan) error {
	switch l.Status {
	case dealsapi.StatusRepaying:
		return nil
	case dealsapi.StatusAwaitingDrawdown:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "loan %s has no schedule yet: it is awaiting drawdown", l.ID)
	case dealsapi.StatusRepaid:
		return fundbridge.Errorf(fundbridge.ECONFLICT, "loan %s is repaid and closed; nothing is owed", l.ID)
	}
	return fundbridge.Errorf(fundbridge.ECONFLICT, "loan %s is closed: it is %s", l.ID, l.Status)
}

// authorizeLead lets the lead bank, operators and the platform act on the
// loan; another bank in the loan may see it but not do this, and to
// anyone else it does not exist.
func authorizeLead(a fundbridge.Actor, l Loan, id, what string, validate func() error) error {
	if err := requireRole(a, what, fundbridge.RoleBank, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return err
	}
	if err := validate(); err != nil {
		return err
	}
	if !l.exists() || !l.visibleTo(a) {
		return notFound("loan", id)
	}
	if a.Role == fundbridge.RoleBank && a.OrgID != l.LeadBankID {
		return fundbridge.Errorf(fundbridge.EFORBIDDEN, "only the lead bank %s may %s", l.LeadBankID, what)
	}
	return nil
}

// authorizeRepay lets the borrower, the lead bank (recording what it
// received), operators and the platform repay.
func authorizeRepay(a fundbridge.Actor, l Loan, id string, validate func() error) error {
	if a.Role == fundbridge.RoleStartup {
		if err := requireRole(a, "repay loans", fundbridge.RoleStartup); err != nil {
			return err
		}
		if err := validate(); err != nil {
			return err
		}
		if !l.exists() || !l.visibleTo(a) {
			return notFound("loan", id)
		}
		return nil
	}
	return authorizeLead(a, l, id, "record repayments", validate)
}

// visibleTo: operators and the platform see every loan, a bank the loans
// it leads or lends in (a lead may arrange a loan it takes no part of), a
// startup its own.
func (l Loan) visibleTo(a fundbridge.Actor) bool {
	switch a.Role {
	case fundbridge.RoleOperator, fundbridge.RoleSystem:
		return true
	case fundbridge.RoleBank:
		return a.OrgID != "" && a.OrgID == l.LeadBankID || slices.ContainsFunc(l.Banks, func(b LoanBank) bool { return b.BankID == a.OrgID })
	case fundbridge.RoleStartup:
		return a.OrgID == l.BorrowerID
	}
	return false
}
