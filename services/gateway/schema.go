package gateway

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/invopop/jsonschema"
	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// AmountPattern is what an amount looks like on the wire: CNY, a decimal
// string with at most two places.
const AmountPattern = `^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$`

// enums lists the values of each enumerated type the contracts carry, so
// the document lists them where they are used.
func enums() map[reflect.Type][]string {
	list := func(v any) []string {
		rv := reflect.ValueOf(v)
		out := make([]string, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).String()
		}
		return out
	}
	return map[reflect.Type][]string{
		reflect.TypeFor[fundbridge.Stage]():              list(fundbridge.Stages),
		reflect.TypeFor[fundbridge.Layer]():              list(fundbridge.Layers),
		reflect.TypeFor[fundbridge.Sector]():             list(fundbridge.AllSectors()),
		reflect.TypeFor[fundbridge.City]():               list(fundbridge.Cities),
		reflect.TypeFor[fundbridge.Instrument]():         list(fundbridge.Instruments),
		reflect.TypeFor[fundbridge.Role]():               list([]fundbridge.Role{fundbridge.RoleStartup, fundbridge.RoleFundManager, fundbridge.RoleBank, fundbridge.RoleInsurer, fundbridge.RoleOperator, fundbridge.RoleSystem}),
		reflect.TypeFor[fundsapi.FundType]():             list(fundsapi.FundTypes),
		reflect.TypeFor[applicationsapi.Status]():        list(applicationsapi.Statuses()),
		reflect.TypeFor[applicationsapi.PatentKind]():    list([]applicationsapi.PatentKind{applicationsapi.PatentInvention, applicationsapi.PatentUtilityModel, applicationsapi.PatentDesign}),
		reflect.TypeFor[applicationsapi.PatentHolding](): list([]applicationsapi.PatentHolding{applicationsapi.HoldingOwner, applicationsapi.HoldingLicensee}),
		reflect.TypeFor[matchingapi.Step]():              list(matchingapi.Steps()),
		reflect.TypeFor[insuranceapi.Coverage]():         list(insuranceapi.Coverages),
		reflect.TypeFor[insuranceapi.ClaimsBand]():       list(insuranceapi.ClaimsBands),
	}
}

// schemas reflects JSON Schemas (OpenAPI 3.1 speaks JSON Schema 2020-12)
// from the contracts' Go types with invopop/jsonschema; named types become
// shared components.
type schemas struct {
	mu         sync.Mutex
	reflector  *jsonschema.Reflector
	components map[string]any
	types      map[string]reflect.Type // component name → Go type
	comments   map[string]string       // Go doc comments, keyed as gocomments keys them
	used       map[string]bool         // the comments the document took
}

func newSchemas(comments map[string]string) *schemas {
	s := &schemas{components: map[string]any{}, types: map[string]reflect.Type{}, comments: comments, used: map[string]bool{}}
	en := enums()
	s.reflector = &jsonschema.Reflector{
		// The services refuse unknown fields; replies hold exactly theirs.
		AllowAdditionalProperties: false,
		LookupComment:             s.describe,
		Namer: func(t reflect.Type) string {
			name := schemaName(t)
			s.types[name] = t
			return name
		},
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch t {
			// No descriptions here: the field's own comment describes it,
			// and describe adds the unit (units).
			case reflect.TypeFor[money.Amount]():
				return &jsonschema.Schema{Type: "string", Pattern: AmountPattern, Examples: []any{"5000000.00"}}
			case reflect.TypeFor[applicationsapi.OptionalAmount]():
				// Decoded by its own UnmarshalJSON: an amount, or null to remove it.
				return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string", Pattern: AmountPattern}, {Type: "null"}}}
			case reflect.TypeFor[insuranceapi.Fraction]():
				return &jsonschema.Schema{Type: "string", Pattern: `^(0|[1-9][0-9]*)(\.[0-9]+)?$`,
					Description: "a rate or factor as a decimal string, e.g. \"0.0150\" for 1.5%"}
			case reflect.TypeFor[decimal.Decimal]():
				return &jsonschema.Schema{Type: "string", Pattern: `^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`}
			case reflect.TypeFor[time.Time]():
				return &jsonschema.Schema{Type: "string", Format: "date-time"}
			case reflect.TypeFor[json.RawMessage]():
				return &jsonschema.Schema{}
			}
			if vals, ok := en[t]; ok {
				enum := make([]any, len(vals))
				for i, v := range vals {
					enum[i] = v
				}
				return &jsonschema.Schema{Type: "string", Enum: enum}
			}
			return nil
		},
	}
	return s
}

// schemaName names a type's component: its package (without "api") and
// its name, so that two CompanyViews do not collide; a generic type is
// named after its argument: ListResult[CompanyView] is CompanyViewList.
func schemaName(t reflect.Type) string {
	name := t.Name()
	if base, arg, ok := strings.Cut(name, "["); ok {
		arg = strings.TrimSuffix(arg, "]")
		arg = arg[strings.LastIndex(arg, ".")+1:]
		base = strings.TrimSuffix(strings.TrimSuffix(base, "Result"), "List")
		return arg + base + "List"
	}
	pkg := t.PkgPath()
	pkg = strings.TrimSuffix(pkg[strings.LastIndex(pkg, "/")+1:], "api")
	if pkg == "" || pkg == "fundbridge" {
		return name
	}
	return strings.ToUpper(pkg[:1]) + pkg[1:] + name
}

// of returns the schema of t as a document fragment: a $ref to its
// component for a named struct, the schema itself otherwise.
func (s *schemas) of(t reflect.Type) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	sch := s.reflector.ReflectFromType(t)
	data, err := json.Marshal(sch)
	if err != nil {
		panic("gateway: schema of " + t.String() + ": " + err.Error()) // programming error: every type reflects
	}
	data = []byte(strings.ReplaceAll(string(data), `"#/$defs/`, `"#/components/schemas/`))
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		panic("gateway: schema of " + t.String() + ": " + err.Error())
	}
	if defs, ok := m["$defs"].(map[string]any); ok {
		for k, v := range defs {
			if _, done := s.components[k]; !done {
				s.components[k] = nullablePointers(v.(map[string]any), s.types[k])
			}
		}
	}
	delete(m, "$defs")
	delete(m, "$schema")
	delete(m, "$id")
	return m
}

// resolve returns the schema a fragment stands for, following a $ref.
func (s *schemas) resolve(m map[string]any) map[string]any {
	for {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		next, ok := s.components[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		if !ok {
			return m
		}
		m = next
	}
}

// nullablePointers lets a field that Go writes as null be null: a pointer
// without omitempty, such as a fund's mandate before one is set.
func nullablePointers(schema map[string]any, t reflect.Type) map[string]any {
	props, ok := schema["properties"].(map[string]any)
	if t == nil || !ok {
		return schema
	}
	for name, p := range props {
		f, ok := svc.JSONField(t, name)
		if !ok || f.Type.Kind() != reflect.Pointer {
			continue
		}
		tag := f.Tag.Get("json")
		if strings.Contains(tag, ",omitempty") || strings.Contains(tag, ",omitzero") {
			continue
		}
		prop := p.(map[string]any)
		if typ, ok := prop["type"].(string); ok {
			prop["type"] = []any{typ, "null"}
			continue
		}
		wrapped := map[string]any{"anyOf": []any{prop, map[string]any{"type": "null"}}}
		if d, ok := prop["description"]; ok {
			wrapped["description"] = d // where a reader looks for it
			delete(prop, "description")
		}
		props[name] = wrapped
	}
	return schema
}

// requiredFields are the request fields the server requires: those its
// validation names when they are left out. A field the caller's identity
// fills (ForActor: a startup's own company, a bank's own ID) is required
// only if every role must send it.
func requiredFields(t reflect.Type) []string {
	zero := reflect.New(t).Elem()
	fill := zero.MethodByName("ForActor")
	if !fill.IsValid() || fill.Type().NumIn() != 1 || fill.Type().In(0) != reflect.TypeFor[fundbridge.Actor]() {
		return problemFields(t, zero)
	}
	var required []string
	first := true
	for _, role := range []fundbridge.Role{fundbridge.RoleStartup, fundbridge.RoleFundManager, fundbridge.RoleBank, fundbridge.RoleInsurer, fundbridge.RoleOperator} {
		out := fill.Call([]reflect.Value{reflect.ValueOf(fundbridge.Actor{UserID: "u", Role: role, OrgID: "own"})})
		if len(out) == 2 && !out[1].IsNil() {
			continue // this role may not send it at all
		}
		names := problemFields(t, out[0])
		if first {
			required, first = names, false
			continue
		}
		required = slices.DeleteFunc(required, func(n string) bool { return !slices.Contains(names, n) })
	}
	return required
}

// problemFields lists the top-level fields validation names for v.
func problemFields(t reflect.Type, v reflect.Value) []string {
	var err error
	switch q := v.Interface().(type) {
	case svc.ClockValidator:
		err = q.ValidateAt(time.Now())
	case svc.Validator:
		err = q.Validate()
	}
	var names []string
	for _, f := range fundbridge.ErrorFields(err) {
		name := f.Field
		if i := strings.IndexAny(name, ".["); i >= 0 {
			name = name[:i]
		}
		if _, ok := svc.JSONField(t, name); ok && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
