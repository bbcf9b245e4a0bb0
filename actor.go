package fundbridge

import "strings"

// Role is what an actor may do on the platform.
type Role string

const (
	RoleStartup     Role = "startup"
	RoleFundManager Role = "fund_manager"
	RoleBank        Role = "bank"
	RoleInsurer     Role = "insurer"
	RoleOperator    Role = "operator"
	RoleSystem      Role = "system" // the platform itself: sagas, demo loaders, migrations
)

// Actor is who caused a change: recorded on every event, checked by every service.
type Actor struct {
	// The user's ID; "system" for the platform's own processes.
	UserID string `json:"user"`
	Role   Role   `json:"role"`
	// The user's org: a startup's company, a fund manager's, bank's or insurer's
	// org; absent for operators and the platform.
	OrgID string `json:"org,omitempty"`
}

// Valid reports whether the actor names a user and a known role.
func (a Actor) Valid() bool {
	if a.UserID == "" {
		return false
	}
	switch a.Role {
	case RoleStartup, RoleFundManager, RoleBank, RoleInsurer, RoleOperator, RoleSystem:
		return true
	}
	return false
}

// Article names the role for a sentence: "a bank", "an insurer", "an operator".
func Article(r Role) string {
	name := strings.ReplaceAll(string(r), "_", " ")
	if name != "" && strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}
