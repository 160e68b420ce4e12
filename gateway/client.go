package gateway

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

func parseProxies(cidrs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("CRM_TRUSTED_PROXIES: %q is not a CIDR: %w", c, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// clientAddress is the request's peer, or — when the peer is a trusted
// proxy — the nearest untrusted address in X-Forwarded-For.
func clientAddress(r *http.Request, proxies []netip.Prefix) string {
	host := peerHost(r)
	if !trusted(host, proxies) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h != "" && !trusted(h, proxies) {
			return h
		}
	}
	return host
}

func trusted(addr string, proxies []netip.Prefix) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	for _, p := range proxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// peerHost is the address the request came from, without its port.
func peerHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
