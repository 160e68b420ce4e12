package config

import "testing"

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
