// Package audit serves the raw event log to those allowed to audit it:
// the log's head, and any stream's events with who, when and why.
package audit

import (
	"context"
	"encoding/json"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/runtime"
)

// Name is the service's name on the bus.
const Name = "audit"

// Reader is what the service needs of the store.
type Reader interface {
	ReadStream(ctx context.Context, streamID string, from uint64) ([]events.Event, error)
	Head(ctx context.Context) (uint64, error)
}

// HeadResult is the answer to "head".
type HeadResult struct {
	Position uint64 `json:"position"`
}

// StreamQuery asks for a stream's events from a version.
type StreamQuery struct {
	StreamID string `json:"stream_id"`
	From     uint64 `json:"from,omitempty"`
}

// StreamResult is the answer to "stream".
type StreamResult struct {
	StreamID string         `json:"stream_id"`
	Events   []events.Event `json:"events"`
}

// Service returns the audit service over the store.
func Service(store Reader) runtime.Service {
	return runtime.Service{Name: Name, Operations: map[string]runtime.Handler{
		"head": func(ctx context.Context, req *runtime.Request) (runtime.Result, error) {
			pos, err := store.Head(ctx)
			if err != nil {
				return runtime.Result{}, err
			}
			return runtime.Result{Value: HeadResult{Position: pos}, Position: pos}, nil
		},
		"stream": func(ctx context.Context, req *runtime.Request) (runtime.Result, error) {
			// Owners see their own streams' trails once the services that
			// own them can say who owns what; until then, operators only.
			if req.Actor.Role != fundbridge.RoleOperator && req.Actor.Role != fundbridge.RoleSystem {
				return runtime.Result{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "only operators read the audit trail")
			}
			var q StreamQuery
			if err := json.Unmarshal(req.Payload, &q); err != nil {
				return runtime.Result{}, fundbridge.Invalid("malformed query: " + err.Error())
			}
			if err := events.ValidateStreamID(q.StreamID); err != nil {
				return runtime.Result{}, err
			}
			evs, err := store.ReadStream(ctx, q.StreamID, q.From)
			if err != nil {
				return runtime.Result{}, err
			}
			if len(evs) == 0 && q.From <= 1 {
				return runtime.Result{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no stream %s", q.StreamID)
			}
			if evs == nil {
				evs = []events.Event{}
			}
			return runtime.Result{Value: StreamResult{StreamID: q.StreamID, Events: evs}}, nil
		},
	}}
}
