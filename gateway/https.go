package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// keyPair is the certificate the gateway presents on CRM_HTTP_ADDR when it
// serves HTTPS itself (a deployment with no ingress or proxy in front). The
// files are read again at the first handshake after one of them changes, so
// a renewed certificate (an ACME client, cert-manager) is presented without
// a restart; files that cannot be used leave the previous one in place.
type keyPair struct {
	certFile, keyFile string
	log               *slog.Logger

	mu     sync.Mutex
	cert   *tls.Certificate
	stamp  fileStamp
	failed fileStamp
}

// fileStamp tells one state of the two files from another: replacing a
// file changes its modification time or size.
type fileStamp [2]struct{ mod, size int64 }

func loadKeyPair(certFile, keyFile string, log *slog.Logger) (*keyPair, error) {
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("CRM_HTTP_TLS_CERT_FILE and CRM_HTTP_TLS_KEY_FILE go together: set both to serve HTTPS, neither for plain HTTP")
	}
	if certFile == "" {
		return nil, nil
	}
	kp := &keyPair{certFile: certFile, keyFile: keyFile, log: log}
	st, cert, err := kp.read(time.Now())
	if err != nil {
		return nil, err
	}
	kp.stamp, kp.cert = st, cert
	return kp, nil
}

func (kp *keyPair) stat() (fileStamp, error) {
	var s fileStamp
	for i, path := range []string{kp.certFile, kp.keyFile} {
		fi, err := os.Stat(path)
		if err != nil {
			return s, err
		}
		s[i].mod, s[i].size = fi.ModTime().UnixNano(), fi.Size()
	}
	return s, nil
}

func (kp *keyPair) read(now time.Time) (fileStamp, *tls.Certificate, error) {
	st, err := kp.stat()
	if err != nil {
		return st, nil, fmt.Errorf("HTTPS: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(kp.certFile, kp.keyFile)
	if err != nil {
		return st, nil, fmt.Errorf("CRM_HTTP_TLS_CERT_FILE %s with CRM_HTTP_TLS_KEY_FILE %s: %w", kp.certFile, kp.keyFile, err)
	}
	if now.After(cert.Leaf.NotAfter) {
		return st, nil, fmt.Errorf("CRM_HTTP_TLS_CERT_FILE %s expired at %s; renew it", kp.certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return st, &cert, nil
}

// certificate is tls.Config's GetCertificate.
func (kp *keyPair) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	st, err := kp.stat()
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if err != nil || st == kp.stamp || st == kp.failed {
		return kp.cert, nil
	}
	st, cert, err := kp.read(time.Now())
	if err != nil {
		kp.failed = st
		kp.log.Warn("the HTTPS certificate's files changed but cannot be used; the previous certificate stays in use", "err", err)
		return kp.cert, nil
	}
	kp.cert, kp.stamp, kp.failed = cert, st, fileStamp{}
	kp.log.Info("HTTPS certificate read again", "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return cert, nil
}

// serverConfig offers HTTP/2 beside HTTP/1.1: a phone fetches the console's
// files over one connection instead of queueing them on six.
func (kp *keyPair) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: kp.certificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}
