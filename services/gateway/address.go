package gateway

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseProxies reads trusted proxy networks written as a comma-separated
// list of CIDRs or addresses, like "10.0.0.0/8,192.0.2.7".
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR like 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// forwardedFor makes a request from a trusted proxy look as if it came
// from the client the proxy names in X-Forwarded-For, so that the limits
// count clients, not the proxy. Only trusted proxies are believed: the
// address taken is the rightmost one that is not a trusted proxy (the
// ones to its left could be made up by the client). Without trusted
// proxies the header is ignored.
func forwardedFor(trusted []netip.Prefix) func(http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		if len(trusted) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			peer, err := netip.ParseAddrPort(r.RemoteAddr)
			if err != nil || !isTrusted(peer.Addr()) {
				next.ServeHTTP(w, r)
				return
			}
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			client := peer.Addr()
			for i := len(hops) - 1; i >= 0; i-- {
				a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					break // a malformed hop: believe nothing further left
				}
				client = a
				if !isTrusted(a) {
					break
				}
			}
			r2 := r.Clone(r.Context())
			r2.RemoteAddr = net.JoinHostPort(client.Unmap().String(), "0")
			// A trusted proxy that took the client's TLS says so; the
			// pages then mark their cookies Secure.
			if r2.TLS == nil && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
				r2.TLS = &tls.ConnectionState{}
			}
			next.ServeHTTP(w, r2)
		})
	}
}
