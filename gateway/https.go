package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/telecomcrm/crm/services/platform/renewable"
)

// keyPair is the certificate the gateway presents on CRM_HTTP_ADDR when it
// serves HTTPS itself (a deployment with no ingress or proxy in front). A
// renewed certificate (an ACME client, cert-manager) is presented from the
// next handshake on; files that cannot be used leave the previous one.
type keyPair struct {
	files *renewable.Files[*tls.Certificate]
}

func loadKeyPair(certFile, keyFile string, log *slog.Logger) (*keyPair, error) {
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("CRM_HTTP_TLS_CERT_FILE and CRM_HTTP_TLS_KEY_FILE go together: set both to serve HTTPS, neither for plain HTTP")
	}
	if certFile == "" {
		return nil, nil
	}
	read := func(now time.Time) (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("CRM_HTTP_TLS_CERT_FILE %s with CRM_HTTP_TLS_KEY_FILE %s: %w", certFile, keyFile, err)
		}
		if now.After(cert.Leaf.NotAfter) {
			return nil, fmt.Errorf("CRM_HTTP_TLS_CERT_FILE %s expired at %s; renew it", certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		return &cert, nil
	}
	f, err := renewable.Read("HTTPS", read, certFile, keyFile)
	if err != nil {
		return nil, err
	}
	f.Refused = func(err error) {
		log.Warn("the HTTPS certificate's files changed but cannot be used; the previous certificate stays in use", "err", err)
	}
	f.Renewed = func(cert *tls.Certificate) {
		log.Info("HTTPS certificate read again", "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &keyPair{files: f}, nil
}

// serverConfig offers HTTP/2 beside HTTP/1.1: a phone fetches the console's
// files over one connection instead of queueing them on six.
func (kp *keyPair) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.files.Current(), nil },
		NextProtos:     []string{"h2", "http/1.1"},
	}
}
