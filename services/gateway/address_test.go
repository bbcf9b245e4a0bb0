package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	trusted, err := ParseProxies("10.0.0.0/8, 192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		peer, xff string
		want      string
	}{
		{"203.0.113.5:1234", "198.51.100.9", "203.0.113.5"},                  // not a proxy: the header is ignored
		{"10.1.2.3:1234", "198.51.100.9", "198.51.100.9"},                    // a trusted proxy
		{"10.1.2.3:1234", "6.6.6.6, 198.51.100.9, 10.9.9.9", "198.51.100.9"}, // the client's own prefix is not believed
		{"192.0.2.7:80", "", "192.0.2.7"},                                    // a proxy that names no one
		{"10.1.2.3:1234", "garbage, 198.51.100.9", "198.51.100.9"},
		{"10.1.2.3:1234", "198.51.100.9, garbage", "10.1.2.3"},
	} {
		var got string
		h := forwardedFor(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = clientAddress(r) }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	var got string
	h := forwardedFor(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = clientAddress(r) }))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr, r.Header["X-Forwarded-For"] = "10.1.2.3:1", []string{"198.51.100.9"}
	if h.ServeHTTP(httptest.NewRecorder(), r); got != "10.1.2.3" {
		t.Errorf("without trusted proxies the header was believed: %s", got)
	}
	if _, err := ParseProxies("10.0.0.0/8,not-an-ip"); err == nil {
		t.Error("a bad proxy accepted")
	}
	// Behind a trusted proxy that took the TLS, the request counts as TLS
	// (the pages' cookies are Secure); a stranger cannot claim it.
	for peer, want := range map[string]bool{"10.1.2.3:1": true, "203.0.113.5:1": false} {
		var tlsSeen bool
		h := forwardedFor(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tlsSeen = r.TLS != nil }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-Proto", "https")
		if h.ServeHTTP(httptest.NewRecorder(), r); tlsSeen != want {
			t.Errorf("X-Forwarded-Proto: https from %s: TLS %v, want %v", peer, tlsSeen, want)
		}
	}
}
