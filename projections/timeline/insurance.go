package timeline

import (
	"strconv"

	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// The patent insurance of the insurance service: requests, quotes,
// policies and claims, in this order (kinds are numbered as registered).
func (p *Projection) insuranceKinds() {
	p.insuranceRequestKinds()
	p.policyKinds()
}

func request(id string) string { return "request:" + id }
func policy(id string) string  { return "policy:" + id }

// An insurance request and its quotes.
func (p *Projection) insuranceRequestKinds() {
	on(p, func(en *draft, v insuranceapi.InsuranceRequested) (*Company, error) {
		if err := p.owned(request(v.RequestID), v.CompanyID); err != nil {
			return nil, err
		}
		c, err := p.owner(en, request(v.RequestID), v.RequestID)
		en.text = join(string(v.Coverage), strconv.Itoa(len(v.Patents)), strconv.Itoa(len(v.Insurers)), v.StartsOn, v.EndsOn)
		return c, firstErr(err, amountOf(en, v.SumInsured))
	}, func(l *line) {
		x := pieces(l.text, 5)
		l.say("insurance.requested", enumParam("coverage", x[0]), countParam(x[1]), countParam(x[2]), dateParam(x[3]), dateParam(x[4]), l.amountParam())
	})
	on(p, func(en *draft, v insuranceapi.InsuranceQuoted) (*Company, error) {
		c, err := p.owner(en, request(v.RequestID), v.RequestID)
		en.text = join(v.ValidUntil, v.InsurerID)
		return c, firstErr(err, amountOf(en, v.Premium))
	}, func(l *line) {
		x := pieces(l.text, 2)
		l.say("insurance.quoted", l.amountParam(), textParam(l.p.insurerName(x[1])), dateParam(x[0]))
	})
	on(p, func(en *draft, v insuranceapi.InsuranceDeclined) (*Company, error) {
		en.text = join(v.InsurerID, v.Reason)
		return p.owner(en, request(v.RequestID), v.RequestID)
	}, func(l *line) {
		x := pieces(l.text, 2)
		l.sayWithReason("insurance.declined", x[1], textParam(l.p.insurerName(x[0])))
	})
	on(p, func(en *draft, v insuranceapi.QuoteExpired) (*Company, error) {
		en.text = v.InsurerID
		return p.owner(en, request(v.RequestID), v.RequestID)
	}, func(l *line) { l.say("insurance.quote_expired", textParam(l.p.insurerName(l.text))) })
	on(p, func(en *draft, v insuranceapi.QuoteAccepted) (*Company, error) {
		en.text = v.InsurerID
		return p.owner(en, request(v.RequestID), v.RequestID)
	}, func(l *line) { l.say("insurance.quote_accepted", textParam(l.p.insurerName(l.text))) })
	on(p, func(en *draft, v insuranceapi.InsuranceWithdrawn) (*Company, error) {
		en.text = v.Reason
		return p.owner(en, request(v.RequestID), v.RequestID)
	}, func(l *line) { l.sayWithReason("insurance.withdrawn", l.text) })
}

// A policy, its premium and its claims.
func (p *Projection) policyKinds() {
	on(p, func(en *draft, v insuranceapi.PolicyBound) (*Company, error) {
		if err := p.owned(policy(v.PolicyID), v.CompanyID); err != nil {
			return nil, err
		}
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = join(string(v.Coverage), v.StartsOn, v.EndsOn, v.InsurerID, v.PolicyNumber)
		return c, firstErr(err, amountOf(en, v.Premium))
	}, func(l *line) {
		x := pieces(l.text, 5)
		l.say("policy.bound", textParam(x[4]), enumParam("coverage", x[0]), dateParam(x[1]), dateParam(x[2]),
			textParam(l.p.insurerName(x[3])), l.amountParam())
	})
	on(p, func(en *draft, v insuranceapi.SubsidyApplied) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = v.ProgrammeID
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.say("policy.subsidy_applied", l.amountParam(), textParam(l.p.programmeName(l.text))) })
	on(p, func(en *draft, v insuranceapi.PremiumPaid) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.say("policy.premium_paid", l.amountParam()) })
	on(p, func(en *draft, v insuranceapi.PolicyExpired) (*Company, error) {
		return p.owner(en, policy(v.PolicyID), v.PolicyID)
	}, func(l *line) { l.say("policy.expired") })
	on(p, func(en *draft, v insuranceapi.PolicyCancelled) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = v.Reason
		return c, firstErr(err, amountOf(en, v.RefundToCompany))
	}, func(l *line) { l.sayWithReason("policy.cancelled", l.text, l.amountParam()) })
	on(p, func(en *draft, v insuranceapi.ClaimFiled) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = v.ClaimID
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.say("claim.filed", textParam(l.text), l.amountParam()) })
	on(p, func(en *draft, v insuranceapi.ClaimAssessed) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = v.ClaimID
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.say("claim.assessed", textParam(l.text), l.amountParam()) })
	on(p, func(en *draft, v insuranceapi.ClaimSettled) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = v.ClaimID
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.say("claim.settled", textParam(l.text), l.amountParam()) })
	on(p, func(en *draft, v insuranceapi.ClaimDenied) (*Company, error) {
		en.text = join(v.ClaimID, v.Reason)
		return p.owner(en, policy(v.PolicyID), v.PolicyID)
	}, func(l *line) {
		x := pieces(l.text, 2)
		l.sayWithReason("claim.denied", x[1], textParam(x[0]))
	})
}
