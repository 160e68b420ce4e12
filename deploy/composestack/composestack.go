// Package composestack runs the production compose stack on this host —
// deploy/compose/compose.yaml with the host-network override, from the
// images `make images` built, every connection but PostgreSQL's over
// mutual TLS — and hurts it for the kill drill: a container killed with
// `docker kill`, started again, waited for until its own health check
// passes.
package composestack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"

	"github.com/telecomcrm/crm/deploy/probe"
	"github.com/telecomcrm/crm/services/platform/certs"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/mtls"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
)

// Where the host-network override (compose.host.yaml) puts the stack.
const (
	ConsoleURL      = "http://127.0.0.1:28080"
	TemporalAddress = "127.0.0.1:27233"
	// TemporalUIURL is the Web UI behind the console's sign-in.
	TemporalUIURL = ConsoleURL + "/temporal/"
	Namespace     = "crm"
)

// Components are the stack's long-running containers (compose services), in
// the order they start.
var Components = []string{"postgres", "temporal", "temporal-ui", "identity", "customer", "contract", "task", "notifier", "worker", "worker-2", "gateway"}

// crmServices are the services running the CRM's own images, which take the
// extra environment a run gives them.
var crmServices = []string{"crm-init", "identity", "customer", "contract", "task", "notifier", "worker", "worker-2", "gateway"}

// Config places a stack.
type Config struct {
	// Compose is the docker compose command; Dir holds compose.yaml and
	// compose.host.yaml.
	Compose, Dir string
	// Project names the stack's containers and volumes (<project>-<service>-1).
	Project string
	// Env is the compose files' settings: CRM_VERSION, POSTGRES_PASSWORD,
	// CRM_INTERNAL_KEY, CRM_ADMIN_PASSWORD and any other they read.
	Env map[string]string
	// Extra is set in every CRM container on top of the compose files'
	// environment (a test's fakes, say).
	Extra map[string]string
	// WorkDir keeps the generated override and logs.
	WorkDir string
	// Certs is the folder of the stack's certificates (Certificates made
	// it; the compose files read it as CRM_CERTS_DIR). Its admin
	// certificate is what the checks from this host present.
	Certs string
	// Scale runs that many containers of a service instead of the compose
	// file's (0 leaves it out: the second worker, say).
	Scale map[string]int
}

// ForProject places the stack named project from the repository at root,
// with the compose command (CRM_COMPOSE) and image tag (CRM_VERSION) the
// Makefile names, and the stack's secrets.
func ForProject(root, project string, secrets map[string]string) Config {
	env := map[string]string{"CRM_VERSION": os.Getenv("CRM_VERSION")}
	maps.Copy(env, secrets)
	return Config{
		Compose: os.Getenv("CRM_COMPOSE"),
		Dir:     filepath.Join(root, "deploy", "compose"),
		Project: project,
		Env:     env,
	}
}

// Stack is a compose stack that is up.
type Stack struct {
	cfg   Config
	files []string
	admin *mtls.Identity
}

// Prepare places the stack named project from the repository at root in
// the folder work: its secrets made once into work/secrets.env (Secrets),
// its certificates into work/certs (Certificates).
func Prepare(root, project, work string) (Config, error) {
	secrets, err := Secrets(filepath.Join(work, "secrets.env"))
	if err != nil {
		return Config{}, err
	}
	cfg := ForProject(root, project, secrets)
	cfg.WorkDir, cfg.Certs = work, filepath.Join(work, "certs")
	return cfg, Certificates(cfg.Certs)
}

// Attach returns the stack cfg names, whether it runs or not (to take it
// down, or read its logs).
func Attach(cfg Config) (*Stack, error) {
	if cfg.Compose == "" {
		return nil, errors.New("no docker compose command given (CRM_COMPOSE)")
	}
	s := &Stack{cfg: cfg, files: []string{filepath.Join(cfg.Dir, "compose.yaml"), filepath.Join(cfg.Dir, "compose.host.yaml")}}
	if cfg.Certs != "" {
		admin, err := mtls.LoadFor("admin", certs.Files(cfg.Certs, "admin"), slog.New(slog.DiscardHandler))
		if err != nil {
			return nil, err
		}
		s.admin = admin
	}
	if len(cfg.Extra) > 0 {
		extra := filepath.Join(cfg.WorkDir, "compose.extra.yaml")
		if err := os.WriteFile(extra, extraEnv(cfg.Extra), 0o600); err != nil {
			return nil, err
		}
		s.files = append(s.files, extra)
	}
	return s, nil
}

// Up starts the stack from its images (never building or pulling) and
// waits until every container is healthy or done.
func Up(ctx context.Context, cfg Config, out io.Writer) (*Stack, error) {
	s, err := Attach(cfg)
	if err != nil {
		return nil, err
	}
	args := []string{"up", "--detach", "--wait", "--wait-timeout", "300", "--no-build", "--pull", "never", "--remove-orphans"}
	for _, svc := range slices.Sorted(maps.Keys(cfg.Scale)) {
		args = append(args, "--scale", fmt.Sprintf("%s=%d", svc, cfg.Scale[svc]))
	}
	if err := s.compose(ctx, out, args...); err != nil {
		return s, fmt.Errorf("compose up: %w", err)
	}
	return s, nil
}

// extraEnv is a compose file adding env to every CRM service.
func extraEnv(env map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("services:\n")
	for _, svc := range crmServices {
		fmt.Fprintf(&b, "  %s:\n    environment:\n", svc)
		for _, k := range slices.Sorted(maps.Keys(env)) {
			// A JSON string is a YAML scalar; $ is doubled so compose
			// takes it as written.
			v, _ := json.Marshal(strings.ReplaceAll(env[k], "$", "$$"))
			fmt.Fprintf(&b, "      %s: %s\n", k, v)
		}
	}
	return b.Bytes()
}

// Down stops and removes the containers, and the volumes with them when
// volumes is set.
func (s *Stack) Down(ctx context.Context, volumes bool, out io.Writer) error {
	args := []string{"down", "--remove-orphans", "--timeout", "20"}
	if volumes {
		args = append(args, "--volumes")
	}
	return s.compose(ctx, out, args...)
}

// Logs writes every container's log to w.
func (s *Stack) Logs(ctx context.Context, w io.Writer) error {
	return s.compose(ctx, w, "logs", "--no-color", "--timestamps")
}

func (s *Stack) compose(ctx context.Context, out io.Writer, args ...string) error {
	full := []string{"--project-name", s.cfg.Project}
	for _, f := range s.files {
		full = append(full, "--file", f)
	}
	cmd := exec.CommandContext(ctx, s.cfg.Compose, append(full, args...)...)
	cmd.Env = append(os.Environ(), "CRM_CERTS_DIR="+s.cfg.Certs)
	for k, v := range s.cfg.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd.Run()
}

// ConsoleURL is where the gateway answers.
func (s *Stack) ConsoleURL() string { return ConsoleURL }

// DialTemporal connects to the stack's namespace, with the admin
// certificate when the stack has its certificates.
func (s *Stack) DialTemporal(ctx context.Context) (client.Client, error) {
	t := config.Temporal{Address: TemporalAddress, Namespace: Namespace}
	if s.cfg.Certs != "" {
		t.TLS, t.TLSServerName = certs.Files(s.cfg.Certs, "admin"), "temporal"
	}
	return temporalclient.DialQuietly(ctx, t)
}

// Components are the stack's long-running containers.
func (s *Stack) Components() []string { return Components }

// metricsPorts are where compose.host.yaml has each component serve
// /metrics (and /debug/pprof/ with CRM_PPROF).
var metricsPorts = map[string]int{
	"identity": 29191, "customer": 29192, "contract": 29193, "task": 29194,
	"notifier": 29195, "worker": 29196, "worker-2": 29197, "gateway": 29198,
}

// MetricsURLs are the CRM components' /metrics.
func (s *Stack) MetricsURLs() map[string]string {
	out := map[string]string{}
	for name, port := range metricsPorts {
		out[name] = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	}
	return out
}

// PIDs are the host's process ids of the running components but
// PostgreSQL (each image runs its program as the container's first
// process), for the memory and CPU figures of a run.
func (s *Stack) PIDs(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, name := range Components {
		if name == "postgres" {
			continue
		}
		raw, err := docker(ctx, "inspect", "--format", "{{.State.Running}} {{.State.Pid}}", s.container(name))
		if err != nil {
			continue // left out by Scale
		}
		var running bool
		var pid int
		if _, err := fmt.Sscan(string(raw), &running, &pid); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", name, raw, err)
		}
		if running {
			out[name] = pid
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no component of the stack is running")
	}
	return out, nil
}

func (s *Stack) container(name string) string { return s.cfg.Project + "-" + name + "-1" }

// Kill kills the component's container (`docker kill`: SIGKILL, and no
// restart by its policy, as for a container an operator stopped), waits
// for it to be down, and starts it again.
func (s *Stack) Kill(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := s.container(name)
	if _, err := docker(ctx, "kill", c); err != nil {
		return err
	}
	if _, err := docker(ctx, "wait", c); err != nil {
		return err
	}
	_, err := docker(ctx, "start", c)
	return err
}

// WaitReady waits until the component passes the health check its compose
// service declares, run from here (every container is on the host's
// network), so a restarted container counts as back as soon as it serves.
func (s *Stack) WaitReady(ctx context.Context, name string, timeout time.Duration) error {
	check, err := s.healthCheck(ctx, name)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := check(pctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w", name, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// healthCheck turns the container's declared health check into one run
// from here: crm-probe grpc|http, or pg_isready -h host -p port.
func (s *Stack) healthCheck(ctx context.Context, name string) (func(context.Context) error, error) {
	raw, err := docker(ctx, "inspect", "--format", "{{json .Config.Healthcheck.Test}}", s.container(name))
	if err != nil {
		return nil, err
	}
	var test []string
	if err := json.Unmarshal(raw, &test); err != nil || len(test) < 2 {
		return nil, fmt.Errorf("%s declares no health check", name)
	}
	var opts []grpc.DialOption
	if s.admin != nil {
		// the certificate a component presents bears its name; the
		// workers' are the worker's
		opts = append(opts, grpc.WithTransportCredentials(s.admin.ClientCredentials(strings.TrimSuffix(name, "-2"))))
	}
	return checkFor(test[1:], opts...)
}

// checkFor is the check a health check test declares; opts are a gRPC
// check's credentials.
func checkFor(test []string, opts ...grpc.DialOption) (func(context.Context) error, error) {
	switch {
	case len(test) == 3 && strings.HasSuffix(test[0], "crm-probe") && test[1] == "grpc":
		return func(ctx context.Context) error { return probe.GRPC(ctx, test[2], opts...) }, nil
	case len(test) == 3 && strings.HasSuffix(test[0], "crm-probe") && test[1] == "http":
		return func(ctx context.Context) error { return probe.HTTP(ctx, test[2]) }, nil
	case len(test) > 0 && test[0] == "pg_isready":
		host, port := "127.0.0.1", "5432"
		for i := 1; i+1 < len(test); i++ {
			switch test[i] {
			case "-h":
				host = test[i+1]
			case "-p":
				port = test[i+1]
			}
		}
		return func(ctx context.Context) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
			if err == nil {
				c.Close()
			}
			return err
		}, nil
	}
	return nil, fmt.Errorf("unknown health check %q", test)
}

func docker(ctx context.Context, args ...string) ([]byte, error) {
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("docker %s: %w", strings.Join(args, " "), err)
		}
		return nil, fmt.Errorf("docker %s: %s", strings.Join(args, " "), msg)
	}
	return bytes.TrimSpace(out.Bytes()), nil
}

// ErrNoEngine is returned when no container engine answers.
var ErrNoEngine = errors.New("no container engine answers (make compose-up starts one)")

// Engine checks that a container engine answers.
func Engine(ctx context.Context) error {
	if _, err := docker(ctx, "info", "--format", "{{.ServerVersion}}"); err != nil {
		return fmt.Errorf("%w: %v", ErrNoEngine, err)
	}
	return nil
}

// Secrets are the settings a stack needs made once: kept in file (0600) as
// KEY=value lines, made on the first call. The passwords are URL-safe (the
// database's goes into CRM_DATABASE_URL); the internal key is base64 of 32
// random bytes, as the services read it.
func Secrets(file string) (map[string]string, error) {
	if b, err := os.ReadFile(file); err == nil {
		env := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		return env, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	env := map[string]string{
		"POSTGRES_PASSWORD":  base64.RawURLEncoding.EncodeToString(randomBytes(18)),
		"CRM_INTERNAL_KEY":   base64.StdEncoding.EncodeToString(randomBytes(32)),
		"CRM_ADMIN_PASSWORD": base64.RawURLEncoding.EncodeToString(randomBytes(12)),
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		b.WriteString(k + "=" + env[k] + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, err
	}
	return env, os.WriteFile(file, []byte(b.String()), 0o600)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return b
}

// Certificates brings dir to a CA and a valid certificate for every
// component (as make certs does), readable by the images' user (uid
// 65532) where this process may hand them over.
func Certificates(dir string) error {
	if _, err := certs.Make(certs.Options{Dir: dir, Lifetime: 90 * 24 * time.Hour}); err != nil {
		return err
	}
	if os.Getuid() != 0 {
		return nil // the owner's files; compose.yaml says what they need
	}
	return filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, imageUser, imageUser)
	})
}

// imageUser is the uid and gid the images run as.
const imageUser = 65532
