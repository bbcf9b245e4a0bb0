// Package auditapi is the audit service's contract: the raw log's head
// and any stream's events with who, when and why.
package auditapi

import (
	"net/http"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = "audit"

// HeadQuery asks for the log's head.
type HeadQuery struct{}

// HeadResult is the answer to "head".
type HeadResult struct {
	Position uint64 `json:"position"`
}

// StreamQuery asks for a stream's events from a version.
type StreamQuery struct {
	// The stream to read, <aggregate>-<id>, such as application-01J....
	StreamID string `json:"stream_id"`
	// The first version returned (1-based, inclusive); absent or 0 for the
	// start.
	From uint64 `json:"from,omitempty"`
}

// Validate names every bad field.
func (q StreamQuery) Validate() error { return events.ValidateStreamID(q.StreamID) }

// StreamResult is the answer to "stream".
type StreamResult struct {
	// The stream read.
	StreamID string `json:"stream_id"`
	// Its events in order, from the version asked for.
	Events []events.Event `json:"events"`
}

// The service's endpoints.
var (
	// HeadEndpoint is how readiness checks see the log answer.
	HeadEndpoint   = svc.NewQuery[HeadQuery, HeadResult](Name, "head", nil, nil)
	StreamEndpoint = svc.NewQuery[StreamQuery, StreamResult](Name, "stream",
		[]fundbridge.Role{fundbridge.RoleOperator, fundbridge.RoleSystem, fundbridge.RoleStartup, fundbridge.RoleFundManager},
		&svc.Route{Method: http.MethodGet, Path: svc.APIPrefix + "/streams/{stream_id}/events", Tag: "audit",
			Summary: "A stream's events with who, when and which command (operators; owners for their own streams)"}).Doing("read audit trails")
)

// Endpoints lists every endpoint of the service.
func Endpoints() []svc.Described { return []svc.Described{HeadEndpoint, StreamEndpoint} }
