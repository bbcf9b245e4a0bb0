package gateway

import (
	"encoding/json"
	"iter"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/fundbridge/fundbridge"
)

// jsonFields yields a struct's fields by their JSON names, through
// embedded structs, as encoding/json names them (a "-" field is none).
func jsonFields(t reflect.Type) iter.Seq2[string, reflect.StructField] {
	return func(yield func(string, reflect.StructField) bool) {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case f.Anonymous && tag == "":
				for name, inner := range jsonFields(f.Type) {
					if !yield(name, inner) {
						return
					}
				}
			case !f.IsExported() || tag == "-":
			default:
				if tag == "" {
					tag = f.Name
				}
				if !yield(tag, f) {
					return
				}
			}
		}
	}
}

// jsonNames are a struct's JSON names, in the order encoding/json writes them.
func jsonNames(t reflect.Type) []string {
	var names []string
	for name := range jsonFields(t) {
		names = append(names, name)
	}
	return names
}

// queryField finds the request field a query parameter fills: by its JSON
// name, exactly, through embedded structs.
func queryField(t reflect.Type, name string) (reflect.StructField, bool) {
	for tag, f := range jsonFields(t) {
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// queryNames are the query parameters a read takes: its request's JSON
// names, but for those the path gives.
func queryNames(t reflect.Type, path []member) []string {
	return slices.DeleteFunc(jsonNames(t), func(name string) bool {
		return slices.ContainsFunc(path, func(m member) bool { return m.name == name })
	})
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
