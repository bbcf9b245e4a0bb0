package insurance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// decideDecline records an insurer's refusal to quote. Declining again
// with the same reason changes nothing.
func decideDecline(r Request, a fundbridge.Actor, cmd api.DeclineInsurance, now time.Time) ([]events.Payload, error) {
	insurer, err := insurerOf(r, a, cmd, cmd.RequestID, cmd.InsurerID, "decline insurance")
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(cmd.Reason)
	if i := slices.IndexFunc(r.Declines, func(d Decline) bool { return d.InsurerID == insurer }); i >= 0 {
		if r.Declines[i].Reason == reason {
			return nil, nil
		}
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "insurer %s already declined request %s", insurer, r.ID)
	}
	if err := requireOpen(r); err != nil {
		return nil, err
	}
	if q, ok := r.openQuoteBy(insurer, api.Today(now)); ok {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "insurer %s has quote %s open on request %s", insurer, q.QuoteID, r.ID)
	}
	return []events.Payload{api.InsuranceDeclined{RequestID: r.ID, InsurerID: insurer, Reason: reason}}, nil
}

// decideExpireQuote ends a quote whose validity ran out. It is the
// durable deadline's command, so it may come more than once and late: a
// quote already expired or accepted, or a request closed, is no change.
// It may not come early: a quote still valid is a conflict.
func decideExpireQuote(r Request, a fundbridge.Actor, cmd api.ExpireQuote, now time.Time) ([]events.Payload, error) {
	if err := requireRole(a, "expire quotes", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	q, ok := r.quote(cmd.QuoteID)
	if !r.Exists() || !ok {
		return nil, notFound("quote", cmd.QuoteID)
	}
	if q.Status != QuoteOpen {
		return nil, nil
	}
	if today := api.Today(now); !today.After(q.ValidUntil) {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "quote %s is valid until %s", q.QuoteID, q.ValidUntil.Format(api.DateLayout))
	}
	return []events.Payload{api.QuoteExpired{RequestID: r.ID, QuoteID: q.QuoteID, InsurerID: q.InsurerID}}, nil
}

// decideAccept is the startup taking a quote that is still valid, while
// every patent still qualifies on the policy's first day: none expires too
// soon, and none is in dispute now (disputed, from the patents' recorded
// standing). The policy's ID follows from the quote's, so a retried accept
// binds the same policy. Accepting the accepted quote again changes nothing.
func decideAccept(r Request, a fundbridge.Actor, cmd api.AcceptQuote, now time.Time, disputed map[string]bool) ([]events.Payload, error) {
	if err := requireRole(a, "accept quotes", fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if !r.Exists() || !r.visible(a) {
		return nil, notFound("insurance request", cmd.RequestID)
	}
	q, ok := r.quote(cmd.QuoteID)
	if !ok {
		return nil, notFound("quote", cmd.QuoteID)
	}
	if r.Status == RequestAccepted && r.Accepted == q.QuoteID {
		return nil, nil
	}
	if err := requireOpen(r); err != nil {
		return nil, err
	}
	today := api.Today(now)
	if !q.validOn(today) {
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "quote %s expired: it could be accepted until %s", q.QuoteID, q.ValidUntil.Format(api.DateLayout))
	}
	if err := patentsLastFrom(r, r.policyStart(today)); err != nil {
		return nil, err
	}
	for i, p := range r.Patents {
		if disputed[p.Number] {
			reason := fmt.Sprintf("patent %s is in dispute", p.Number)
			return nil, &fundbridge.Error{Code: fundbridge.EUNPROCESSABLE, Message: "the policy cannot be bound: " + reason,
				Fields: []fundbridge.FieldError{{Field: fmt.Sprintf("patents[%d]", i), Reason: reason}}}
		}
	}
	return []events.Payload{api.QuoteAccepted{RequestID: r.ID, QuoteID: q.QuoteID, InsurerID: q.InsurerID, PolicyID: PolicyID(q.QuoteID)}}, nil
}

// decideWithdraw closes a request the startup no longer wants; once
// withdrawn, again changes nothing.
func decideWithdraw(r Request, a fundbridge.Actor, cmd api.WithdrawRequest) ([]events.Payload, error) {
	if err := requireRole(a, "withdraw insurance requests", fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if !r.Exists() || !r.visible(a) {
		return nil, notFound("insurance request", cmd.RequestID)
	}
	if r.Status == RequestWithdrawn {
		return nil, nil
	}
	if err := requireOpen(r); err != nil {
		return nil, err
	}
	return []events.Payload{api.InsuranceWithdrawn{RequestID: r.ID, Reason: strings.TrimSpace(cmd.Reason)}}, nil
}

// PolicyID is the ID of the policy bound from a quote: derived, so that
// every retry of the bind names the same policy.
func PolicyID(quoteID string) string {
	return svc.DerivedID("policy", quoteID)
}

// PolicyNumber is the number printed on a policy: the insurer's, the
// year cover starts and a digest of the IDs, so that it is the same on
// every retry and unique without a counter shared across instances.
func PolicyNumber(insurerID, quoteID string, c api.Coverage, starts time.Time) string {
	code := map[api.Coverage]string{api.CoverageEnforcement: "PE", api.CoverageInfringementLoss: "PL", api.CoveragePledgeGuarantee: "PG"}[c]
	sum := sha256.Sum256([]byte(insurerID + "\x00" + quoteID))
	return fmt.Sprintf("%s-%d-%s", code, starts.Year(), strings.ToUpper(hex.EncodeToString(sum[:6])))
}
