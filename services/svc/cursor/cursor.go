// Package cursor is the one opaque list cursor every service gives out:
// where a page ended (the last item's sort key and ID) and which query it
// belongs to, so that the next page starts strictly after that item
// (items added meanwhile shift nothing) and a cursor sent back with
// another sort or other filters is refused rather than misread.
package cursor

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"github.com/fundbridge/fundbridge"
)

// Cursor is where a page ended.
type Cursor struct {
	Query string `json:"q,omitempty"` // the sort and filters it was issued for
	Key   string `json:"k"`           // the last item's sort key
	ID    string `json:"i"`           // the last item's ID, which breaks ties
}

// For is the Query of a list's cursors: its sort and its filters, in a
// fixed order, each "" when not given; hashed, so a cursor shows none.
// A cursor sent back with any of them changed is then refused.
func For(sortAndFilters ...string) string {
	h := sha256.New()
	for _, p := range sortAndFilters {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// String is the cursor as clients see it: opaque.
func (c Cursor) String() string {
	data, _ := json.Marshal(c) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(data)
}

// Parse reads a cursor given out for query; an error is EINVALID naming
// the field "cursor".
func Parse(s, query string) (Cursor, error) {
	bad := func(reason string) error {
		return fundbridge.Invalid("invalid cursor", fundbridge.FieldError{Field: "cursor", Reason: reason})
	}
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad("not a cursor this service issued")
	}
	var c Cursor
	if err := json.Unmarshal(data, &c); err != nil || c.ID == "" {
		return Cursor{}, bad("not a cursor this service issued")
	}
	if c.Query != query {
		return Cursor{}, bad("issued for another sort or other filters")
	}
	return c, nil
}

// WellFormed checks that s is a cursor at all, for validating a request
// before the query it belongs to is known.
func WellFormed(s string) error {
	data, err := base64.RawURLEncoding.DecodeString(s)
	var c Cursor
	if err != nil || json.Unmarshal(data, &c) != nil || c.ID == "" {
		return fundbridge.Invalid("invalid cursor", fundbridge.FieldError{Field: "cursor", Reason: "not a cursor this service issued"})
	}
	return nil
}
