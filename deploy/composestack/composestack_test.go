package composestack

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestExtraEnvGivesEveryCRMServiceTheSettingsAsWritten(t *testing.T) {
	got := string(extraEnv(map[string]string{"CRM_TELEGRAM_API_URL": "http://127.0.0.1:4000/bot", "CRM_ODD": `a "quoted" $value`}))
	for _, svc := range crmServices {
		if !strings.Contains(got, "\n  "+svc+":\n    environment:\n") {
			t.Errorf("no environment for %s in\n%s", svc, got)
		}
	}
	for _, want := range []string{`      CRM_TELEGRAM_API_URL: "http://127.0.0.1:4000/bot"`, `      CRM_ODD: "a \"quoted\" $$value"`} {
		if strings.Count(got, want+"\n") != len(crmServices) {
			t.Errorf("want %q once per service in\n%s", want, got)
		}
	}
	if strings.Contains(got, "postgres:") || strings.Contains(got, "temporal:") {
		t.Errorf("the extra settings reach only the CRM's own services:\n%s", got)
	}
}

func TestHealthChecksRunFromTheHost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	pg, err := checkFor([]string{"pg_isready", "-h", "127.0.0.1", "-p", port, "-U", "crm"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pg(context.Background()); err != nil {
		t.Errorf("pg_isready on a listening port: %v", err)
	}
	l.Close()
	if err := pg(context.Background()); err == nil {
		t.Error("pg_isready on a closed port passed")
	}
	for _, test := range [][]string{{"/usr/local/bin/crm-probe", "grpc", "127.0.0.1:1"}, {"/usr/local/bin/crm-probe", "http", "http://127.0.0.1:1/healthz"}} {
		check, err := checkFor(test)
		if err != nil {
			t.Fatalf("%q: %v", test, err)
		}
		if check(context.Background()) == nil {
			t.Errorf("%q passed with nothing listening", test)
		}
	}
	if _, err := checkFor([]string{"curl", "-f", "http://x"}); err == nil {
		t.Error("an unknown health check was taken")
	}
}

func TestSecretsAreMadeOnceAndFitWhereTheyGo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "compose", "secrets.env")
	first, err := Secrets(file)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Secrets(file)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range first {
		if again[k] != v {
			t.Errorf("%s changed between calls", k)
		}
	}
	if key, err := base64.StdEncoding.DecodeString(first["CRM_INTERNAL_KEY"]); err != nil || len(key) != 32 {
		t.Errorf("CRM_INTERNAL_KEY is not base64 of 32 bytes: %v, %d", err, len(key))
	}
	u, err := url.Parse("postgres://crm:" + first["POSTGRES_PASSWORD"] + "@127.0.0.1/crm")
	if err != nil {
		t.Fatalf("the database password breaks a URL: %v", err)
	}
	if p, _ := u.User.Password(); p != first["POSTGRES_PASSWORD"] {
		t.Errorf("the database password reads back as %q", p)
	}
	if len(first["CRM_ADMIN_PASSWORD"]) < 12 {
		t.Errorf("the first admin's password is shorter than 12: %q", first["CRM_ADMIN_PASSWORD"])
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("secrets file mode: %v %v", st.Mode(), err)
	}
}

func TestCertificatesAreMadeOnceForEveryComponentAndHandedToTheImagesUser(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if err := Certificates(dir); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, "task.pem"))
	if err != nil {
		t.Fatal(err)
	}
	// every file a compose service mounts is there
	for _, name := range []string{"ca.pem", "admin.pem", "admin-key.pem", "temporal.pem", "temporal-ui-key.pem", "migrate.pem", "worker-key.pem"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Getuid() == 0 && st.Uid != imageUser {
			t.Errorf("%s belongs to uid %d, want the images' %d", name, st.Uid, imageUser)
		}
	}
	if err := Certificates(dir); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "task.pem")); string(after) != string(before) {
		t.Error("a second run remade a valid certificate")
	}
}

func TestMetricsURLsAreWhereTheHostOverrideServesThem(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "compose", "compose.host.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// service headers are indented two spaces; the address is in the
	// service's environment
	declared := map[string]string{}
	var service string
	for _, line := range strings.Split(string(raw), "\n") {
		if name, ok := strings.CutSuffix(line, ":"); ok && strings.HasPrefix(name, "  ") && !strings.HasPrefix(name, "   ") {
			service = strings.TrimSpace(name)
		}
		if _, addr, ok := strings.Cut(line, "CRM_METRICS_ADDR: "); ok {
			declared[service] = "http://" + strings.TrimSpace(addr) + "/metrics"
		}
	}
	got := (&Stack{}).MetricsURLs()
	if len(declared) != len(got) {
		t.Errorf("compose.host.yaml gives %d services a metrics address, MetricsURLs knows %d: %v / %v", len(declared), len(got), declared, got)
	}
	for name, url := range declared {
		if got[name] != url {
			t.Errorf("%s serves /metrics at %s, MetricsURLs says %q", name, url, got[name])
		}
	}
}

func TestUpScalesTheServicesItIsTold(t *testing.T) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	fake := filepath.Join(dir, "compose")
	// a compose command that records what it was asked
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\" > "+args+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Compose: fake, Dir: dir, Project: "p", WorkDir: dir, Scale: map[string]int{"worker-2": 0}}
	if _, err := Up(context.Background(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(args)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), " up ") || !strings.HasSuffix(strings.TrimSpace(string(got)), "--scale worker-2=0") {
		t.Errorf("compose was asked %q, want an up ending in --scale worker-2=0", got)
	}
	cfg.Scale = nil
	if _, err := Up(context.Background(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(args); strings.Contains(string(got), "--scale") {
		t.Errorf("no scale given, compose was asked %q", got)
	}
}
