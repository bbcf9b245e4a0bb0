package gateway

import (
	"bytes"
	"io"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// member is one name and JSON value the gateway adds to a payload: a path
// parameter or a query parameter.
type member struct {
	name  string
	value []byte // JSON
}

// spliceBody returns a command's body with the path's parameters joined
// to it, without decoding it into a map and encoding it again: one pass
// of the tokenizer checks it as strictly as svc.DecodeObject (one object,
// names not repeated, valid UTF-8, nothing after it) and reads the
// top-level values that params name. ok is false for a body it does not
// accept; the caller then decodes it for the error that names the fault.
// A parameter the body already holds must hold the same value; conflict
// names the one that does not.
func spliceBody(body []byte, params []member) (out []byte, conflict string, ok bool) {
	body = bytes.TrimSpace(body)
	if len(params) == 0 { // nothing to look for: one pass checks it whole
		if v := jsontext.Value(body); v.Kind() != '{' || !v.IsValid() {
			return nil, "", false
		}
		return body, "", true
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, "", false
	}
	present := make([]bool, len(params))
	empty := true
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, "", false
		}
		name := tok.String() // now: the token is only valid until the next read
		val, err := dec.ReadValue()
		if err != nil {
			return nil, "", false
		}
		empty = false
		for i, p := range params {
			if p.name == name {
				if !bytes.Equal(val, p.value) {
					return nil, p.name, true
				}
				present[i] = true
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil { // the closing brace
		return nil, "", false
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, "", false
	}
	out = make([]byte, 0, len(body)+64)
	out = append(out, body[:len(body)-1]...) // up to the closing brace
	for i, p := range params {
		if present[i] {
			continue
		}
		if !empty {
			out = append(out, ',')
		}
		out = appendMember(out, p)
		empty = false
	}
	return append(out, '}'), "", true
}

// encodeMembers writes members as one JSON object.
func encodeMembers(members []member) []byte {
	out := []byte{'{'}
	for i, m := range members {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendMember(out, m)
	}
	return append(out, '}')
}

func appendMember(out []byte, m member) []byte {
	out, _ = jsontext.AppendQuote(out, m.name) // names are route and query keys: valid UTF-8 or replaced
	out = append(out, ':')
	return append(out, m.value...)
}

// withPosition adds "position" to a command's reply, so a client that
// keeps only the body can still read its own write (?after=). The reply
// is the service's own encoding of an object whose type has no
// "position" (set by forward): the member is written before its closing
// brace rather than the object decoded and encoded again.
func withPosition(body []byte, pos uint64) []byte {
	end := len(bytes.TrimRight(body, " \t\r\n"))
	start := len(body) - len(bytes.TrimLeft(body, " \t\r\n"))
	if end-start < 2 || body[start] != '{' || body[end-1] != '}' {
		return body
	}
	out := make([]byte, 0, end-start+32)
	out = append(out, body[start:end-1]...)
	if len(bytes.TrimSpace(out[1:])) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"position":`...)
	out = strconv.AppendUint(out, pos, 10)
	return append(out, '}')
}
