package projections

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentence starts s with a capital letter: a sentence that begins with a
// fallback name ("company c3 accepted", "insurer i1 declined") reads as
// one.
func Sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !unicode.IsLower(r) {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}
