package deals

import (
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
