package projections

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/money"
)

// payloads decodes event payloads as the registry does, faster. Folding
// the log decodes every payload, and encoding/json's reflection costs as
// much as reading the log; so for a type the registry reads without an
// upcast, the payload is read by hand into the registered Go type when it
// is plain: exact keys, strings without escapes, integers, no nulls. At
// the first byte outside that, the registry decodes it instead, so the
// result is always what the registry gives (decode_test.go checks).
type payloads struct {
	registry *events.Registry
	plans    sync.Map // event type → *typePlan, nil when there is no fast path
}

type typePlan struct {
	t       reflect.Type
	plan    *structPlan
	scratch sync.Pool // of *t to decode into: the payload handed out is a copy anyway
}

// read decodes a plain payload; false if it is not plain (or tp is nil).
func (tp *typePlan) read(data []byte) (any, bool) {
	if tp == nil {
		return nil, false
	}
	ptr := tp.scratch.Get()
	if ptr == nil {
		ptr = reflect.New(tp.t).Interface()
	}
	v := reflect.ValueOf(ptr).Elem()
	var out any
	r := reader{data: data}
	ok := r.object(tp.plan, v) && r.end()
	if ok {
		out = v.Interface()
	}
	v.SetZero()
	tp.scratch.Put(ptr)
	return out, ok
}

func newPayloads(r *events.Registry) *payloads { return &payloads{registry: r} }

// decode is registry.Decode.
func (d *payloads) decode(e events.Event) (events.Event, any, error) {
	if p, ok := d.plans.Load(e.Type); ok {
		if payload, ok := p.(*typePlan).read(e.Payload); ok {
			return e, payload, nil
		}
		return d.registry.Decode(e)
	}
	ue, payload, err := d.registry.Decode(e)
	if err == nil && ue.Type == e.Type {
		// Learn the type from the registry's answer; a type it reaches
		// by upcasting always goes through it.
		var tp *typePlan
		if t := reflect.TypeOf(payload); t.Kind() == reflect.Struct {
			if plan := compile(t, map[reflect.Type]*structPlan{}); plan != nil {
				tp = &typePlan{t: t, plan: plan}
			}
		}
		d.plans.Store(e.Type, tp)
	}
	return ue, payload, err
}

// A structPlan maps a struct's JSON keys to its fields, as encoding/json
// resolves them (embedded structs' fields promoted, the shallowest or the
// tagged one winning a clash).
type structPlan struct {
	fields map[string]*fieldPlan
	order  []*fieldPlan    // in declaration order, which is the order Go writes keys in
	folded map[string]bool // lower-cased keys: a key that only folds to one is left to encoding/json
}

type fieldPlan struct {
	name  string
	index []int
	dec   valueDecoder
	pos   int // in order
}

// valueDecoder reads one JSON value into v; false means "not plain".
type valueDecoder func(r *reader, v reflect.Value) bool

func compile(t reflect.Type, seen map[reflect.Type]*structPlan) *structPlan {
	if p, ok := seen[t]; ok {
		return p // a recursive type: the plan being built
	}
	sp := &structPlan{fields: map[string]*fieldPlan{}, folded: map[string]bool{}}
	seen[t] = sp
	var found []fieldCandidate
	if !walkFields(t, nil, &found) {
		return nil
	}
	byName := map[string][]fieldCandidate{}
	var names []string
	for _, c := range found {
		if byName[c.name] == nil {
			names = append(names, c.name)
		}
		byName[c.name] = append(byName[c.name], c)
	}
	for _, name := range names {
		top := dominant(byName[name])
		sp.folded[strings.ToLower(name)] = true
		if len(top) != 1 {
			continue // encoding/json ignores an ambiguous name
		}
		dec := decoderFor(top[0].typ, seen)
		if dec == nil {
			return nil
		}
		f := &fieldPlan{name: name, index: top[0].index, dec: dec, pos: len(sp.order)}
		sp.fields[name] = f
		sp.order = append(sp.order, f)
	}
	return sp
}

// A fieldCandidate is a field that may be read under its JSON name, if
// no other of that name dominates it.
type fieldCandidate struct {
	name   string
	index  []int
	tagged bool
	typ    reflect.Type
}

// walkFields appends t's fields (at index, embedded structs' promoted) to
// found; false if t is not plain.
func walkFields(t reflect.Type, index []int, found *[]fieldCandidate) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts != "" && opts != "omitempty" && opts != "omitzero" {
			return false // ",string" and the like: not plain
		}
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous && name == "" {
			if f.Type.Kind() != reflect.Struct {
				return false // embedded pointers and non-structs: leave them to encoding/json
			}
			if !walkFields(f.Type, idx, found) {
				return false
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		*found = append(*found, fieldCandidate{name: name, index: idx, tagged: tag != "" && tag[0] != ',', typ: f.Type})
	}
	return true
}

// dominant are the fields of one name that win: the shallowest; among
// those, the only tagged one. One is read; more or none, ambiguous.
func dominant(cs []fieldCandidate) []fieldCandidate {
	depth := len(cs[0].index)
	for _, c := range cs {
		depth = min(depth, len(c.index))
	}
	var top []fieldCandidate
	for _, c := range cs {
		if len(c.index) == depth {
			top = append(top, c)
		}
	}
	if len(top) > 1 {
		var tagged []fieldCandidate
		for _, c := range top {
			if c.tagged {
				tagged = append(tagged, c)
			}
		}
		top = tagged
	}
	return top
}

func decoderFor(t reflect.Type, seen map[reflect.Type]*structPlan) valueDecoder {
	switch t {
	case reflect.TypeFor[money.Amount]():
		return decodeAmount
	case reflect.TypeFor[decimal.Decimal]():
		return decodeUnmarshaler
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return decodeUnmarshaler
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()) {
		return nil // text unmarshalers have their own rules
	}
	switch t.Kind() {
	case reflect.String:
		return decodeString
	case reflect.Bool:
		return decodeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decodeInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return decodeUint
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // []byte is base64 in JSON
		}
		elem := decoderFor(t.Elem(), seen)
		if elem == nil {
			return nil
		}
		return sliceDecoder(t, elem)
	case reflect.Pointer:
		elem := decoderFor(t.Elem(), seen)
		if elem == nil {
			return nil
		}
		return pointerDecoder(t, elem)
	case reflect.Struct:
		plan := compile(t, seen)
		if plan == nil {
			return nil
		}
		return func(r *reader, v reflect.Value) bool { return r.object(plan, v) }
	}
	return nil
}

func decodeString(r *reader, v reflect.Value) bool {
	s, ok := r.str()
	if ok {
		v.SetString(s)
	}
	return ok
}

func decodeBool(r *reader, v reflect.Value) bool {
	switch {
	case r.literal("true"):
		v.SetBool(true)
	case r.literal("false"):
		v.SetBool(false)
	default:
		return false
	}
	return true
}

func decodeInt(r *reader, v reflect.Value) bool {
	lit, ok := r.integer()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil || v.OverflowInt(n) {
		return false
	}
	v.SetInt(n)
	return true
}

func decodeUint(r *reader, v reflect.Value) bool {
	lit, ok := r.integer()
	if !ok || lit[0] == '-' {
		return false
	}
	n, err := strconv.ParseUint(lit, 10, 64)
	if err != nil || v.OverflowUint(n) {
		return false
	}
	v.SetUint(n)
	return true
}

// sliceDecoder reads a JSON array into a slice of type t, each element
// with elem.
func sliceDecoder(t reflect.Type, elem valueDecoder) valueDecoder {
	return func(r *reader, v reflect.Value) bool {
		if !r.byte('[') {
			return false
		}
		// As encoding/json: [] is an empty slice, not nil.
		s := reflect.MakeSlice(t, 0, 4)
		if !r.byte(']') {
			for {
				s = reflect.Append(s, reflect.Zero(t.Elem()))
				if !elem(r, s.Index(s.Len()-1)) {
					return false
				}
				if r.byte(']') {
					break
				}
				if !r.byte(',') {
					return false
				}
			}
		}
		v.Set(s)
		return true
	}
}

// pointerDecoder reads the value a pointer of type t points to with
// elem, allocating it when the pointer is nil.
func pointerDecoder(t reflect.Type, elem valueDecoder) valueDecoder {
	return func(r *reader, v reflect.Value) bool {
		if r.peek() == 'n' {
			return false // null sets the pointer to nil: leave it to encoding/json
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return elem(r, v.Elem())
	}
}

// decodeAmount reads "1250000.00" as money.Amount.UnmarshalJSON does: a
// valid amount with exactly two places is the same value FromDecimal
// makes; anything else goes through UnmarshalJSON itself, which refuses
// what is not an amount ("1e-2" has exponent -2 but is not one).
func decodeAmount(r *reader, v reflect.Value) bool {
	start := r.pos
	if s, ok := r.str(); ok {
		if len(s) > 3 && s[len(s)-3] == '.' && money.Valid(s) {
			d := decimal.RequireFromString(s)
			v.Set(reflect.ValueOf(money.FromDecimal(d)))
			return true
		}
	}
	r.pos = start
	return decodeUnmarshaler(r, v)
}

// decodeUnmarshaler hands the value's bytes to its UnmarshalJSON, as
// encoding/json does; null is left to encoding/json.
func decodeUnmarshaler(r *reader, v reflect.Value) bool {
	r.space()
	if r.peek() == 'n' {
		return false
	}
	start := r.pos
	if !r.skip(0) {
		return false
	}
	return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(r.data[start:r.pos]) == nil
}
