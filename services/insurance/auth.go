package insurance

import (
	"slices"

	"github.com/fundbridge/fundbridge"
)

// notFound is the answer both for what does not exist and for what the
// actor may not see, so that existence is not revealed.
func notFound(what, id string) error {
	return fundbridge.Errorf(fundbridge.ENOTFOUND, "no %s %s", what, id)
}

func forbidden(role fundbridge.Role, what string) error {
	return fundbridge.Errorf(fundbridge.EFORBIDDEN, "%s may not %s", fundbridge.Article(role), what)
}

// requireRole refuses roles that may never do this, whatever the resource,
// and an org-bound role without its org.
func requireRole(a fundbridge.Actor, what string, roles ...fundbridge.Role) error {
	if !slices.Contains(roles, a.Role) {
		return forbidden(a.Role, what)
	}
	if (a.Role == fundbridge.RoleStartup || a.Role == fundbridge.RoleInsurer) && a.OrgID == "" {
		return fundbridge.Errorf(fundbridge.EFORBIDDEN, "%s without an org may not %s", fundbridge.Article(a.Role), what)
	}
	return nil
}

// platform reports whether the actor sees everything: operators and the
// platform's own processes.
func platform(a fundbridge.Actor) bool {
	return a.Role == fundbridge.RoleOperator || a.Role == fundbridge.RoleSystem
}

// actingOrg is the org a command acts for: a startup's or an insurer's
// own (naming another is forbidden), or the one an operator or the
// platform names (required).
func actingOrg(a fundbridge.Actor, named, field, what string) (string, error) {
	if !platform(a) {
		if named != "" && named != a.OrgID {
			return "", fundbridge.Errorf(fundbridge.EFORBIDDEN, "%s may %s for its own org only", fundbridge.Article(a.Role), what)
		}
		return a.OrgID, nil
	}
	if named == "" {
		return "", fundbridge.Invalid("invalid "+what, fundbridge.FieldError{Field: field, Reason: "required when " + fundbridge.Article(a.Role) + " acts"})
	}
	return named, nil
}
