// Package certs makes a deployment's private CA and the certificate of
// each of its components, for mutual TLS between them (see mtls): what
// `make certs` (crm-certs) writes for compose and what the production-mode
// run makes for itself. Kubernetes gets the same layout from cert-manager.
//
// A folder holds ca.pem and ca-key.pem, and <name>.pem with <name>-key.pem
// for every component: ECDSA P-256 keys, the component's name as subject
// CN and DNS name, usable as server and as client.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/telecomcrm/crm/services/platform/config"
)

// Components are the names certificates are made for: the services, the
// worker, the gateway, the migrate job, Temporal's server and Web UI, and
// admin for operators' tools (grpcurl, the Temporal CLI).
var Components = []string{"identity", "customer", "contract", "task", "notifier", "worker", "gateway", "migrate", "temporal", "temporal-ui", "admin"}

// CAName is the subject CN of the CA Make creates.
const CAName = "CRM internal CA"

// caLifetime is the CA's: it outlives many rounds of leaf certificates.
const caLifetime = 10 * 365 * 24 * time.Hour

// backdate makes a new certificate valid a little before it was made, for
// hosts whose clocks run behind.
const backdate = 5 * time.Minute

// Files is where dir keeps the certificate of name, as the CRM_TLS_*
// settings name it.
func Files(dir, name string) config.TLS {
	return config.TLS{
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, name+".pem"),
		KeyFile:  filepath.Join(dir, name+"-key.pem"),
	}
}

// Options say what Make makes.
type Options struct {
	// Dir is the folder; it is created (0700) if missing.
	Dir string
	// Lifetime is a component certificate's.
	Lifetime time.Duration
	// Hosts are more names and addresses for every component certificate
	// beside its own name, localhost and 127.0.0.1.
	Hosts []string
	// Renew remakes every component certificate, valid or not.
	Renew bool
	// Names are the components; empty means Components.
	Names []string
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Make brings Dir to a CA and a valid certificate per component, leaving
// alone what is there and still valid (signed by the CA, unexpired, with
// the names asked for), and reports what it made or kept, a line each. A
// CA made afresh makes every certificate afresh.
func Make(o Options) ([]string, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.Names) == 0 {
		o.Names = Components
	}
	if o.Lifetime <= 0 {
		return nil, errors.New("certs: a certificate's lifetime must be positive")
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	var report []string
	now := o.Now()
	ca, err := LoadAuthority(filepath.Join(o.Dir, "ca.pem"), filepath.Join(o.Dir, "ca-key.pem"))
	fresh := err != nil || now.After(ca.Cert.NotAfter)
	if fresh {
		if ca, err = NewAuthority(CAName, now, caLifetime); err != nil {
			return nil, err
		}
		certPEM, keyPEM, err := ca.PEM()
		if err != nil {
			return nil, err
		}
		if err := writePair(o.Dir, "ca", certPEM, keyPEM); err != nil {
			return nil, err
		}
		report = append(report, fmt.Sprintf("made ca.pem, ca-key.pem (%s, valid until %s)", CAName, day(ca.Cert.NotAfter)))
	} else {
		report = append(report, fmt.Sprintf("kept ca.pem (valid until %s)", day(ca.Cert.NotAfter)))
	}
	for _, name := range o.Names {
		f := Files(o.Dir, name)
		hosts := append([]string{name, "localhost", "127.0.0.1"}, o.Hosts...)
		if !fresh && !o.Renew {
			if until, ok := valid(f, ca, hosts, now); ok {
				report = append(report, fmt.Sprintf("kept %s.pem (valid until %s)", name, day(until)))
				continue
			}
		}
		certPEM, keyPEM, err := ca.Issue(name, hosts, now, o.Lifetime)
		if err != nil {
			return nil, err
		}
		if err := writePair(o.Dir, name, certPEM, keyPEM); err != nil {
			return nil, err
		}
		report = append(report, fmt.Sprintf("made %s.pem, %s-key.pem (valid until %s)", name, name, day(now.Add(o.Lifetime))))
	}
	return report, nil
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// valid tells whether f holds a usable certificate of ca with every host
// asked for, and until when.
func valid(f config.TLS, ca *Authority, hosts []string, now time.Time) (time.Time, bool) {
	pair, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return time.Time{}, false
	}
	leaf := pair.Leaf
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
		return time.Time{}, false
	}
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return time.Time{}, false
		}
	}
	return leaf.NotAfter, true
}

// Authority is a CA: its certificate and key.
type Authority struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewAuthority makes a self-signed CA named name, valid from now for
// lifetime.
func NewAuthority(name string, now time.Time, lifetime time.Duration) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl, err := template(name, now, lifetime)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.MaxPathLenZero = true, true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, Key: key}, nil
}

// LoadAuthority reads a CA written by Make.
func LoadAuthority(certFile, keyFile string) (*Authority, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !pair.Leaf.IsCA {
		return nil, fmt.Errorf("%s is not a CA of ours", certFile)
	}
	return &Authority{Cert: pair.Leaf, Key: key}, nil
}

// PEM encodes the CA's certificate and key.
func (a *Authority) PEM() (certPEM, keyPEM []byte, err error) {
	return encode(a.Cert.Raw, a.Key)
}

// Issue makes the certificate of component name, signed by a, for hosts
// (DNS names or IP addresses; the first should be name), valid from now
// for lifetime, usable as server and as client.
func (a *Authority) Issue(name string, hosts []string, now time.Time, lifetime time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := template(name, now, lifetime)
	if err != nil {
		return nil, nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if h != "" && !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, &key.PublicKey, a.Key)
	if err != nil {
		return nil, nil, err
	}
	return encode(der, key)
}

func template(name string, now time.Time, lifetime time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"CRM"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(lifetime),
	}, nil
}

func encode(der []byte, key *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	raw, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: raw}), nil
}

// writePair writes <name>-key.pem (0600) then <name>.pem (0644), each by
// a rename, so a process reading them never sees half a file.
func writePair(dir, name string, certPEM, keyPEM []byte) error {
	if err := writeFile(filepath.Join(dir, name+"-key.pem"), keyPEM, 0o600); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, name+".pem"), certPEM, 0o644)
}

func writeFile(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
