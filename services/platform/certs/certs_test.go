package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func make1(t *testing.T, o Options) []string {
	t.Helper()
	report, err := Make(o)
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func TestEveryComponentGetsACertificateOfTheCAWithItsNames(t *testing.T) {
	dir := t.TempDir()
	make1(t, Options{Dir: dir, Lifetime: 24 * time.Hour, Hosts: []string{"crm.example", "10.0.0.5"}})
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(read(t, filepath.Join(dir, "ca.pem"))) {
		t.Fatal("ca.pem holds no certificate")
	}
	for _, name := range Components {
		f := Files(dir, name)
		pair, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		leaf := pair.Leaf
		if leaf.Subject.CommonName != name {
			t.Errorf("%s: CN %q", name, leaf.Subject.CommonName)
		}
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("%s does not chain to ca.pem for usage %v: %v", name, usage, err)
			}
		}
		for _, host := range []string{name, "localhost", "127.0.0.1", "crm.example", "10.0.0.5"} {
			if err := leaf.VerifyHostname(host); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if leaf.VerifyHostname("customer-other") == nil {
			t.Errorf("%s is valid for a name it was not made for", name)
		}
		fi, err := os.Stat(f.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: key mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "ca-key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("ca-key.pem: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}

func TestARunOverValidFilesKeepsThem(t *testing.T) {
	dir := t.TempDir()
	o := Options{Dir: dir, Lifetime: 24 * time.Hour, Names: []string{"customer", "worker"}}
	make1(t, o)
	before := read(t, filepath.Join(dir, "customer.pem"))
	ca := read(t, filepath.Join(dir, "ca.pem"))
	report := make1(t, o)
	if !bytes.Equal(before, read(t, filepath.Join(dir, "customer.pem"))) || !bytes.Equal(ca, read(t, filepath.Join(dir, "ca.pem"))) {
		t.Fatal("a second run rewrote valid files")
	}
	for _, line := range report {
		if !strings.HasPrefix(line, "kept ") {
			t.Errorf("second run reports %q", line)
		}
	}
}

func TestRenewRemakesTheComponentsUnderTheSameCA(t *testing.T) {
	dir := t.TempDir()
	o := Options{Dir: dir, Lifetime: 24 * time.Hour, Names: []string{"customer"}}
	make1(t, o)
	ca, leaf := read(t, filepath.Join(dir, "ca.pem")), read(t, filepath.Join(dir, "customer.pem"))
	o.Renew = true
	make1(t, o)
	if !bytes.Equal(ca, read(t, filepath.Join(dir, "ca.pem"))) {
		t.Error("-renew replaced the CA")
	}
	if bytes.Equal(leaf, read(t, filepath.Join(dir, "customer.pem"))) {
		t.Error("-renew kept the component's certificate")
	}
}

func TestExpiredCertificatesAreRemade(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	o := Options{Dir: dir, Lifetime: time.Hour, Names: []string{"customer"}, Now: func() time.Time { return start }}
	make1(t, o)
	leaf := read(t, filepath.Join(dir, "customer.pem"))
	o.Now = func() time.Time { return start.Add(2 * time.Hour) }
	report := make1(t, o)
	if bytes.Equal(leaf, read(t, filepath.Join(dir, "customer.pem"))) {
		t.Fatalf("an expired certificate was kept: %v", report)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "customer.pem"), filepath.Join(dir, "customer-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !pair.Leaf.NotAfter.After(start.Add(2 * time.Hour)) {
		t.Errorf("the new certificate ends %s, already past", pair.Leaf.NotAfter)
	}
}

func TestACertificateMissingANameOrOfAnotherCAIsRemade(t *testing.T) {
	dir := t.TempDir()
	o := Options{Dir: dir, Lifetime: 24 * time.Hour, Names: []string{"customer", "task"}}
	make1(t, o)
	other, err := NewAuthority("another CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := other.Issue("task", []string{"task", "localhost", "127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := writePair(dir, "task", certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	customer := read(t, filepath.Join(dir, "customer.pem"))
	o.Hosts = []string{"crm.example"}
	make1(t, o)
	if bytes.Equal(customer, read(t, filepath.Join(dir, "customer.pem"))) {
		t.Error("a certificate without the host asked for was kept")
	}
	if bytes.Equal(certPEM, read(t, filepath.Join(dir, "task.pem"))) {
		t.Error("a certificate of another CA was kept")
	}
}
