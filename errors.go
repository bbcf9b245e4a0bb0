// Package fundbridge holds the vocabulary every part of the marketplace
// shares: the actor behind a change and the kinds of error a caller can act on.
// It imports nothing of ours, so every other package may import it.
package fundbridge

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. They are stable strings because they cross NATS and HTTP:
// the gateway maps each to a status (400, 401, 403, 404, 409, 422, 429, 503; 500 for internal).
const (
	EINVALID       = "invalid"       // malformed input; nothing was appended
	EUNAUTHORIZED  = "unauthorized"  // no or bad credentials
	EFORBIDDEN     = "forbidden"     // the actor may not do this
	ENOTFOUND      = "not_found"     // no such resource, or not visible to the actor
	ECONFLICT      = "conflict"      // stale version or a state that forbids the command
	EUNPROCESSABLE = "unprocessable" // well-formed but refused by a business rule
	EUNAVAILABLE   = "unavailable"   // a dependency is down; retrying may succeed
	ETOOMANY       = "too_many"      // over a rate limit; retry after the time the error says
	EINTERNAL      = "internal"      // a bug or an unexpected failure
)

// FieldError names one invalid input field and why it is invalid.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is a domain error a caller can act on. Anything else is internal.
type Error struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Reason
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// ErrorCode reports the code of the first coded error in err's chain:
// an *Error, or any error with an ErrorCode method. Other errors are EINTERNAL.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return coded.ErrorCode()
	}
	return EINTERNAL
}

// ErrorMessage reports the human-readable message of a coded error, or a
// generic one for internal errors so that no internals leak to clients.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if ErrorCode(err) != EINTERNAL {
		return err.Error()
	}
	return "internal error"
}

// ErrorFields reports the fields a coded error names: an *Error's, or
// those of an error with an ErrorFields method.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	var fielded interface{ ErrorFields() []FieldError }
	if errors.As(err, &fielded) {
		return fielded.ErrorFields()
	}
	return nil
}

// Errorf returns a coded error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the fields at fault.
func Invalid(message string, fields ...FieldError) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// FieldErrors collects every bad field of one input, so that a caller
// fixes them all in one go.
type FieldErrors []FieldError

// Add names one bad field.
func (fe *FieldErrors) Add(field, reason string) {
	*fe = append(*fe, FieldError{Field: field, Reason: reason})
}

// Err is an EINVALID error naming the fields collected, or nil if none.
func (fe FieldErrors) Err(message string) error {
	if len(fe) == 0 {
		return nil
	}
	return Invalid(message, fe...)
}
