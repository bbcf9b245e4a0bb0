package deals

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// decideDeclareDefault is the lead bank (or an operator) declaring the
// borrower in default. The loss, principal outstanding with interest and
// fees due, is allocated by the risk-sharing table (largest remainder),
// and the banks' part among the banks by what each has outstanding. The
// loan is closed.
func decideDeclareDefault(l Loan, a fundbridge.Actor, now time.Time, cmd dealsapi.DeclareDefault) ([]events.Payload, error) {
	if err := authorizeLead(a, l, cmd.LoanID, "declare defaults", cmd.Validate); err != nil {
		return nil, err
	}
	if a.Role == fundbridge.RoleSystem {
		return nil, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a default is declared by the lead bank, not the platform")
	}
	if err := repaying(l); err != nil {
		return nil, err
	}
	d := dealsapi.LoanDefaulted{LoanID: l.ID, Reason: strings.TrimSpace(cmd.Reason), Principal: l.Outstanding(), Fees: l.FeesOwed}
	today := day(now)
	for i := l.Next; i < len(l.Schedule) && !l.Schedule[i].Due().After(today); i++ {
		d.Interest = d.Interest.Add(l.Installment(i).owedInterest())
	}
	d.Loss = d.Principal.Add(d.Interest).Add(d.Fees)
	parts, err := money.Split(d.Loss, l.RiskSharing.Shares())
	if err != nil {
		return nil, fmt.Errorf("allocate the loss of loan %s: %w", l.ID, err)
	}
	d.Allocation = dealsapi.LossAllocation{Banks: parts[0], Fund: parts[1], RiskCompensationFund: parts[2], Insurer: parts[3]}
	weights := make([]decimal.Decimal, len(l.Banks))
	for i, b := range l.Banks {
		weights[i] = b.Outstanding().Decimal()
	}
	d.BankLosses = []dealsapi.BankAmount{}
	if d.Allocation.Banks.IsPositive() {
		losses, err := money.Split(d.Allocation.Banks, weights)
		if err != nil {
			return nil, fmt.Errorf("allocate the banks' loss of loan %s: %w", l.ID, err)
		}
		d.BankLosses = bankAmounts(l.Banks, losses)
	}
	allocated := dealsapi.LossAllocated{LoanID: l.ID, DealID: l.ID, BorrowerID: l.BorrowerID, LeadBankID: l.LeadBankID,
		Loss: d.Loss, Shares: l.RiskSharing, Allocation: d.Allocation, BankLosses: d.BankLosses, FundID: l.EquityFundID, InsurerID: l.RiskSharing.InsurerID}
	return []events.Payload{d, allocated}, nil
}

// decideExerciseWarrant records the equity the warrant creates, by its
// holder (or an operator) within its exercise window, once. A warrant the
// equity fund holds is exercised by the fund's manager (fundManagerOrg).
func decideExerciseWarrant(l Loan, a fundbridge.Actor, fundManagerOrg string, now time.Time, cmd dealsapi.LoanRef) ([]events.Payload, error) {
	if err := requireRole(a, "exercise warrants", fundbridge.RoleBank, fundbridge.RoleFundManager, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	holder := l.Warrant != nil && a.OrgID != "" && (a.OrgID == l.Warrant.HolderID ||
		a.Role == fundbridge.RoleFundManager && l.Warrant.HolderID == l.EquityFundID && a.OrgID == fundManagerOrg)
	if !l.exists() || !(l.visibleTo(a) || holder) {
		return nil, notFound("loan", cmd.LoanID)
	}
	w := l.Warrant
	today := day(now)
	switch {
	case w == nil:
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "loan %s has no warrant", l.ID)
	case (a.Role == fundbridge.RoleBank || a.Role == fundbridge.RoleFundManager) && !holder:
		return nil, fundbridge.Errorf(fundbridge.EFORBIDDEN, "only the warrant's holder %s may exercise it", w.HolderID)
	case l.Exercised != nil:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "the warrant of loan %s was already exercised", l.ID)
	case today.Before(w.ExerciseFrom) || today.After(w.ExerciseUntil):
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "the warrant of loan %s may be exercised from %s to %s; today is %s",
			l.ID, w.ExerciseFrom.Format(time.DateOnly), w.ExerciseUntil.Format(time.DateOnly), today.Format(time.DateOnly))
	}
	return []events.Payload{dealsapi.WarrantExercised{
		LoanID: l.ID, HolderID: w.HolderID, Amount: w.Amount, StrikeValuation: w.StrikeValuation,
		Ownership: w.Amount.Ratio(w.StrikeValuation.Add(w.Amount)),
	}}, nil
}
