package gateway

import (
	"encoding/json"
	"reflect"
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
			return nil, fundbridge.Invalid("invalid query", fundbridge.FieldError{Field: name, Reason: "must be a whole number like 10, not " + strconv.Quote(text)})
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
