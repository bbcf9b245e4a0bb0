// Package svc is how services talk: commands and queries as NATS
// request/reply carrying who asks and why, replies that keep an error's
// kind across the wire, queue groups so instances share the load, and the
// aggregate repository that loads, decides and appends with retries.
package svc

import (
	"encoding/json"
	"time"

	"github.com/fundbridge/fundbridge"
)

// Request is a command or query on the wire.
type Request struct {
	ID             string           `json:"id"` // the command's ID: causation of its events
	Actor          fundbridge.Actor `json:"actor"`
	CorrelationID  string           `json:"correlation_id,omitempty"`
	CausationID    string           `json:"causation_id,omitempty"` // what caused this request, if anything
	IdempotencyKey string           `json:"idempotency_key,omitempty"`
	// ExpectedVersion, when set, is the version the client last saw
	// (HTTP If-Match): a mismatch is a conflict rather than a retry.
	ExpectedVersion *uint64         `json:"expected_version,omitempty"`
	Payload         json.RawMessage `json:"payload,omitempty"`

	// Caller is the service that sent the request as itself, on
	// fb.sys.<caller> (set by the server from the subject NATS let it
	// publish on); empty for the gateway's requests.
	Caller string `json:"-"`
	// AsGateway is set when the gateway sent the request as itself, for
	// someone not signed in (Service.Gateway): it may call only endpoints
	// open to every role.
	AsGateway bool `json:"-"`
	// Op is the operation asked for, such as application.submit (set by
	// the server that answers): the command its events name.
	Op string `json:"-"`

	// Deadline is when the caller stops waiting, carried in a header.
	Deadline time.Time `json:"-"`
}

// Reply is the answer to a Request: a result or a coded error.
type Reply struct {
	OK       bool              `json:"ok"`
	Result   json.RawMessage   `json:"result,omitempty"`
	Position uint64            `json:"position,omitzero"` // of the last event appended
	Version  uint64            `json:"version,omitzero"`  // of the aggregate after the command
	Error    *fundbridge.Error `json:"error,omitempty"`
}

// Headers used on requests.
const (
	headerDeadline    = "Fb-Deadline" // RFC 3339 with nanoseconds
	headerTraceParent = "traceparent" // W3C trace context, passed through
	// HeaderRequestID carries the correlation ID (the gateway's
	// X-Request-ID) beside the envelope, for what reads headers only.
	HeaderRequestID = "Fb-Request-Id"
)

// Subject is where a service's operation listens: fb.svc.<service>.<op>.
func Subject(service, op string) string { return "fb.svc." + service + "." + op }
