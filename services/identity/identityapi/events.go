package identityapi

import (
	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

// OrgCreated opens an organisation: a startup (its ID is its company's),
// a fund manager, a bank, an insurer or the platform's operators.
type OrgCreated struct {
	OrgID string          `json:"org_id"`
	Name  string          `json:"name"`
	Role  fundbridge.Role `json:"role"`
}

// UserRegistered adds a user to an org. Its password is kept as a bcrypt
// hash sealed with identity's credential key (see identity's credential.go): the
// event is readable by every service, the hash by identity alone.
type UserRegistered struct {
	UserID     string          `json:"user_id"`
	Email      string          `json:"email"`
	Name       string          `json:"name"`
	Role       fundbridge.Role `json:"role"`
	OrgID      string          `json:"org_id"`
	Credential string          `json:"credential"`
	// LegacyHash is the clear hash of a v1 event, set only by the
	// upcaster; never appended.
	LegacyHash string `json:"legacy_password_hash,omitempty"`
}

// EmailClaimed reserves an email address for one user. Its stream exists
// once per address, so appending it with "no stream" makes emails unique.
type EmailClaimed struct {
	Email  string `json:"email"`
	UserID string `json:"user_id"`
}

func (OrgCreated) EventType() string     { return "org.created.v1" }
func (UserRegistered) EventType() string { return "user.registered.v2" }
func (EmailClaimed) EventType() string   { return "email.claimed.v1" }

// Register adds the service's event types to r.
func Register(r *events.Registry) {
	events.Register[OrgCreated](r, OrgCreated{}.EventType())
	events.Register[UserRegistered](r, UserRegistered{}.EventType())
	r.Upcast(UserRegisteredV1, UserRegistered{}.EventType(), upcastUserRegisteredV1)
	events.Register[EmailClaimed](r, EmailClaimed{}.EventType())
}
