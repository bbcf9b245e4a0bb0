package fundbridge

import "strings"

// The unified social credit code (统一社会信用代码, GB 32100-2015): 18
// characters from this alphabet, the last a check character.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheck returns the check character for the first 17 characters of a
// code, and false if they are not 17 characters of the alphabet.
func USCCCheck(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	check := 31 - sum%31
	if check == 31 {
		check = 0
	}
	return usccAlphabet[check], true
}

// ValidUSCC reports whether code is a well-formed USCC with the right check character.
func ValidUSCC(code string) bool {
	if len(code) != 18 {
		return false
	}
	check, ok := USCCCheck(code[:17])
	return ok && code[17] == check
}
