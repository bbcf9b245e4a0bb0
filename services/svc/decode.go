package svc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/fundbridge/fundbridge"
)

// strict is how requests are read: encoding/json/v2's defaults (names
// match exactly, a name given twice and invalid UTF-8 are refused) and no
// member the request does not define. encoding/json matches names in any
// case and keeps the last of two, so {"AMOUNT_REQUESTED": …} or a second
// "amount" would slip through it.
var strict = jsonv2.JoinOptions(jsonv2.DefaultOptionsV2(), jsonv2.RejectUnknownMembers(true))

// Decode reads a request payload strictly into v (a pointer to a struct):
// names match exactly, unknown or repeated names and data after the
// object are refused, and every failure is an EINVALID error naming the
// fields at fault, down to the element of an array, in words for a
// person. An empty payload decodes as {}.
func Decode(payload json.RawMessage, v any) error {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	err := jsonv2.Unmarshal(trimmed, v, strict)
	if err == nil {
		return nil
	}
	if fe, ok := syntaxProblem(err); ok {
		return fundbridge.Invalid("malformed request", fe)
	}
	var members map[string]jsontext.Value
	if err := jsonv2.Unmarshal(trimmed, &members); err != nil || members == nil {
		// A syntax error past the first member the struct refused (an
		// unknown name, then nesting too deep) is the body's fault.
		if fe, ok := syntaxProblem(err); ok {
			return fundbridge.Invalid("malformed request", fe)
		}
		return fundbridge.Invalid("malformed request", fundbridge.FieldError{Field: "body", Reason: "must be a JSON object"})
	}
	// The decoder stops at the first problem: decode member by member
	// (and an array's element by element) to name them all.
	t := reflect.TypeOf(v).Elem()
	var fields []fundbridge.FieldError
	for _, name := range slices.Sorted(maps.Keys(members)) {
		fields = append(fields, memberProblems(t, name, members[name])...)
	}
	if len(fields) == 0 {
		fields = []fundbridge.FieldError{fieldProblem(err)}
	}
	return fundbridge.Invalid("malformed request", fields...)
}

// decodeExcept decodes into v the members of payload that no field of
// bad names (a member named itself, or one inside it), and reports
// whether there was anything to decode.
func decodeExcept(payload json.RawMessage, v any, bad []fundbridge.FieldError) bool {
	var members map[string]jsontext.Value
	if jsonv2.Unmarshal(bytes.TrimSpace(payload), &members) != nil || len(members) == 0 {
		return false
	}
	for _, f := range bad {
		delete(members, topMember(f.Field))
	}
	good, err := jsonv2.Marshal(members)
	return err == nil && jsonv2.Unmarshal(good, v, strict) == nil
}

// withFields adds to the invalid error err the fields that more names,
// leaving out those err names already, or names a part of.
func withFields(err, more error) error {
	var e *fundbridge.Error
	if !errors.As(err, &e) || e.Code != fundbridge.EINVALID {
		return err
	}
	named := map[string]bool{}
	for _, f := range e.Fields {
		named[topMember(f.Field)] = true
	}
	fields := slices.Clone(e.Fields)
	for _, f := range fundbridge.ErrorFields(more) {
		if !named[topMember(f.Field)] {
			fields = append(fields, f)
		}
	}
	if len(fields) == len(e.Fields) {
		return err
	}
	return fundbridge.Invalid(e.Message, fields...)
}

// topMember is the request's member a field name is in: "loan" for
// "loan.months", "patents" for "patents[2].number".
func topMember(field string) string {
	if i := strings.IndexAny(field, ".["); i >= 0 {
		return field[:i]
	}
	return field
}

// memberProblems decodes one member alone into a fresh t and names what
// does not fit; an array that does not fit is tried element by element.
func memberProblems(t reflect.Type, name string, value jsontext.Value) []fundbridge.FieldError {
	try := func(v jsontext.Value) error {
		obj, _ := jsonv2.Marshal(map[string]jsontext.Value{name: v})
		return jsonv2.Unmarshal(obj, reflect.New(t).Interface(), strict)
	}
	err := try(value)
	if err == nil {
		return nil
	}
	// An array that is the wrong thing as a whole (for a string field,
	// say) is named as the field; one with bad elements, element by element.
	first := fieldProblem(err)
	if value.Kind() == '{' && first.Field != name {
		return nestedProblems(try, value, first)
	}
	var elems []jsontext.Value
	if value.Kind() != '[' || first.Field == name || jsonv2.Unmarshal(value, &elems) != nil || errors.Is(err, jsonv2.ErrUnknownName) {
		return []fundbridge.FieldError{first}
	}
	var out []fundbridge.FieldError
	for i, el := range elems {
		if err := try(jsontext.Value("[" + string(el) + "]")); err != nil {
			fe := fieldProblem(err)
			fe.Field = strings.Replace(fe.Field, name+"[0]", name+"["+strconv.Itoa(i)+"]", 1)
			if fe.Field == name {
				fe.Field = name + "[" + strconv.Itoa(i) + "]"
			}
			out = append(out, fe)
		}
	}
	if len(out) == 0 {
		return []fundbridge.FieldError{first}
	}
	return out
}

// nestedProblems names every bad member of an object member, not only
// the first the decoder stops at: each is tried alone.
func nestedProblems(try func(jsontext.Value) error, value jsontext.Value, first fundbridge.FieldError) []fundbridge.FieldError {
	var members map[string]jsontext.Value
	if jsonv2.Unmarshal(value, &members) != nil {
		return []fundbridge.FieldError{first}
	}
	var out []fundbridge.FieldError
	for _, sub := range slices.Sorted(maps.Keys(members)) {
		one, _ := jsonv2.Marshal(map[string]jsontext.Value{sub: members[sub]})
		if err := try(one); err != nil {
			out = append(out, fieldProblem(err))
		}
	}
	if len(out) == 0 {
		return []fundbridge.FieldError{first}
	}
	return out
}

// syntaxProblem describes a payload that is not JSON.
func syntaxProblem(err error) (fundbridge.FieldError, bool) {
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		return fundbridge.FieldError{}, false
	}
	switch {
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		return fundbridge.FieldError{Field: fieldName(se.JSONPointer), Reason: "is given twice"}, true
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		return fundbridge.FieldError{Field: "body", Reason: "is cut short: the JSON ends before it is complete"}, true
	case strings.Contains(se.Err.Error(), "UTF-8"):
		return fundbridge.FieldError{Field: "body", Reason: fmt.Sprintf("is not valid UTF-8 (at byte %d)", se.ByteOffset)}, true
	case strings.Contains(se.Err.Error(), "after top-level value"):
		return fundbridge.FieldError{Field: "body", Reason: "has data after the JSON object"}, true
	case strings.Contains(se.Err.Error(), "exceeded max depth"):
		return fundbridge.FieldError{Field: "body", Reason: fmt.Sprintf("nests objects or arrays too deep (past byte %d): no request here has more than a few levels", se.ByteOffset)}, true
	case se.ByteOffset == 0 && strings.Contains(se.Err.Error(), `'\ufeff'`):
		return fundbridge.FieldError{Field: "body", Reason: "starts with a byte-order mark (U+FEFF): send UTF-8 JSON without one"}, true
	}
	// The decoder's own words say what it met ("invalid character '\''
	// at start of value"): a person can find it at the byte given.
	return fundbridge.FieldError{Field: "body", Reason: fmt.Sprintf("is not valid JSON at byte %d: %s", se.ByteOffset, se.Err)}, true
}

// fieldProblem names the field a decoding error is about and says what
// it should have been.
func fieldProblem(err error) fundbridge.FieldError {
	var se *jsonv2.SemanticError
	if !errors.As(err, &se) {
		if fe, ok := syntaxProblem(err); ok {
			return fe
		}
		return fundbridge.FieldError{Field: "body", Reason: "could not be read"}
	}
	field := fieldName(se.JSONPointer)
	switch {
	case errors.Is(se.Err, jsonv2.ErrUnknownName):
		return fundbridge.FieldError{Field: field, Reason: "is not a field of this request (names match exactly, in lower case)"}
	case isTime(se.GoType):
		// time.Time's own error quotes Go's layout (parsing time … as
		// "2006-01-02T15:04:05Z07:00"), not words for a person.
		reason := `must be a date and time with its offset, like "2026-06-30T18:00:00+08:00"`
		if v := se.JSONValue; len(v) > 0 && len(v) <= 40 && (se.JSONKind == '0' || se.JSONKind == '"') {
			reason += ", not " + string(v)
		}
		return fundbridge.FieldError{Field: field, Reason: reason}
	case se.Err != nil && implementsUnmarshaler(se.GoType):
		// Our own types (amounts, dates) say what they expect.
		var fe *fundbridge.Error
		if errors.As(se.Err, &fe) {
			return fundbridge.FieldError{Field: field, Reason: fe.Message}
		}
		return fundbridge.FieldError{Field: field, Reason: se.Err.Error()}
	}
	reason := "must be " + jsonKind(se.GoType)
	if v := se.JSONValue; len(v) > 0 && len(v) <= 40 && (se.JSONKind == '0' || se.JSONKind == '"') {
		reason += ", not " + string(v)
	} else if k := kindName(se.JSONKind); k != "" {
		reason += ", not " + k
	}
	return fundbridge.FieldError{Field: field, Reason: reason}
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func isTime(t reflect.Type) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == reflect.TypeFor[time.Time]()
}

func implementsUnmarshaler(t reflect.Type) bool {
	return t != nil && (t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType))
}

// fieldName writes a JSON pointer as the field's name: /user/email is
// user.email, /tags/1 is tags[1].
func fieldName(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if tok == "" {
			tok = `""` // a member with an empty name is still named
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

// kindName names a JSON kind for people.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return ""
}

// DecodeError turns a JSON decoding error into an EINVALID error naming
// the field at fault where the decoder says which, in words for a person.
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
		return fundbridge.Invalid("malformed JSON", fundbridge.FieldError{Field: "body", Reason: fmt.Sprintf("is not valid JSON at byte %d: %s", syntaxErr.Offset, syntaxErr)})
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fundbridge.Invalid("malformed JSON", fundbridge.FieldError{Field: "body", Reason: "empty or truncated"})
	}
	return fundbridge.Invalid("malformed request", fieldProblem(err))
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

// DecodeObject reads a request body as a JSON object, member by member,
// as strictly as Decode: a name given twice, invalid UTF-8, anything but
// one object are refused in words for a person.
func DecodeObject(data []byte) (map[string]jsontext.Value, error) {
	var obj map[string]jsontext.Value
	err := jsonv2.Unmarshal(data, &obj, strict)
	if err == nil && obj != nil {
		return obj, nil
	}
	if fe, ok := syntaxProblem(err); ok {
		return nil, fundbridge.Invalid("malformed request body", fe)
	}
	return nil, fundbridge.Invalid("malformed request body", fundbridge.FieldError{Field: "body", Reason: "must be a JSON object"})
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

// jsonField finds the field a JSON name decodes into, by tag or Go name,
// through embedded structs; names match exactly, as Decode requires.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
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
	}
	return reflect.StructField{}, false
}
