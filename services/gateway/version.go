package gateway

import (
	"reflect"
	"strings"
)

// mayCarryVersion tells whether a reply of type t can hold a top-level
// "version" for the ETag when the service did not give one beside it.
// Lists and views have none, and looking for it would decode their whole
// body once more (for a page of applications, most of a read's JSON
// work). An unknown type (nil) may.
func mayCarryVersion(t reflect.Type) bool {
	return t == nil || hasVersionField(t, 0)
}

// hasVersionField looks through t's fields as encoding/json does: by tag
// name or field name, case-insensitively, into embedded structs.
func hasVersionField(t reflect.Type, depth int) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || depth > 8 {
		return t.Kind() == reflect.Interface || t.Kind() == reflect.Map
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			if hasVersionField(f.Type, depth+1) {
				return true
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, "version") {
			return true
		}
	}
	return false
}
