package fundbridge

import "testing"

func TestUSCC(t *testing.T) {
	// Published codes of real companies.
	for _, code := range []string{"91110000802100433B", "91440300708461136T", "91330100716105852F"} {
		if !ValidUSCC(code) {
			t.Errorf("%s should be valid", code)
		}
	}
	for _, code := range []string{
		"91110000802100433C", // wrong check
		"91110000802100433",  // short
		"9111000080210043IB", // I is not in the alphabet
		"91110000802100433b", // lower case
		"",
	} {
		if ValidUSCC(code) {
			t.Errorf("%q should be invalid", code)
		}
	}
	// A check of 31 wraps to 0.
	for i := 0; i < 1000; i++ {
		body := []byte("91110000MA0000000")
		body[16] = usccAlphabet[i%31]
		body[15] = usccAlphabet[(i/31)%31]
		c, ok := USCCCheck(string(body))
		if !ok || !ValidUSCC(string(body)+string(c)) {
			t.Fatalf("generated %s%c not valid", body, c)
		}
	}
}
