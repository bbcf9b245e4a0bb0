package gateway

import (
	"net/http"
	"regexp"
	"strings"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI builds the OpenAPI 3.1 document from the route table.
func (g *Gateway) OpenAPI() map[string]any {
	problem := map[string]any{"$ref": "#/components/responses/Problem"}
	paths := map[string]map[string]any{}
	add := func(method, path string, op map[string]any) {
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = op
	}
	for _, rt := range g.routes {
		var params []map[string]any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.Query {
			schema := map[string]any{"type": queryKind(rt.Endpoint.Request, q)}
			if schema["type"] == "integer" {
				schema["minimum"] = 0
			}
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": schema})
		}
		ok := "200"
		if rt.Created {
			ok = "201"
		}
		responses := map[string]any{
			ok:        map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}},
			"default": problem,
		}
		op := map[string]any{
			"operationId": rt.Endpoint.Op,
			"summary":     rt.Summary,
			"tags":        []string{rt.Tag},
			"responses":   responses,
			"x-service":   rt.Endpoint.Service,
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Public {
			op["security"] = []any{}
		}
		if rt.isCommand() {
			op["requestBody"] = map[string]any{"required": rt.Method != http.MethodPost || !strings.HasSuffix(rt.Path, "}"), "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
			op["parameters"] = append(params,
				idempotencyKeyParam(),
				map[string]any{"name": "If-Match", "in": "header", "required": false, "schema": map[string]any{"type": "string"},
					"description": "The ETag of the resource as last read; 409 if it changed since"})
			responses[ok].(map[string]any)["headers"] = map[string]any{
				"Fundbridge-Position": map[string]any{"description": "Global position of the command's last event; pass it as ?after= to read your write", "schema": map[string]any{"type": "integer"}},
			}
		} else {
			responses[ok].(map[string]any)["headers"] = map[string]any{"ETag": map[string]any{"description": "The resource's version", "schema": map[string]any{"type": "string"}}}
		}
		add(rt.Method, toOpenAPIPath(rt.Path), op)
	}
	add(http.MethodPost, "/api/v1/auth/token", map[string]any{
		"operationId": "auth.token", "summary": "Sign in with email and password; returns a bearer token", "tags": []string{"auth"}, "security": []any{},
		"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
			"type": "object", "required": []string{"email", "password"},
			"properties": map[string]any{"email": map[string]any{"type": "string", "format": "email"}, "password": map[string]any{"type": "string"}}}}}},
		"responses": map[string]any{"200": map[string]any{"description": "A bearer token"}, "default": problem},
	})
	add(http.MethodGet, "/api/v1/openapi.json", map[string]any{
		"operationId": "openapi", "summary": "This document", "tags": []string{"meta"}, "security": []any{},
		"responses": map[string]any{"200": map[string]any{"description": "OpenAPI 3.1"}},
	})
	add(http.MethodGet, "/healthz", map[string]any{"operationId": "healthz", "summary": "The process is alive", "tags": []string{"meta"}, "security": []any{},
		"responses": map[string]any{"200": map[string]any{"description": "alive"}}})
	add(http.MethodGet, "/readyz", map[string]any{"operationId": "readyz", "summary": "NATS and the services answer", "tags": []string{"meta"}, "security": []any{},
		"responses": map[string]any{"200": map[string]any{"description": "ready"}, "default": problem}})
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Fundbridge API", "version": g.version,
			"description": "Financing marketplace for AI companies. Amounts are CNY decimal strings with at most two places. Errors are RFC 9457 problem details."},
		"servers":  []any{map[string]any{"url": "/"}},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
			"responses": map[string]any{"Problem": map[string]any{"description": "An error (RFC 9457)", "content": map[string]any{
				"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}},
			"schemas": map[string]any{"Problem": map[string]any{"type": "object", "properties": map[string]any{
				"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"}, "status": map[string]any{"type": "integer"},
				"detail": map[string]any{"type": "string"}, "instance": map[string]any{"type": "string"}, "code": map[string]any{"type": "string"},
				"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
					"field": map[string]any{"type": "string"}, "reason": map[string]any{"type": "string"}}}},
			}}},
		},
	}
}

// toOpenAPIPath: chi and OpenAPI write {params} alike; kept as a seam.
func toOpenAPIPath(p string) string { return p }

func (g *Gateway) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, g.OpenAPI())
}
