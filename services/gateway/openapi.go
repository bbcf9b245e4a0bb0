package gateway

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fundbridge/fundbridge/services/svc"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI builds the OpenAPI 3.1 document from the route table, that is
// from the contracts' endpoint values: each operation's parameters,
// request body and replies are reflected from the endpoint's Go types,
// and its error replies follow from what the gateway and the endpoint can
// refuse.
func (g *Gateway) OpenAPI() map[string]any {
	return g.document(newSchemas(docComments()))
}

// document builds the OpenAPI document with s, which describes the
// fields from its comments.
func (g *Gateway) document(s *schemas) map[string]any {
	paths := map[string]map[string]any{}
	add := func(method, path string, op map[string]any) {
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = op
	}
	services := map[string]map[string]bool{} // op → the services that have it
	for _, rt := range g.routes {
		if services[rt.Endpoint.Op] == nil {
			services[rt.Endpoint.Op] = map[string]bool{}
		}
		services[rt.Endpoint.Op][rt.Endpoint.Service] = true
	}
	for _, rt := range g.routes {
		op := operation(s, rt)
		if len(services[rt.Endpoint.Op]) > 1 {
			// Two services name an op alike ("deal.list"): the operation
			// IDs must differ.
			op["operationId"] = rt.Endpoint.Service + "." + rt.Endpoint.Op
		}
		add(rt.Method, rt.Path, op)
	}
	for path, op := range g.ownOperations(s) {
		method, p, _ := strings.Cut(path, " ")
		add(method, p, op)
	}
	components := map[string]any{
		"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
			"description": "A token from POST /api/v1/auth/token"}},
		"responses": problemResponses(),
		"headers": map[string]any{
			"ETag": map[string]any{"description": `The resource's version, as "3": send it back as If-Match to change it only if nobody has since`,
				"schema": map[string]any{"type": "string"}},
			"Position": map[string]any{"description": "Global log position of the command's last event; pass it as ?after= to read your own write",
				"schema": map[string]any{"type": "integer", "minimum": 0}},
			"RetryAfter": map[string]any{"description": "Seconds to wait before retrying", "schema": map[string]any{"type": "integer"}},
		},
		"schemas": s.components,
	}
	s.components["Problem"] = problemSchema()
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Fundbridge API", "version": g.version,
			"description": "Financing marketplace for AI companies. Amounts are CNY decimal strings with at most two places. " +
				"Days and months are counted in China time (UTC+8). Errors are RFC 9457 problem details.",
			"license": map[string]any{"name": "Proprietary", "identifier": "LicenseRef-Fundbridge"}},
		"servers":    []any{map[string]any{"url": "/", "description": "this gateway"}},
		"security":   []any{map[string]any{"bearer": []any{}}},
		"tags":       tags(),
		"paths":      paths,
		"components": components,
	}
	pruneSchemas(doc, s.components)
	return doc
}

// pruneSchemas drops the components nothing refers to: a request type is
// reflected as a component, then inlined where the path's parameters are
// taken out of it.
func pruneSchemas(doc map[string]any, components map[string]any) {
	for {
		data, _ := json.Marshal(doc)
		removed := false
		for name := range components {
			if !bytes.Contains(data, []byte(`"#/components/schemas/`+name+`"`)) {
				delete(components, name)
				removed = true
			}
		}
		if !removed {
			return
		}
	}
}

// operation documents one route.
func operation(s *schemas, rt Route) map[string]any {
	e := rt.Endpoint
	inPath := map[string]bool{}
	for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
		inPath[m[1]] = true
	}
	req := maps.Clone(s.resolve(s.of(e.Request)))
	props, _ := req["properties"].(map[string]any)
	var required []any
	for _, name := range requiredFields(e.Request) {
		required = append(required, name)
	}
	delete(req, "required")
	if len(required) > 0 {
		req["required"] = required
	}

	var params []any
	for _, name := range slices.Sorted(maps.Keys(inPath)) {
		params = append(params, map[string]any{"name": name, "in": "path", "required": true,
			"schema": paramSchema(props[name]), "description": paramDescription(name, props[name])})
	}
	op := map[string]any{
		"operationId": e.Op,
		"summary":     rt.Summary,
		"tags":        []string{rt.Tag},
		"x-service":   e.Service,
	}
	if rt.Description != "" {
		op["description"] = rt.Description
	}
	if rt.Public {
		op["security"] = []any{}
	}
	body := len(props) > len(inPath)
	if !rt.isCommand() {
		for _, name := range slices.Sorted(maps.Keys(props)) {
			if inPath[name] {
				continue
			}
			params = append(params, map[string]any{"name": name, "in": "query", "required": slices.Contains(required, any(name)),
				"schema": paramSchema(props[name]), "description": paramDescription(name, props[name])})
		}
		params = append(params, map[string]any{"name": "format", "in": "query", "required": false,
			"schema": map[string]any{"type": "string", "enum": []string{"json", "csv"}}, "description": paramDescription("format", nil)})
	} else {
		params = append(params, idempotencyKeyParam())
		if len(inPath) > 0 && hasVersion(s, e) {
			params = append(params, map[string]any{"name": "If-Match", "in": "header", "required": false,
				"schema":      map[string]any{"type": "string"},
				"description": `The ETag of the resource as last read, as "3": the change is refused with 409 if the resource changed since`})
		}
		if body {
			op["requestBody"] = requestBody(req, inPath)
		}
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	op["responses"] = responses(s, rt, body)
	return op
}

// requestBody is the request's schema without the path's parameters:
// they may be repeated in the body, but need not be.
func requestBody(req map[string]any, inPath map[string]bool) map[string]any {
	schema := maps.Clone(req)
	var required []any
	if list, ok := req["required"].([]any); ok {
		for _, r := range list {
			if !inPath[r.(string)] {
				required = append(required, r)
			}
		}
	}
	delete(schema, "required")
	if len(required) > 0 {
		schema["required"] = required
	}
	return map[string]any{"required": len(required) > 0, "content": map[string]any{
		"application/json": map[string]any{"schema": schema}}}
}

// responses documents the success and every refusal the route can answer.
func responses(s *schemas, rt Route, body bool) map[string]any {
	e := rt.Endpoint
	reply := s.of(e.Reply)
	headers := map[string]any{}
	if hasVersion(s, e) {
		headers["ETag"] = map[string]any{"$ref": "#/components/headers/ETag"}
	}
	content := map[string]any{}
	status := "200"
	if rt.isCommand() {
		// The gateway adds the position to an object reply.
		withPosition := maps.Clone(s.resolve(reply))
		props := maps.Clone(withPosition["properties"].(map[string]any))
		props["position"] = map[string]any{"type": "integer", "minimum": 0,
			"description": "Global log position of the command's last event; pass it as ?after= to read your own write"}
		withPosition["properties"] = props
		reply = withPosition
		headers["Fundbridge-Position"] = map[string]any{"$ref": "#/components/headers/Position"}
		if rt.Created {
			status = "201"
			if rt.Location != "" {
				where := "Where what was made is read: " + rt.Location
				if rt.locationAfter {
					where += "?after=<position>, so that the read waits for this write"
				}
				headers["Location"] = map[string]any{"description": where, "schema": map[string]any{"type": "string"}}
			}
		}
	} else {
		content["text/csv"] = map[string]any{"schema": map[string]any{"type": "string",
			"description": "The items (or the object) as CSV, one column per field, nested values as JSON"}}
	}
	content["application/json"] = map[string]any{"schema": reply}
	ok := map[string]any{"description": rt.Summary, "content": content}
	if len(headers) > 0 {
		ok["headers"] = headers
	}
	out := map[string]any{status: ok, "400": problemRef(400), "503": problemRef(503)}
	if !rt.Public {
		out["401"], out["403"] = problemRef(401), problemRef(403)
	}
	if refersToOthers(e) {
		out["404"] = problemRef(404)
	}
	if rt.isCommand() {
		// Writes and sign-ups are rate limited.
		out["409"], out["413"], out["422"], out["429"] = problemRef(409), problemRef(413), problemRef(422), problemRef(429)
	}
	_ = body
	return out
}

// hasVersion reports whether the endpoint's reply carries the resource's
// version, which the gateway sends as ETag.
func hasVersion(s *schemas, e svc.EndpointInfo) bool {
	props, _ := s.resolve(s.of(e.Reply))["properties"].(map[string]any)
	_, ok := props["version"]
	return ok
}

// paramSchema is a parameter's schema: the request field's, or a string.
func paramSchema(field any) any {
	if m, ok := field.(map[string]any); ok {
		m = maps.Clone(m)
		delete(m, "description")
		return m
	}
	return map[string]any{"type": "string"}
}

func problemRef(status int) map[string]any {
	return map[string]any{"$ref": "#/components/responses/" + strconv.Itoa(status)}
}

// problemResponses are the refusals, each an RFC 9457 problem.
func problemResponses() map[string]any {
	out := map[string]any{}
	for status, when := range map[int]string{
		400: "The request is malformed or invalid: errors name every bad field",
		401: "No valid bearer token",
		403: "The caller's role may never do this",
		404: "No such resource, or not one the caller may see",
		409: "The resource's state forbids this, or it changed since the If-Match version",
		413: "The body is over 1 MiB",
		422: "A business rule refuses this (the detail says which)",
		429: "Too many requests from this caller or address; retry after Retry-After seconds",
		503: "A service or the event log is unavailable; nothing was applied unless a retry with the same Idempotency-Key says so",
	} {
		r := map[string]any{"description": when, "content": map[string]any{
			"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
		if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
			r["headers"] = map[string]any{"Retry-After": map[string]any{"$ref": "#/components/headers/RetryAfter"}}
		}
		out[strconv.Itoa(status)] = r
	}
	return out
}

func problemSchema() map[string]any {
	str := func(d string) map[string]any { return map[string]any{"type": "string", "description": d} }
	return map[string]any{"type": "object", "required": []string{"type", "title", "status", "code"}, "properties": map[string]any{
		"type":     str("A URI naming the kind of problem"),
		"title":    str("The HTTP status in words"),
		"status":   map[string]any{"type": "integer", "description": "The HTTP status"},
		"detail":   str("What went wrong, for a person"),
		"instance": str("The path the problem is about"),
		"code":     str("The error code: invalid, unauthorized, forbidden, not_found, conflict, unprocessable, too_many, unavailable, too_large, internal"),
		"errors": map[string]any{"type": "array", "description": "Every bad field", "items": map[string]any{
			"type": "object", "required": []string{"field", "reason"}, "properties": map[string]any{
				"field":  str("The field's JSON path, or a header's name"),
				"reason": str("What is wrong with it")}}},
	}}
}

func tags() []any {
	var out []any
	for _, t := range [][2]string{
		{"auth", "Sign-up, sign-in, orgs and the caller"},
		{"companies", "Companies and their patents"},
		{"applications", "Funding applications"},
		{"matching", "Matches between applications and fund mandates"},
		{"funds", "Funds, mandates, commitments and dry powder"},
		{"deals", "The screening pipeline and term sheets"},
		{"views", "Read views for operators, companies and fund managers; also CSV"},
		{"audit", "The raw event log"},
		{"meta", "This document and the gateway's health"},
	} {
		out = append(out, map[string]any{"name": t[0], "description": t[1]})
	}
	return out
}

// paramDescription says, for a reader, what a parameter means: its
// words here, or else its field's description in the request schema.
func paramDescription(name string, field any) string {
	if d, ok := paramDescriptions[name]; ok {
		return d
	}
	if m, ok := field.(map[string]any); ok {
		if d, _ := m["description"].(string); d != "" {
			return d
		}
	}
	if strings.HasSuffix(name, "_id") {
		return "The " + strings.ReplaceAll(strings.TrimSuffix(name, "_id"), "_", " ") + "'s ID"
	}
	return "Only items whose " + strings.ReplaceAll(name, "_", " ") + " is this"
}

var paramDescriptions = map[string]string{
	"format":         "csv for CSV (as Accept: text/csv does); json, the default, otherwise",
	"from":           "The first day counted, YYYY-MM-DD in China time (inclusive); on an event stream, the first version returned (1-based, inclusive)",
	"to":             "The last day counted, YYYY-MM-DD in China time (inclusive)",
	"as_of":          "Count only what was recorded by the end of this day (YYYY-MM-DD, China time) or by this RFC 3339 time",
	"period":         "Group by month, quarter or year (China time); absent for no grouping",
	"amount_min":     "Only applications asking at least this much (CNY, inclusive)",
	"amount_max":     "Only applications asking at most this much (CNY, inclusive)",
	"min_dry_powder": "Only funds with at least this much left to invest (CNY, inclusive)",
	"manager_org":    "Only funds of this management org",
	"stream_id":      "An event stream, <aggregate>-<id>, as application-01J...",
	"step":           "Only deals at this pipeline step",
	"status":         "Only items in this status",
}

func (g *Gateway) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, g.OpenAPI())
}

// refersToOthers reports whether the request names a resource, which may
// not exist or not be the caller's to see: 404.
func refersToOthers(e svc.EndpointInfo) bool {
	t := e.Request
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if strings.HasSuffix(name, "_id") {
			return true
		}
	}
	return false
}
