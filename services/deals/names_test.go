package deals

import (
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/eventtest"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
)

// stream is events of one stream, given to a view.
type stream = eventtest.Stream

// viewOf is the view folded from the streams, through the registry as
// the service folds the log.
func viewOf(t *testing.T, streams ...stream) *view {
	t.Helper()
	reg := events.NewRegistry()
	dealsapi.Register(reg)
	applicationsapi.Register(reg)
	fundsapi.Register(reg)
	v := newView(reg)
	eventtest.Fold(t, now, v.apply, streams...)
	return v
}

// namedMarket is the test deal, closed, and its loan in repayment, with
// its three banks onboarded and its borrower registered and then
// renamed.
func namedMarket(t *testing.T) *view {
	return viewOf(t,
		stream{ID: "bank-bank-lead", Payloads: []events.Payload{onboarded("bank-lead", "500000000", "50000000")}},
		stream{ID: "bank-bank-b", Payloads: []events.Payload{onboarded("bank-b", "500000000", "50000000"),
			dealsapi.ExposureReserved{BankID: "bank-b", DealID: "deal-1", BorrowerID: "co-1", Amount: amt("400000")}}},
		stream{ID: "bank-bank-c", Payloads: []events.Payload{onboarded("bank-c", "500000000", "50000000")}},
		stream{ID: "company-co-1", Payloads: []events.Payload{
			applicationsapi.CompanyRegistered{CompanyID: "co-1", CompanyProfile: applicationsapi.CompanyProfile{Name: "Xinghe Robotics"}},
			applicationsapi.PatentAdded{CompanyID: "co-1"},
			applicationsapi.CompanyProfileUpdated{CompanyID: "co-1", CompanyProfile: applicationsapi.CompanyProfile{Name: "深圳星河机器人有限公司"}},
		}},
		stream{ID: "company-co-2", Payloads: []events.Payload{
			applicationsapi.CompanyRegistered{CompanyID: "co-2", CompanyProfile: applicationsapi.CompanyProfile{Name: "Another Co"}}}},
		stream{ID: "loan_deal-deal-1", Payloads: append(closedDeal()[:2:2], invitedC(), committed("bank-lead", "600000", "600000"),
			committed("bank-b", "400000", "1000000"), dealsapi.BankDeclined{DealID: "deal-1", BankID: "bank-c", Reason: "sector cap"})},
		stream{ID: "loan-deal-1", Payloads: inRepayment(t)},
	)
}

const coName = "深圳星河机器人有限公司"

// Given banks, a company (renamed since it registered) and its deal and
// loan, when each role reads them, then each sees the company's current
// name and the names of exactly the banks it already saw by ID.
func TestViewsNameTheBorrowerAndTheBanks(t *testing.T) {
	v := namedMarket(t)
	bankNames := func(d dealsapi.DealView) []string {
		var out []string
		for _, b := range d.Banks {
			out = append(out, b.BankID+"="+b.BankName)
		}
		return out
	}
	for _, c := range []struct {
		who   string
		a     fundbridge.Actor
		banks []string
	}{
		{"the lead bank", leadBank, []string{"bank-lead=Bank bank-lead", "bank-b=Bank bank-b", "bank-c=Bank bank-c"}},
		{"an invited bank", bankB, []string{"bank-b=Bank bank-b"}},
		{"the borrower", borrower, []string{"bank-lead=Bank bank-lead", "bank 2=", "bank 3="}},
	} {
		list, err := v.listDeals(c.a, dealsapi.ListDeals{})
		if err != nil || len(list.Items) != 1 {
			t.Fatalf("%s lists %+v, %v", c.who, list, err)
		}
		d := list.Items[0]
		if d.BorrowerName != coName || d.LeadBankName != "Bank bank-lead" {
			t.Errorf("%s reads borrower %q, lead %q", c.who, d.BorrowerName, d.LeadBankName)
		}
		if got := bankNames(d); mustJSON(t, got) != mustJSON(t, c.banks) {
			t.Errorf("%s reads the book's banks as %v, want %v", c.who, got, c.banks)
		}
	}
	if list, _ := v.listDeals(outsider, dealsapi.ListDeals{}); len(list.Items) != 0 {
		t.Errorf("a bank not invited reads %+v", list.Items)
	}
	loans, err := v.listLoans(bankB, dealsapi.ListLoans{}, now)
	if err != nil || len(loans.Items) != 1 {
		t.Fatalf("bank-b lists loans %+v, %v", loans, err)
	}
	if l := loans.Items[0]; l.BorrowerName != coName || l.LeadBankName != "Bank bank-lead" || len(l.Banks) != 1 || l.Banks[0].BankName != "Bank bank-b" {
		t.Errorf("bank-b reads the loan as %q, lead %q, lines %+v", l.BorrowerName, l.LeadBankName, l.Banks)
	}
	loans, _ = v.listLoans(borrower, dealsapi.ListLoans{}, now)
	if l := loans.Items[0]; l.Banks[1].BankID != "bank 2" || l.Banks[1].BankName != "" {
		t.Errorf("the borrower reads the other bank as %+v", l.Banks[1])
	}
}

// Given a bank's exposure and its loan falling due, when its credit
// officer reads the book, then each borrower and each period owed is
// named by the company.
func TestTheBankBookNamesItsBorrowers(t *testing.T) {
	v := namedMarket(t)
	b, _ := v.bank("bank-b")
	book, err := BookOf(b, v.loansOf("bank-b"), days(date("2026-05-01"), 45))
	if err != nil {
		t.Fatal(err)
	}
	nameBook(&book, v)
	if len(book.Borrowers) != 1 || book.Borrowers[0].BorrowerName != coName {
		t.Errorf("borrowers %+v", book.Borrowers)
	}
	if len(book.Arrears) == 0 || len(book.DueSoon) == 0 {
		t.Fatalf("nothing owed: %+v", book)
	}
	for _, d := range append(book.Arrears, book.DueSoon...) {
		if d.BorrowerID != "co-1" || d.BorrowerName != coName {
			t.Errorf("period %d of %s is owed by %q (%q)", d.Period, d.LoanID, d.BorrowerID, d.BorrowerName)
		}
	}
	if e := bankView(b, v).Exposures; len(e) != 1 || e[0].BorrowerName != coName {
		t.Errorf("exposures %+v", e)
	}
	// A company the view has not heard of keeps its ID and no name.
	if n := v.companyName("co-9"); n != "" {
		t.Errorf("an unknown company is named %q", n)
	}
}

// The banks' directory names every onboarded bank, sorted, with its ID
// and name only; the role check (banks and the platform) is the
// endpoint's, so a startup or a fund never reads it.
func TestBankDirectory(t *testing.T) {
	v := namedMarket(t)
	got := v.bankDirectory().Items
	want := []dealsapi.BankEntry{{BankID: "bank-b", Name: "Bank bank-b"}, {BankID: "bank-c", Name: "Bank bank-c"}, {BankID: "bank-lead", Name: "Bank bank-lead"}}
	if mustJSON(t, got) != mustJSON(t, want) {
		t.Errorf("the directory reads %s, want %s", mustJSON(t, got), mustJSON(t, want))
	}
	for _, r := range dealsapi.ListBanksEndpoint.Roles {
		if r == fundbridge.RoleStartup || r == fundbridge.RoleFundManager || r == fundbridge.RoleInsurer {
			t.Errorf("the banks' directory is open to %s", r)
		}
	}
	if got := viewOf(t).bankDirectory(); got.Items == nil || len(got.Items) != 0 {
		t.Errorf("with no bank the directory is %+v, want an empty list", got)
	}
}
