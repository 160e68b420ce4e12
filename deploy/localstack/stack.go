// Package localstack runs the whole product on one machine: a Temporal dev
// server with its Web UI (unless TEMPORAL_ADDRESS names a cluster), every
// service, the worker and the gateway, each as its own process, started in
// order and each waited for until it answers its health check. A process
// that crashes later is restarted. Stop ends them in reverse order.
//
// `make dev` runs it through the crm-local command; the end-to-end tests,
// benchmarks and fault drills use it directly.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/telecomcrm/crm/deploy/probe"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/certs"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/grpcclient"
	"github.com/telecomcrm/crm/services/platform/mtls"
)

// Config is the stack's configuration; the children read the same
// environment, completed by the stack (data folder, Temporal address).
type Config struct {
	config.Common
	HTTPAddr  string `env:"CRM_HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	PublicURL string `env:"CRM_PUBLIC_URL"`
	// HTTPSCert is the gateway's CRM_HTTP_TLS_CERT_FILE: set, the console
	// is at https:// (the gateway reads the files itself).
	HTTPSCert string `env:"CRM_HTTP_TLS_CERT_FILE"`
	// TemporalPort and TemporalUIPort are the local dev server's ports.
	TemporalPort   int `env:"CRM_TEMPORAL_PORT" envDefault:"7233"`
	TemporalUIPort int `env:"CRM_TEMPORAL_UI_PORT" envDefault:"8233"`
	// ExternalTemporal is TEMPORAL_ADDRESS as given: set, no dev server is
	// started and the services use that cluster.
	ExternalTemporal string `env:"TEMPORAL_ADDRESS"`
	// TemporalBin is the Temporal CLI that runs the dev server.
	TemporalBin string `env:"CRM_TEMPORAL_BIN"`
	// BinDir holds the stack's own binaries; default: beside crm-local.
	BinDir string `env:"CRM_BIN_DIR"`
	// TemporalUI is the Web UI of an external cluster, when there is one
	// to show (CRM_TEMPORAL_UI_URL); the dev server's is known.
	TemporalUI string `env:"CRM_TEMPORAL_UI_URL"`
	// MetricsPort, when set, is the first of the loopback ports on which
	// the components serve /metrics, one each in start order (the gateway
	// serves it on CRM_HTTP_ADDR as well). Unset: no component gets
	// CRM_METRICS_ADDR, so the stack's own never reaches them all.
	MetricsPort int `env:"CRM_LOCAL_METRICS_PORT"`
	// TLSDir, when set, is a folder crm-certs made: every component runs
	// with its own certificate from it (CRM_TLS_*), and the stack's checks
	// speak as admin. It needs an external Temporal cluster speaking TLS
	// with the same CA: the dev server speaks plaintext only.
	TLSDir string `env:"CRM_LOCAL_TLS_DIR"`
	// Workers and TaskReplicas run more than one worker and task service,
	// as a deployment scales them: the extra ones are worker-2, task-2…,
	// each task replica listens on a socket of its own under the data
	// folder and every caller spreads its calls over them all.
	Workers      int `env:"CRM_LOCAL_WORKERS" envDefault:"1"`
	TaskReplicas int `env:"CRM_LOCAL_TASK_REPLICAS" envDefault:"1"`
	// Env is more environment for every component ("NAME=value"), over
	// the stack's own; set by code (a drill's fake Telegram), not read
	// from the environment.
	Env []string
}

// Processes are the components as this configuration runs them, replicas
// named after their component (task-2, worker-2), in start order.
func (c Config) Processes() []string {
	var out []string
	for _, name := range Components {
		out = append(out, name)
		n := map[string]int{"task": c.TaskReplicas, "worker": c.Workers}[name]
		for i := 2; i <= n; i++ {
			out = append(out, name+"-"+strconv.Itoa(i))
		}
	}
	return out
}

// component is the deployable a process runs: task for task-2.
func component(process string) string {
	name, _, _ := strings.Cut(process, "-")
	return name
}

// taskAddress is where a task replica listens: the configured endpoint
// for the first, a socket beside it for the others.
func (c Config) taskAddress(process string) string {
	if process == "task" {
		return c.Endpoints.Task
	}
	return "unix:" + filepath.Join(c.SocketDir(), process+".sock")
}

// Components are the stack's processes after Temporal, in start order.
var Components = []string{"identity", "customer", "contract", "notifier", "task", "worker", "gateway"}

// Stack is a running local stack.
type Stack struct {
	cfg      Config
	log      *slog.Logger
	temporal *child
	// admin is the certificate the stack's checks present (TLSDir set).
	admin    *mtls.Identity
	children []*child
	byName   map[string]*child

	stopOnce sync.Once
	stopping chan struct{}
	wg       sync.WaitGroup

	// temporalMu guards the dev server's restarts (RestartTemporal);
	// temporalFailed is closed when it ends on its own.
	temporalMu     sync.Mutex
	restarting     bool
	temporalGen    int
	temporalFailed chan struct{}
	failOnce       sync.Once
}

// TemporalUIURL is where the Temporal Web UI answers ("" for an external
// cluster, whose UI the stack does not know).
func (s *Stack) TemporalUIURL() string {
	if s.cfg.ExternalTemporal != "" {
		return s.cfg.TemporalUI
	}
	return fmt.Sprintf("http://127.0.0.1:%d", s.cfg.TemporalUIPort)
}

// MetricsURLs are the components' /metrics addresses, by component (none
// unless CRM_LOCAL_METRICS_PORT is set; the gateway's is always there).
func (s *Stack) MetricsURLs() map[string]string {
	out := map[string]string{"gateway": s.ConsoleURL() + "/metrics"}
	for name, addr := range s.metricsAddrs() {
		out[name] = "http://" + addr + "/metrics"
	}
	return out
}

func (s *Stack) metricsAddrs() map[string]string {
	out := map[string]string{}
	if s.cfg.MetricsPort == 0 {
		return out
	}
	for i, name := range s.cfg.Processes() {
		if name != "gateway" {
			out[name] = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.MetricsPort+i))
		}
	}
	return out
}

// Processes are the stack's processes after Temporal, replicas included,
// in start order.
func (s *Stack) Processes() []string { return s.cfg.Processes() }

// DatabaseURL is the services' PostgreSQL ("" on SQLite).
func (s *Stack) DatabaseURL() string { return s.cfg.DatabaseURL }

// Dialer calls the stack's services as its operator's tools do: signed as
// the service admin with the stack's key, over admin's certificate when
// the stack runs with mutual TLS (Endpoints say where each service is).
func (s *Stack) Dialer() (grpcclient.Dialer, error) {
	key, err := s.cfg.SigningKey()
	if err != nil {
		return grpcclient.Dialer{}, err
	}
	return grpcclient.Dialer{Forward: auth.NewForwarder(auth.NewKeyring(key), "admin"), TLS: s.admin}, nil
}

// Endpoints are where the stack's services answer.
func (s *Stack) Endpoints() config.Endpoints { return s.cfg.Endpoints }

// ConsoleURL is the console's address.
func (s *Stack) ConsoleURL() string { return s.cfg.consoleURL() }

func (c Config) consoleURL() string {
	if c.HTTPSCert != "" {
		return "https://" + c.HTTPAddr
	}
	return "http://" + c.HTTPAddr
}

// TemporalAddress is the frontend the services use.
func (s *Stack) TemporalAddress() string { return s.cfg.Temporal.Address }

// Start brings the stack up, or stops what it started and explains in one
// line why it could not.
func Start(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (*Stack, error) {
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	logDir := filepath.Join(cfg.DataDir, "logs")
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return nil, err
	}
	// Made here, before any child, so they all read one key.
	if _, err := cfg.SigningKey(); err != nil {
		return nil, err
	}
	if cfg.BinDir == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cfg.BinDir = filepath.Dir(exe)
	}
	if cfg.ExternalTemporal == "" {
		cfg.Temporal.Address = net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.TemporalPort))
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = cfg.consoleURL()
	}
	if err := portFree("CRM_HTTP_ADDR", cfg.HTTPAddr); err != nil {
		return nil, err
	}
	if cfg.Workers < 1 || cfg.TaskReplicas < 1 {
		return nil, fmt.Errorf("CRM_LOCAL_WORKERS and CRM_LOCAL_TASK_REPLICAS are at least 1, not %d and %d", cfg.Workers, cfg.TaskReplicas)
	}
	if cfg.TaskReplicas > 1 && !cfg.UsesPostgres() {
		// SQLite's file belongs to one process at a time
		return nil, fmt.Errorf("CRM_LOCAL_TASK_REPLICAS=%d needs CRM_DATABASE_URL: task replicas share their tables in PostgreSQL", cfg.TaskReplicas)
	}
	s := &Stack{cfg: cfg, log: log, byName: map[string]*child{}, stopping: make(chan struct{})}
	if cfg.TLSDir != "" {
		if cfg.ExternalTemporal == "" {
			return nil, fmt.Errorf("CRM_LOCAL_TLS_DIR needs TEMPORAL_ADDRESS: the Temporal dev server speaks plaintext only")
		}
		s.cfg.Temporal.TLS = certs.Files(cfg.TLSDir, "admin")
		admin, err := mtls.LoadFor("admin", s.cfg.Temporal.TLS, log)
		if err != nil {
			return nil, fmt.Errorf("CRM_LOCAL_TLS_DIR: %w", err)
		}
		s.admin = admin
	}
	// The stack on one machine is where a receiver under test runs beside
	// it: webhook subscriptions may call local addresses unless the
	// environment says otherwise (production's stack does not allow it).
	env := append([]string{"CRM_WEBHOOK_ALLOW_PRIVATE=true"}, os.Environ()...)
	env = append(env,
		"CRM_DATA_DIR="+cfg.DataDir,
		"CRM_HTTP_ADDR="+cfg.HTTPAddr,
		"CRM_PUBLIC_URL="+cfg.PublicURL,
		"TEMPORAL_ADDRESS="+cfg.Temporal.Address,
		"TEMPORAL_NAMESPACE="+cfg.Temporal.Namespace,
	)
	if ui := s.TemporalUIURL(); ui != "" {
		env = append(env, "CRM_TEMPORAL_UI_URL="+ui)
	}
	var tasks []string
	for _, name := range cfg.Processes() {
		if component(name) == "task" {
			tasks = append(tasks, cfg.taskAddress(name))
		}
	}
	if len(tasks) > 1 {
		env = append(env, "CRM_TASK_GRPC_ADDR="+strings.Join(tasks, ","))
	}
	env = append(env, cfg.Env...)

	if cfg.ExternalTemporal == "" {
		t, err := s.startTemporal(ctx, logDir, out)
		if err != nil {
			return nil, err
		}
		s.temporal = t
		s.temporalFailed = make(chan struct{})
		go s.watchTemporal(t.done(), 0)
	}
	metricsAt := s.metricsAddrs()
	for _, name := range cfg.Processes() {
		cenv := append(slices.Clip(env), "CRM_METRICS_ADDR="+metricsAt[name])
		if component(name) == "task" {
			// a replica listens on its own address; the others call them all
			cenv = append(cenv, "CRM_TASK_GRPC_ADDR="+cfg.taskAddress(name))
		}
		if cfg.TLSDir != "" {
			f := certs.Files(cfg.TLSDir, component(name))
			cenv = append(cenv, "CRM_TLS_CA_FILE="+f.CAFile, "CRM_TLS_CERT_FILE="+f.CertFile, "CRM_TLS_KEY_FILE="+f.KeyFile)
		}
		c := &child{name: name, path: filepath.Join(cfg.BinDir, component(name)), env: cenv, logDir: logDir, out: out}
		if err := c.start(); err != nil {
			s.Stop()
			return nil, err
		}
		s.children = append(s.children, c)
		s.byName[name] = c
		if err := c.waitReady(ctx, 60*time.Second, s.readiness(name)); err != nil {
			s.Stop()
			return nil, fmt.Errorf("%s did not start: %w", name, err)
		}
	}
	for _, c := range s.children {
		s.wg.Add(1)
		go s.supervise(ctx, c)
	}
	return s, nil
}

// readiness is the health check of a component.
func (s *Stack) readiness(name string) func(context.Context) error {
	switch component(name) {
	case "gateway":
		return func(ctx context.Context) error { return probe.HTTP(ctx, s.ConsoleURL()+"/healthz") }
	case "worker":
		return func(ctx context.Context) error { return workerPolling(ctx, s.cfg.Common, s.byName[name].pid()) }
	}
	addr := map[string]string{
		"identity": s.cfg.Endpoints.Identity,
		"customer": s.cfg.Endpoints.Customer,
		"contract": s.cfg.Endpoints.Contract,
		"task":     s.cfg.taskAddress(name),
		"notifier": s.cfg.Endpoints.Notifier,
	}[component(name)]
	var opts []grpc.DialOption
	if s.admin != nil {
		opts = append(opts, grpc.WithTransportCredentials(s.admin.ClientCredentials(component(name))))
	}
	return func(ctx context.Context) error { return probe.GRPC(ctx, addr, opts...) }
}

// supervise restarts a component that ends on its own, with a growing
// pause, until the stack stops.
func (s *Stack) supervise(ctx context.Context, c *child) {
	defer s.wg.Done()
	backoff := time.Second
	for {
		select {
		case <-s.stopping:
			return
		case <-c.done():
		}
		select {
		case <-s.stopping:
			return
		default:
		}
		// A component that ran a good while before it ended is restarted
		// at once; one that keeps ending waits longer each time.
		if c.ranFor() > stableRun {
			backoff = time.Second
		}
		s.log.Warn("component exited; restarting", "component", c.name, "last", c.lastWords(), "in", backoff)
		select {
		case <-s.stopping:
			return
		case <-time.After(backoff):
		}
		if err := c.start(); err != nil {
			s.log.Error("restart failed", "component", c.name, "err", err)
		}
		if backoff < 30*time.Second {
			backoff *= 2
		}
	}
}

// Kill ends a component with SIGKILL, as a crash would; the supervisor
// restarts it.
func (s *Stack) Kill(name string) error {
	c, ok := s.byName[name]
	if !ok {
		return fmt.Errorf("no component %q", name)
	}
	c.kill()
	return nil
}

// WaitReady waits until a (restarted) component runs and answers its
// health check.
func (s *Stack) WaitReady(ctx context.Context, name string, timeout time.Duration) error {
	c, ok := s.byName[name]
	if !ok {
		return fmt.Errorf("no component %q", name)
	}
	deadline := time.Now().Add(timeout)
	for {
		var err error
		if c.running() {
			err = c.waitReady(ctx, time.Until(deadline), s.readiness(name))
			if err == nil {
				return nil
			}
		} else {
			err = fmt.Errorf("%s is not running: %s", name, c.lastWords())
		}
		if time.Now().After(deadline) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(200 * time.Millisecond) // it exited; the supervisor is restarting it
	}
}

// Stop ends every component in reverse start order, then Temporal.
func (s *Stack) Stop() {
	s.stopOnce.Do(func() {
		close(s.stopping)
		for i := len(s.children) - 1; i >= 0; i-- {
			s.children[i].stop(15 * time.Second)
		}
		if s.temporal != nil {
			s.temporal.stop(15 * time.Second)
		}
	})
	s.wg.Wait()
}

// Failed returns a channel closed if Temporal (which is not restarted)
// ends on its own — not when RestartTemporal stops it.
func (s *Stack) Failed() <-chan struct{} {
	if s.temporal == nil {
		return nil
	}
	return s.temporalFailed
}

// ErrPortTaken is why a stack whose address is in use did not start; it
// started nothing.
var ErrPortTaken = errors.New("cannot be used")

func portFree(setting, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return fmt.Errorf("%s %s %w: %v", setting, addr, ErrPortTaken, err)
	}
	return l.Close()
}
