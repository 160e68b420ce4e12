// Package stacktest starts the whole local stack for a test — freshly
// built binaries, a private data folder, free ports — and talks to it the
// way the console does, over REST.
package stacktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/restclient"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// AdminPassword is the first admin's password in every test stack.
const AdminPassword = "stack-test-admin-password"

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// Root is the repository's top folder.
func Root() string {
	wd, _ := os.Getwd()
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d
		}
	}
	return wd
}

// build compiles every deployable once per test binary.
func build(t testing.TB) string {
	dir, err := Binaries()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Binaries compiles every deployable once per process into a temporary
// folder and returns it (for commands such as the fault drills, which
// have no testing.T).
func Binaries() (string, error) {
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "crm-stack-bin-")
		if buildErr != nil {
			return
		}
		root := Root()
		for _, c := range []struct{ module, pkg string }{
			{"services", "./cmd/..."},
			{"workflows", "./cmd/..."},
			{"gateway", "./cmd/gateway"},
		} {
			cmd := exec.Command("go", "build", "-o", binDir+"/", c.pkg)
			cmd.Dir = filepath.Join(root, c.module)
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", c.module, err, out)
				return
			}
		}
	})
	return binDir, buildErr
}

// TemporalBin finds the Temporal CLI: CRM_TEMPORAL_BIN, or the one the
// Makefile builds into .bin.
func TemporalBin(t testing.TB) string {
	p, err := LocateTemporal()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// LocateTemporal finds the Temporal CLI as TemporalBin does.
func LocateTemporal() (string, error) {
	if p := os.Getenv("CRM_TEMPORAL_BIN"); p != "" {
		return p, nil
	}
	matches, _ := filepath.Glob(filepath.Join(Root(), ".bin", "temporal-*", "temporal"))
	if len(matches) == 0 {
		return "", errors.New("no Temporal CLI: run `make tools` (or set CRM_TEMPORAL_BIN)")
	}
	return matches[len(matches)-1], nil
}

// FreePort returns a loopback port nobody listens on now.
func FreePort(t testing.TB) int {
	p, err := Port()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Port returns a loopback port nobody listens on now and that this
// process has not handed out before. It is chosen below the range the
// kernel gives outgoing connections (32768 on, on Linux), which another
// test's client could take as its source port before the stack binds it.
// Stacks in other test processes may still pick the same port; Start
// tries again with others when one is taken.
func Port() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 200 {
		p := 10000 + rand.IntN(22000)
		if portsGiven[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		portsGiven[p] = true
		return p, nil
	}
	return 0, errors.New("no free loopback port between 10000 and 32000")
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// Stack is a running test stack.
type Stack struct {
	*localstack.Stack
	Config localstack.Config
	Base   string
}

// Option adjusts the stack's environment before it starts.
type Option func(env map[string]string)

// WithEnv sets one environment variable for the stack's processes.
func WithEnv(k, v string) Option { return func(env map[string]string) { env[k] = v } }

// WithExternalTemporal runs the stack on an existing Temporal cluster
// instead of a dev server of its own: the stack gets a namespace of its
// own there (registered with the search attributes), so the workflow ids
// of two stacks never meet. ui is the cluster's Web UI, or "".
func WithExternalTemporal(addr, ui string) Option {
	return func(env map[string]string) {
		env["TEMPORAL_ADDRESS"] = addr
		env["CRM_TEMPORAL_UI_URL"] = ui
	}
}

// Environment of the production-mode run: set, every stack of the test
// binary runs on that Temporal cluster (WithExternalTemporal), and with
// CRM_TEST_DATABASE_URL its database is made beside that one, named after
// it, so whoever made that database can find and drop the stacks' too.
// With TLSEnv too (a folder crm-certs made, whose CA the cluster trusts),
// every stack runs over mutual TLS with its certificates.
const (
	TemporalEnv   = "CRM_TEST_TEMPORAL_ADDRESS"
	TemporalUIEnv = "CRM_TEST_TEMPORAL_UI_URL"
	TLSEnv        = "CRM_TEST_TLS_DIR"
)

// Start runs a stack until the test ends. The stack's processes get their
// settings in their environment; this process's is left alone.
func Start(t *testing.T, opts ...Option) *Stack {
	t.Helper()
	bin := build(t)
	env := map[string]string{
		"CRM_DATA_DIR":       t.TempDir(),
		"CRM_BIN_DIR":        bin,
		"CRM_ADMIN_PASSWORD": AdminPassword,
		// Tests sign in with the known password; no change at first.
		"CRM_ADMIN_PASSWORD_CHANGE": "false",
		"CRM_LOG_LEVEL":             "warn",
	}
	if addr := os.Getenv(TemporalEnv); addr != "" {
		WithExternalTemporal(addr, os.Getenv(TemporalUIEnv))(env)
		if dir := os.Getenv(TLSEnv); dir != "" {
			env["CRM_LOCAL_TLS_DIR"] = dir
		}
	}
	picked(t, env)
	ports := portSettings(env)
	for _, o := range opts {
		o(env)
	}
	// ports an option set are the caller's: not picked again on a retry
	pinned := !maps.Equal(ports, portSettings(env))
	external := env["TEMPORAL_ADDRESS"] != ""
	if url := os.Getenv("CRM_TEST_DATABASE_URL"); url != "" && env["CRM_DATABASE_URL"] == "" {
		if external {
			env["CRM_DATABASE_URL"] = databaseBeside(t, url)
		} else {
			env["CRM_DATABASE_URL"] = servicetest.FreshDatabase(t, url)
		}
	}
	if external {
		if env["TEMPORAL_NAMESPACE"] == "" {
			env["TEMPORAL_NAMESPACE"] = freshNamespace(t, env["TEMPORAL_ADDRESS"], env["CRM_LOCAL_TLS_DIR"])
		}
	} else {
		env["CRM_TEMPORAL_BIN"] = TemporalBin(t)
	}
	out := io.Discard
	if os.Getenv("CRM_TEST_LOG") != "" {
		out = os.Stderr
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(out, nil))
	var (
		cfg localstack.Config
		s   *localstack.Stack
		err error
	)
	// A port picked here may be taken by another test process's stack
	// before this one binds it: the stack refuses to start, having started
	// nothing, and is started again on other ports.
	for try := 1; ; try++ {
		// The settings go to the stack's processes, not to this one's
		// environment, so tests may start stacks in parallel.
		if cfg, err = config.LoadWith[localstack.Config](env); err != nil {
			cancel()
			t.Fatal(err)
		}
		for k, v := range env {
			cfg.Env = append(cfg.Env, k+"="+v)
		}
		s, err = localstack.Start(ctx, cfg, log, out)
		if err == nil {
			break
		}
		if pinned || try == 3 || !errors.Is(err, localstack.ErrPortTaken) {
			cancel()
			t.Fatalf("starting the stack: %v", err)
		}
		picked(t, env)
	}
	t.Cleanup(func() { s.Stop(); cancel() })
	return &Stack{Stack: s, Config: cfg, Base: "http://" + cfg.HTTPAddr}
}

// picked sets the stack's ports to ones picked here.
func picked(t *testing.T, env map[string]string) {
	env["CRM_HTTP_ADDR"] = "127.0.0.1:" + strconv.Itoa(FreePort(t))
	env["CRM_TEMPORAL_PORT"] = strconv.Itoa(FreePort(t))
	env["CRM_TEMPORAL_UI_PORT"] = strconv.Itoa(FreePort(t))
}

func portSettings(env map[string]string) map[string]string {
	return map[string]string{"CRM_HTTP_ADDR": env["CRM_HTTP_ADDR"], "CRM_TEMPORAL_PORT": env["CRM_TEMPORAL_PORT"], "CRM_TEMPORAL_UI_PORT": env["CRM_TEMPORAL_UI_PORT"]}
}

// Client speaks REST to the gateway as one user (or anonymous), failing
// the test on a transport error.
type Client struct {
	t testing.TB
	*restclient.Client
}

// Anonymous returns a client without a session.
func (s *Stack) Anonymous(t testing.TB) *Client {
	return &Client{t: t, Client: restclient.New(s.Base)}
}

// WithToken returns a copy of the client that sends token as its bearer.
func (c *Client) WithToken(token string) *Client {
	cp := *c.Client
	cp.Token = token
	return &Client{t: c.t, Client: &cp}
}

// Login signs in and returns the user's client.
func (s *Stack) Login(t testing.TB, login, password string) *Client {
	t.Helper()
	rc, err := restclient.Login(s.Base, login, password)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{t: t, Client: rc}
}

// Admin signs in as the first admin.
func (s *Stack) Admin(t testing.TB) *Client { return s.Login(t, "admin", AdminPassword) }

// Response is an HTTP answer with its decoded JSON body.
type Response struct {
	Status int
	Body   map[string]any
	Raw    []byte
}

// Do sends a request; body is marshalled as JSON unless it is a string.
func (c *Client) Do(method, path string, body any) Response {
	c.t.Helper()
	resp, err := c.Client.Do(method, path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	out := Response{Status: resp.Status, Raw: resp.Raw}
	_ = json.Unmarshal(resp.Raw, &out.Body)
	return out
}

// Must sends a request that must answer 200, decoding the body into out.
func (c *Client) Must(method, path string, body, out any) {
	c.t.Helper()
	if err := c.Client.Call(method, path, body, out); err != nil {
		c.t.Fatal(err)
	}
}

// FreePortRange returns the first of n consecutive loopback ports nobody
// listens on now.
func FreePortRange(t testing.TB, n int) int {
	t.Helper()
	for range 50 {
		base := FreePort(t)
		ok := base+n <= 65535
		for i := 1; i < n && ok; i++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}
