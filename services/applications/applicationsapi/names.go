package applicationsapi

import (
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
)

// CompanyAggregate is the type of a company's stream, "company-<id>"
// (a company's ID is also its startup's org): another service's view
// knows by it which events to hand to FoldCompanyNames.
const CompanyAggregate = "company"

// FoldCompanyNames adds to h what another service's view needs to show a
// company by name: each company's name as it registered it, and as it
// later renamed itself, given to name. A company's name is no one's
// personal data.
func FoldCompanyNames(h *fold.Handlers, name func(companyID, name string)) {
	fold.On(h, func(_ events.Event, c CompanyRegistered) error {
		name(c.CompanyID, c.Name)
		return nil
	})
	fold.On(h, func(_ events.Event, c CompanyProfileUpdated) error {
		if c.Name != "" {
			name(c.CompanyID, c.Name)
		}
		return nil
	})
}
