package process

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/telecomcrm/crm/services/platform/config"
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestObserveServesMetricsWhileRunRunsAndStopsAfter(t *testing.T) {
	addr := freeAddr(t)
	log := slog.New(slog.DiscardHandler)
	err := Observe(context.Background(), "test", config.Common{MetricsAddr: addr}, log, func(ctx context.Context) error {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "go_goroutines") {
			t.Errorf("GET /metrics: %s\n%.200s", resp.Status, body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("/metrics still answers after run returned")
	}
}

func TestObserveRefusesATakenMetricsAddressBeforeRunning(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ran := false
	err = Observe(context.Background(), "test", config.Common{MetricsAddr: l.Addr().String()}, slog.New(slog.DiscardHandler), func(context.Context) error {
		ran = true
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "CRM_METRICS_ADDR") || ran {
		t.Fatalf("err %v, ran %v: want CRM_METRICS_ADDR refused before run", err, ran)
	}
}

func TestObserveWithoutSettingsJustRuns(t *testing.T) {
	ran := false
	if err := Observe(context.Background(), "test", config.Common{}, slog.New(slog.DiscardHandler), func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("err %v, ran %v", err, ran)
	}
}
