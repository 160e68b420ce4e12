// Package gateway is the REST API the console speaks: grpc-gateway in front
// of the services, with authentication, and the built console's files.
//
// A request's bearer token is resolved by the identity service (or from a
// cache of the sessions it checked lately, which its revocations clear at
// once; see services/platform/auth/sessioncache); the user is
// then forwarded to the backend as a principal signed with the internal key.
// No header of the client's own reaches a backend.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/telecomcrm/crm/services/platform/config"
)

// Name is the gateway's name in logs.
const Name = "gateway"

// Config is the gateway's configuration.
type Config struct {
	config.Common
	HTTPAddr string `env:"CRM_HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// TLSCertFile and TLSKeyFile, both set, have CRM_HTTP_ADDR speak HTTPS
	// (HTTP/2 and HTTP/1.1) with that certificate (PEM, the chain after the
	// leaf); unset, it speaks plain HTTP for an ingress or proxy in front.
	TLSCertFile string `env:"CRM_HTTP_TLS_CERT_FILE"`
	TLSKeyFile  string `env:"CRM_HTTP_TLS_KEY_FILE"`
	// ConsoleDir holds the built console (index.html and assets); unset,
	// only the API is served.
	ConsoleDir string `env:"CRM_CONSOLE_DIR"`
	// TrustedProxies are the proxies (CIDRs) whose X-Forwarded-For is
	// believed for the client's address.
	TrustedProxies []string `env:"CRM_TRUSTED_PROXIES" envSeparator:","`
	// TemporalUIURL is where people open a task's workflow (the console
	// links there); empty hides the link.
	TemporalUIURL string `env:"CRM_TEMPORAL_UI_URL"`
	// TemporalUIUpstream is the Temporal Web UI server (started with
	// publicPath /temporal) the gateway serves at /temporal/, to signed-in
	// users allowed to see workflows only; set, the console links there
	// unless TemporalUIURL names another UI.
	TemporalUIUpstream string `env:"CRM_TEMPORAL_UI_UPSTREAM"`
	// PublicURL is the console's address as people reach it: an https one
	// marks the Temporal UI's ticket cookie Secure. Unset, each request
	// tells by how it came.
	PublicURL string `env:"CRM_PUBLIC_URL"`
	// AttachmentMaxBytes bounds an uploaded file (the task service holds
	// the same bound; here it stops a large body early).
	AttachmentMaxBytes int64 `env:"CRM_ATTACHMENT_MAX_BYTES" envDefault:"20971520"`
	// ImportMaxBytes bounds an import's file (the contract service holds
	// the same bound).
	ImportMaxBytes int64 `env:"CRM_IMPORT_MAX_BYTES" envDefault:"67108864"`
	// SessionCacheSize bounds the verified sessions kept in memory.
	SessionCacheSize int `env:"CRM_SESSION_CACHE_SIZE" envDefault:"10000"`
	// SessionCacheTTL is how long a verified session is trusted without
	// asking the identity service again (at most 30s; 0 asks on every
	// request). A logout, a new password, a deactivation or a change of
	// rights ends it at once regardless.
	SessionCacheTTL time.Duration `env:"CRM_SESSION_CACHE_TTL" envDefault:"30s"`
}

// Run serves HTTP until ctx ends, then drains in-flight requests.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	key, err := cfg.SigningKey()
	if err != nil {
		return err
	}
	kp, err := loadKeyPair(cfg.TLSCertFile, cfg.TLSKeyFile, log)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("CRM_HTTP_ADDR %s cannot be used: %w", cfg.HTTPAddr, err)
	}
	h, closeBackends, err := New(ctx, cfg, key, log)
	if err != nil {
		lis.Close()
		return err
	}
	defer closeBackends()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// A 1 MiB body needs far less; a slow client holds no connection
		// longer.
		ReadTimeout: 30 * time.Second,
		// The slowest call (a task command waiting for its workflow's step)
		// answers well within this.
		WriteTimeout: 90 * time.Second,
		IdleTimeout:  2 * time.Minute,
	}
	done := make(chan error, 1)
	if kp != nil {
		srv.TLSConfig = kp.serverConfig()
		go func() { done <- srv.ServeTLS(lis, "", "") }()
	} else {
		go func() { done <- srv.Serve(lis) }()
	}
	log.Info("serving", "addr", cfg.HTTPAddr, "https", kp != nil)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
