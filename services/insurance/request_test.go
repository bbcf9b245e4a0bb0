package insurance

import (
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

func patent(number string, kind api.PatentKind, filed, granted, expires string, holding api.PatentHolding) PatentFact {
	return PatentFact{InsuredPatent: api.InsuredPatent{Number: number, Kind: kind, FiledOn: filed, GrantedOn: granted, ExpiresOn: expires, Holding: holding}}
}

const (
	pGood      = "CN202110000001.1"
	pNearEnd   = "CN201710000002.2"
	pExpired   = "CN201510000003.3"
	pDisputed  = "CN202210000004.4"
	pLicensed  = "CN202010000005.5"
	pConsented = "CN202210000006.6"
	pPending   = "CN202410000007.7"
	pLapsed    = "CN201910000008.8"
)

// facts is co-1 in Suzhou with a patent of every kind of trouble.
func facts() RequestFacts {
	disputed := patent(pDisputed, api.PatentInvention, "2022-03-01", "2024-01-01", "2042-03-01", api.HoldingOwner)
	disputed.InDispute = true
	consented := patent(pConsented, api.PatentInvention, "2022-02-01", "2024-02-01", "2042-02-01", api.HoldingLicensee)
	consented.OwnerConsent = true
	lapsed := patent(pLapsed, api.PatentInvention, "2019-01-01", "2021-01-01", "2039-01-01", api.HoldingOwner)
	lapsed.Lapsed = true
	return RequestFacts{
		Company: CompanyFacts{CompanyID: "co-1", Registered: true, City: "suzhou", Stage: fundbridge.StageStartup, Patents: []PatentFact{
			patent(pGood, api.PatentInvention, "2021-05-10", "2023-01-05", "2041-05-10", api.HoldingOwner),
			patent(pNearEnd, api.PatentUtilityModel, "2017-06-01", "2018-03-01", "2027-06-01", api.HoldingOwner),
			patent(pExpired, api.PatentUtilityModel, "2015-01-01", "2015-09-01", "2025-01-01", api.HoldingOwner),
			disputed,
			patent(pLicensed, api.PatentInvention, "2020-01-01", "2022-01-01", "2040-01-01", api.HoldingLicensee),
			consented,
			patent(pPending, api.PatentInvention, "2024-01-01", "", "2044-01-01", api.HoldingOwner),
			lapsed,
		}},
		Offering: map[string]bool{"ins-a": true, "ins-b": true},
		LoanDeal: &LoanDealFacts{DealID: "deal-1", CompanyID: "co-1", Principal: amt("5000000.00")},
	}
}

func ask(patents ...string) api.RequestInsurance {
	return api.RequestInsurance{Coverage: api.CoverageEnforcement, Patents: patents, SumInsured: amt("1000000.00"), Insurers: []string{"ins-a", "ins-b"}}
}

func insured(number string) api.InsuredPatent {
	p, _ := facts().Company.patent(number)
	return p.InsuredPatent
}

// requested is r1: co-1 asks ins-a and ins-b for ¥1m enforcement cover on
// its good patent for a year from 1 March 2026.
var requested = api.InsuranceRequested{
	RequestID: "r1", CompanyID: "co-1", City: "suzhou", Stage: fundbridge.StageStartup, Coverage: api.CoverageEnforcement,
	Patents: []api.InsuredPatent{insured(pGood)}, SumInsured: amt("1000000.00"), StartsOn: "2026-03-01", Months: 12,
	EndsOn: "2027-02-28", Claims: api.ClaimsNone, Insurers: []string{"ins-a", "ins-b"},
}

func TestRequest(t *testing.T) {
	req := func(a fundbridge.Actor, cmd api.RequestInsurance) func(Request) ([]events.Payload, error) {
		return func(r Request) ([]events.Payload, error) { return decideRequest(r, a, "r1", cmd, facts(), now) }
	}
	later := ask(pGood, pConsented)
	later.StartsOn, later.Months, later.PriorClaims = "2026-04-01", 6, 1
	laterThen := requested
	laterThen.Patents = []api.InsuredPatent{insured(pGood), insured(pConsented)}
	laterThen.StartsOn, laterThen.Months, laterThen.EndsOn, laterThen.Claims = "2026-04-01", 6, "2026-09-30", api.ClaimsOne
	pledge := ask(pGood)
	pledge.Coverage, pledge.LoanDealID = api.CoveragePledgeGuarantee, "deal-1"
	pledgeThen := requested
	pledgeThen.Coverage, pledgeThen.LoanDealID = api.CoveragePledgeGuarantee, "deal-1"
	otherDeal, tooMuch, byOperator := pledge, pledge, ask(pGood)
	otherDeal.LoanDealID = "deal-9"
	tooMuch.SumInsured = amt("5000000.01")
	byOperator.CompanyID = "co-1"
	past := ask(pGood)
	past.StartsOn = "2026-02-28"
	elsewhere := ask(pGood)
	elsewhere.Insurers = []string{"ins-a", "ins-c"}
	unregistered := func(r Request) ([]events.Payload, error) {
		f := facts()
		f.Company = CompanyFacts{CompanyID: "co-1"}
		return decideRequest(r, founder, "r1", ask(pGood), f, now)
	}
	check(t, requestDecider(), []scenario[Request]{
		{name: "a year of cover from today on a valid patent", when: req(founder, ask(pGood)), then: []events.Payload{requested}},
		{name: "a later start, six months, a licensed patent with consent, one claim before", when: req(founder, later), then: []events.Payload{laterThen}},
		{name: "an operator names the company", when: req(operator, byOperator), then: []events.Payload{requested}},
		{name: "guarantee cover for the company's loan", when: req(founder, pledge), then: []events.Payload{pledgeThen}},
		{name: "refused: patent not owned", when: req(founder, ask("CN209900000000.0")), code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "not registered to company co-1"},
		{name: "refused: patent expired", when: req(founder, ask(pExpired)), code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "expired on 2025-01-01"},
		{name: "refused: patent expiring within 3 years", when: req(founder, ask(pNearEnd)), code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "less than 3 years after the policy would start on 2026-03-01"},
		{name: "refused: patent in dispute", when: req(founder, ask(pDisputed)), code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "in dispute"},
		{name: "refused: licensee without the owner's consent", when: req(founder, ask(pLicensed)), code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "consent"},
		{name: "refused: patent not granted", when: req(founder, ask(pPending)), code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "not granted"},
		{name: "refused: patent lapsed", when: req(founder, ask(pLapsed)), code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "no longer in force"},
		{name: "refused: every bad patent is named", when: req(founder, ask(pGood, pExpired, pDisputed)), code: fundbridge.EUNPROCESSABLE, field: "patents[2]"},
		{name: "refused: an insurer without a table for the coverage", when: req(founder, elsewhere), code: fundbridge.EUNPROCESSABLE, field: "insurers[1]"},
		{name: "refused: someone else's loan", when: req(founder, otherDeal), code: fundbridge.EUNPROCESSABLE, field: "loan_deal_id"},
		{name: "refused: guarantee above the loan", when: req(founder, tooMuch), code: fundbridge.EUNPROCESSABLE, field: "sum_insured"},
		{name: "refused: a start in the past", when: req(founder, past), code: fundbridge.EINVALID, field: "starts_on"},
		{name: "refused: a bank", when: req(banker, ask(pGood)), code: fundbridge.EFORBIDDEN},
		{name: "refused: for another company", when: req(rival, func() api.RequestInsurance { c := ask(pGood); c.CompanyID = "co-1"; return c }()), code: fundbridge.EFORBIDDEN},
		{name: "refused: an operator without a company", when: req(operator, ask(pGood)), code: fundbridge.EINVALID, field: "company_id"},
		{name: "refused: an unregistered company", when: unregistered, code: fundbridge.ENOTFOUND},
		{name: "refused: twice", given: []events.Payload{requested}, when: req(founder, ask(pGood)), code: fundbridge.ECONFLICT},
	})
}

func quote(insurer, premium string) api.QuoteInsurance {
	return api.QuoteInsurance{RequestID: "r1", InsurerID: insurer, Premium: amt(premium)}
}

// quoted is ins-a's quote on r1 at the table premium: 1.5% of ¥1m.
var quoted = api.InsuranceQuoted{
	RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a", Premium: amt("15000.00"), TablePremium: amt("15000.00"),
	TableVersion: 1, AggregateLimit: amt("1000000.00"), ValidUntil: "2026-03-31",
}

func TestQuote(t *testing.T) {
	byTable := func(a fundbridge.Actor, cmd api.QuoteInsurance, at time.Time) func(Request) ([]events.Payload, error) {
		return func(r Request) ([]events.Payload, error) {
			return decideQuote(r, a, cmd, api.SampleRatingTable(a.OrgID+cmd.InsurerID), 1, at)
		}
	}
	q := func(premium string) func(Request) ([]events.Payload, error) {
		return byTable(insurerA, quote("", premium), now)
	}
	low, high := quoted, quoted
	low.Premium, high.Premium = amt("12000.00"), amt("18000.00")
	again := quoted
	again.QuoteID, again.ValidUntil = "r1-q2", "2026-05-01"
	small := requested
	small.SumInsured = amt("100000.00")
	minimum := quoted
	minimum.Premium, minimum.TablePremium, minimum.AggregateLimit = amt("2400.00"), amt("3000.00"), amt("100000.00")
	expired := api.QuoteExpired{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a"}
	accepted := api.QuoteAccepted{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a", PolicyID: PolicyID("r1-q1")}
	check(t, requestDecider(), []scenario[Request]{
		{name: "at the table premium", given: []events.Payload{requested}, when: q("15000.00"), then: []events.Payload{quoted}},
		{name: "20% below", given: []events.Payload{requested}, when: q("12000.00"), then: []events.Payload{low}},
		{name: "20% above", given: []events.Payload{requested}, when: q("18000.00"), then: []events.Payload{high}},
		{name: "the minimum premium is the table premium", given: []events.Payload{small}, when: q("2400.00"), then: []events.Payload{minimum}},
		{name: "refused: below the band", given: []events.Payload{requested}, when: q("11999.99"), code: fundbridge.EUNPROCESSABLE, field: "premium", says: "outside the quote band ¥12,000.00 to ¥18,000.00"},
		{name: "refused: above the band", given: []events.Payload{requested}, when: q("18000.01"), code: fundbridge.EUNPROCESSABLE, field: "premium"},
		{name: "refused: below the band around the minimum", given: []events.Payload{small}, when: q("2399.99"), code: fundbridge.EUNPROCESSABLE, field: "premium"},
		{name: "an operator for an insurer", given: []events.Payload{requested}, when: byTable(operator, quote("ins-a", "15000.00"), now), then: []events.Payload{quoted}},
		{name: "again after the first expired", given: []events.Payload{requested, quoted, expired}, when: byTable(insurerA, quote("", "15000.00"), on("2026-04-01")), then: []events.Payload{again}},
		{name: "refused: a second open quote", given: []events.Payload{requested, quoted}, when: q("14000.00"), code: fundbridge.ECONFLICT, says: "already quoted r1-q1"},
		{name: "refused: an insurer not asked", given: []events.Payload{requested}, when: byTable(insurerC, quote("", "15000.00"), now), code: fundbridge.ENOTFOUND},
		{name: "refused: a startup", given: []events.Payload{requested}, when: byTable(founder, quote("", "15000.00"), now), code: fundbridge.EFORBIDDEN},
		{name: "refused: after a quote was accepted", given: []events.Payload{requested, quoted, accepted}, when: byTable(insurerB, quote("", "15000.00"), now), code: fundbridge.ECONFLICT, says: "request r1 is closed: the company accepted a quote on it"},
		{name: "refused: after declining", given: []events.Payload{requested, api.InsuranceDeclined{RequestID: "r1", InsurerID: "ins-a", Reason: "no appetite"}},
			when: q("15000.00"), code: fundbridge.ECONFLICT, says: "declined request r1"},
		{name: "refused: without the insurer's own table", given: []events.Payload{requested}, when: func(r Request) ([]events.Payload, error) {
			return decideQuote(r, insurerA, quote("", "15000.00"), api.SampleRatingTable("ins-b"), 1, now)
		}, code: fundbridge.EUNPROCESSABLE, says: "has not published"},
		{name: "refused: no request", when: q("15000.00"), code: fundbridge.ENOTFOUND},
	})
}

func TestExpireQuote(t *testing.T) {
	expire := func(a fundbridge.Actor, id string, at time.Time) func(Request) ([]events.Payload, error) {
		return func(r Request) ([]events.Payload, error) {
			return decideExpireQuote(r, a, api.ExpireQuote{RequestID: "r1", QuoteID: id}, at)
		}
	}
	expired := api.QuoteExpired{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a"}
	accepted := api.QuoteAccepted{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a", PolicyID: PolicyID("r1-q1")}
	check(t, requestDecider(), []scenario[Request]{
		{name: "the day after its last", given: []events.Payload{requested, quoted}, when: expire(platformActor, "r1-q1", on("2026-04-01")), then: []events.Payload{expired}},
		{name: "late", given: []events.Payload{requested, quoted}, when: expire(platformActor, "r1-q1", on("2026-06-01")), then: []events.Payload{expired}},
		{name: "again: no change", given: []events.Payload{requested, quoted, expired}, when: expire(platformActor, "r1-q1", on("2026-04-02")), then: nil},
		{name: "accepted: no change", given: []events.Payload{requested, quoted, accepted}, when: expire(platformActor, "r1-q1", on("2026-04-02")), then: nil},
		{name: "refused: early", given: []events.Payload{requested, quoted}, when: expire(platformActor, "r1-q1", on("2026-03-31")), code: fundbridge.ECONFLICT, says: "valid until 2026-03-31"},
		{name: "refused: no such quote", given: []events.Payload{requested, quoted}, when: expire(platformActor, "r1-q9", on("2026-04-02")), code: fundbridge.ENOTFOUND},
		{name: "refused: a startup", given: []events.Payload{requested, quoted}, when: expire(founder, "r1-q1", on("2026-04-02")), code: fundbridge.EFORBIDDEN},
	})
}

func TestAcceptQuote(t *testing.T) {
	accept := func(a fundbridge.Actor, id string, at time.Time) func(Request) ([]events.Payload, error) {
		return func(r Request) ([]events.Payload, error) {
			return decideAccept(r, a, api.AcceptQuote{RequestID: "r1", QuoteID: id}, at, nil)
		}
	}
	inDispute := func(r Request) ([]events.Payload, error) {
		return decideAccept(r, founder, api.AcceptQuote{RequestID: "r1", QuoteID: "r1-q1"}, now, map[string]bool{r.Patents[0].Number: true})
	}
	accepted := api.QuoteAccepted{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a", PolicyID: PolicyID("r1-q1")}
	other := quoted
	other.QuoteID, other.InsurerID = "r1-q2", "ins-b"
	expired := api.QuoteExpired{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a"}
	tight := requested
	tight.Patents = []api.InsuredPatent{insured(pGood)}
	tight.Patents[0].ExpiresOn = "2029-03-05"
	check(t, requestDecider(), []scenario[Request]{
		{name: "refused: accepted late, cover would start with a patent under 3 years from expiry", given: []events.Payload{tight, quoted}, when: accept(founder, "r1-q1", on("2026-03-10")),
			code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "cannot start on 2026-03-10"},
		{name: "accepted in time with the same patent", given: []events.Payload{tight, quoted}, when: accept(founder, "r1-q1", on("2026-03-05")), then: []events.Payload{accepted}},
		{name: "on its last valid day", given: []events.Payload{requested, quoted}, when: accept(founder, "r1-q1", on("2026-03-31")), then: []events.Payload{accepted}},
		{name: "again: no change", given: []events.Payload{requested, quoted, accepted}, when: accept(founder, "r1-q1", now), then: nil},
		{name: "refused: quote expired (the deadline not yet run)", given: []events.Payload{requested, quoted}, when: accept(founder, "r1-q1", on("2026-04-01")), code: fundbridge.ECONFLICT, says: "expired"},
		{name: "refused: quote expired", given: []events.Payload{requested, quoted, expired}, when: accept(founder, "r1-q1", now), code: fundbridge.ECONFLICT, says: "expired"},
		{name: "refused: a second quote", given: []events.Payload{requested, quoted, other, accepted}, when: accept(founder, "r1-q2", now), code: fundbridge.ECONFLICT, says: "is closed: the company accepted a quote on it and its policy is bound"},
		{name: "refused: another company", given: []events.Payload{requested, quoted}, when: accept(rival, "r1-q1", now), code: fundbridge.ENOTFOUND},
		{name: "refused: the insurer", given: []events.Payload{requested, quoted}, when: accept(insurerA, "r1-q1", now), code: fundbridge.EFORBIDDEN},
		{name: "refused: no such quote", given: []events.Payload{requested, quoted}, when: accept(founder, "r1-q7", now), code: fundbridge.ENOTFOUND},
		{name: "refused: a patent in dispute since the request", given: []events.Payload{requested, quoted}, when: inDispute,
			code: fundbridge.EUNPROCESSABLE, field: "patents[0]", says: "in dispute"},
	})
}

func TestDeclineAndWithdraw(t *testing.T) {
	decline := func(a fundbridge.Actor, reason string) func(Request) ([]events.Payload, error) {
		return func(r Request) ([]events.Payload, error) {
			return decideDecline(r, a, api.DeclineInsurance{RequestID: "r1", Reason: reason}, now)
		}
	}
	withdraw := func(a fundbridge.Actor) func(Request) ([]events.Payload, error) {
		return func(r Request) ([]events.Payload, error) {
			return decideWithdraw(r, a, api.WithdrawRequest{RequestID: "r1", Reason: " found cover elsewhere "})
		}
	}
	declined := api.InsuranceDeclined{RequestID: "r1", InsurerID: "ins-b", Reason: "no appetite for computer vision"}
	withdrawn := api.InsuranceWithdrawn{RequestID: "r1", Reason: "found cover elsewhere"}
	accepted := api.QuoteAccepted{RequestID: "r1", QuoteID: "r1-q1", InsurerID: "ins-a", PolicyID: PolicyID("r1-q1")}
	check(t, requestDecider(), []scenario[Request]{
		{name: "an insurer declines", given: []events.Payload{requested}, when: decline(insurerB, declined.Reason), then: []events.Payload{declined}},
		{name: "declining again: no change", given: []events.Payload{requested, declined}, when: decline(insurerB, declined.Reason), then: nil},
		{name: "refused: declining with a quote open", given: []events.Payload{requested, quoted}, when: decline(insurerA, "changed our mind"), code: fundbridge.ECONFLICT},
		{name: "refused: declining a request not sent", given: []events.Payload{requested}, when: decline(insurerC, "no"), code: fundbridge.ENOTFOUND},
		{name: "refused: declining without a reason", given: []events.Payload{requested}, when: decline(insurerB, " "), code: fundbridge.EINVALID, field: "reason"},
		{name: "the startup withdraws", given: []events.Payload{requested, quoted}, when: withdraw(founder), then: []events.Payload{withdrawn}},
		{name: "withdrawing again: no change", given: []events.Payload{requested, withdrawn}, when: withdraw(founder), then: nil},
		{name: "refused: withdrawing after accepting", given: []events.Payload{requested, quoted, accepted}, when: withdraw(founder), code: fundbridge.ECONFLICT},
		{name: "refused: another company withdraws", given: []events.Payload{requested}, when: withdraw(rival), code: fundbridge.ENOTFOUND},
		{name: "refused: declining a withdrawn request", given: []events.Payload{requested, withdrawn}, when: decline(insurerB, "no"), code: fundbridge.ECONFLICT,
			says: "insurance request r1 is closed: the company withdrew it"},
	})
}
