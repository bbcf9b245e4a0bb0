package gateway

import (
	"regexp"
	"testing"
)

// Two endpoints on one method and path would leave one unreachable, and
// chi would not say which.
func TestNoTwoEndpointsShareARoute(t *testing.T) {
	seen := map[string]string{}
	for _, e := range Endpoints() {
		if e.HTTP == nil {
			continue
		}
		key := e.HTTP.Method + " " + e.HTTP.Path
		if prev, ok := seen[key]; ok {
			t.Errorf("%s is both %s and %s.%s", key, prev, e.Service, e.Op)
		}
		seen[key] = e.Service + "." + e.Op
	}
}

// Every route that creates something says where it is read, on a route
// that exists, except a company's patents, which have no page of their own.
func TestCreatedRoutesSayWhere(t *testing.T) {
	param := regexp.MustCompile(`\{[^}]*\}`)
	shape := func(path string) string { return param.ReplaceAllString(path, "{}") }
	reads := map[string]bool{}
	for _, rt := range apiRoutes() {
		if rt.Method == "GET" {
			reads[shape(rt.Path)] = true
		}
	}
	for _, rt := range apiRoutes() {
		if !rt.Created {
			continue
		}
		switch {
		case rt.Path == "/api/v1/companies/{company_id}/patents":
		case rt.Location == "":
			t.Errorf("%s %s makes something and does not say where", rt.Method, rt.Path)
		case !reads[shape(rt.Location)]:
			t.Errorf("%s %s says Location %s, which no GET route serves", rt.Method, rt.Path, rt.Location)
		}
	}
}
