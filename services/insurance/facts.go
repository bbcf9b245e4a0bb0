package insurance

import (
	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// The facts a request is decided on. Other services own them (companies
// and patents in applications, loans in deals, tables in this service's
// own streams); the service gathers them at the edge and the decider
// judges them, so the decision stays pure and testable.

// RequestFacts is what a request for cover is judged against.
type RequestFacts struct {
	Company CompanyFacts
	// Offering are the insurers, among those asked, whose published
	// rating table has rates for the coverage asked.
	Offering map[string]bool
	// LoanDeal is the deal a pledge_guarantee policy secures; nil if the
	// deal was not found (or for other coverage).
	LoanDeal *LoanDealFacts
}

// CompanyFacts is the company as the applications service records it.
type CompanyFacts struct {
	CompanyID  string
	Registered bool
	City       fundbridge.City
	Stage      fundbridge.Stage
	Patents    []PatentFact
}

// PatentFact is one patent registered to the company, with what decides
// whether it can be insured.
type PatentFact struct {
	insuranceapi.InsuredPatent
	// Lapsed: no longer in force before its term (annual fee unpaid,
	// invalidated, surrendered).
	Lapsed bool
	// OwnerConsent: for a licensee, the patent owner's consent to insure
	// is on record.
	OwnerConsent bool
	// InDispute: invalidation or ownership proceedings are pending.
	InDispute bool
}

func (c CompanyFacts) patent(number string) (PatentFact, bool) {
	for _, p := range c.Patents {
		if p.Number == number {
			return p, true
		}
	}
	return PatentFact{}, false
}

// LoanDealFacts is the loan a guarantee policy secures.
type LoanDealFacts struct {
	DealID    string
	CompanyID string
	Principal money.Amount
}
