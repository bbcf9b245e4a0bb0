package gateway

import "testing"

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
