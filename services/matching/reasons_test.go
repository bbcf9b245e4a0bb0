package matching

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// Every reason sentence has its code beside it, index by index, and a
// code always names values of the same kinds in the same order (what a
// page's translation of the code relies on), over a random market's
// funds and programmes, matching or not.
func TestReasonCodesBesideEverySentence(t *testing.T) {
	g := newMarket(7)
	e := NewEngine()
	g.addFunds(e, 40)
	g.addProgrammes(e, 40)
	g.addApplications(e, 150)
	kinds := map[string]string{}
	check := func(ev Evaluation, what string) {
		t.Helper()
		for _, side := range []struct {
			texts []string
			codes []matchingapi.Reason
		}{{ev.For, ev.ForCodes}, {ev.Against, ev.AgainstCodes}} {
			if len(side.texts) != len(side.codes) {
				t.Fatalf("%s: %d sentences, %d codes", what, len(side.texts), len(side.codes))
			}
			for i, r := range side.codes {
				var sig []string
				for _, p := range r.Params {
					sig = append(sig, p.Kind)
				}
				got := strings.Join(sig, ",")
				if r.Code == "" {
					t.Fatalf("%s: %q has no code", what, side.texts[i])
				}
				if want, seen := kinds[r.Code]; seen && want != got {
					t.Errorf("%s: code %s names %s here, %s elsewhere (%q)", what, r.Code, got, want, side.texts[i])
				}
				kinds[r.Code] = got
			}
		}
	}
	for a := range 150 {
		appID := fmt.Sprintf("a%06d", a)
		for f := range 40 {
			if ev, ok := e.Explain(fmt.Sprintf("f%05d", f), appID); ok {
				check(ev, "fund")
			}
		}
		for key, p := range e.progs {
			if ev, ok := e.ExplainProgramme(p.info.BankID, p.info.ProgrammeID, appID); ok {
				check(ev, "programme "+key)
			}
		}
	}
	// The walk must reach most codes, or it proves little.
	if len(kinds) < 40 {
		t.Errorf("the market gave only %d codes: %v", len(kinds), kinds)
	}
}
