package events

import "testing"

func TestStreamIDs(t *testing.T) {
	for _, ok := range []string{"company-01J9", "deal-abc_DEF-12", "a-b", "fund_x-Y", "user-operator-7b85b42827dc"} {
		if err := ValidateStreamID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "Company-1", "company", "company-", "company-a.b", "company-*", "company->", "com pany-1", "company-a b", "1company-x", "company-ü"} {
		if err := ValidateStreamID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	typ, id, err := SplitStreamID("deal-fund1_app-2")
	if err != nil || typ != "deal" || id != "fund1_app-2" {
		t.Errorf("split = %q %q %v", typ, id, err)
	}
}
