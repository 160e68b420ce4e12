// Package mtls is a component's identity on the internal network: its
// certificate and key, and the CA that signs every component's, read from
// the files CRM_TLS_* name. It makes the transport credentials of the gRPC
// servers and clients (mutual TLS 1.3 only) and tells a server which
// component is calling.
//
// A certificate names its component in its subject CN (and a DNS name):
// identity, customer, contract, task, notifier, worker, gateway, migrate,
// temporal, temporal-ui, admin. A client checks that the server it dialled
// presents the certificate of the service it meant to reach.
//
// The files are read again at the first handshake after one of them
// changes, so a certificate renewed on disk (cert-manager, crm-certs
// -renew) is presented from the next connection on, without a restart.
package mtls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/renewable"
)

// Identity is a component's certificate and key with the CA it trusts.
type Identity struct {
	files *renewable.Files[*material]
	log   *slog.Logger
}

type material struct {
	cert tls.Certificate
	pool *x509.CertPool
}

// Load reads the files config.TLS names. It returns nil when none is set
// (plaintext), and an error naming the file at fault when they cannot be
// used: a file missing, a key not matching its certificate, a certificate
// not signed by the CA, expired, or naming no component.
func Load(files config.TLS, log *slog.Logger) (*Identity, error) {
	if !files.Enabled() {
		return nil, nil
	}
	if err := files.Check(); err != nil {
		return nil, err
	}
	f, err := renewable.Read("mutual TLS", func(now time.Time) (*material, error) { return read(files, now) }, files.CAFile, files.CertFile, files.KeyFile)
	if err != nil {
		return nil, err
	}
	f.Refused = func(err error) {
		log.Warn("the TLS files changed but cannot be used; the previous certificate stays in use", "err", err)
	}
	f.Renewed = func(m *material) {
		log.Info("TLS certificate read again", "component", m.cert.Leaf.Subject.CommonName, "not_after", m.cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &Identity{files: f, log: log}, nil
}

// LoadFor is Load for the process of component, which refuses to start
// with a certificate of another (the wrong secret mounted): its peers
// would refuse every call.
func LoadFor(component string, files config.TLS, log *slog.Logger) (*Identity, error) {
	id, err := Load(files, log)
	if err != nil || id == nil {
		return id, err
	}
	if name := id.Name(); name != component {
		return nil, fmt.Errorf("CRM_TLS_CERT_FILE %s is the certificate of %s, not of %s", files.CertFile, name, component)
	}
	return id, nil
}

// Name is the component the certificate names.
func (id *Identity) Name() string { return id.files.Last().cert.Leaf.Subject.CommonName }

func read(f config.TLS, now time.Time) (*material, error) {
	caPEM, err := os.ReadFile(f.CAFile)
	if err != nil {
		return nil, fmt.Errorf("CRM_TLS_CA_FILE: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("CRM_TLS_CA_FILE %s holds no PEM certificate", f.CAFile)
	}
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("CRM_TLS_CERT_FILE %s with CRM_TLS_KEY_FILE %s: %w", f.CertFile, f.KeyFile, err)
	}
	leaf := cert.Leaf
	name := leaf.Subject.CommonName
	if name == "" {
		return nil, fmt.Errorf("CRM_TLS_CERT_FILE %s names no component: its subject CN must be the component's name (customer, worker, …)", f.CertFile)
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("CRM_TLS_CERT_FILE %s: the certificate of %s expired at %s; renew it", f.CertFile, name, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	inter := x509.NewCertPool()
	for _, raw := range cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(raw); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("CRM_TLS_CERT_FILE %s: the certificate of %s is not one CRM_TLS_CA_FILE %s vouches for: %w", f.CertFile, name, f.CAFile, err)
	}
	return &material{cert: cert, pool: pool}, nil
}

// current is the material to handshake with, read again first if a file
// changed; files that cannot be used (a rotation half done, a mismatched
// pair) leave the previous material in use.
func (id *Identity) current() *material { return id.files.Current() }

func (m *material) server() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{m.cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    m.pool,
	}
}

func (m *material) client(serverName string) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{m.cert},
		RootCAs:      m.pool,
		ServerName:   serverName,
	}
}

// ServerCredentials are a gRPC server's: TLS 1.3, a client certificate
// signed by the CA required. A refused connection is logged with the
// reason (no certificate, another CA's, expired, not TLS at all).
func (id *Identity) ServerCredentials() credentials.TransportCredentials {
	return &transport{id: id}
}

// ClientCredentials are a gRPC client's: this component's certificate
// presented, and the server's checked against the CA and serverName (the
// component dialled, or the name on Temporal's certificate).
func (id *Identity) ClientCredentials(serverName string) credentials.TransportCredentials {
	return &transport{id: id, serverName: serverName}
}

// transport builds the TLS configuration afresh for each handshake, from
// the files as they are now.
type transport struct {
	id         *Identity
	serverName string
}

func (t *transport) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if t.serverName != "" {
		// gRPC's TLS checks the server against the authority it is given.
		authority = t.serverName
	}
	return credentials.NewTLS(t.id.current().client(t.serverName)).ClientHandshake(ctx, authority, raw)
}

func (t *transport) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := credentials.NewTLS(t.id.current().server()).ServerHandshake(raw)
	if err != nil {
		t.id.log.Warn("TLS connection refused", "remote", remote(raw), "reason", reason(err))
	}
	return conn, info, err
}

func (t *transport) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls"}
}

func (t *transport) Clone() credentials.TransportCredentials {
	c := *t
	return &c
}

// OverrideServerName is gRPC's older way to set the name checked.
func (t *transport) OverrideServerName(name string) error {
	t.serverName = name
	return nil
}

// remote names the other end of a connection; a Unix socket's peer has
// no address ("@").
func remote(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "local socket"
}

// reason says why a handshake failed in the words of crypto/tls and
// crypto/x509, naming the certificate presented when it was the fault.
func reason(err error) string {
	var v *tls.CertificateVerificationError
	if errors.As(err, &v) && len(v.UnverifiedCertificates) > 0 {
		c := v.UnverifiedCertificates[0]
		return fmt.Sprintf("certificate of %q issued by %q, valid until %s: %v",
			c.Subject.CommonName, c.Issuer.CommonName, c.NotAfter.UTC().Format(time.RFC3339), v.Err)
	}
	return err.Error()
}

// Peer is the component the caller of the current gRPC request proved to
// be: the subject CN of the client certificate its connection presented,
// verified against the CA. ok is false on a connection without TLS.
func Peer(ctx context.Context) (name string, ok bool) {
	p, found := peer.FromContext(ctx)
	if !found {
		return "", false
	}
	info, isTLS := p.AuthInfo.(credentials.TLSInfo)
	if !isTLS || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return "", false
	}
	return info.State.VerifiedChains[0][0].Subject.CommonName, true
}
