package gateway

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/fundbridge/fundbridge"
)

// queryField finds the request field a query parameter fills: by its JSON
// name, exactly, through embedded structs.
func queryField(t reflect.Type, name string) (reflect.StructField, bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" {
			if inner, ok := queryField(f.Type, name); ok {
				return inner, true
			}
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if f.IsExported() && tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// queryNames are the query parameters a read takes: its request's JSON
// names, through embedded structs, but for those the path gives.
func queryNames(t reflect.Type, path []member) []string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && tag == "":
			out = append(out, queryNames(f.Type, path)...)
		case !f.IsExported() || tag == "-":
		default:
			if tag == "" {
				tag = f.Name
			}
			if !slices.ContainsFunc(path, func(m member) bool { return m.name == tag }) {
				out = append(out, tag)
			}
		}
	}
	return out
}

// unknownParameter refuses a query parameter the read does not take,
// naming those it does: passed on, the service would call it a field of
// the request, which a query string is not.
func unknownParameter(name string, known []string) error {
	reason := "is not a parameter of this read; it takes none"
	if len(known) > 0 {
		reason = "is not a parameter of this read: use " + fundbridge.Choices(known)
	}
	return fundbridge.Invalid("invalid query", fundbridge.FieldError{Field: name, Reason: reason})
}

// queryKind is the JSON a query parameter takes: "integer", "boolean" or
// "string", from the type of the field it fills.
func queryKind(request reflect.Type, name string) string {
	f, ok := queryField(request, name)
	if !ok {
		return "string"
	}
	t := f.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Bool:
		return "boolean"
	}
	return "string"
}

// queryValue turns a query parameter's text into the JSON its field takes.
func queryValue(request reflect.Type, name, text string) (json.RawMessage, error) {
	switch queryKind(request, name) {
	case "integer":
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			reason := "must be a whole number like 10, not " + strconv.Quote(text)
			if _, negative := strconv.ParseInt(text, 10, 64); negative == nil {
				reason = "must not be negative: " + text
			}
			return nil, fundbridge.Invalid("invalid query", fundbridge.FieldError{Field: name, Reason: reason})
		}
		return json.RawMessage(strconv.FormatUint(n, 10)), nil
	case "boolean":
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, fundbridge.Invalid("invalid query", fundbridge.FieldError{Field: name, Reason: "must be true or false, not " + strconv.Quote(text)})
		}
		return json.RawMessage(strconv.FormatBool(b)), nil
	}
	return json.Marshal(text)
}
