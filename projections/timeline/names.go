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
			projections.SetName(&p.st.Names, p.names, "insurer:"+v.OrgID, v.Name)
		}
		return nil
	})
	projections.On(&p.folds, func(_ events.Event, v insuranceapi.SubsidyProgrammeCreated) error {
		projections.SetName(&p.st.Names, p.names, "programme:"+v.ProgrammeID, v.Name)
		return nil
	})
}

// insurerName is how a sentence names an insurer: its name, or "insurer
// <ID>" for one the log never named.
func (p *Projection) insurerName(orgID string) string {
	if name, ok := projections.NameOf(p.st.Names, p.names, "insurer:"+orgID); ok {
		return name
	}
	return "insurer " + orgID
}

// programmeName is a subsidy programme's name, or "programme <ID>".
func (p *Projection) programmeName(id string) string {
	if name, ok := projections.NameOf(p.st.Names, p.names, "programme:"+id); ok {
		return name
	}
	return "programme " + id
}
