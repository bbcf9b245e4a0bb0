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
// event is readable by every service, the hash by identity alone. The
// person's email and name are sealed in Personal with a key of their own,
// held outside the log, which erasure destroys (see identity's personal.go).
type UserRegistered struct {
	UserID     string          `json:"user_id"`
	Role       fundbridge.Role `json:"role"`
	OrgID      string          `json:"org_id"`
	Credential string          `json:"credential"`
	Personal   string          `json:"personal"`
	// Email and Name are in the clear only in events written before v3
	// (read through the upcasters); never appended.
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	// LegacyHash is the clear hash of a v1 event, set only by the
	// upcaster; never appended.
	LegacyHash string `json:"legacy_password_hash,omitempty"`
}

// EmailClaimed reserves an email address for one user. Its stream, named
// by a hash of the address, exists once per address, so appending it with
// "no stream" makes emails unique. Since v2 the address itself is not in
// it: the stream's name is enough.
type EmailClaimed struct {
	UserID string `json:"user_id"`
}

// UserErased records that a person's personal data was erased: their key
// is destroyed, so the email and name sealed in their events can no longer
// be read. It holds no personal data.
type UserErased struct {
	UserID string `json:"user_id"`
}

// EmailReleased undoes a claim whose sign-up was refused (its company
// was, say), so the address is free again; or hands over a claim left by
// a sign-up that never finished. As EmailClaimed, it holds no address:
// the stream's name is enough.
type EmailReleased struct {
	UserID string `json:"user_id"` // whose claim ends
	Reason string `json:"reason"`
}

func (EmailReleased) EventType() string  { return "email.released.v1" }
func (OrgCreated) EventType() string     { return "org.created.v1" }
func (UserRegistered) EventType() string { return "user.registered.v3" }
func (EmailClaimed) EventType() string   { return "email.claimed.v2" }
func (UserErased) EventType() string     { return "user.erased.v1" }

// Register adds the service's event types to r.
func Register(r *events.Registry) {
	events.Register[OrgCreated](r, OrgCreated{}.EventType())
	events.Register[UserRegistered](r, UserRegistered{}.EventType())
	r.Upcast(UserRegisteredV1, UserRegisteredV2, upcastUserRegisteredV1)
	r.Upcast(UserRegisteredV2, UserRegistered{}.EventType(), upcastUserRegisteredV2)
	events.Register[EmailClaimed](r, EmailClaimed{}.EventType())
	r.Upcast(EmailClaimedV1, EmailClaimed{}.EventType(), upcastEmailClaimedV1)
	events.Register[UserErased](r, UserErased{}.EventType())
	events.Register[EmailReleased](r, EmailReleased{}.EventType())
}
