package egress

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPublicAddresses(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2a00:1450:4010:c05::71": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.1.1": false, "0.0.0.0": false, "::1": false,
		"fd00::1": false, "fe80::1": false, "::ffff:127.0.0.1": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	for raw, want := range map[string]string{
		"https://93.184.216.34/hook":     "",
		"ftp://example.com/x":            "not an http or https",
		"https://":                       "not an http or https",
		"javascript:alert(1)":            "not an http or https",
		"https://user:pw@93.184.216.34/": "user name or password",
		"http://127.0.0.1:8080/hook":     "127.0.0.1",
		"http://[::1]/hook":              "::1",
		"http://169.254.169.254/latest":  "169.254.169.254",
		"http://localhost:9000/":         "this machine",
		"http://api.localhost/":          "this machine",
	} {
		err := CheckURL(ctx, raw, false)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s refused: %v", raw, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want an error naming %q", raw, err, want)
		}
	}
	if err := CheckURL(ctx, "http://127.0.0.1:8080/hook", true); err != nil {
		t.Errorf("a private address allowed by the deployment was refused: %v", err)
	}
	if err := CheckURL(ctx, "ftp://127.0.0.1/", true); err == nil {
		t.Error("allowing private addresses let a non-http address through")
	}
}

func TestClientRefusesPrivateAddressesWhenDialling(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	_, err := Client(5*time.Second, false).Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "not on the internet") {
		t.Fatalf("a call to %s: got %v, want it refused", srv.URL, err)
	}
	resp, err := Client(5*time.Second, true).Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed, the call failed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
