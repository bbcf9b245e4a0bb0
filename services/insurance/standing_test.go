package insurance

import (
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

func TestRecordPatentStanding(t *testing.T) {
	const number = "CN202310123456.6" // with its check digit, which the deciders' other tests' numbers lack
	consent := api.RecordPatentStanding{Number: number, LicenseeID: "co-1", OwnerConsent: true, Note: "licence agreement §7"}
	recorded := api.PatentStandingRecorded{Number: number, LicenseeID: "co-1", OwnerConsent: true, Note: "licence agreement §7"}
	record := func(a fundbridge.Actor, c api.RecordPatentStanding) func(Standing) ([]events.Payload, error) {
		return func(s Standing) ([]events.Payload, error) { return decideRecordStanding(s, a, c) }
	}
	disputed := consent
	disputed.InDispute = true
	check(t, standingDecider(), []scenario[Standing]{
		{name: "an operator records the owner's consent", when: record(operator, consent), then: []events.Payload{recorded}},
		{name: "the same standing again changes nothing", given: []events.Payload{recorded}, when: record(operator, consent)},
		{name: "a dispute is recorded over it", given: []events.Payload{recorded}, when: record(operator, disputed),
			then: []events.Payload{api.PatentStandingRecorded{Number: number, LicenseeID: "co-1", OwnerConsent: true, InDispute: true, Note: "licence agreement §7"}}},
		{name: "a startup may not record its own consent", when: record(founder, consent), code: fundbridge.EFORBIDDEN},
		{name: "an insurer may not either", when: record(insurerA, consent), code: fundbridge.EFORBIDDEN},
		{name: "consent names the licensee", when: record(operator, api.RecordPatentStanding{Number: number, OwnerConsent: true}), code: fundbridge.EINVALID, field: "licensee_id"},
		{name: "a number with a wrong check digit", when: record(operator, api.RecordPatentStanding{Number: "CN202310123456.7", InDispute: true}), code: fundbridge.EINVALID, field: "number"},
	})
}

// The standing completes the facts a request is decided on: consent
// counts for the licensee it names only, and a dispute for everyone.
func TestStandingDecidesTheRequest(t *testing.T) {
	f := facts()
	lic, _ := f.Company.patent(pLicensed)
	good, _ := f.Company.patent(pGood)
	consented := Standing{PatentStandingRecorded: api.PatentStandingRecorded{Number: pLicensed, LicenseeID: "co-1", OwnerConsent: true}, Version: 1}
	if p := applyStanding(lic, consented, "co-1"); !p.OwnerConsent || p.InDispute {
		t.Errorf("consent for co-1: %+v", p)
	}
	if p := applyStanding(lic, consented, "co-2"); p.OwnerConsent {
		t.Errorf("consent for co-1 counted for co-2: %+v", p)
	}
	if p := applyStanding(good, Standing{PatentStandingRecorded: api.PatentStandingRecorded{Number: pGood, InDispute: true}, Version: 1}, "co-1"); !p.InDispute {
		t.Errorf("dispute not applied: %+v", p)
	}
	for i, p := range f.Company.Patents {
		if p.Number == pLicensed {
			f.Company.Patents[i] = applyStanding(p, consented, "co-1")
		}
	}
	if _, err := decideRequest(Request{}, founder, "r9", ask(pLicensed), f, now); err != nil {
		t.Errorf("a licensed patent with its owner's consent recorded: %v", err)
	}
}
