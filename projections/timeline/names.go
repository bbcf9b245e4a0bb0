package timeline

import (
	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// A company reads its insurance by who quoted and who pays: insurers (orgs
// of identity) and subsidy programmes are named as they were made, not by
// their IDs. Org names are no one's personal data.

func (p *Projection) nameKinds() {
	projections.On(&p.folds, func(_ events.Event, v identityapi.OrgCreated) error {
		if v.Role == fundbridge.RoleInsurer {
			p.name("insurer:"+v.OrgID, v.Name)
		}
		return nil
	})
	projections.On(&p.folds, func(_ events.Event, v insuranceapi.SubsidyProgrammeCreated) error {
		p.name("programme:"+v.ProgrammeID, v.Name)
		return nil
	})
}

func (p *Projection) name(key, name string) {
	if name == "" {
		return
	}
	if i, ok := p.names[key]; ok {
		p.st.Names[i].Name = name
		return
	}
	p.names[key] = int32(len(p.st.Names))
	p.st.Names = append(p.st.Names, Fund{ID: key, Name: name})
}

// insurerName is how a sentence names an insurer: its name, or "insurer
// <ID>" for one the log never named.
func (p *Projection) insurerName(orgID string) string {
	if i, ok := p.names["insurer:"+orgID]; ok {
		return p.st.Names[i].Name
	}
	return "insurer " + orgID
}

// programmeName is a subsidy programme's name, or "programme <ID>".
func (p *Projection) programmeName(id string) string {
	if i, ok := p.names["programme:"+id]; ok {
		return p.st.Names[i].Name
	}
	return "programme " + id
}
