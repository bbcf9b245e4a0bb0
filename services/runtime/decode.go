package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fundbridge/fundbridge"
)

// DecodeError turns a JSON decoding error into an EINVALID error naming
// the field at fault where the decoder says which.
func DecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return fundbridge.Invalid("wrong type", fundbridge.FieldError{Field: field, Reason: fmt.Sprintf("must be %s, not a JSON %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)})
	case errors.As(err, &syntaxErr):
		return fundbridge.Invalid("malformed JSON", fundbridge.FieldError{Field: "body", Reason: fmt.Sprintf("%v at byte %d", syntaxErr, syntaxErr.Offset)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fundbridge.Invalid("unknown field", fundbridge.FieldError{Field: name, Reason: "is not a field of this request"})
	case err.Error() == "EOF" || err.Error() == "unexpected EOF":
		return fundbridge.Invalid("malformed JSON", fundbridge.FieldError{Field: "body", Reason: "empty or truncated"})
	}
	// Errors from a field's own UnmarshalJSON (amounts, dates) name no field
	// in encoding/json v1; say what went wrong.
	return fundbridge.Invalid("invalid request", fundbridge.FieldError{Field: "body", Reason: err.Error()})
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "true or false"
	}
	if strings.HasPrefix(goKind, "int") || strings.HasPrefix(goKind, "uint") || strings.HasPrefix(goKind, "float") {
		return "a number"
	}
	return goKind
}
