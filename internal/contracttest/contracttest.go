// Package contracttest checks HTTP traffic against the OpenAPI document
// with kin-openapi's request and response validation: an http.RoundTripper
// for a test's client, so that the black-box suite, run through it, shows
// where the product and its published contract disagree.
package contracttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Transport validates each request and its response against a document.
// A request the contract refuses must be refused by the server too (a 4xx):
// a contract stricter than the server would turn away valid calls. Every
// response must be one the contract documents for its status, with its
// headers and body schema.
type Transport struct {
	Base   http.RoundTripper
	router routers.Router

	mu         sync.Mutex
	violations []string
	checked    int
}

// New loads and validates the document (JSON) and returns a transport
// over base (http.DefaultTransport if nil).
func New(ctx context.Context, doc []byte, base http.RoundTripper) (*Transport, error) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := d.Validate(ctx); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is invalid: %w", err)
	}
	// Match requests by path alone, whatever host the test server has.
	d.Servers = nil
	router, err := gorillamux.NewRouter(d)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{Base: base, router: router}, nil
}

// Violations lists every disagreement seen so far.
func (t *Transport) Violations() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.violations...)
}

// Checked is how many exchanges were validated.
func (t *Transport) Checked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checked
}

func (t *Transport) violate(req *http.Request, status int, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.violations = append(t.violations, fmt.Sprintf("%s %s → %d: %s", req.Method, req.URL.RequestURI(), status, fmt.Sprintf(format, args...)))
}

// RoundTrip sends the request and validates both directions.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	check := req.Clone(req.Context())
	check.Body = io.NopCloser(bytes.NewReader(body))

	resp, err := t.Base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	t.mu.Lock()
	t.checked++
	t.mu.Unlock()
	route, params, err := t.router.FindRoute(check)
	if err != nil {
		// Not in the document: the server must not serve it either.
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.violate(req, resp.StatusCode, "not in the document, yet served: %v", err)
		}
		return resp, nil
	}
	in := &openapi3filter.RequestValidationInput{
		Request: check, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil && resp.StatusCode < 400 {
		t.violate(req, resp.StatusCode, "the server accepted a request the contract refuses: %v", err)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body:    io.NopCloser(bytes.NewReader(respBody)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		t.violate(req, resp.StatusCode, "response: %v (body %.300s)", err, respBody)
	}
	return resp, nil
}
