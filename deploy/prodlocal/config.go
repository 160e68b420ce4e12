package prodlocal

import (
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"text/template"

	"github.com/telecomcrm/crm/services/platform/certs"
)

// serverPorts are the loopback ports of the server's four services.
type serverPorts struct {
	Frontend, FrontendHTTP, FrontendMembership int
	History, HistoryMembership                 int
	Matching, MatchingMembership               int
	Worker, WorkerMembership                   int
	Metrics                                    int
}

// serverConfig is the server's static configuration: the module's
// config/development-postgres12.yaml, with our databases, free loopback
// ports, quieter logs, and no archival; and mutual TLS with the temporal
// certificate on the frontend (clients must present one of the CA's) and
// between the server's own services (internode), which the system worker
// reaches the frontend with as well. The files are read again every
// minute, so a renewed certificate is taken up without a restart.
var serverConfig = template.Must(template.New("server").Parse(`log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: {{.TemporalDB}}
        connectAddr: "{{.PGAddr}}"
        connectProtocol: tcp
        user: "{{.PGUser}}"
        password: "{{.PGPassword}}"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: {{.VisibilityDB}}
        connectAddr: "{{.PGAddr}}"
        connectProtocol: tcp
        user: "{{.PGUser}}"
        password: "{{.PGPassword}}"
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: 1h

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  tls:
    refreshInterval: 1m
    internode: &mtls
      server:
        certFile: {{.TLS.CertFile}}
        keyFile: {{.TLS.KeyFile}}
        requireClientAuth: true
        clientCaFiles: [{{.TLS.CAFile}}]
      client:
        serverName: temporal
        rootCaFiles: [{{.TLS.CAFile}}]
    frontend: *mtls
    systemWorker:
      certFile: {{.TLS.CertFile}}
      keyFile: {{.TLS.KeyFile}}
      client:
        serverName: temporal
        rootCaFiles: [{{.TLS.CAFile}}]
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: 127.0.0.1:{{.Ports.Metrics}}

services:
  frontend:
    rpc:
      grpcPort: {{.Ports.Frontend}}
      membershipPort: {{.Ports.FrontendMembership}}
      bindOnLocalHost: true
      httpPort: {{.Ports.FrontendHTTP}}
  matching:
    rpc:
      grpcPort: {{.Ports.Matching}}
      membershipPort: {{.Ports.MatchingMembership}}
      bindOnLocalHost: true
  history:
    rpc:
      grpcPort: {{.Ports.History}}
      membershipPort: {{.Ports.HistoryMembership}}
      bindOnLocalHost: true
  worker:
    rpc:
      grpcPort: {{.Ports.Worker}}
      membershipPort: {{.Ports.WorkerMembership}}
      bindOnLocalHost: true

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:{{.Ports.Frontend}}

dcRedirectionPolicy:
  policy: noop

dynamicConfigClient:
  filepath: {{.DynamicConfig}}
  pollInterval: 10s
`))

// dynamicConfig lifts the per-shard poll rate that alone adds ~100 ms to
// every activity a workflow schedules on a small cluster, reads search
// attributes fresh so new ones are usable at once, and dispatches by task
// priority (workflows/queueorder).
const dynamicConfig = `matching.useNewMatcher:
  - value: true
history.transferProcessorMaxPollRPS:
  - value: 1000
history.timerProcessorMaxPollRPS:
  - value: 1000
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
limit.maxIDLength:
  - value: 255
`

func (c *Cluster) writeServerConfig(temporalDB, visibilityDB string, p serverPorts) (string, error) {
	dir := filepath.Join(c.dir, "temporal")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	dyn := filepath.Join(dir, "dynamicconfig.yaml")
	if err := os.WriteFile(dyn, []byte(dynamicConfig), 0o600); err != nil {
		return "", err
	}
	port := c.admin.Port()
	if port == "" {
		port = "5432"
	}
	pass, _ := c.admin.User.Password()
	f, err := os.OpenFile(filepath.Join(dir, "server.yaml"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	defer f.Close()
	err = serverConfig.Execute(f, map[string]any{
		"TemporalDB": temporalDB, "VisibilityDB": visibilityDB,
		"PGAddr": net.JoinHostPort(c.admin.Hostname(), port), "PGUser": c.admin.User.Username(), "PGPassword": pass,
		"Ports": p, "DynamicConfig": dyn, "TLS": certs.Files(c.certDir(), "temporal"),
	})
	return f.Name(), err
}

// writeUIConfig writes the Web UI's configuration folder and returns the
// root it is under. The UI reaches the frontend over mutual TLS with the
// temporal-ui certificate.
func (c *Cluster) writeUIConfig(port int) (string, error) {
	root := filepath.Join(c.dir, "ui")
	dir := filepath.Join(root, "config")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	ui := certs.Files(c.certDir(), "temporal-ui")
	cfg := fmt.Sprintf(`temporalGrpcAddress: %s
host: 127.0.0.1
port: %d
enableUi: true
defaultNamespace: %s
refreshInterval: 1m
notifyOnNewVersion: false
disableNewsFetch: true
auth:
  enabled: false
tls:
  caFile: %s
  certFile: %s
  keyFile: %s
  serverName: temporal
  enableHostVerification: true
`, c.Address, port, c.cfg.Namespace, ui.CAFile, ui.CertFile, ui.KeyFile)
	for _, name := range []string{"base.yaml", "production.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(cfg), 0o600); err != nil {
			return "", err
		}
	}
	return root, nil
}

// freePorts returns n loopback ports nobody listens on now.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func httpPortFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// lowFreePorts returns n free loopback ports between 20000 and 32767,
// chosen at random (the kernel's own picks lie above that).
func lowFreePorts(n int) ([]int, error) {
	var out []int
	for tries := 0; len(out) < n; tries++ {
		if tries > 1000 {
			return nil, fmt.Errorf("no %d free ports below 32768", n)
		}
		p := 20000 + mrand.IntN(12768)
		if !slices.Contains(out, p) && httpPortFree(p) {
			out = append(out, p)
		}
	}
	return out, nil
}
