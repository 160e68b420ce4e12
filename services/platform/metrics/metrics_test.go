package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telecomcrm/crm/services/platform/metrics"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestServeAnswersMetricsWithTheRegistryAndStopsWithTheContext(t *testing.T) {
	m := metrics.New()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "crm_test_things_total", Help: "things"})
	if err := m.Register(c); err != nil {
		t.Fatal(err)
	}
	c.Add(3)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metrics.ServeListener(ctx, lis, m.Handler(), false, slog.New(slog.DiscardHandler)) }()
	body := scrape(t, "http://"+lis.Addr().String()+"/metrics")
	for _, want := range []string{"crm_test_things_total 3", "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape lacks %q", want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop with its context")
	}
}

func TestServeShowsProfilesOnlyWhenAsked(t *testing.T) {
	for _, pprof := range []bool{false, true} {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- metrics.ServeListener(ctx, lis, metrics.New().Handler(), pprof, slog.New(slog.DiscardHandler))
		}()
		resp, err := http.Get("http://" + lis.Addr().String() + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusNotFound
		if pprof {
			want = http.StatusOK
		}
		if resp.StatusCode != want || (pprof && !strings.Contains(string(body), "goroutine profile")) {
			t.Errorf("pprof %v: /debug/pprof/goroutine answered %d (want %d)", pprof, resp.StatusCode, want)
		}
		cancel()
		<-done
	}
}

func TestServeNamesTheSettingWhenTheAddressIsTaken(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	err = metrics.Serve(context.Background(), lis.Addr().String(), metrics.New().Handler(), false, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "CRM_METRICS_ADDR") {
		t.Fatalf("got %v, want an error naming CRM_METRICS_ADDR", err)
	}
}

func TestRegisterRefusesASecondCollectorOfTheSameName(t *testing.T) {
	m := metrics.New()
	mk := func() prometheus.Collector {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: "crm_test_depth", Help: "depth"})
	}
	first := mk()
	if err := m.Register(first); err != nil {
		t.Fatal(err)
	}
	if err := m.Register(mk()); err == nil {
		t.Fatal("a clashing collector was accepted")
	}
	m.Unregister(first)
	if err := m.Register(mk()); err != nil {
		t.Fatalf("after Unregister the name is free again: %v", err)
	}
}

func TestInstrumentHTTPCountsRequestsByHandlerMethodAndCode(t *testing.T) {
	m := metrics.New()
	h := m.InstrumentHTTP("api", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	for _, p := range []string{"/a", "/b", "/missing"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	body := scrape(t, srv.URL)
	for _, want := range []string{
		`crm_http_requests_total{code="200",handler="api",method="get"} 2`,
		`crm_http_requests_total{code="404",handler="api",method="get"} 1`,
		`crm_http_request_duration_seconds_count{code="200",handler="api",method="get"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
}
