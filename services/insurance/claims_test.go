package insurance

import (
	"errors"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

var (
	claim1    = policyID + "-c1"
	filed     = api.ClaimFiled{PolicyID: policyID, ClaimID: claim1, IncidentOn: "2026-06-01", Amount: amt("300000.00"), Description: "a competitor copies the patented detector"}
	assessed  = api.ClaimAssessed{PolicyID: policyID, ClaimID: claim1, Amount: amt("200000.00")}
	partPaid  = api.ClaimSettled{PolicyID: policyID, ClaimID: claim1, Amount: amt("50000.00"), PaidOnClaim: amt("50000.00"), RemainingLimit: amt("950000.00")}
	cancelled = api.PolicyCancelled{PolicyID: policyID, EffectiveOn: "2026-09-01", DaysCovered: 184, DaysInPeriod: 365, Refund: amt("7438.36"), Earned: amt("7561.64"), RefundToCompany: amt("7438.36")}
)

func TestFileClaim(t *testing.T) {
	file := func(a fundbridge.Actor, incident string, at time.Time) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decideFileClaim(p, a, api.FileClaim{PolicyID: policyID, IncidentOn: incident, Amount: amt("300000.00"), Description: " " + filed.Description + "\n"}, at)
		}
	}
	july := on("2026-07-01")
	second := filed
	second.ClaimID, second.IncidentOn = policyID+"-c2", "2027-02-28"
	// A prior claim paid the whole limit.
	big := api.ClaimFiled{PolicyID: policyID, ClaimID: claim1, IncidentOn: "2026-05-01", Amount: amt("1200000.00"), Description: "x"}
	bigAssessed := api.ClaimAssessed{PolicyID: policyID, ClaimID: claim1, Amount: amt("1000000.00")}
	bigPaid := api.ClaimSettled{PolicyID: policyID, ClaimID: claim1, Amount: amt("1000000.00"), PaidOnClaim: amt("1000000.00"), RemainingLimit: amt("0.00")}
	check(t, policyDecider(), []scenario[Policy]{
		{name: "an incident inside the period", given: []events.Payload{bound, paid}, when: file(founder, "2026-06-01", july), then: []events.Payload{filed}},
		{name: "after expiry, for an incident on the last day", given: []events.Payload{bound, paid, filed, expiredEv}, when: file(founder, "2027-02-28", on("2027-04-01")), then: []events.Payload{second}},
		{name: "refused: claim outside the period (before)", given: []events.Payload{bound, paid}, when: file(founder, "2026-02-28", july), code: fundbridge.EUNPROCESSABLE, field: "incident_on", says: "outside the cover"},
		{name: "refused: claim outside the period (after)", given: []events.Payload{bound, paid, expiredEv}, when: file(founder, "2027-03-01", on("2027-03-05")), code: fundbridge.EUNPROCESSABLE, field: "incident_on"},
		{name: "refused: claim after the cancellation took effect", given: []events.Payload{bound, paid, cancelled}, when: file(founder, "2026-09-01", on("2026-09-05")), code: fundbridge.EUNPROCESSABLE, field: "incident_on", says: "2026-03-01 to 2026-08-31"},
		{name: "before the cancellation took effect", given: []events.Payload{bound, paid, cancelled}, when: file(founder, "2026-06-01", on("2026-09-05")), then: []events.Payload{filed}},
		{name: "refused: an incident in the future", given: []events.Payload{bound, paid}, when: file(founder, "2026-07-02", july), code: fundbridge.EINVALID, field: "incident_on"},
		{name: "refused: before the premium is paid", given: []events.Payload{bound}, when: file(founder, "2026-06-01", july), code: fundbridge.ECONFLICT, says: "premium"},
		{name: "refused: the aggregate limit paid out", given: []events.Payload{bound, paid, big, bigAssessed, bigPaid}, when: file(founder, "2026-06-01", july), code: fundbridge.EUNPROCESSABLE, says: "whole aggregate limit"},
		{name: "refused: another company", given: []events.Payload{bound, paid}, when: file(rival, "2026-06-01", july), code: fundbridge.ENOTFOUND},
		{name: "refused: the insurer", given: []events.Payload{bound, paid}, when: file(insurerA, "2026-06-01", july), code: fundbridge.EFORBIDDEN},
	})
}

func TestAssessAndDenyClaim(t *testing.T) {
	assess := func(a fundbridge.Actor, amount string) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decideAssessClaim(p, a, api.AssessClaim{PolicyID: policyID, ClaimID: claim1, Amount: amt(amount)})
		}
	}
	deny := func(a fundbridge.Actor, id string) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decideDenyClaim(p, a, api.DenyClaim{PolicyID: policyID, ClaimID: id, Reason: "the product does not read on the claims"})
		}
	}
	reassessed := assessed
	reassessed.Amount = amt("250000.00")
	denied := api.ClaimDenied{PolicyID: policyID, ClaimID: claim1, Reason: "the product does not read on the claims"}
	given := []events.Payload{bound, paid, filed}
	// A first claim took ¥900,000 of the ¥1m limit; a second claims ¥200,000.
	c2 := policyID + "-c2"
	mostPaid := []events.Payload{bound, paid,
		api.ClaimFiled{PolicyID: policyID, ClaimID: claim1, IncidentOn: "2026-04-01", Amount: amt("900000.00"), Description: "x"},
		api.ClaimAssessed{PolicyID: policyID, ClaimID: claim1, Amount: amt("900000.00")},
		api.ClaimSettled{PolicyID: policyID, ClaimID: claim1, Amount: amt("900000.00"), PaidOnClaim: amt("900000.00"), RemainingLimit: amt("100000.00")},
		api.ClaimFiled{PolicyID: policyID, ClaimID: c2, IncidentOn: "2026-05-01", Amount: amt("200000.00"), Description: "y"},
	}
	assessSecond := func(amount string) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decideAssessClaim(p, insurerA, api.AssessClaim{PolicyID: policyID, ClaimID: c2, Amount: amt(amount)})
		}
	}
	// The first claim assessed at ¥900,000 and ¥400,000 of it paid: the
	// ¥500,000 still owed on it is not the second claim's to take.
	mostOwed := []events.Payload{bound, paid,
		api.ClaimFiled{PolicyID: policyID, ClaimID: claim1, IncidentOn: "2026-04-01", Amount: amt("900000.00"), Description: "x"},
		api.ClaimAssessed{PolicyID: policyID, ClaimID: claim1, Amount: amt("900000.00")},
		api.ClaimSettled{PolicyID: policyID, ClaimID: claim1, Amount: amt("400000.00"), PaidOnClaim: amt("400000.00"), RemainingLimit: amt("600000.00")},
		api.ClaimFiled{PolicyID: policyID, ClaimID: c2, IncidentOn: "2026-05-01", Amount: amt("200000.00"), Description: "y"},
	}
	check(t, policyDecider(), []scenario[Policy]{
		{name: "assessed within what the other open claims leave of the limit", given: mostOwed, when: assessSecond("100000.00"),
			then: []events.Payload{api.ClaimAssessed{PolicyID: policyID, ClaimID: c2, Amount: amt("100000.00")}}},
		{name: "refused: above what the other open claims leave (one of the two could never be paid in full)", given: mostOwed, when: assessSecond("100000.01"),
			code: fundbridge.EUNPROCESSABLE, field: "amount", says: "aggregate limit once the ¥500,000.00 assessed on its other open claims is paid"},
		{name: "assessed at what is left of the aggregate limit", given: mostPaid, when: assessSecond("100000.00"),
			then: []events.Payload{api.ClaimAssessed{PolicyID: policyID, ClaimID: c2, Amount: amt("100000.00")}}},
		{name: "refused: above what is left of the aggregate limit (it could never be paid)", given: mostPaid, when: assessSecond("100000.01"),
			code: fundbridge.EUNPROCESSABLE, field: "amount", says: "more than the ¥100,000.00 left of policy"},
		{name: "assessed", given: given, when: assess(insurerA, "200000.00"), then: []events.Payload{assessed}},
		{name: "the whole claim", given: given, when: assess(insurerA, "300000.00"), then: []events.Payload{func() api.ClaimAssessed { a := assessed; a.Amount = amt("300000.00"); return a }()}},
		{name: "assessed again before anything is paid", given: append(given, assessed), when: assess(insurerA, "250000.00"), then: []events.Payload{reassessed}},
		{name: "the same assessment again: no change", given: append(given, assessed), when: assess(insurerA, "200000.00"), then: nil},
		{name: "refused: above the claim", given: given, when: assess(insurerA, "300000.01"), code: fundbridge.EUNPROCESSABLE, field: "amount"},
		{name: "refused: after a settlement", given: append(given, assessed, partPaid), when: assess(insurerA, "250000.00"), code: fundbridge.ECONFLICT, says: "is partly paid: a claim is assessed only before"},
		{name: "refused: another insurer", given: given, when: assess(insurerB, "200000.00"), code: fundbridge.ENOTFOUND},
		{name: "refused: the startup", given: given, when: assess(founder, "200000.00"), code: fundbridge.EFORBIDDEN},
		{name: "refused: no such claim", given: given, when: func(p Policy) ([]events.Payload, error) {
			return decideAssessClaim(p, insurerA, api.AssessClaim{PolicyID: policyID, ClaimID: "nope", Amount: amt("1.00")})
		}, code: fundbridge.ENOTFOUND},
		{name: "denied with a reason", given: given, when: deny(insurerA, claim1), then: []events.Payload{denied}},
		{name: "denied after assessment", given: append(given, assessed), when: deny(insurerA, claim1), then: []events.Payload{denied}},
		{name: "denied again: no change", given: append(given, denied), when: deny(insurerA, claim1), then: nil},
		{name: "refused: denying after a settlement", given: append(given, assessed, partPaid), when: deny(insurerA, claim1), code: fundbridge.ECONFLICT, says: "is partly paid: a claim is denied only while"},
		{name: "refused: denying without a reason", given: given, when: func(p Policy) ([]events.Payload, error) {
			return decideDenyClaim(p, insurerA, api.DenyClaim{PolicyID: policyID, ClaimID: claim1})
		}, code: fundbridge.EINVALID, field: "reason"},
	})
}

func TestSettleClaim(t *testing.T) {
	settle := func(id, amount string) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decideSettleClaim(p, insurerA, api.SettleClaim{PolicyID: policyID, ClaimID: id, Amount: amt(amount)})
		}
	}
	rest := api.ClaimSettled{PolicyID: policyID, ClaimID: claim1, Amount: amt("150000.00"), PaidOnClaim: amt("200000.00"), RemainingLimit: amt("800000.00")}
	// A first claim took ¥900,000 of the ¥1m limit; a second is assessed at ¥200,000.
	c2 := policyID + "-c2"
	first := []events.Payload{bound, paid,
		api.ClaimFiled{PolicyID: policyID, ClaimID: claim1, IncidentOn: "2026-04-01", Amount: amt("900000.00"), Description: "x"},
		api.ClaimAssessed{PolicyID: policyID, ClaimID: claim1, Amount: amt("900000.00")},
		api.ClaimSettled{PolicyID: policyID, ClaimID: claim1, Amount: amt("900000.00"), PaidOnClaim: amt("900000.00"), RemainingLimit: amt("100000.00")},
		api.ClaimFiled{PolicyID: policyID, ClaimID: c2, IncidentOn: "2026-05-01", Amount: amt("200000.00"), Description: "y"},
		api.ClaimAssessed{PolicyID: policyID, ClaimID: c2, Amount: amt("200000.00")},
	}
	upToLimit := api.ClaimSettled{PolicyID: policyID, ClaimID: c2, Amount: amt("100000.00"), PaidOnClaim: amt("100000.00"), RemainingLimit: amt("0.00")}
	check(t, policyDecider(), []scenario[Policy]{
		{name: "a partial settlement", given: []events.Payload{bound, paid, filed, assessed}, when: settle(claim1, "50000.00"), then: []events.Payload{partPaid}},
		{name: "the rest", given: []events.Payload{bound, paid, filed, assessed, partPaid}, when: settle(claim1, "150000.00"), then: []events.Payload{rest}},
		{name: "up to the remaining limit", given: first, when: settle(c2, "100000.00"), then: []events.Payload{upToLimit}},
		{name: "refused: claim above the remaining limit", given: first, when: settle(c2, "100000.01"), code: fundbridge.EUNPROCESSABLE, says: "above the ¥100,000.00 left"},
		{name: "refused: nothing left of the limit", given: append(first, upToLimit), when: settle(c2, "0.01"), code: fundbridge.EUNPROCESSABLE},
		{name: "refused: above what is owed on the claim", given: []events.Payload{bound, paid, filed, assessed, partPaid}, when: settle(claim1, "150000.01"), code: fundbridge.EUNPROCESSABLE, field: "amount"},
		{name: "refused: settled in full already", given: []events.Payload{bound, paid, filed, assessed, partPaid, rest}, when: settle(claim1, "1.00"), code: fundbridge.ECONFLICT},
		{name: "refused: before assessment", given: []events.Payload{bound, paid, filed}, when: settle(claim1, "1.00"), code: fundbridge.ECONFLICT},
	})
	p := replay(t, policyDecider(), first)
	_, err := decideSettleClaim(p, insurerA, api.SettleClaim{PolicyID: policyID, ClaimID: c2, Amount: amt("150000.00")})
	var limit *LimitError
	if !errors.As(err, &limit) || !limit.Remaining.Equal(amt("100000.00")) {
		t.Fatalf("a settlement above the limit: %v, want a LimitError with ¥100,000.00 left", err)
	}
	if fs := fundbridge.ErrorFields(err); len(fs) != 1 || fs[0].Field != "amount" || fs[0].Reason != "must not exceed what is left of the aggregate limit, 100000.00" {
		t.Errorf("the refusal names %+v, want the amount and what is left", fs)
	}
	done := replay(t, policyDecider(), []events.Payload{bound, paid, filed, assessed, partPaid, rest})
	if c, _ := done.claim(claim1); c.Status != ClaimSettled || !done.ClaimsPaid.Equal(amt("200000.00")) || !done.RemainingLimit().Equal(amt("800000.00")) {
		t.Errorf("after settling in full: claim %s, paid %s, left %s", c.Status, done.ClaimsPaid, done.RemainingLimit())
	}
}

func TestGuaranteeClaim(t *testing.T) {
	guarantee := bound
	guarantee.Coverage, guarantee.LoanDealID = api.CoveragePledgeGuarantee, "deal-1"
	guarantee.PolicyNumber = PolicyNumber("ins-a", "r1-q1", api.CoveragePledgeGuarantee, on("2026-03-01"))
	claimFor := func(a fundbridge.Actor, deal, defaultID, day string) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decideGuaranteeClaim(p, a, api.FileGuaranteeClaim{
				PolicyID: policyID, LoanDealID: deal, DefaultID: defaultID, DefaultedOn: day, Loss: amt("3333333.33"), Share: "0.30",
			}, on("2026-11-01"))
		}
	}
	// 30% of ¥3,333,333.33 is ¥999,999.999: ¥1,000,000.00 half-up.
	filedForBank := api.ClaimFiled{
		PolicyID: policyID, ClaimID: claim1, IncidentOn: "2026-10-15", Amount: amt("1000000.00"),
		Description: "loan deal deal-1 defaulted on 2026-10-15: the insurer's share 0.3 of a loss of ¥3,333,333.33",
		LoanDealID:  "deal-1", DefaultID: "default-1", Loss: amt("3333333.33"), Share: "0.3",
	}
	check(t, policyDecider(), []scenario[Policy]{
		{name: "the insurer's share of the loss", given: []events.Payload{guarantee, paid}, when: claimFor(platformActor, "deal-1", "default-1", "2026-10-15"), then: []events.Payload{filedForBank}},
		{name: "once per default", given: []events.Payload{guarantee, paid, filedForBank}, when: claimFor(platformActor, "deal-1", "default-1", "2026-10-15"), then: nil},
		{name: "refused: another loan", given: []events.Payload{guarantee, paid}, when: claimFor(platformActor, "deal-2", "default-1", "2026-10-15"), code: fundbridge.EUNPROCESSABLE, field: "loan_deal_id"},
		{name: "refused: not a guarantee policy", given: []events.Payload{bound, paid}, when: claimFor(platformActor, "deal-1", "default-1", "2026-10-15"), code: fundbridge.EUNPROCESSABLE},
		{name: "refused: a default outside the period", given: []events.Payload{guarantee, paid}, when: claimFor(platformActor, "deal-1", "default-1", "2026-02-01"), code: fundbridge.EUNPROCESSABLE, field: "defaulted_on"},
		{name: "refused: the premium unpaid", given: []events.Payload{guarantee}, when: claimFor(platformActor, "deal-1", "default-1", "2026-10-15"), code: fundbridge.ECONFLICT},
		{name: "refused: the startup", given: []events.Payload{guarantee, paid}, when: claimFor(founder, "deal-1", "default-1", "2026-10-15"), code: fundbridge.EFORBIDDEN},
		{name: "refused: an ordinary claim on a guarantee", given: []events.Payload{guarantee, paid}, when: func(p Policy) ([]events.Payload, error) {
			return decideFileClaim(p, founder, api.FileClaim{PolicyID: policyID, IncidentOn: "2026-10-15", Amount: amt("1.00"), Description: "x"}, on("2026-11-01"))
		}, code: fundbridge.EUNPROCESSABLE, says: "claimed by the platform"},
		{name: "refused: a share above the whole", given: []events.Payload{guarantee, paid}, when: func(p Policy) ([]events.Payload, error) {
			return decideGuaranteeClaim(p, platformActor, api.FileGuaranteeClaim{PolicyID: policyID, LoanDealID: "deal-1", DefaultID: "d", DefaultedOn: "2026-10-15", Loss: amt("1.00"), Share: "1.2"}, on("2026-11-01"))
		}, code: fundbridge.EINVALID, field: "insurer_share"},
	})
}
