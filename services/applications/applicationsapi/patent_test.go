package applicationsapi

import (
	"strings"
	"testing"
)

func TestPatentCheckDigit(t *testing.T) {
	for n, ok := range map[string]bool{
		"CN202310123456.6": true, "CN202310123456.7": false,
		"CN202320654328.X": true, "CN202320654328.0": false,
		"CN202310123450.9": true, "CN202310123456.x": false,
	} {
		if got := patentNumberProblem(n) == ""; got != ok {
			t.Errorf("%s: valid %v, want %v (%s)", n, got, ok, patentNumberProblem(n))
		}
	}
	if r := patentNumberProblem("CN202310123456.7"); !strings.Contains(r, "check digit 7") || !strings.Contains(r, "give 6") {
		t.Errorf("reason %q does not say which check digit is wrong", r)
	}
}

// FuzzPatentNumber: a number is valid exactly when it has the shape and
// its check digit is the one CNIPA's weights give; changing any one digit
// of a valid number makes it invalid.
func FuzzPatentNumber(f *testing.F) {
	for _, s := range []string{"CN202310123456.6", "CN202310123456.7", "CN202320654328.X", "CN20231012345.7", "US202310123456.6", "CN2023101234A6.7", "", "CN202310123456.６"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, n string) {
		problem := patentNumberProblem(n)
		shape := len(n) == 16 && strings.HasPrefix(n, "CN") && n[14] == '.' && strings.Trim(n[2:14], "0123456789") == "" && strings.ContainsAny(n[15:], "0123456789X")
		if problem == "" && (!shape || PatentCheckDigit(n[2:14]) != n[15]) {
			t.Fatalf("%q accepted", n)
		}
		if problem != "" && shape && PatentCheckDigit(n[2:14]) == n[15] {
			t.Fatalf("%q refused: %s", n, problem)
		}
		if problem == "" {
			for i := 2; i < 14; i++ {
				b := []byte(n)
				b[i] = '0' + (b[i]-'0'+1)%10
				if patentNumberProblem(string(b)) == "" {
					t.Fatalf("%q accepted after changing digit %d of %q", b, i, n)
				}
			}
		}
	})
}
