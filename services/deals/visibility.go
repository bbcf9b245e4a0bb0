package deals

import (
	"fmt"
	"slices"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// DealFor is the deal as the actor may see it, and false if the actor may
// not see it at all. Operators, the platform and the lead bank see the
// whole book; another invited bank its own line and figures only; the
// borrower the book with the other banks unnamed; the equity fund's
// manager (fundManagerOrg) the deal without the book.
func DealFor(a fundbridge.Actor, d Deal, fundManagerOrg string) (Deal, bool) {
	switch {
	case !d.exists():
		return Deal{}, false
	case a.Role == fundbridge.RoleOperator || a.Role == fundbridge.RoleSystem:
		return d, true
	case a.Role == fundbridge.RoleBank && a.OrgID == d.LeadBankID:
		return d, true
	case a.Role == fundbridge.RoleBank:
		i := d.bank(a.OrgID)
		if i < 0 {
			return Deal{}, false
		}
		d.Banks = []DealBank{d.Banks[i]}
		d.Committed = d.Banks[0].Committed
		return d, true
	case a.Role == fundbridge.RoleStartup && a.OrgID == d.BorrowerID:
		d.Banks = slices.Clone(d.Banks)
		for i := range d.Banks {
			if d.Banks[i].BankID != d.LeadBankID {
				d.Banks[i].BankID = fmt.Sprintf("bank %d", i+1)
			}
			d.Banks[i].Reason = ""
		}
		return d, true
	case a.Role == fundbridge.RoleFundManager && a.OrgID != "" && a.OrgID == fundManagerOrg:
		d.Banks, d.Committed = nil, money.Zero
		return d, true
	}
	return Deal{}, false
}

// LoanFor is the loan as the actor may see it, and false if the actor may
// not see it at all: a bank in the loan sees its own line and its own
// drawn and repaid figures (the lead bank, operators and the platform
// everything), the borrower the loan with the other banks unnamed.
func LoanFor(a fundbridge.Actor, l Loan) (Loan, bool) {
	switch {
	case !l.exists() || !l.visibleTo(a):
		return Loan{}, false
	case a.Role == fundbridge.RoleBank && a.OrgID != l.LeadBankID:
		i := slices.IndexFunc(l.Banks, func(b LoanBank) bool { return b.BankID == a.OrgID })
		l.Banks = []LoanBank{l.Banks[i]}
		// Its own share of the figures; the terms and the schedule are the
		// syndicate's common knowledge.
		l.Drawn, l.PrincipalRepaid = l.Banks[0].Drawn, l.Banks[0].PrincipalRepaid
		if l.Default != nil {
			d := *l.Default
			d.BankLosses = slices.DeleteFunc(slices.Clone(d.BankLosses), func(b dealsapi.BankAmount) bool { return b.BankID != a.OrgID })
			l.Default = &d
		}
	case a.Role == fundbridge.RoleStartup:
		l.Banks = slices.Clone(l.Banks)
		unnamed := map[string]string{}
		for i := range l.Banks {
			if l.Banks[i].BankID != l.LeadBankID {
				unnamed[l.Banks[i].BankID] = fmt.Sprintf("bank %d", i+1)
				l.Banks[i].BankID = unnamed[l.Banks[i].BankID]
			}
		}
		if l.Default != nil {
			d := *l.Default
			d.BankLosses = slices.Clone(d.BankLosses)
			for i, b := range d.BankLosses {
				if name, ok := unnamed[b.BankID]; ok {
					d.BankLosses[i].BankID = name
				}
			}
			l.Default = &d
		}
	}
	return l, true
}
