// Package audit serves the raw event log to those allowed to audit it:
// the log's head, and any stream's events with who, when and why.
package audit

import (
	"context"
	"encoding/json"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/audit/auditapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = auditapi.Name

// Reader is what the service needs of the store.
type Reader interface {
	ReadStream(ctx context.Context, streamID string, from uint64) ([]events.Event, error)
	Head(ctx context.Context) (uint64, error)
}

// owns reports whether the actor may read the stream that starts with
// first: operators and the platform read every trail; a startup the
// streams about its own company (a company's ID is its org's); a fund
// manager the streams of the funds its org manages and their deals.
// Anyone else is told the stream does not exist.
func owns(a fundbridge.Actor, first events.Event) bool {
	if a.Role == fundbridge.RoleOperator || a.Role == fundbridge.RoleSystem {
		return true
	}
	if a.OrgID == "" {
		return false
	}
	var who struct {
		CompanyID  string `json:"company_id"`
		ManagerOrg string `json:"manager_org"`
	}
	if json.Unmarshal(first.Payload, &who) != nil {
		return false
	}
	switch a.Role {
	case fundbridge.RoleStartup:
		return who.CompanyID == a.OrgID
	case fundbridge.RoleFundManager:
		// A fund's first event names its manager; a deal's first event
		// (deal.sourced) is written by the fund's manager org.
		return who.ManagerOrg == a.OrgID || (first.Actor.Role == fundbridge.RoleFundManager && first.Actor.OrgID == a.OrgID)
	}
	return false
}

// Service returns the audit service over the store.
func Service(store Reader) svc.Service {
	head := func(ctx context.Context, _ *svc.Request, _ auditapi.HeadQuery) (svc.Result[auditapi.HeadResult], error) {
		pos, err := store.Head(ctx)
		if err != nil {
			return svc.Result[auditapi.HeadResult]{}, err
		}
		return svc.Result[auditapi.HeadResult]{Value: auditapi.HeadResult{Position: pos}, Position: pos}, nil
	}
	stream := func(ctx context.Context, req *svc.Request, q auditapi.StreamQuery) (svc.Result[auditapi.StreamResult], error) {
		evs, err := store.ReadStream(ctx, q.StreamID, 1)
		if err != nil {
			return svc.Result[auditapi.StreamResult]{}, err
		}
		if len(evs) == 0 || !owns(req.Actor, evs[0]) {
			return svc.Result[auditapi.StreamResult]{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no stream %s", q.StreamID)
		}
		if q.From > 1 {
			evs = evs[min(int(q.From-1), len(evs)):]
		}
		if evs == nil {
			evs = []events.Event{}
		}
		return svc.Result[auditapi.StreamResult]{Value: auditapi.StreamResult{StreamID: q.StreamID, Events: redact(evs)}}, nil
	}
	return svc.Service{Name: Name, Description: "The raw event log: its head, and any stream's events with who, when and why",
		Operations: svc.Operations(svc.Handle(auditapi.HeadEndpoint, head), svc.Handle(auditapi.StreamEndpoint, stream))}
}
