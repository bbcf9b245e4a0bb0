package deals

import (
	"cmp"
	"slices"
	"strings"

	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
)

// The views name what they identify: a credit officer reads a company's
// name and a bank's, not their IDs. A name goes only beside an ID the
// reader already sees (the views are cut for the reader first), so it
// reveals nothing new; a bank unnamed for its reader ("bank 2") has an ID
// no bank has, and stays unnamed.

// foldCompanyNames keeps each company's name as it registered it and as
// it later renamed itself (called with mu held).
func (v *view) foldCompanyNames() {
	applicationsapi.FoldCompanyNames(&v.companyFolds, func(id, name string) { v.companies[id] = name })
}

// namer gives the names the views show beside IDs; "" for an ID it does
// not know.
type namer interface {
	companyName(id string) string
	bankName(id string) string
}

func (v *view) companyName(id string) string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.companies[id]
}

func (v *view) bankName(id string) string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.banks[id].Name
}

// bankDirectory is every onboarded bank by name, sorted by name then ID
// so that a list to choose from reads the same each time. It gives only
// what a bank is known by; limits, programmes and books stay the bank's.
func (v *view) bankDirectory() dealsapi.BankDirectory {
	v.mu.RLock()
	out := dealsapi.BankDirectory{Items: []dealsapi.BankEntry{}}
	for _, b := range v.banks {
		if b.exists() {
			out.Items = append(out.Items, dealsapi.BankEntry{BankID: b.ID, Name: b.Name})
		}
	}
	v.mu.RUnlock()
	slices.SortFunc(out.Items, func(a, b dealsapi.BankEntry) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.BankID, b.BankID))
	})
	return out
}

// nameBook names the borrowers of a bank's book.
func nameBook(b *dealsapi.BankBook, n namer) {
	for i := range b.Borrowers {
		b.Borrowers[i].BorrowerName = n.companyName(b.Borrowers[i].BorrowerID)
	}
	for _, dues := range [][]dealsapi.BookDue{b.DueSoon, b.Arrears} {
		for i := range dues {
			dues[i].BorrowerName = n.companyName(dues[i].BorrowerID)
		}
	}
}
