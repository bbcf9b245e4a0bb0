package dealboard

import (
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// A fund manager reads the board by company, so its sentences name each
// company as it was last registered ("Sourced 云图若水语音 (match score
// 87)"), not by its ID.

// CompanyName is a company's name as last registered or updated.
type CompanyName struct {
	ID, Name string
}

func (p *Projection) nameKinds() {
	projections.On(&p.folds, func(_ events.Event, v applicationsapi.CompanyRegistered) error {
		p.nameCompany(v.CompanyID, v.Name)
		return nil
	})
	projections.On(&p.folds, func(_ events.Event, v applicationsapi.CompanyProfileUpdated) error {
		p.nameCompany(v.CompanyID, v.Name)
		return nil
	})
}

func (p *Projection) nameCompany(id, name string) {
	if id == "" || name == "" {
		return
	}
	if i, ok := p.companies[id]; ok {
		p.st.Companies[i].Name = name
		return
	}
	p.companies[id] = int32(len(p.st.Companies))
	p.st.Companies = append(p.st.Companies, CompanyName{ID: id, Name: name})
}

// companyName is how a sentence names the company: its name, or "company
// <ID>" for one the log never named. The caller holds the read lock.
func (p *Projection) companyName(id string) string {
	if i, ok := p.companies[id]; ok {
		return p.st.Companies[i].Name
	}
	return "company " + id
}

// indexCompanies is the index of a restored state's companies.
func indexCompanies(cs []CompanyName) map[string]int32 {
	m := make(map[string]int32, len(cs))
	for i, c := range cs {
		m[c.ID] = int32(i)
	}
	return m
}
