package fundbridge

import (
	"strings"
	"testing"
)

// FuzzUSCC: a code is valid exactly when it is 18 characters of the
// alphabet ending in the check character of the first 17, and changing any
// one of the 17 to another character of the alphabet makes it invalid.
func FuzzUSCC(f *testing.F) {
	for _, s := range []string{"91110108MA01A2B3CF", "91110108MA01A2B3C0", "9111010", "91110108MA01A2B3CFX", "91110108MA01a2B3CF", "91110108MA01I2B3CF", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		valid := ValidUSCC(code)
		shape := len(code) == 18 && strings.Trim(code, usccAlphabet) == ""
		if valid && !shape {
			t.Fatalf("%q accepted", code)
		}
		if !shape {
			return
		}
		check, ok := USCCCheck(code[:17])
		if !ok || valid != (check == code[17]) {
			t.Fatalf("%q: valid %v, check %c %v", code, valid, check, ok)
		}
		if !valid {
			return
		}
		for i := 0; i < 17; i++ {
			b := []byte(code)
			b[i] = usccAlphabet[(strings.IndexByte(usccAlphabet, b[i])+1)%len(usccAlphabet)]
			if ValidUSCC(string(b)) {
				t.Fatalf("%q accepted after changing character %d of %q", b, i, code)
			}
		}
	})
}
