// Package egress guards the calls the product makes to addresses people
// typed in (webhook subscriptions): in production they may reach the
// internet, never the operator's own network — loopback, private,
// link-local (the cloud's metadata service) or unspecified addresses — so
// a subscription cannot be turned on the services behind it.
package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Public tells whether an address is on the internet rather than the
// operator's own network.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() &&
		!cgnat.Contains(a)
}

// cgnat is the carrier-grade NAT range (RFC 6598), private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// CheckURL refuses an address the product must not call: not http(s), no
// host, credentials in it, or — unless allowPrivate — a host that is or
// resolves to an address off the internet. The answer names the problem.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("is not an http or https address")
	}
	if u.User != nil {
		return fmt.Errorf("must not carry a user name or password")
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if !Public(a) {
			return fmt.Errorf("points at %s, which is not on the internet", a)
		}
		return nil
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("points at this machine")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		// a name that does not resolve yet is the receiver's to fix; the
		// dialer checks what it resolves to when called
		return nil
	}
	for _, a := range addrs {
		if !Public(a) {
			return fmt.Errorf("resolves to %s, which is not on the internet", a)
		}
	}
	return nil
}

// Client is an HTTP client for such addresses: unless allowPrivate, its
// connections to addresses off the internet are refused when dialled, so a
// name re-pointed after it was checked gets nowhere either.
func Client(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			if !Public(ap.Addr()) {
				return fmt.Errorf("refusing to call %s: not on the internet", ap.Addr())
			}
			return nil
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	return &http.Client{Timeout: timeout, Transport: t}
}
