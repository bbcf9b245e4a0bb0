package deals

import (
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

func TestEachRoleSeesItsPartOfTheDeal(t *testing.T) {
	d := replay(t, DealFolds().Apply, []events.Payload{proposed(), invitedB(), invitedC(), committed("bank-lead", "600000", "600000"),
		committed("bank-b", "300000", "900000"), dealsapi.BankDeclined{DealID: "deal-1", BankID: "bank-c", Reason: "sector cap"}})
	ids := func(d Deal) []string {
		var out []string
		for _, b := range d.Banks {
			out = append(out, b.BankID)
		}
		return out
	}
	for _, c := range []struct {
		who       string
		a         fundbridge.Actor
		sees      bool
		banks     []string
		committed string
	}{
		{"an operator", operator, true, []string{"bank-lead", "bank-b", "bank-c"}, "900000.00"},
		{"the lead bank", leadBank, true, []string{"bank-lead", "bank-b", "bank-c"}, "900000.00"},
		{"an invited bank", bankB, true, []string{"bank-b"}, "300000.00"},
		{"a bank not invited", outsider, false, nil, ""},
		{"the borrower", borrower, true, []string{"bank-lead", "bank 2", "bank 3"}, "900000.00"},
		{"another startup", fundbridge.Actor{UserID: "u", Role: fundbridge.RoleStartup, OrgID: "co-2"}, false, nil, ""},
		{"the fund's manager", manager, true, nil, "0.00"},
		{"another fund manager", fundbridge.Actor{UserID: "u", Role: fundbridge.RoleFundManager, OrgID: "mgr-2"}, false, nil, ""},
		{"an insurer", fundbridge.Actor{UserID: "u", Role: fundbridge.RoleInsurer, OrgID: "ins-1"}, false, nil, ""},
	} {
		v, ok := DealFor(c.a, d, "mgr-1")
		if ok != c.sees {
			t.Errorf("%s sees the deal: %v, want %v", c.who, ok, c.sees)
			continue
		}
		if !ok {
			continue
		}
		if got := ids(v); len(got) != len(c.banks) || (len(got) > 0 && mustJSON(t, got) != mustJSON(t, c.banks)) {
			t.Errorf("%s sees banks %v, want %v", c.who, got, c.banks)
		}
		if v.Committed.String() != c.committed {
			t.Errorf("%s sees %s committed, want %s", c.who, v.Committed, c.committed)
		}
		if c.a == borrower && v.Banks[2].Reason != "" {
			t.Errorf("the borrower sees why a bank declined: %q", v.Banks[2].Reason)
		}
	}
	if len(d.Banks) != 3 || d.Banks[1].BankID != "bank-b" {
		t.Errorf("a view changed the deal: %+v", d.Banks)
	}
}

func TestEachRoleSeesItsPartOfTheLoan(t *testing.T) {
	l := replay(t, LoanFolds().Apply, with(inRepayment(t), firstPaid()))
	v, ok := LoanFor(bankB, l)
	if !ok || len(v.Banks) != 1 || v.Banks[0].BankID != "bank-b" || v.Drawn.String() != "400000.00" || v.PrincipalRepaid.String() != "10421.97" {
		t.Errorf("bank-b sees %v: %+v, drawn %s repaid %s", ok, v.Banks, v.Drawn, v.PrincipalRepaid)
	}
	if v, ok := LoanFor(leadBank, l); !ok || len(v.Banks) != 2 || v.Drawn.String() != "1000000.00" {
		t.Errorf("the lead sees %v: %+v", ok, v.Banks)
	}
	if v, ok := LoanFor(borrower, l); !ok || v.Banks[0].BankID != "bank-lead" || v.Banks[1].BankID != "bank 2" {
		t.Errorf("the borrower sees %v: %+v", ok, v.Banks)
	}
	if _, ok := LoanFor(outsider, l); ok {
		t.Error("a bank outside the loan sees it")
	}
	if l.Banks[1].BankID != "bank-b" || l.Drawn.String() != "1000000.00" {
		t.Errorf("a view changed the loan: %+v", l.Banks)
	}
}

// A lead bank may arrange a loan and lend none of it: it still sees the
// whole loan and services it, as the lead of any loan does.
func TestALeadThatLendsNothingSeesAndServicesTheLoan(t *testing.T) {
	o := opened()
	o.Banks = []dealsapi.LoanBank{{BankID: "bank-b", Commitment: amt("1000000"), Share: dec("1")}}
	l := replay(t, LoanFolds().Apply, []events.Payload{o})
	if v, ok := LoanFor(leadBank, l); !ok || len(v.Banks) != 1 || v.Banks[0].BankID != "bank-b" {
		t.Errorf("the lead sees %v: %+v", ok, v.Banks)
	}
	evs, err := decideDrawDown(l, leadBank, now, dealsapi.LoanAmount{LoanID: "deal-1", Amount: amt("1000000")})
	if err != nil || len(evs) == 0 {
		t.Errorf("the lead drawing down: %v %v", evs, err)
	}
	if _, err := decideDrawDown(l, outsider, now, dealsapi.LoanAmount{LoanID: "deal-1", Amount: amt("1")}); fundbridge.ErrorCode(err) != fundbridge.ENOTFOUND {
		t.Errorf("a bank outside the loan drawing down: %v, want not found", err)
	}
}
