package config

import (
	"strings"
	"testing"
)

type probe struct {
	Common
}

func TestLoadReadsTheObservabilitySettings(t *testing.T) {
	t.Setenv("CRM_DATA_DIR", t.TempDir())
	t.Setenv("CRM_METRICS_ADDR", "0.0.0.0:9100")
	t.Setenv("CRM_OTEL_ENDPOINT", "collector:4317")
	c, err := Load[probe]()
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "0.0.0.0:9100" || c.OTelEndpoint != "collector:4317" {
		t.Fatalf("metrics %q, otel %q", c.MetricsAddr, c.OTelEndpoint)
	}
}

func TestObservabilityIsOffUnlessConfigured(t *testing.T) {
	t.Setenv("CRM_DATA_DIR", t.TempDir())
	t.Setenv("CRM_METRICS_ADDR", "")
	t.Setenv("CRM_OTEL_ENDPOINT", "")
	c, err := Load[probe]()
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "" || c.OTelEndpoint != "" {
		t.Fatalf("metrics %q, otel %q: want both off", c.MetricsAddr, c.OTelEndpoint)
	}
}

func TestLocaleIsRussianUnlessConfigured(t *testing.T) {
	t.Setenv("CRM_DATA_DIR", t.TempDir())
	for _, tc := range []struct{ env, want string }{{"", "ru"}, {"en", "en"}, {"ru", "ru"}} {
		if tc.env == "" {
			t.Setenv("CRM_LOCALE", "")
		} else {
			t.Setenv("CRM_LOCALE", tc.env)
		}
		c, err := Load[probe]()
		if err != nil {
			t.Fatal(err)
		}
		if c.Locale != tc.want {
			t.Fatalf("CRM_LOCALE=%q gave %q, want %q", tc.env, c.Locale, tc.want)
		}
	}
	t.Setenv("CRM_LOCALE", "de")
	if _, err := Load[probe](); err == nil {
		t.Fatal("CRM_LOCALE=de was accepted")
	}
}

func TestTLSFilesGoTogether(t *testing.T) {
	t.Setenv("CRM_DATA_DIR", t.TempDir())
	t.Setenv("CRM_TLS_CA_FILE", "/certs/ca.pem")
	t.Setenv("CRM_TLS_CERT_FILE", "/certs/task.pem")
	t.Setenv("CRM_TLS_KEY_FILE", "")
	_, err := Load[probe]()
	if err == nil || !strings.Contains(err.Error(), "CRM_TLS_CA_FILE and CRM_TLS_CERT_FILE set but CRM_TLS_KEY_FILE not") {
		t.Fatalf("a partial TLS setting: %v", err)
	}
	t.Setenv("CRM_TLS_KEY_FILE", "/certs/task-key.pem")
	c, err := Load[probe]()
	if err != nil {
		t.Fatal(err)
	}
	if !c.TLS.Enabled() || c.Temporal.TLS != c.TLS {
		t.Fatalf("TLS %+v, Temporal's %+v: want both set", c.TLS, c.Temporal.TLS)
	}
}

func TestWithoutTLSFilesTheStackIsPlaintext(t *testing.T) {
	t.Setenv("CRM_DATA_DIR", t.TempDir())
	for _, k := range []string{"CRM_TLS_CA_FILE", "CRM_TLS_CERT_FILE", "CRM_TLS_KEY_FILE"} {
		t.Setenv(k, "")
	}
	c, err := Load[probe]()
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.Enabled() || c.Temporal.TLS.Enabled() {
		t.Fatalf("TLS on without files: %+v", c.TLS)
	}
}
