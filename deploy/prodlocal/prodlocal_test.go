package prodlocal

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServerPortsStayBelowTheMembershipColumnsLimit(t *testing.T) {
	ports, err := lowFreePorts(10)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p < 20000 || p > 32767 || seen[p] {
			t.Fatalf("port %d: want distinct ports in 20000..32767, got %v", p, ports)
		}
		seen[p] = true
	}
}

func TestServerConfigNamesTheRunsDatabasesAndPorts(t *testing.T) {
	admin, _ := url.Parse("postgres://postgres:pw@127.0.0.1:5432/postgres?sslmode=disable")
	c := &Cluster{admin: admin, dir: t.TempDir(), prefix: "crm_prod_test"}
	path, err := c.writeServerConfig("crm_prod_test_temporal", "crm_prod_test_visibility", serverPorts{
		Frontend: 21001, FrontendHTTP: 21002, FrontendMembership: 21003, History: 21004, HistoryMembership: 21005,
		Matching: 21006, MatchingMembership: 21007, Worker: 21008, WorkerMembership: 21009, Metrics: 21010,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	for _, want := range []string{
		"databaseName: crm_prod_test_temporal", "databaseName: crm_prod_test_visibility",
		`connectAddr: "127.0.0.1:5432"`, `user: "postgres"`, `password: "pw"`, "pluginName: postgres12",
		"grpcPort: 21001", "membershipPort: 21003", "rpcAddress: 127.0.0.1:21001",
		"filepath: " + filepath.Join(c.dir, "temporal", "dynamicconfig.yaml"),
		"requireClientAuth: true", "certFile: " + filepath.Join(c.dir, "certs", "temporal.pem"),
		"clientCaFiles: [" + filepath.Join(c.dir, "certs", "ca.pem") + "]", "systemWorker:", "internode: &mtls", "frontend: *mtls",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("the server's configuration lacks %q", want)
		}
	}
}

func TestTheWebUIReachesTheFrontendWithItsCertificate(t *testing.T) {
	c := &Cluster{dir: t.TempDir(), Address: "127.0.0.1:21001", cfg: Config{Namespace: "crm"}}
	root, err := c.writeUIConfig(21100)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "config", "production.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"certFile: " + filepath.Join(c.dir, "certs", "temporal-ui.pem"), "keyFile: " + filepath.Join(c.dir, "certs", "temporal-ui-key.pem"),
		"caFile: " + filepath.Join(c.dir, "certs", "ca.pem"), "serverName: temporal", "enableHostVerification: true",
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the UI's configuration lacks %q:\n%s", want, raw)
		}
	}
}
