package insurance

import (
	"context"
	"strings"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// standingType names the patent standing streams:
// "patentstanding-<number>", the number's '.' as '_' (a stream ID is a
// NATS subject token).
const standingType = "patentstanding"

func standingID(number string) string { return strings.ReplaceAll(number, ".", "_") }

// Standing is a patent's standing as last recorded.
type Standing struct {
	api.PatentStandingRecorded
	Version uint64 `json:"version"`
}

func standingDecider() svc.Decider[Standing] {
	return svc.Decider[Standing]{Type: standingType, Initial: func() Standing { return Standing{} }, Evolve: evolveStanding, SnapshotSchema: "insurance-standing.v1"}
}

func evolveStanding(s Standing, e events.Event, payload any) Standing {
	if p, ok := payload.(api.PatentStandingRecorded); ok {
		s = Standing{PatentStandingRecorded: p, Version: e.Version}
	}
	return s
}

// decideRecordStanding records a patent's standing; the same standing
// again changes nothing.
func decideRecordStanding(s Standing, a fundbridge.Actor, cmd api.RecordPatentStanding) ([]events.Payload, error) {
	if err := requireRole(a, "record patent standing", fundbridge.RoleOperator, fundbridge.RoleSystem); err != nil {
		return nil, err
	}
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	e := api.PatentStandingRecorded{Number: cmd.Number, LicenseeID: cmd.LicenseeID, OwnerConsent: cmd.OwnerConsent, InDispute: cmd.InDispute, Note: strings.TrimSpace(cmd.Note)}
	if s.Version > 0 && s.PatentStandingRecorded == e {
		return nil, nil
	}
	return []events.Payload{e}, nil
}

// applyStanding completes a patent's facts with its recorded standing:
// the consent counts for the licensee it names only.
func applyStanding(p PatentFact, s Standing, company string) PatentFact {
	p.InDispute = p.InDispute || s.InDispute
	p.OwnerConsent = p.OwnerConsent || s.OwnerConsent && s.LicenseeID == company
	return p
}

func (s *Service) recordStanding(ctx context.Context, req *svc.Request, cmd api.RecordPatentStanding) (svc.Result[api.PatentStandingView], error) {
	id := standingID(cmd.Number)
	res, st, err := s.standings.Execute(ctx, id, command(req), svc.CheckedBefore, func(st Standing) ([]events.Payload, error) {
		return decideRecordStanding(st, req.Actor, cmd)
	})
	if err != nil {
		return svc.Result[api.PatentStandingView]{}, refusal(err, "record standing", "patent", cmd.Number)
	}
	return svc.Result[api.PatentStandingView]{Value: standingView(st, cmd.Number), Position: res.Position, Version: res.LastVersion}, nil
}

func (s *Service) getStanding(ctx context.Context, _ *svc.Request, q api.PatentRef) (svc.Result[api.PatentStandingView], error) {
	st, version, err := fresh(ctx, s, standingDecider(), standingID(q.Number))
	if err != nil {
		return svc.Result[api.PatentStandingView]{}, err
	}
	return svc.Result[api.PatentStandingView]{Value: standingView(st, q.Number), Version: version}, nil
}

func standingView(st Standing, number string) api.PatentStandingView {
	v := api.PatentStandingView{PatentStandingRecorded: st.PatentStandingRecorded, Version: st.Version}
	v.Number = number
	return v
}
