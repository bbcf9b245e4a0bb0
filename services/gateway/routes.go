package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/audit/auditapi"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

// Endpoints lists every service's endpoints, from their contracts.
func Endpoints() []svc.EndpointInfo {
	var all []svc.Described
	for _, list := range [][]svc.Described{
		identityapi.Endpoints(), applicationsapi.Endpoints(), matchingapi.Endpoints(), fundsapi.Endpoints(),
		viewsapi.Endpoints(), auditapi.Endpoints(),
		dealsapi.Endpoints(), insuranceapi.Endpoints(),
	} {
		all = append(all, list...)
	}
	return svc.Infos(all...)
}

// apiRoutes is the public API under /api/v1: every endpoint with an HTTP
// route. Sign-in (POST /auth/token) is served by the gateway itself.
func apiRoutes() []Route {
	var routes []Route
	reads := map[string]svc.EndpointInfo{} // by pathShape
	for _, e := range Endpoints() {
		if e.HTTP != nil {
			routes = append(routes, Route{Route: *e.HTTP, Endpoint: e})
			if e.HTTP.Method == http.MethodGet {
				reads[pathShape(e.HTTP.Path)] = e
			}
		}
	}
	for i, rt := range routes {
		if !rt.Created {
			continue
		}
		if rt.Location == "" {
			routes[i].Location = readOfCreated(rt.Path, reads)
		}
		if read, ok := reads[pathShape(routes[i].Location)]; ok && read.Request != nil {
			_, routes[i].locationAfter = read.Request.FieldByName("After")
		}
	}
	return routes
}

// pathShape is a route's path with its parameters' names left out.
func pathShape(path string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(path, '{')
		end := strings.IndexByte(path, '}')
		if open < 0 || end < open {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:open+1])
		b.WriteByte('}')
		path = path[end+1:]
	}
}

// readOfCreated is the GET route of one item of the collection at path
// (path/{name}), "" if there is none.
func readOfCreated(path string, reads map[string]svc.EndpointInfo) string {
	if read, ok := reads[pathShape(path)+"/{}"]; ok {
		return read.HTTP.Path
	}
	return ""
}

// location is the path of what a Created call made: the route's Location
// with each {name} taken from the answer's string field of that name (a
// dotted name reads into an object: {org.org_id}), or else the request's
// path parameter; "" where one is missing. fields are the answer's
// members if the caller decoded them, else body is. Where that read takes ?after=,
// the command's position goes with it: read there, it waits for this write.
func location(rt Route, r *http.Request, fields map[string]json.RawMessage, body []byte, position uint64) string {
	tmpl := rt.Location
	if tmpl == "" {
		return ""
	}
	if fields == nil { // the reply was not decoded on its way: decode it here
		_ = json.Unmarshal(body, &fields)
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			b.WriteString(tmpl)
			if rt.locationAfter && position > 0 {
				b.WriteString("?after=" + strconv.FormatUint(position, 10))
			}
			return b.String()
		}
		end := strings.IndexByte(tmpl[open:], '}')
		if end < 0 {
			return ""
		}
		name := tmpl[open+1 : open+end]
		v := stringAt(fields, name)
		if v == "" {
			v = chi.URLParam(r, name)
		}
		if v == "" {
			return ""
		}
		b.WriteString(tmpl[:open])
		b.WriteString(url.PathEscape(v))
		tmpl = tmpl[open+end+1:]
	}
}

// stringAt is the string at a dotted name in an object, "" if none.
func stringAt(fields map[string]json.RawMessage, name string) string {
	for {
		first, rest, nested := strings.Cut(name, ".")
		raw, ok := fields[first]
		if !ok {
			return ""
		}
		if !nested {
			var v string
			_ = json.Unmarshal(raw, &v)
			return v
		}
		fields = nil
		if json.Unmarshal(raw, &fields) != nil {
			return ""
		}
		name = rest
	}
}
