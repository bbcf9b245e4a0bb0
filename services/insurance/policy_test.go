package insurance

import (
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

var (
	policyID = PolicyID("r1-q1")
	accepted = api.QuoteAccepted{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a", PolicyID: policyID}
	// bound is r1's policy: ¥1m enforcement cover for a year from 1 March
	// 2026 at ¥15,000.
	bound = api.PolicyBound{
		PolicyID: policyID, PolicyNumber: PolicyNumber("ins-a", "r1-q1", api.CoverageEnforcement, on("2026-03-01")),
		RequestID: "r1", QuoteID: "r1-q1", CompanyID: "co-1", InsurerID: "ins-a", City: "suzhou", Stage: fundbridge.StageStartup,
		Coverage: api.CoverageEnforcement, Patents: requested.Patents, SumInsured: amt("1000000.00"), AggregateLimit: amt("1000000.00"),
		Premium: amt("15000.00"), StartsOn: "2026-03-01", EndsOn: "2027-02-28",
	}
	paid      = api.PremiumPaid{PolicyID: policyID, Amount: amt("15000.00"), Subsidy: amt("0.00"), Premium: amt("15000.00")}
	subsidy   = api.SubsidyApplied{PolicyID: policyID, ProgrammeID: "sz-2026", Amount: amt("7500.00"), PremiumDue: amt("7500.00")}
	halfPaid  = api.PremiumPaid{PolicyID: policyID, Amount: amt("7500.00"), Subsidy: amt("7500.00"), Premium: amt("15000.00")}
	expiredEv = api.PolicyExpired{PolicyID: policyID, EndsOn: "2027-02-28"}
)

func TestBind(t *testing.T) {
	bind := func(a fundbridge.Actor, id string, history []events.Payload, at time.Time) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			r := replay(t, requestDecider(), history)
			return decideBind(p, a, id, api.BindPolicy{RequestID: "r1", QuoteID: "r1-q1"}, r, at)
		}
	}
	done := []events.Payload{requested, quoted, accepted}
	late := bound
	late.PolicyNumber, late.StartsOn, late.EndsOn = PolicyNumber("ins-a", "r1-q1", api.CoverageEnforcement, on("2026-03-10")), "2026-03-10", "2027-03-09"
	tight := requested
	tight.Patents = []api.InsuredPatent{insured(pGood)}
	tight.Patents[0].ExpiresOn = "2029-03-05"
	check(t, policyDecider(), []scenario[Policy]{
		{name: "the accepted quote", when: bind(founder, policyID, done, now), then: []events.Payload{bound}},
		{name: "late: cover starts today and keeps its length", when: bind(platformActor, policyID, done, on("2026-03-10")), then: []events.Payload{late}},
		{name: "again: no change", given: []events.Payload{bound}, when: bind(founder, policyID, done, now), then: nil},
		{name: "refused: a quote not accepted", when: bind(founder, policyID, done[:2], now), code: fundbridge.ECONFLICT, says: "has not been accepted"},
		{name: "refused: another policy ID", when: bind(founder, "pol-other", done, now), code: fundbridge.ECONFLICT},
		{name: "refused: another company", when: bind(rival, policyID, done, now), code: fundbridge.ENOTFOUND},
		{name: "refused: the insurer", when: bind(insurerA, policyID, done, now), code: fundbridge.EFORBIDDEN},
		{name: "refused: a late start leaves a patent under 3 years", when: bind(founder, policyID, []events.Payload{tight, quoted, accepted}, on("2026-03-10")),
			code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "less than 3 years"},
	})
}

func TestSubsidyAndPremium(t *testing.T) {
	apply := func(a fundbridge.Actor, programme, amount string) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decideApplySubsidy(p, a, api.ApplySubsidy{PolicyID: policyID, ProgrammeID: programme, Amount: amt(amount)})
		}
	}
	pay := func(a fundbridge.Actor, amount string) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decidePayPremium(p, a, api.PayPremium{PolicyID: policyID, Amount: amt(amount)})
		}
	}
	whole := api.SubsidyApplied{PolicyID: policyID, ProgrammeID: "sz-2026", Amount: amt("15000.00"), PremiumDue: amt("0.00")}
	nothingDue := api.PremiumPaid{PolicyID: policyID, Amount: amt("0.00"), Subsidy: amt("15000.00"), Premium: amt("15000.00")}
	check(t, policyDecider(), []scenario[Policy]{
		{name: "a subsidy before payment", given: []events.Payload{bound}, when: apply(platformActor, "sz-2026", "7500.00"), then: []events.Payload{subsidy}},
		{name: "the same subsidy again: no change", given: []events.Payload{bound, subsidy}, when: apply(platformActor, "sz-2026", "7500.00"), then: nil},
		{name: "refused: a second subsidy", given: []events.Payload{bound, subsidy}, when: apply(platformActor, "bj-2026", "100.00"), code: fundbridge.ECONFLICT},
		{name: "refused: a subsidy after payment", given: []events.Payload{bound, paid}, when: apply(platformActor, "sz-2026", "7500.00"), code: fundbridge.ECONFLICT},
		{name: "refused: a subsidy above the premium", given: []events.Payload{bound}, when: apply(platformActor, "sz-2026", "15000.01"), code: fundbridge.EUNPROCESSABLE},
		{name: "refused: the startup applies its own subsidy", given: []events.Payload{bound}, when: apply(founder, "sz-2026", "7500.00"), code: fundbridge.EFORBIDDEN},
		{name: "the whole premium", given: []events.Payload{bound}, when: pay(founder, "15000.00"), then: []events.Payload{paid}},
		{name: "the premium less the subsidy", given: []events.Payload{bound, subsidy}, when: pay(founder, "7500.00"), then: []events.Payload{halfPaid}},
		{name: "nothing due under a whole subsidy", given: []events.Payload{bound, whole}, when: pay(founder, "0.00"), then: []events.Payload{nothingDue}},
		{name: "paying again: no change", given: []events.Payload{bound, paid}, when: pay(founder, "15000.00"), then: nil},
		{name: "refused: the whole premium when a subsidy applies", given: []events.Payload{bound, subsidy}, when: pay(founder, "15000.00"), code: fundbridge.EUNPROCESSABLE, field: "amount", says: "due on policy"},
		{name: "refused: paying after expiry", given: []events.Payload{bound, expiredEv}, when: pay(founder, "15000.00"), code: fundbridge.ECONFLICT, says: "expired before its premium was paid: no premium is due"},
		{name: "refused: another company", given: []events.Payload{bound}, when: pay(rival, "15000.00"), code: fundbridge.ENOTFOUND},
		{name: "refused: the insurer", given: []events.Payload{bound}, when: pay(insurerA, "15000.00"), code: fundbridge.EFORBIDDEN},
		{name: "refused: no such policy", when: pay(founder, "15000.00"), code: fundbridge.ENOTFOUND},
	})
}

func TestExpirePolicy(t *testing.T) {
	expire := func(a fundbridge.Actor, at time.Time) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decideExpirePolicy(p, a, api.ExpirePolicy{PolicyID: policyID}, at)
		}
	}
	cancelled := api.PolicyCancelled{PolicyID: policyID, EffectiveOn: "2026-09-01", DaysCovered: 184, DaysInPeriod: 365}
	check(t, policyDecider(), []scenario[Policy]{
		{name: "the day after the last", given: []events.Payload{bound, paid}, when: expire(platformActor, on("2027-03-01")), then: []events.Payload{expiredEv}},
		{name: "again: no change", given: []events.Payload{bound, paid, expiredEv}, when: expire(platformActor, on("2027-03-02")), then: nil},
		{name: "cancelled: no change", given: []events.Payload{bound, cancelled}, when: expire(platformActor, on("2027-03-02")), then: nil},
		{name: "refused: on the last day", given: []events.Payload{bound, paid}, when: expire(platformActor, on("2027-02-28")), code: fundbridge.ECONFLICT, says: "runs until 2027-02-28"},
		{name: "refused: the startup", given: []events.Payload{bound, paid}, when: expire(founder, on("2027-03-01")), code: fundbridge.EFORBIDDEN},
	})
}

func TestCancel(t *testing.T) {
	cancel := func(a fundbridge.Actor, effective string, at time.Time) func(Policy) ([]events.Payload, error) {
		return func(p Policy) ([]events.Payload, error) {
			return decideCancel(p, a, api.CancelPolicy{PolicyID: policyID, EffectiveOn: effective, Reason: "sold the patent"}, at)
		}
	}
	// 1 September 2026: 184 of 365 days covered; 15000 × 181/365 = 7438.356… refunded.
	midway := api.PolicyCancelled{
		PolicyID: policyID, EffectiveOn: "2026-09-01", Reason: "sold the patent", DaysCovered: 184, DaysInPeriod: 365,
		Refund: amt("7438.36"), Earned: amt("7561.64"), RefundToCompany: amt("7438.36"),
	}
	shared := midway
	shared.RefundToCompany, shared.RefundToProgramme, shared.SubsidyProgrammeID = amt("3719.18"), amt("3719.18"), "sz-2026"
	atStart := api.PolicyCancelled{
		PolicyID: policyID, EffectiveOn: "2026-03-01", Reason: "sold the patent", DaysInPeriod: 365,
		Refund: amt("15000.00"), Earned: amt("0.00"), RefundToCompany: amt("15000.00"),
	}
	unpaid := api.PolicyCancelled{PolicyID: policyID, EffectiveOn: "2026-09-01", Reason: "sold the patent", DaysCovered: 184, DaysInPeriod: 365}
	unpaidSubsidised := unpaid
	unpaidSubsidised.RefundToProgramme, unpaidSubsidised.SubsidyProgrammeID = subsidy.Amount, subsidy.ProgrammeID
	lastDay := api.PolicyCancelled{
		PolicyID: policyID, EffectiveOn: "2027-02-28", Reason: "sold the patent", DaysCovered: 364, DaysInPeriod: 365,
		Refund: amt("41.10"), Earned: amt("14958.90"), RefundToCompany: amt("41.10"),
	}
	check(t, policyDecider(), []scenario[Policy]{
		{name: "midway: the unused days refunded", given: []events.Payload{bound, paid}, when: cancel(founder, "2026-09-01", now), then: []events.Payload{midway}},
		{name: "midway under a subsidy: the refund split", given: []events.Payload{bound, subsidy, halfPaid}, when: cancel(founder, "2026-09-01", now), then: []events.Payload{shared}},
		{name: "from the first day: all refunded", given: []events.Payload{bound, paid}, when: cancel(operator, "", now), then: []events.Payload{atStart}},
		{name: "from the last day: one day refunded", given: []events.Payload{bound, paid}, when: cancel(founder, "2027-02-28", on("2027-02-28")), then: []events.Payload{lastDay}},
		{name: "unpaid: nothing to refund", given: []events.Payload{bound}, when: cancel(founder, "2026-09-01", now), then: []events.Payload{unpaid}},
		{name: "unpaid under a subsidy: the whole draw goes back to the programme", given: []events.Payload{bound, subsidy}, when: cancel(founder, "2026-09-01", now),
			then: []events.Payload{unpaidSubsidised}},
		{name: "again: no change", given: []events.Payload{bound, paid, midway}, when: cancel(founder, "2026-09-01", now), then: nil},
		{name: "refused: cancellation after expiry", given: []events.Payload{bound, paid, expiredEv}, when: cancel(founder, "", on("2027-03-05")), code: fundbridge.ECONFLICT, says: "expired on 2027-02-28"},
		{name: "refused: cancellation after the last day, the deadline not yet run", given: []events.Payload{bound, paid}, when: cancel(founder, "", on("2027-03-01")), code: fundbridge.ECONFLICT, says: "expired"},
		{name: "refused: effective after the last day", given: []events.Payload{bound, paid}, when: cancel(founder, "2027-03-01", now), code: fundbridge.EUNPROCESSABLE, field: "effective_on"},
		{name: "refused: backdated", given: []events.Payload{bound, paid}, when: cancel(founder, "2026-05-01", on("2026-06-01")), code: fundbridge.EINVALID, field: "effective_on"},
		{name: "refused: cancelled from another day", given: []events.Payload{bound, paid, midway}, when: cancel(founder, "2026-10-01", now), code: fundbridge.ECONFLICT},
		{name: "refused: the insurer", given: []events.Payload{bound, paid}, when: cancel(insurerA, "", now), code: fundbridge.EFORBIDDEN},
		{name: "refused: another company", given: []events.Payload{bound, paid}, when: cancel(rival, "", now), code: fundbridge.ENOTFOUND},
	})
}
