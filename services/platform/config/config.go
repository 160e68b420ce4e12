// Package config reads a process's settings from the environment, once, into
// a struct. Every deployable embeds Common and adds its own fields.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/caarlos0/env/v11"
)

// Common holds the settings every process of the stack shares.
type Common struct {
	// DataDir keeps the embedded default's SQLite files, sockets and the
	// generated internal signing key.
	DataDir string `env:"CRM_DATA_DIR" envDefault:"./.data"`
	// DatabaseURL, when set, is a PostgreSQL URL used instead of SQLite.
	DatabaseURL string     `env:"CRM_DATABASE_URL"`
	LogLevel    slog.Level `env:"CRM_LOG_LEVEL" envDefault:"info"`
	// LogFormat is text or json.
	LogFormat string `env:"CRM_LOG_FORMAT" envDefault:"text"`
	// InternalKey signs the identity one service hands to another (base64,
	// at least 32 bytes). Unset: generated once into DataDir.
	InternalKey string `env:"CRM_INTERNAL_KEY"`
	// MetricsAddr, when set, is where the process serves Prometheus's
	// GET /metrics (host:port). The gateway serves it on CRM_HTTP_ADDR too.
	MetricsAddr string `env:"CRM_METRICS_ADDR"`
	// Pprof serves Go's profiles (/debug/pprof/) beside /metrics on
	// MetricsAddr: for measuring where a benchmark's time goes, not for
	// production, where anyone reaching the port could read them.
	Pprof bool `env:"CRM_PPROF"`
	// OTelEndpoint, when set, switches tracing on: the OTLP/gRPC collector
	// spans are sent to (host:port, or an http(s):// URL).
	OTelEndpoint string `env:"CRM_OTEL_ENDPOINT"`
	// Locale is the deployment's language: the one default data (groups,
	// routes, tariffs) is written in on a new database, and the one text
	// composed for no particular reader is rendered in: ru or en.
	Locale string `env:"CRM_LOCALE" envDefault:"ru"`

	// TLS, when set, makes every connection between the components mutual
	// TLS: see TLS.
	TLS TLS

	Endpoints Endpoints
	Temporal  Temporal
}

// TLS names the PEM files of a component's certificate, its key and the
// CA every component's certificate is signed by. All three set: the
// component serves gRPC over TLS 1.3 only to callers presenting a
// certificate of that CA, dials the services and Temporal with its own
// certificate, and checks theirs. None set: plaintext, as the embedded
// stack of `make dev` runs; production sets them (docs/security.md).
type TLS struct {
	CAFile   string `env:"CRM_TLS_CA_FILE"`
	CertFile string `env:"CRM_TLS_CERT_FILE"`
	KeyFile  string `env:"CRM_TLS_KEY_FILE"`
}

// Enabled tells whether TLS is asked for (Check refuses a partial setting).
func (t TLS) Enabled() bool { return t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" }

// Check refuses a partial setting: one file missing would otherwise fall
// back to plaintext, or fail at the first handshake far from its cause.
func (t TLS) Check() error {
	var set, unset []string
	for _, f := range []struct{ name, value string }{
		{"CRM_TLS_CA_FILE", t.CAFile}, {"CRM_TLS_CERT_FILE", t.CertFile}, {"CRM_TLS_KEY_FILE", t.KeyFile},
	} {
		if strings.TrimSpace(f.value) == "" {
			unset = append(unset, f.name)
		} else {
			set = append(set, f.name)
		}
	}
	if len(set) > 0 && len(unset) > 0 {
		return fmt.Errorf("configuration: %s set but %s not: mutual TLS needs all three of CRM_TLS_CA_FILE, CRM_TLS_CERT_FILE and CRM_TLS_KEY_FILE (or none, for plaintext)",
			strings.Join(set, " and "), strings.Join(unset, " and "))
	}
	return nil
}

// Endpoints are the gRPC addresses of the services: host:port, or
// unix:/path for a socket. Unset, each is a socket under DataDir, so two
// local stacks with different data folders never collide.
type Endpoints struct {
	Customer string `env:"CRM_CUSTOMER_GRPC_ADDR"`
	Contract string `env:"CRM_CONTRACT_GRPC_ADDR"`
	Task     string `env:"CRM_TASK_GRPC_ADDR"`
	Identity string `env:"CRM_IDENTITY_GRPC_ADDR"`
	Notifier string `env:"CRM_NOTIFIER_GRPC_ADDR"`
}

// Temporal names the cluster the workflows run on.
type Temporal struct {
	Address   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	Namespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	TaskQueue string `env:"CRM_TEMPORAL_TASK_QUEUE" envDefault:"crm-tasks"`
	// TLSServerName is the name Temporal's frontend certificate must carry
	// when TLS is on; unset, the host of Address.
	TLSServerName string `env:"TEMPORAL_TLS_SERVER_NAME"`
	// TLS is the component's certificate (Common.TLS, copied by Load): set,
	// the client speaks mutual TLS to the frontend.
	TLS TLS `env:"-"`
}

// Load reads the environment into a T and fills the derived defaults of its
// Common part. An error names the variable at fault.
func Load[T any]() (T, error) { return LoadWith[T](nil) }

// LoadWith is Load over the process's environment with the given variables
// set over it, leaving the environment itself alone: for one process
// holding several configurations at once, such as parallel tests each
// starting a stack.
func LoadWith[T any](over map[string]string) (T, error) {
	environment := env.ToMap(os.Environ())
	for k, v := range over {
		environment[k] = v
	}
	cfg, err := env.ParseAsWithOptions[T](env.Options{Environment: environment})
	if err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	if c, ok := any(&cfg).(interface{ common() *Common }); ok {
		if err := c.common().resolve(); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func (c *Common) common() *Common { return c }

// Base returns the shared part of a configuration that embeds Common.
func (c *Common) Base() *Common { return c }

func (c *Common) resolve() error {
	dir, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("configuration: CRM_DATA_DIR %q: %w", c.DataDir, err)
	}
	c.DataDir = dir
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("configuration: CRM_LOG_FORMAT must be text or json, not %q", c.LogFormat)
	}
	switch c.Locale {
	case "ru", "en":
	default:
		return fmt.Errorf("configuration: CRM_LOCALE must be ru or en, not %q", c.Locale)
	}
	if err := c.TLS.Check(); err != nil {
		return err
	}
	c.Temporal.TLS = c.TLS
	for _, e := range []struct {
		addr *string
		name string
	}{
		{&c.Endpoints.Customer, "customer"},
		{&c.Endpoints.Contract, "contract"},
		{&c.Endpoints.Task, "task"},
		{&c.Endpoints.Identity, "identity"},
		{&c.Endpoints.Notifier, "notifier"},
	} {
		if *e.addr == "" {
			*e.addr = "unix:" + filepath.Join(c.SocketDir(), e.name+".sock")
		}
	}
	return nil
}

// SocketDir is where the default service sockets live.
func (c *Common) SocketDir() string { return filepath.Join(c.DataDir, "run") }

// EnsureDataDir creates DataDir and its socket folder.
func (c *Common) EnsureDataDir() error {
	if err := os.MkdirAll(c.SocketDir(), 0o700); err != nil {
		return fmt.Errorf("configuration: CRM_DATA_DIR %q cannot be created: %w", c.DataDir, err)
	}
	return nil
}

// UsesPostgres tells whether the services keep their tables in PostgreSQL.
func (c *Common) UsesPostgres() bool { return strings.TrimSpace(c.DatabaseURL) != "" }
