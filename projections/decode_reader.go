package projections

import (
	"bytes"
	"reflect"
	"strings"
	"unicode/utf8"
)

// reader reads the plain subset of JSON; every method leaves pos after
// what it read and any white space before it.
type reader struct {
	data []byte
	pos  int
}

func (r *reader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *reader) peek() byte {
	r.space()
	if r.pos < len(r.data) {
		return r.data[r.pos]
	}
	return 0
}

// byte consumes c if it comes next.
func (r *reader) byte(c byte) bool {
	if r.peek() == c {
		r.pos++
		return true
	}
	return false
}

func (r *reader) literal(lit string) bool {
	r.space()
	if bytes.HasPrefix(r.data[r.pos:], []byte(lit)) {
		r.pos += len(lit)
		return true
	}
	return false
}

func (r *reader) end() bool {
	r.space()
	return r.pos == len(r.data)
}

// str reads a string without escapes or control characters, in valid
// UTF-8 (encoding/json would replace invalid bytes).
func (r *reader) str() (string, bool) {
	b, ok := r.plain()
	return string(b), ok
}

// plain is str without the copy: the bytes inside the quotes.
func (r *reader) plain() ([]byte, bool) {
	if !r.byte('"') {
		return nil, false
	}
	rest := r.data[r.pos:]
	n := bytes.IndexByte(rest, '"')
	if n < 0 {
		return nil, false
	}
	ascii := true
	for _, c := range rest[:n] {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(rest[:n]) {
		return nil, false
	}
	r.pos += n + 1
	return rest[:n], true
}

// integer reads -?(0|[1-9][0-9]*) not followed by a fraction or exponent.
func (r *reader) integer() (string, bool) {
	r.space()
	start, i, d := r.pos, r.pos, r.data
	if i < len(d) && d[i] == '-' {
		i++
	}
	digits := i
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	if i == digits || d[digits] == '0' && i-digits > 1 {
		return "", false
	}
	if i < len(d) && (d[i] == '.' || d[i] == 'e' || d[i] == 'E') {
		return "", false
	}
	r.pos = i
	return string(d[start:i]), true
}

// object reads a JSON object into the struct v by plan. Unknown keys are
// skipped, as encoding/json does; a key that differs from a field's only
// in case is not plain.
func (r *reader) object(plan *structPlan, v reflect.Value) bool {
	if !r.byte('{') {
		return false
	}
	if r.byte('}') {
		return true
	}
	next := 0 // the field expected next: keys mostly come in order
	for {
		key, ok := r.plain()
		if !ok || !r.byte(':') {
			return false
		}
		var f *fieldPlan
		if next < len(plan.order) && string(key) == plan.order[next].name {
			f = plan.order[next]
		} else {
			f = plan.fields[string(key)]
		}
		if f != nil {
			next = f.pos + 1
			if !f.dec(r, v.FieldByIndex(f.index)) {
				return false
			}
		} else {
			for i := 0; i < len(key); i++ {
				if key[i] >= utf8.RuneSelf {
					return false // Unicode folding: leave it to encoding/json
				}
			}
			if plan.folded[strings.ToLower(string(key))] || !r.skip(0) {
				return false
			}
		}
		if r.byte('}') {
			return true
		}
		if !r.byte(',') {
			return false
		}
	}
}

// skip reads over any JSON value, as strictly as encoding/json checks it.
func (r *reader) skip(depth int) bool {
	if depth > 256 {
		return false
	}
	switch c := r.peek(); {
	case c == '{':
		r.pos++
		if r.byte('}') {
			return true
		}
		for {
			if !r.skipString() || !r.byte(':') || !r.skip(depth+1) {
				return false
			}
			if r.byte('}') {
				return true
			}
			if !r.byte(',') {
				return false
			}
		}
	case c == '[':
		r.pos++
		if r.byte(']') {
			return true
		}
		for {
			if !r.skip(depth + 1) {
				return false
			}
			if r.byte(']') {
				return true
			}
			if !r.byte(',') {
				return false
			}
		}
	case c == '"':
		return r.skipString()
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return r.skipNumber()
	}
	return false
}

// skipString reads a string with any valid escapes.
func (r *reader) skipString() bool {
	if !r.byte('"') {
		return false
	}
	d := r.data
	for i := r.pos; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			r.pos = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(d) {
				return false
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) {
					return false
				}
				for _, h := range d[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return false
}

// skipNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *reader) skipNumber() bool {
	d, i := r.data, r.pos
	if d[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	r.pos = i
	return true
}
