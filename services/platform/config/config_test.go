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
