package svc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/fundbridge/fundbridge"
)

// Decode reads a request payload strictly into v (a pointer to a struct):
// unknown fields and data after the object are refused, and every failure
// is an EINVALID error naming the fields at fault, down to the element of
// an array. An empty payload decodes as {}.
func Decode(payload json.RawMessage, v any) error {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return fundbridge.Invalid("malformed request", fundbridge.FieldError{Field: "body", Reason: "data after the JSON object"})
		}
		return nil
	}
	if !json.Valid(trimmed) {
		return DecodeError(err)
	}
	var object map[string]json.RawMessage
	if json.Unmarshal(trimmed, &object) != nil || object == nil {
		return fundbridge.Invalid("malformed request", fundbridge.FieldError{Field: "body", Reason: "must be a JSON object"})
	}
	// The decoder stops at the first problem and, when a field's own
	// UnmarshalJSON fails (an amount sent as a number), does not say which
	// field: decode field by field to name them all.
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return DecodeError(err)
	}
	if fields := fieldErrors(object, t); len(fields) > 0 {
		return fundbridge.Invalid("malformed request", fields...)
	}
	return DecodeError(err)
}

// fieldErrors decodes each member of object into its field of t and names
// each one that does not fit.
func fieldErrors(object map[string]json.RawMessage, t reflect.Type) []fundbridge.FieldError {
	keys := make([]string, 0, len(object))
	for k := range object {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []fundbridge.FieldError
	for _, key := range keys {
		field, ok := jsonField(t, key)
		if !ok {
			out = append(out, fundbridge.FieldError{Field: key, Reason: "is not a field of this request"})
			continue
		}
		raw := object[key]
		err := json.Unmarshal(raw, reflect.New(field.Type).Interface())
		if err == nil {
			continue
		}
		if inner := nestedErrors(raw, field.Type); len(inner) > 0 {
			for _, e := range inner {
				out = append(out, fundbridge.FieldError{Field: key + "." + e.Field, Reason: e.Reason})
			}
			continue
		}
		var elems []json.RawMessage
		if field.Type.Kind() != reflect.Slice || json.Unmarshal(raw, &elems) != nil {
			out = append(out, fundbridge.FieldError{Field: key, Reason: reason(err, field.Type)})
			continue
		}
		for i, el := range elems {
			if err := json.Unmarshal(el, reflect.New(field.Type.Elem()).Interface()); err != nil {
				out = append(out, fundbridge.FieldError{Field: fmt.Sprintf("%s[%d]", key, i), Reason: reason(err, field.Type.Elem())})
			}
		}
	}
	return out
}

// nestedErrors names the bad members of an object sent for a struct
// field ("loan.annual_rate", not "loan"); none if raw is not an object
// or the field decodes itself.
func nestedErrors(raw json.RawMessage, t reflect.Type) []fundbridge.FieldError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return nil
	}
	var object map[string]json.RawMessage
	if json.Unmarshal(raw, &object) != nil || object == nil {
		return nil
	}
	return fieldErrors(object, t)
}

// jsonField finds the struct field a JSON key decodes into, as
// encoding/json does: by tag or name, through embedded structs, an exact
// match before a case-insensitive one.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	var folded reflect.StructField
	found := false
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if inner, ok := jsonField(f.Type, key); ok {
				return inner, true
			}
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, true
		}
		if !found && strings.EqualFold(name, key) {
			folded, found = f, true
		}
	}
	return folded, found
}

// reason says what a field should have been.
func reason(err error, t reflect.Type) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return fmt.Sprintf("must be %s, not %s", jsonKind(t), te.Value)
}

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
		return fundbridge.Invalid("wrong type", fundbridge.FieldError{Field: field, Reason: fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type), typeErr.Value)})
	case errors.As(err, &syntaxErr):
		return fundbridge.Invalid("malformed JSON", fundbridge.FieldError{Field: "body", Reason: fmt.Sprintf("%v at byte %d", syntaxErr, syntaxErr.Offset)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fundbridge.Invalid("unknown field", fundbridge.FieldError{Field: name, Reason: "is not a field of this request"})
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fundbridge.Invalid("malformed JSON", fundbridge.FieldError{Field: "body", Reason: "empty or truncated"})
	}
	return fundbridge.Invalid("invalid request", fundbridge.FieldError{Field: "body", Reason: err.Error()})
}

// jsonKind names, for people, the JSON a Go type takes.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another type"
}

// JSONField finds the field of struct type t that the JSON key decodes
// into, as encoding/json does.
func JSONField(t reflect.Type, key string) (reflect.StructField, bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	return jsonField(t, key)
}
