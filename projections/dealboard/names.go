package dealboard

import (
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// A fund manager reads the board by company, so its sentences name each
// company as it was last registered ("Sourced 云图若水语音 (match score
// 87)"), not by its ID.

func (p *Projection) nameKinds() {
	projections.On(&p.folds, func(_ events.Event, v applicationsapi.CompanyRegistered) error {
		projections.SetName(&p.st.Companies, p.companies, v.CompanyID, v.Name)
		return nil
	})
	projections.On(&p.folds, func(_ events.Event, v applicationsapi.CompanyProfileUpdated) error {
		projections.SetName(&p.st.Companies, p.companies, v.CompanyID, v.Name)
		return nil
	})
}

// companyName is how a sentence names the company: its name, or "company
// <ID>" for one the log never named. The caller holds the read lock.
func (p *Projection) companyName(id string) string {
	if name, ok := projections.NameOf(p.st.Companies, p.companies, id); ok {
		return name
	}
	return "company " + id
}
