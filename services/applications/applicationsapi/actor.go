package applicationsapi

import "github.com/fundbridge/fundbridge"

// A startup acts for its own company: one that names no company means its
// own, and it may register no other.

// ForActor makes a startup's company its own; a startup may register no
// other.
func (c RegisterCompany) ForActor(a fundbridge.Actor) (RegisterCompany, error) {
	if a.Role != fundbridge.RoleStartup {
		return c, nil
	}
	if a.OrgID == "" {
		return c, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a startup user without an organisation cannot register a company")
	}
	if c.CompanyID != "" && c.CompanyID != a.OrgID {
		return c, fundbridge.Errorf(fundbridge.EFORBIDDEN, "a startup registers only its own organisation as a company")
	}
	c.CompanyID = a.OrgID
	return c, nil
}

// ForActor fills a startup's omitted company ID with its own.
func (c UpdateCompanyProfile) ForActor(a fundbridge.Actor) (UpdateCompanyProfile, error) {
	c.CompanyID = ownOrg(a, c.CompanyID)
	return c, nil
}

// ForActor fills a startup's omitted company ID with its own.
func (c ChangeCompanyStage) ForActor(a fundbridge.Actor) (ChangeCompanyStage, error) {
	c.CompanyID = ownOrg(a, c.CompanyID)
	return c, nil
}

// ForActor fills a startup's omitted company ID with its own.
func (c AddPatent) ForActor(a fundbridge.Actor) (AddPatent, error) {
	c.CompanyID = ownOrg(a, c.CompanyID)
	return c, nil
}

// ForActor fills a startup's omitted company ID with its own.
func (c DraftApplication) ForActor(a fundbridge.Actor) (DraftApplication, error) {
	c.CompanyID = ownOrg(a, c.CompanyID)
	return c, nil
}

// ownOrg fills a startup's omitted company ID with its own org.
func ownOrg(actor fundbridge.Actor, companyID string) string {
	if companyID == "" && actor.Role == fundbridge.RoleStartup {
		return actor.OrgID
	}
	return companyID
}

// ForActor fills a startup's omitted company ID with its own.
func (q GetCompany) ForActor(a fundbridge.Actor) (GetCompany, error) {
	q.CompanyID = ownOrg(a, q.CompanyID)
	return q, nil
}
