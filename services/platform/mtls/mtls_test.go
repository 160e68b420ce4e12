package mtls_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/telecomcrm/crm/services/platform/certs"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/mtls"
)

// logs collects what a component logs, for the tests to read.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logs) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// deployment makes a CA with certificates for customer, worker and admin.
func deployment(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.Make(certs.Options{Dir: dir, Lifetime: time.Hour, Names: []string{"customer", "worker", "admin"}}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t *testing.T, files config.TLS, log *slog.Logger) *mtls.Identity {
	t.Helper()
	id, err := mtls.Load(files, log)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// serve runs a health server over id's credentials and returns its
// address and where it records the peer of each call.
func serve(t *testing.T, id *mtls.Identity) (addr string, peers chan string) {
	t.Helper()
	peers = make(chan string, 10)
	srv := grpc.NewServer(grpc.Creds(id.ServerCredentials()), grpc.UnaryInterceptor(
		func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			name, _ := mtls.Peer(ctx)
			peers <- name
			return handler(ctx, req)
		}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), peers
}

func check(t *testing.T, addr string, creds credentials.TransportCredentials) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

// waitLog waits for the server's log to say want (it logs after the
// client has already seen its refusal).
func waitLog(t *testing.T, l *logs, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := l.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(got, w) {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server's log lacks %q:\n%s", missing, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pool(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(raw)
	return p
}

func TestComponentsOfOneCAShakeHandsAndTheServerKnowsTheCaller(t *testing.T) {
	dir := deployment(t)
	var l logs
	addr, peers := serve(t, load(t, certs.Files(dir, "customer"), l.logger()))
	worker := load(t, certs.Files(dir, "worker"), l.logger())
	if err := check(t, addr, worker.ClientCredentials("customer")); err != nil {
		t.Fatalf("worker → customer: %v", err)
	}
	if got := <-peers; got != "worker" {
		t.Errorf("the server saw %q calling, want worker", got)
	}
}

// customerServer runs the customer component's server of a new deployment
// and returns the deployment's folder, its address and its log.
func customerServer(t *testing.T) (dir, addr string, l *logs) {
	t.Helper()
	dir, l = deployment(t), &logs{}
	addr, _ = serve(t, load(t, certs.Files(dir, "customer"), l.logger()))
	return dir, addr, l
}

// presenting are the credentials of a client that trusts dir's CA and
// presents cert whatever CAs the server names as acceptable (nil: none).
func presenting(t *testing.T, dir string, cert *tls.Certificate) credentials.TransportCredentials {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool(t, dir), ServerName: "customer"}
	if cert != nil {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return credentials.NewTLS(cfg)
}

// issued is a certificate of the worker signed by ca, valid for an hour
// from start.
func issued(t *testing.T, ca *certs.Authority, start time.Time) *tls.Certificate {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue("worker", []string{"worker"}, start, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &pair
}

func TestAClientWithoutACertificateIsRefusedAndTheServerSaysWhy(t *testing.T) {
	dir, addr, l := customerServer(t)
	if err := check(t, addr, presenting(t, dir, nil)); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	waitLog(t, l, "TLS connection refused", "client didn't provide a certificate")
}

func TestAPlaintextClientIsRefused(t *testing.T) {
	_, addr, l := customerServer(t)
	if err := check(t, addr, insecure.NewCredentials()); err == nil {
		t.Fatal("a plaintext client was served")
	}
	waitLog(t, l, "TLS connection refused", "does not look like a TLS handshake")
}

func TestACertificateOfAnotherCAIsRefused(t *testing.T) {
	dir, addr, l := customerServer(t)
	other, err := certs.NewAuthority("someone else's CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(t, addr, presenting(t, dir, issued(t, other, time.Now()))); err == nil {
		t.Fatal("a certificate of another CA was accepted")
	}
	waitLog(t, l, `certificate of \"worker\" issued by \"someone else's CA\"`, "unknown authority")
}

func TestAnExpiredCertificateIsRefused(t *testing.T) {
	dir, addr, l := customerServer(t)
	ca, err := certs.LoadAuthority(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := check(t, addr, presenting(t, dir, issued(t, ca, time.Now().Add(-3*time.Hour)))); err == nil {
		t.Fatal("an expired certificate was accepted")
	}
	waitLog(t, l, `certificate of \"worker\"`, "expired")
	if strings.Contains(l.String(), "PRIVATE KEY") {
		t.Error("the log holds a key")
	}
}

func TestAClientRefusesAServerWithTheCertificateOfAnotherComponent(t *testing.T) {
	dir, addr, l := customerServer(t)
	worker := load(t, certs.Files(dir, "worker"), l.logger())
	err := check(t, addr, worker.ClientCredentials("task"))
	if err == nil || !strings.Contains(err.Error(), "not task") {
		t.Fatalf("worker dialling task reached customer: %v", err)
	}
}

func TestARenewedCertificateIsPresentedFromTheNextConnection(t *testing.T) {
	dir, addr, l := customerServer(t)
	admin, err := tls.LoadX509KeyPair(filepath.Join(dir, "admin.pem"), filepath.Join(dir, "admin-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	serial := func() string {
		c, err := tls.Dial("tcp", addr, &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool(t, dir), ServerName: "customer", Certificates: []tls.Certificate{admin}, NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	if _, err := certs.Make(certs.Options{Dir: dir, Lifetime: time.Hour, Names: []string{"customer"}, Renew: true}); err != nil {
		t.Fatal(err)
	}
	if after := serial(); after == before {
		t.Fatal("the server still presents the certificate it started with")
	}
	waitLog(t, l, "TLS certificate read again")
}

func TestABrokenRotationKeepsThePreviousCertificate(t *testing.T) {
	dir := deployment(t)
	var l logs
	id := load(t, certs.Files(dir, "customer"), l.logger())
	addr, _ := serve(t, id)
	// The certificate of customer paired with the key of worker: a
	// rotation half done.
	key, err := os.ReadFile(filepath.Join(dir, "worker-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "customer-key.pem"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	worker := load(t, certs.Files(dir, "worker"), l.logger())
	for range 2 {
		if err := check(t, addr, worker.ClientCredentials("customer")); err != nil {
			t.Fatalf("a half-done rotation broke the server: %v", err)
		}
	}
	if n := strings.Count(l.String(), "cannot be used"); n != 1 {
		t.Errorf("the broken files were logged %d times, want once:\n%s", n, l.String())
	}
}

func TestLoadRefusesFilesThatCannotWork(t *testing.T) {
	dir := deployment(t)
	ca, err := certs.LoadAuthority(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue("worker", []string{"worker"}, time.Now().Add(-3*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired := filepath.Join(t.TempDir(), "expired")
	os.WriteFile(expired+".pem", certPEM, 0o600)
	os.WriteFile(expired+"-key.pem", keyPEM, 0o600)
	otherDir := deployment(t)
	customer := certs.Files(dir, "customer")
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name  string
		files config.TLS
		want  string
	}{
		{"a file missing", config.TLS{CAFile: customer.CAFile, CertFile: customer.CertFile, KeyFile: filepath.Join(dir, "absent.pem")}, "absent.pem"},
		{"a partial setting", config.TLS{CAFile: customer.CAFile}, "CRM_TLS_CERT_FILE and CRM_TLS_KEY_FILE not"},
		{"a key of another certificate", config.TLS{CAFile: customer.CAFile, CertFile: customer.CertFile, KeyFile: filepath.Join(dir, "worker-key.pem")}, "private key does not match"},
		{"a certificate of another CA", config.TLS{CAFile: customer.CAFile, CertFile: filepath.Join(otherDir, "customer.pem"), KeyFile: filepath.Join(otherDir, "customer-key.pem")}, "is not one CRM_TLS_CA_FILE"},
		{"an expired certificate", config.TLS{CAFile: customer.CAFile, CertFile: expired + ".pem", KeyFile: expired + "-key.pem"}, "expired at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mtls.Load(tc.files, log)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if id, err := mtls.Load(config.TLS{}, log); id != nil || err != nil {
		t.Errorf("no files: %v, %v; want plaintext (nil, nil)", id, err)
	}
	if _, err := mtls.LoadFor("task", customer, log); err == nil || !strings.Contains(err.Error(), "certificate of customer, not of task") {
		t.Errorf("LoadFor with another component's certificate: %v", err)
	}
}
