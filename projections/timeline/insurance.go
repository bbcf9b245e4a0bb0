package timeline

import (
	"fmt"

	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// The patent insurance of the insurance service: requests, quotes,
// policies and claims.
func (p *Projection) insuranceKinds() {
	request := func(id string) string { return "request:" + id }
	policy := func(id string) string { return "policy:" + id }
	on(p, func(en *draft, v insuranceapi.InsuranceRequested) (*Company, error) {
		if err := p.owned(request(v.RequestID), v.CompanyID); err != nil {
			return nil, err
		}
		c, err := p.owner(en, request(v.RequestID), v.RequestID)
		en.text = fmt.Sprintf("%s cover for %d patent(s) from %d insurer(s), %s to %s", v.Coverage, len(v.Patents), len(v.Insurers), v.StartsOn, v.EndsOn)
		return c, firstErr(err, amountOf(en, v.SumInsured))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Asked for %s: %s insured", l.text, l.human()) })
	on(p, func(en *draft, v insuranceapi.InsuranceQuoted) (*Company, error) {
		c, err := p.owner(en, request(v.RequestID), v.RequestID)
		en.text = fmt.Sprintf("%s (valid until %s)", p.insurerName(v.InsurerID), v.ValidUntil)
		return c, firstErr(err, amountOf(en, v.Premium))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Quoted a premium of %s by %s", l.human(), l.text) })
	on(p, func(en *draft, v insuranceapi.InsuranceDeclined) (*Company, error) {
		en.text = projections.Sentence(p.insurerName(v.InsurerID) + " declined to quote")
		if v.Reason != "" {
			en.text += ": " + v.Reason
		}
		return p.owner(en, request(v.RequestID), v.RequestID)
	}, func(l *line) { l.v.Summary = l.text })
	on(p, func(en *draft, v insuranceapi.QuoteExpired) (*Company, error) {
		en.text = p.insurerName(v.InsurerID)
		return p.owner(en, request(v.RequestID), v.RequestID)
	}, func(l *line) { l.v.Summary = fmt.Sprintf("The quote of %s expired", l.text) })
	on(p, func(en *draft, v insuranceapi.QuoteAccepted) (*Company, error) {
		en.text = p.insurerName(v.InsurerID)
		return p.owner(en, request(v.RequestID), v.RequestID)
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Accepted the quote of %s", l.text) })
	on(p, func(en *draft, v insuranceapi.InsuranceWithdrawn) (*Company, error) {
		en.text = v.Reason
		return p.owner(en, request(v.RequestID), v.RequestID)
	}, func(l *line) { l.v.Summary = withReason("Withdrew the insurance request", l.text) })
	on(p, func(en *draft, v insuranceapi.PolicyBound) (*Company, error) {
		if err := p.owned(policy(v.PolicyID), v.CompanyID); err != nil {
			return nil, err
		}
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = fmt.Sprintf("%s, %s cover from %s to %s by %s", v.PolicyNumber, v.Coverage, v.StartsOn, v.EndsOn, p.insurerName(v.InsurerID))
		return c, firstErr(err, amountOf(en, v.Premium))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Policy %s bound, premium %s", l.text, l.human()) })
	on(p, func(en *draft, v insuranceapi.SubsidyApplied) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = p.programmeName(v.ProgrammeID)
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) {
		l.v.Summary = fmt.Sprintf("A premium subsidy of %s from %s", l.human(), l.text)
	})
	on(p, func(en *draft, v insuranceapi.PremiumPaid) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Paid the premium: %s; the policy is in force", l.human()) })
	on(p, func(en *draft, v insuranceapi.PolicyExpired) (*Company, error) {
		return p.owner(en, policy(v.PolicyID), v.PolicyID)
	}, func(l *line) { l.v.Summary = "The policy expired" })
	on(p, func(en *draft, v insuranceapi.PolicyCancelled) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = v.Reason
		return c, firstErr(err, amountOf(en, v.RefundToCompany))
	}, func(l *line) {
		l.v.Summary = withReason(fmt.Sprintf("The policy was cancelled, %s refunded", l.human()), l.text)
	})
	on(p, func(en *draft, v insuranceapi.ClaimFiled) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = v.ClaimID
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Claim %s filed for %s", l.text, l.human()) })
	on(p, func(en *draft, v insuranceapi.ClaimAssessed) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = v.ClaimID
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Claim %s assessed at %s", l.text, l.human()) })
	on(p, func(en *draft, v insuranceapi.ClaimSettled) (*Company, error) {
		c, err := p.owner(en, policy(v.PolicyID), v.PolicyID)
		en.text = v.ClaimID
		return c, firstErr(err, amountOf(en, v.Amount))
	}, func(l *line) { l.v.Summary = fmt.Sprintf("Claim %s settled: %s paid", l.text, l.human()) })
	on(p, func(en *draft, v insuranceapi.ClaimDenied) (*Company, error) {
		en.text = fmt.Sprintf("Claim %s denied", v.ClaimID)
		if v.Reason != "" {
			en.text += ": " + v.Reason
		}
		return p.owner(en, policy(v.PolicyID), v.PolicyID)
	}, func(l *line) { l.v.Summary = l.text })
}
