package applications

import (
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge"
)

func TestClaimUSCC(t *testing.T) {
	const code = "91110108MA01C2XK0X"
	if got, err := claimUSCC(usccClaim{}, code, "c1"); err != nil || len(got) != 1 {
		t.Errorf("free code: %v %v, want it claimed", got, err)
	}
	if got, err := claimUSCC(usccClaim{CompanyID: "c1"}, code, "c1"); err != nil || len(got) != 0 {
		t.Errorf("own code again: %v %v, want nothing new", got, err)
	}
	_, err := claimUSCC(usccClaim{CompanyID: "c1"}, code, "c2")
	if fundbridge.ErrorCode(err) != fundbridge.ECONFLICT || !strings.Contains(fundbridge.ErrorMessage(err), code) || fundbridge.ErrorFields(err)[0].Field != "uscc" {
		t.Errorf("another company's code: %v, want a conflict naming it and the field", err)
	}
}
