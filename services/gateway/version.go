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
	return t == nil || hasField(t, "version", 0)
}

// mayCarryPosition tells whether a reply of type t can hold a top-level
// "position", which the gateway's own (withPosition) must then replace.
func mayCarryPosition(t reflect.Type) bool {
	return t == nil || hasField(t, "position", 0)
}

// hasField looks through t's fields as encoding/json does: by tag name or
// field name, case-insensitively, into embedded structs.
func hasField(t reflect.Type, field string, depth int) bool {
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
			if hasField(f.Type, field, depth+1) {
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
		if strings.EqualFold(name, field) {
			return true
		}
	}
	return false
}
