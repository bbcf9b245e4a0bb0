package gateway

import (
	"reflect"

	"github.com/fundbridge/fundbridge/services/identity/identityapi"
)

// TokenRequest signs a user in.
type TokenRequest struct {
	Email string `json:"email" jsonschema:"format=email"`
	// The user's password.
	Password string `json:"password"`
}

// TokenReply is a bearer token and whom it is for.
type TokenReply struct {
	// The bearer token: send it as Authorization: Bearer <token>.
	AccessToken string `json:"access_token"`
	// Always Bearer.
	TokenType string `json:"token_type" jsonschema:"enum=Bearer"`
	ExpiresIn int    `json:"expires_in" jsonschema:"description=Seconds until the token expires"`
	// Whom the token is for.
	User identityapi.User `json:"user"`
}

// Health is what /healthz and /readyz answer.
type Health struct {
	Status      string `json:"status" jsonschema:"enum=ok,enum=ready"`
	Version     string `json:"version,omitempty"`
	NATS        string `json:"nats,omitempty" jsonschema:"description=The NATS server the gateway is connected to"`
	LogPosition uint64 `json:"log_position,omitempty" jsonschema:"description=The event log's head"`
}

// ownOperations documents the routes the gateway serves itself, keyed
// "METHOD path".
func (g *Gateway) ownOperations(s *schemas) map[string]map[string]any {
	json := func(t reflect.Type, description string) map[string]any {
		return map[string]any{"description": description, "content": map[string]any{"application/json": map[string]any{"schema": s.of(t)}}}
	}
	return map[string]map[string]any{
		"POST /api/v1/auth/token": {
			"operationId": "auth.token", "summary": "Sign in with email and password; returns a bearer token", "tags": []string{"auth"}, "security": []any{},
			"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": s.of(reflect.TypeFor[TokenRequest]())}}},
			"responses": map[string]any{"200": json(reflect.TypeFor[TokenReply](), "A bearer token"),
				"400": problemRef(400), "401": problemRef(401), "413": problemRef(413), "429": problemRef(429), "503": problemRef(503)},
		},
		"GET /api/v1/openapi.json": {
			"operationId": "openapi", "summary": "This document", "tags": []string{"meta"}, "security": []any{},
			"responses": map[string]any{"200": map[string]any{"description": "OpenAPI 3.1", "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}, "400": problemRef(400)},
		},
		"GET /healthz": {
			"operationId": "healthz", "summary": "The process is alive", "tags": []string{"meta"}, "security": []any{},
			"responses": map[string]any{"200": json(reflect.TypeFor[Health](), "alive"), "400": problemRef(400)},
		},
		"GET /readyz": {
			"operationId": "readyz", "summary": "NATS and the services answer", "tags": []string{"meta"}, "security": []any{},
			"responses": map[string]any{"200": json(reflect.TypeFor[Health](), "ready"), "400": problemRef(400), "503": problemRef(503)},
		},
	}
}
