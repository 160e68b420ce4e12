package gateway

import (
	"net/http"
	"net/netip"
	"strings"
)

// contentSecurityPolicy allows the console only its own files. Styles may
// be inline because PrimeVue's styled mode injects its theme as <style>
// elements at run time; images and fonts may be data: URLs, which Vite
// inlines for small assets, or blob: URLs, which the console makes of
// attachment thumbnails it fetched with its token.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; " +
	"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// securityHeaders sets the browser's protections on every answer, and
// HSTS when the request came over https: directly, or through a trusted
// proxy that says so.
func securityHeaders(proxies []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if overHTTPS(r, proxies) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func overHTTPS(r *http.Request, proxies []netip.Prefix) bool {
	if r.TLS != nil {
		return true
	}
	if !trusted(peerHost(r), proxies) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}
