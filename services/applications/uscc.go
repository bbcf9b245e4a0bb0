package applications

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// usccClaim is a USCC's claim stream (uscc-<hash>): which company holds
// the code. Its first event is appended with "no stream", so of two
// registrations racing for one code exactly one gets it, whatever any
// view says.
type usccClaim struct{ CompanyID string }

func usccDecider() svc.Decider[usccClaim] {
	return svc.Decider[usccClaim]{
		Type:    "uscc",
		Initial: func() usccClaim { return usccClaim{} },
		Evolve: func(s usccClaim, _ events.Event, p any) usccClaim {
			if e, ok := p.(applicationsapi.USCCClaimed); ok {
				s.CompanyID = e.CompanyID
			}
			return s
		},
	}
}

// usccStream names a code's claim stream.
func usccStream(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:16])
}

// claimUSCC decides a company's claim on its code: once, for one company.
func claimUSCC(s usccClaim, code, companyID string) ([]events.Payload, error) {
	switch s.CompanyID {
	case "":
		return []events.Payload{applicationsapi.USCCClaimed{USCC: code, CompanyID: companyID}}, nil
	case companyID:
		return nil, nil // a retry of the same registration
	}
	return nil, usccTaken(code)
}

func usccTaken(code string) error {
	return &fundbridge.Error{Code: fundbridge.ECONFLICT, Message: fmt.Sprintf("USCC %s is already registered to another company", code),
		Fields: []fundbridge.FieldError{{Field: "uscc", Reason: code + " is already registered to another company"}}}
}

// claim takes the company's USCC before the company is registered.
func (s *Service) claimUSCC(ctx context.Context, req *svc.Request, code, companyID string) error {
	cmd := command(req)
	cmd.Expected = nil // If-Match is about the company, not its claim
	if cmd.Meta.IdempotencyKey != "" {
		cmd.Meta.IdempotencyKey += ":uscc"
	}
	if _, _, err := s.usccs.Execute(ctx, usccStream(code), cmd, svc.CheckedBefore, func(c usccClaim) ([]events.Payload, error) {
		return claimUSCC(c, code, companyID)
	}); err != nil {
		return fmt.Errorf("claim USCC %s: %w", code, err)
	}
	return nil
}
