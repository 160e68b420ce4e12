package main

import "testing"

func TestAGatewayServingHTTPSIsAskedOverHTTPS(t *testing.T) {
	for _, c := range []struct {
		url   string
		https bool
		want  string
	}{
		{"http://127.0.0.1:8080/healthz", false, "http://127.0.0.1:8080/healthz"},
		{"http://127.0.0.1:8080/healthz", true, "https://127.0.0.1:8080/healthz"},
		{"https://127.0.0.1:8080/healthz", true, "https://127.0.0.1:8080/healthz"},
		{"https://127.0.0.1:8080/healthz", false, "https://127.0.0.1:8080/healthz"},
	} {
		if got := ownScheme(c.url, c.https); got != c.want {
			t.Errorf("ownScheme(%q, %v) = %q, want %q", c.url, c.https, got, c.want)
		}
	}
}
