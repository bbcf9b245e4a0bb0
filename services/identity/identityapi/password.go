package identityapi

import (
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 12

// minPasswordScore is the least zxcvbn score accepted. Score 3 means an
// estimated 10^8 guesses or more: out of reach online (sign-in is rate
// limited) and slow offline against bcrypt. zxcvbn knows the common
// passwords, words and names, keyboard walks, sequences, repeats, dates
// and l33t spellings, which a list of our own would not.
const minPasswordScore = 3

// passwordProblem says why the password may not be used by the user with
// this email and name, or "" when it may. The reasons are for the person
// choosing it.
func passwordProblem(password, email, name string) string {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return "must be at least 12 characters"
	case len(password) > 72: // bcrypt reads no further
		return "must be at most 72 bytes"
	case !utf8.ValidString(password):
		return "must be valid UTF-8 text"
	case strings.TrimSpace(password) == "":
		return "must not be only spaces"
	}
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	if utf8.RuneCountInString(local) >= 3 && strings.Contains(strings.ToLower(password), local) {
		return "must not contain your email address or the part before the @"
	}
	// What the person told us is what an attacker would try first.
	inputs := append(strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '+' }), local, email)
	inputs = append(inputs, strings.Fields(strings.ToLower(name))...)
	if zxcvbn.PasswordStrength(password, inputs).Score < minPasswordScore {
		return "is too easy to guess (a common password, a word, a name, a sequence or a repeat); try three or four unrelated words"
	}
	return ""
}
