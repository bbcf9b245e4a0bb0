package identityapi

import (
	"encoding/json"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fundbridge/fundbridge"
)

// NewUser is the first user of an org.
type NewUser struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// SignupCommand is a startup signing itself up: its company and first user.
// Company is passed to the applications service as it is.
type SignupCommand struct {
	NewUser
	Company json.RawMessage `json:"company"`
}

// CreateOrgCommand is an operator onboarding a fund manager, bank, insurer
// or another operator org, with its first user.
type CreateOrgCommand struct {
	Name string          `json:"name"`
	Role fundbridge.Role `json:"role"`
	User NewUser         `json:"user"`
}

// AuthenticateQuery checks an email and password.
type AuthenticateQuery struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// BootstrapOperatorCommand creates the first operator if it does not exist.
type BootstrapOperatorCommand struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// ErasedName is the name an erased user shows under.
const ErasedName = "erased user"

// User is a user as the service shows it; never with the password hash.
// An erased user shows with ErasedName, no email and Erased set.
type User struct {
	UserID string          `json:"user_id"`
	Email  string          `json:"email"`
	Name   string          `json:"name"`
	Role   fundbridge.Role `json:"role"`
	OrgID  string          `json:"org_id"`
	Erased bool            `json:"erased,omitempty"`
}

// Actor is the user as the actor of its requests.
func (u User) Actor() fundbridge.Actor {
	return fundbridge.Actor{UserID: u.UserID, Role: u.Role, OrgID: u.OrgID}
}

// Org is an org as the service shows it.
type Org struct {
	OrgID string          `json:"org_id"`
	Name  string          `json:"name"`
	Role  fundbridge.Role `json:"role"`
}

func (u NewUser) Problems(prefix string) []fundbridge.FieldError {
	var fields []fundbridge.FieldError
	if _, ok := NormaliseEmail(u.Email); !ok {
		fields = append(fields, fundbridge.FieldError{Field: prefix + "email", Reason: "must be an email address like name@example.com"})
	}
	if reason := passwordProblem(u.Password, u.Email, u.Name); reason != "" {
		fields = append(fields, fundbridge.FieldError{Field: prefix + "password", Reason: reason})
	}
	if reason := nameProblem(u.Name); reason != "" {
		fields = append(fields, fundbridge.FieldError{Field: prefix + "name", Reason: reason})
	}
	return fields
}

// nameProblem says what is wrong with a person's or an org's name, ""
// if nothing: it is required, at most 200 characters, and one line.
func nameProblem(name string) string {
	switch n := strings.TrimSpace(name); {
	case n == "" || utf8.RuneCountInString(n) > 200:
		return "required, at most 200 characters"
	case strings.ContainsFunc(n, unicode.IsControl):
		return "contains control characters: a name is one line"
	}
	return ""
}

// Validate checks the user part; the company is validated by its service.
func (c SignupCommand) Validate() error {
	fields := c.NewUser.Problems("")
	if len(c.Company) == 0 || string(c.Company) == "null" {
		fields = append(fields, fundbridge.FieldError{Field: "company", Reason: "required"})
	}
	if len(fields) > 0 {
		return fundbridge.Invalid("invalid sign-up", fields...)
	}
	return nil
}

// Validate checks the org and its first user.
func (c CreateOrgCommand) Validate() error {
	var fields []fundbridge.FieldError
	if reason := nameProblem(c.Name); reason != "" {
		fields = append(fields, fundbridge.FieldError{Field: "name", Reason: reason})
	}
	switch c.Role {
	case fundbridge.RoleFundManager, fundbridge.RoleBank, fundbridge.RoleInsurer, fundbridge.RoleOperator:
	default:
		fields = append(fields, fundbridge.FieldError{Field: "role", Reason: `must be one of "fund_manager", "bank", "insurer", "operator" (startups sign themselves up)`})
	}
	fields = append(fields, c.User.Problems("user.")...)
	if len(fields) > 0 {
		return fundbridge.Invalid("invalid org", fields...)
	}
	return nil
}

func NormaliseEmail(s string) (string, bool) {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(addr.Address[strings.LastIndexByte(addr.Address, '@'):], ".") || len(s) > 254 {
		return "", false
	}
	return strings.ToLower(addr.Address), true
}
