package insurance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/money"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// Claim statuses.
const (
	ClaimFiled    = "filed"     // waiting for the assessor
	ClaimAssessed = "assessed"  // the amount owed is fixed; nothing paid yet
	ClaimPartPaid = "part_paid" // some of the assessed amount paid
	ClaimSettled  = "settled"   // the assessed amount paid in full
	ClaimDenied   = "denied"
)

// Claim is one claim on a policy.
type Claim struct {
	ClaimID     string       `json:"claim_id"`
	IncidentOn  time.Time    `json:"incident_on"`
	Claimed     money.Amount `json:"claimed"`
	Description string       `json:"description"`
	Assessed    money.Amount `json:"assessed"`
	Paid        money.Amount `json:"paid"`
	Status      string       `json:"status"`
	DenyReason  string       `json:"deny_reason,omitempty"`
	LoanDealID  string       `json:"loan_deal_id,omitempty"` // a guarantee claim's
	DefaultID   string       `json:"default_id,omitempty"`
	FiledAt     time.Time    `json:"filed_at"`
}

func (p Policy) claim(id string) (Claim, bool) {
	for _, c := range p.Claims {
		if c.ClaimID == id {
			return c, true
		}
	}
	return Claim{}, false
}

// claimSteps registers the steps that fold a claim event into the policy.
func claimSteps(f *fold.Evolve[Policy]) {
	fold.Step(f, func(p Policy, e events.Event, ev api.ClaimFiled) Policy {
		on, _ := api.ParseDate(ev.IncidentOn)
		p.Claims = append(slices.Clip(p.Claims), Claim{
			ClaimID: ev.ClaimID, IncidentOn: on, Claimed: ev.Amount, Description: ev.Description, Status: ClaimFiled,
			LoanDealID: ev.LoanDealID, DefaultID: ev.DefaultID, FiledAt: e.RecordedAt,
		})
		return p
	})
	fold.Step(f, func(p Policy, _ events.Event, ev api.ClaimAssessed) Policy {
		p.Claims = withClaim(p.Claims, ev.ClaimID, func(c *Claim) { c.Assessed, c.Status = ev.Amount, ClaimAssessed })
		return p
	})
	fold.Step(f, func(p Policy, _ events.Event, ev api.ClaimSettled) Policy {
		p.Claims = withClaim(p.Claims, ev.ClaimID, func(c *Claim) {
			c.Paid = ev.PaidOnClaim
			c.Status = ClaimPartPaid
			if c.Paid.Cmp(c.Assessed) >= 0 {
				c.Status = ClaimSettled
			}
		})
		p.ClaimsPaid = p.ClaimsPaid.Add(ev.Amount)
		return p
	})
	fold.Step(f, func(p Policy, _ events.Event, ev api.ClaimDenied) Policy {
		p.Claims = withClaim(p.Claims, ev.ClaimID, func(c *Claim) { c.Status, c.DenyReason = ClaimDenied, ev.Reason })
		return p
	})
}

func withClaim(claims []Claim, id string, change func(*Claim)) []Claim {
	claims = slices.Clone(claims)
	for i := range claims {
		if claims[i].ClaimID == id {
			change(&claims[i])
		}
	}
	return claims
}

// decideFileClaim files a claim for an incident inside the period of
// cover (before a cancellation took effect), once the premium is paid and
// while some of the aggregate limit is left.
func decideFileClaim(p Policy, a fundbridge.Actor, cmd api.FileClaim, now time.Time) ([]events.Payload, error) {
	if err := requirePolicy(p, a, cmd.PolicyID, "file claims", fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if p.Coverage == api.CoveragePledgeGuarantee {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "policy %s guarantees loan deal %s: it pays when the loan defaults, claimed by the platform", p.Number, p.LoanDealID)
	}
	if err := p.claimable(cmd.IncidentOn, "incident_on", now); err != nil {
		return nil, err
	}
	return []events.Payload{api.ClaimFiled{
		PolicyID: p.ID, ClaimID: p.nextClaimID(), IncidentOn: cmd.IncidentOn,
		Amount: cmd.Amount, Description: strings.TrimSpace(cmd.Description),
	}}, nil
}

func (p Policy) nextClaimID() string { return fmt.Sprintf("%s-c%d", p.ID, len(p.Claims)+1) }

// claimable refuses a claim for an incident on day (a YYYY-MM-DD the
// command's Validate checked) unless the premium is paid, the day is
// inside the period of cover and not in the future, and some of the
// aggregate limit is left.
func (p Policy) claimable(day, field string, now time.Time) error {
	if !p.PremiumPaid {
		return fundbridge.Errorf(fundbridge.ECONFLICT, "policy %s covers nothing until its premium is paid", p.ID)
	}
	incident, _ := api.ParseDate(day)
	last := p.lastCoveredDay()
	switch {
	case incident.After(api.Today(now)):
		return fundbridge.Invalid("invalid claim", fundbridge.FieldError{Field: field, Reason: "must not be in the future"})
	case incident.Before(p.StartsOn) || incident.After(last):
		return &fundbridge.Error{
			Code:    fundbridge.EUNPROCESSABLE,
			Message: fmt.Sprintf("the incident on %s is outside the cover of policy %s, %s to %s", day, p.Number, p.StartsOn.Format(api.DateLayout), last.Format(api.DateLayout)),
			Fields:  []fundbridge.FieldError{{Field: field, Reason: "must be inside the period of cover"}},
		}
	case !p.RemainingLimit().IsPositive():
		return fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "policy %s has paid its whole aggregate limit of %s", p.Number, p.AggregateLimit.Exact())
	}
	return nil
}

// decideGuaranteeClaim files, for the bank, the insurer's share of a
// defaulted loan the policy guarantees: the loss the deal's risk-sharing
// table allocates × the insurer's share, half-up to the fen. The process
// manager sends it when the deal records the default; a second claim for
// the same default changes nothing, so it is filed once.
func decideGuaranteeClaim(p Policy, a fundbridge.Actor, cmd api.FileGuaranteeClaim, now time.Time) ([]events.Payload, error) {
	if err := requirePolicy(p, a, cmd.PolicyID, "file guarantee claims", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	share, err := cmd.ShareFraction()
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(p.Claims, func(c Claim) bool { return c.DefaultID == cmd.DefaultID }) {
		return nil, nil
	}
	if p.Coverage != api.CoveragePledgeGuarantee || p.LoanDealID != cmd.LoanDealID {
		return nil, &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: fmt.Sprintf("policy %s does not guarantee loan deal %s", p.Number, cmd.LoanDealID),
			Fields: []fundbridge.FieldError{{Field: "loan_deal_id", Reason: "not the loan this policy guarantees"}}}
	}
	if err := p.claimable(cmd.DefaultedOn, "defaulted_on", now); err != nil {
		return nil, err
	}
	amount := cmd.Loss.Mul(share)
	if cmd.Allocated.IsPositive() {
		amount = cmd.Allocated
	}
	if !amount.IsPositive() {
		return nil, fundbridge.Errorf(fundbridge.EUNPROCESSABLE, "the insurer's share %s of a loss of %s rounds to nothing", cmd.Share, cmd.Loss.Exact())
	}
	return []events.Payload{api.ClaimFiled{
		PolicyID: p.ID, ClaimID: p.nextClaimID(), IncidentOn: cmd.DefaultedOn, Amount: amount,
		Description: fmt.Sprintf("loan deal %s defaulted on %s: the insurer's share %s of a loss of %s", cmd.LoanDealID, cmd.DefaultedOn, share, cmd.Loss.Exact()),
		LoanDealID:  cmd.LoanDealID, DefaultID: cmd.DefaultID, Loss: cmd.Loss, Share: share.String(),
	}}, nil
}

// insurerClaim checks an insurer's command on a claim: the role, then
// the input, then the claim, on a policy the insurer (or the platform)
// may act on.
func insurerClaim(p Policy, a fundbridge.Actor, cmd interface{ Validate() error }, policyID, claimID, what string) (Claim, error) {
	if err := requireRole(a, what, insurerRoles()...); err != nil {
		return Claim{}, err
	}
	if err := cmd.Validate(); err != nil {
		return Claim{}, err
	}
	if err := requirePolicy(p, a, policyID, what, insurerRoles()...); err != nil {
		return Claim{}, err
	}
	c, ok := p.claim(claimID)
	if !ok {
		return Claim{}, notFound("claim", claimID)
	}
	return c, nil
}

// claimStates reads a claim's status in words, for the errors that name it.
var claimStates = map[string]string{
	ClaimFiled: "filed", ClaimAssessed: "assessed", ClaimPartPaid: "partly paid", ClaimSettled: "settled", ClaimDenied: "denied",
}

// decideAssessClaim fixes what the policy owes on a claim: at most what
// was claimed, and at most what is left of the policy's aggregate limit,
// since the policy can pay no more (an assessment above it could never
// be paid in full, and the claim would stay open for ever). A claim may
// be assessed again until something is paid.
func decideAssessClaim(p Policy, a fundbridge.Actor, cmd api.AssessClaim) ([]events.Payload, error) {
	c, err := insurerClaim(p, a, cmd, cmd.PolicyID, cmd.ClaimID, "assess claims")
	if err != nil {
		return nil, err
	}
	left, owed := p.limitLeftFor(c.ClaimID)
	switch {
	case c.Status == ClaimAssessed && c.Assessed.Equal(cmd.Amount):
		return nil, nil
	case c.Status != ClaimFiled && c.Status != ClaimAssessed:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "claim %s is %s: a claim is assessed only before anything is paid on it", c.ClaimID, claimStates[c.Status])
	case cmd.Amount.GreaterThan(c.Claimed):
		return nil, &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: fmt.Sprintf("assessed %s is more than the %s claimed", cmd.Amount.Exact(), c.Claimed.Exact()),
			Fields: []fundbridge.FieldError{{Field: "amount", Reason: "must not exceed the amount claimed, " + c.Claimed.String()}}}
	case cmd.Amount.GreaterThan(left):
		msg := fmt.Sprintf("assessed %s is more than the %s left of policy %s's aggregate limit", cmd.Amount.Exact(), left.Exact(), p.Number)
		if !owed.IsZero() {
			msg += fmt.Sprintf(" once the %s assessed on its other open claims is paid", owed.Exact())
		}
		return nil, &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: msg,
			Fields: []fundbridge.FieldError{{Field: "amount", Reason: "must not exceed what is left of the aggregate limit, " + left.String()}}}
	}
	return []events.Payload{api.ClaimAssessed{PolicyID: p.ID, ClaimID: c.ClaimID, Amount: cmd.Amount, Note: strings.TrimSpace(cmd.Note)}}, nil
}

// limitLeftFor is what an assessment of claim id may be at most: the
// aggregate limit less what was paid, and less what the policy's other
// open claims were assessed and not yet paid (owed), since those are paid
// first: two assessments each within the limit but together above it left
// one claim part-paid for good.
func (p Policy) limitLeftFor(id string) (left, owed money.Amount) {
	for _, o := range p.Claims {
		if o.ClaimID != id && (o.Status == ClaimAssessed || o.Status == ClaimPartPaid) {
			owed = owed.Add(o.Assessed.Sub(o.Paid))
		}
	}
	if left = p.RemainingLimit().Sub(owed); left.IsNegative() {
		left = money.Amount{}
	}
	return left, owed
}

// LimitError refuses a settlement above what the policy can still pay.
type LimitError struct {
	PolicyNumber string
	Amount       money.Amount
	Remaining    money.Amount
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("settlement %s is above the %s left of policy %s's aggregate limit", e.Amount.Exact(), e.Remaining.Exact(), e.PolicyNumber)
}
func (e *LimitError) ErrorCode() string { return fundbridge.EUNPROCESSABLE }

// ErrorFields names the amount, with what the policy can still pay.
func (e *LimitError) ErrorFields() []fundbridge.FieldError {
	return []fundbridge.FieldError{{Field: "amount", Reason: "must not exceed what is left of the aggregate limit, " + e.Remaining.String()}}
}

// decideSettleClaim pays towards an assessed claim: at most what is left
// of its assessment and of the policy's aggregate limit. Several partial
// settlements may follow each other.
func decideSettleClaim(p Policy, a fundbridge.Actor, cmd api.SettleClaim) ([]events.Payload, error) {
	c, err := insurerClaim(p, a, cmd, cmd.PolicyID, cmd.ClaimID, "settle claims")
	if err != nil {
		return nil, err
	}
	if c.Status != ClaimAssessed && c.Status != ClaimPartPaid {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "claim %s is %s: only an assessed claim is settled", c.ClaimID, claimStates[c.Status])
	}
	if owed := c.Assessed.Sub(c.Paid); cmd.Amount.GreaterThan(owed) {
		return nil, &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: fmt.Sprintf("settlement %s is above the %s still owed on claim %s", cmd.Amount.Exact(), owed.Exact(), c.ClaimID),
			Fields: []fundbridge.FieldError{{Field: "amount", Reason: "must not exceed what is owed on the claim, " + owed.String()}}}
	}
	if left := p.RemainingLimit(); cmd.Amount.GreaterThan(left) {
		return nil, &LimitError{PolicyNumber: p.Number, Amount: cmd.Amount, Remaining: left}
	}
	return []events.Payload{api.ClaimSettled{
		PolicyID: p.ID, ClaimID: c.ClaimID, Amount: cmd.Amount, PaidOnClaim: c.Paid.Add(cmd.Amount), RemainingLimit: p.RemainingLimit().Sub(cmd.Amount),
	}}, nil
}

// decideDenyClaim refuses a claim on which nothing has been paid.
func decideDenyClaim(p Policy, a fundbridge.Actor, cmd api.DenyClaim) ([]events.Payload, error) {
	c, err := insurerClaim(p, a, cmd, cmd.PolicyID, cmd.ClaimID, "deny claims")
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(cmd.Reason)
	switch {
	case c.Status == ClaimDenied && c.DenyReason == reason:
		return nil, nil
	case c.Status != ClaimFiled && c.Status != ClaimAssessed:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "claim %s is %s: a claim is denied only while nothing is paid on it", c.ClaimID, claimStates[c.Status])
	}
	return []events.Payload{api.ClaimDenied{PolicyID: p.ID, ClaimID: c.ClaimID, Reason: reason}}, nil
}
