package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/certs"
	"github.com/telecomcrm/crm/services/platform/config"
)

// issue writes a certificate for 127.0.0.1 signed by ca, valid from start
// for lifetime, to dir and returns its files.
func issue(t *testing.T, ca *certs.Authority, dir, name string, start time.Time, lifetime time.Duration) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue(name, []string{name, "127.0.0.1"}, start, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	for path, data := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

// serveHTTPS serves a handler that says which protocol the request came
// over, with a certificate for 127.0.0.1 in dir that ca signed, and returns
// the key's file (to break a rotation) and the server's address.
func serveHTTPS(t *testing.T) (ca *certs.Authority, dir, keyFile, addr string) {
	t.Helper()
	ca, dir = authority(t), t.TempDir()
	certFile, keyFile := issue(t, ca, dir, "gateway", time.Now(), time.Hour)
	kp, err := loadKeyPair(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }),
		TLSConfig: kp.serverConfig(),
	}
	go srv.ServeTLS(lis, "", "")
	t.Cleanup(func() { srv.Close() })
	return ca, dir, keyFile, lis.Addr().String()
}

// get asks addr over HTTPS trusting ca's certificates only, and returns
// the protocol the server saw and the certificate it presented.
func get(t *testing.T, ca *certs.Authority, addr string, h2 bool) (proto string, leaf *x509.Certificate) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: h2, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body), resp.TLS.PeerCertificates[0]
}

func authority(t *testing.T) *certs.Authority {
	t.Helper()
	ca, err := certs.NewAuthority("test CA", time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestHTTPSOffersHTTP2AndHTTP1(t *testing.T) {
	ca, _, _, addr := serveHTTPS(t)
	if proto, _ := get(t, ca, addr, true); proto != "HTTP/2.0" {
		t.Errorf("a client offering h2 was served over %s, want HTTP/2.0", proto)
	}
	if proto, _ := get(t, ca, addr, false); proto != "HTTP/1.1" {
		t.Errorf("a client offering only HTTP/1.1 was served over %s", proto)
	}
}

func TestARenewedHTTPSCertificateIsPresentedAndABrokenOneIsNot(t *testing.T) {
	ca, dir, keyFile, addr := serveHTTPS(t)
	_, first := get(t, ca, addr, true)

	// Renewed in place (another key, a later expiry, as an ACME client does).
	issue(t, ca, dir, "gateway", time.Now(), 2*time.Hour)
	_, renewed := get(t, ca, addr, true)
	if renewed.SerialNumber.Cmp(first.SerialNumber) == 0 || !renewed.NotAfter.After(first.NotAfter) {
		t.Fatalf("after renewal the server still presents the certificate expiring %s", renewed.NotAfter)
	}

	// A rotation half done: the key no longer matches the certificate.
	if err := os.WriteFile(keyFile, []byte("-----BEGIN EC PRIVATE KEY-----\nbroken\n-----END EC PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, kept := get(t, ca, addr, true); kept.SerialNumber.Cmp(renewed.SerialNumber) != 0 {
		t.Errorf("a broken key replaced the certificate in use")
	}
}

func TestHTTPSFilesThatCannotWorkStopTheStart(t *testing.T) {
	ca, dir := authority(t), t.TempDir()
	good, goodKey := issue(t, ca, dir, "gateway", time.Now(), time.Hour)
	expired, expiredKey := issue(t, ca, dir, "old", time.Now().Add(-3*time.Hour), time.Hour)
	_, otherKey := issue(t, ca, dir, "other", time.Now(), time.Hour)
	log := slog.New(slog.DiscardHandler)

	if kp, err := loadKeyPair("", "", log); err != nil || kp != nil {
		t.Errorf("no files: got %v, %v; want plain HTTP", kp, err)
	}
	for _, c := range []struct{ name, cert, key, want string }{
		{"certificate without key", good, "", "go together"},
		{"key without certificate", "", goodKey, "go together"},
		{"missing file", filepath.Join(dir, "nope.pem"), goodKey, "no such file"},
		{"key of another certificate", good, otherKey, "CRM_HTTP_TLS_KEY_FILE"},
		{"expired", expired, expiredKey, "expired"},
	} {
		kp, err := loadKeyPair(c.cert, c.key, log)
		if err == nil || kp != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, %v; want an error saying %q", c.name, kp, err, c.want)
		}
	}
}

func TestTheGatewayServesHTTPSWhenGivenACertificate(t *testing.T) {
	ca, dir := authority(t), t.TempDir()
	certFile, keyFile := issue(t, ca, dir, "gateway", time.Now(), time.Hour)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	env := map[string]string{
		"CRM_DATA_DIR":           dir,
		"CRM_HTTP_ADDR":          addr,
		"CRM_INTERNAL_KEY":       "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"CRM_HTTP_TLS_CERT_FILE": certFile,
	}
	log := slog.New(slog.DiscardHandler)

	half, err := config.LoadWith[Config](env)
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), half, log); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("a certificate without its key: Run returned %v, want it to refuse to start", err)
	}

	env["CRM_HTTP_TLS_KEY_FILE"] = keyFile
	cfg, err := config.LoadWith[Config](env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, log) }()
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}}
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err = client.Get("https://" + addr + "/api/v1/openapi.json"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("the gateway did not answer over HTTPS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Proto != "HTTP/2.0" {
		t.Errorf("GET /api/v1/openapi.json over HTTPS: %s over %s, want 200 over HTTP/2.0", resp.Status, resp.Proto)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after its context ended: %v", err)
	}
}
