package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/stacktest"
	"github.com/telecomcrm/crm/services/platform/config"
)

// Target is what a drill needs of the stack it hurts: the local stack's
// supervised processes, or the containers of the compose stack.
type Target interface {
	// ConsoleURL is where the REST API answers.
	ConsoleURL() string
	// DialTemporal connects to the stack's namespace, as admin where the
	// stack speaks mutual TLS.
	DialTemporal(ctx context.Context) (client.Client, error)
	// Components are the parts Kill and WaitReady know, in start order.
	Components() []string
	// Kill kills a component at once (SIGKILL), to be back by itself or
	// brought back by the target.
	Kill(name string) error
	// WaitReady waits until the component answers its health check.
	WaitReady(ctx context.Context, name string, timeout time.Duration) error
}

// TemporalRestarter is a target that can stop and start its Temporal
// server (the restart drill).
type TemporalRestarter interface {
	RestartTemporal(ctx context.Context, down time.Duration, crash bool) error
}

// Stack is the running stack a drill works on.
type Stack struct {
	Target
	// AdminPassword signs the first admin in.
	AdminPassword string
	// DataDir is kept when a drill fails (empty: nothing to keep).
	DataDir string
}

// local is the local stack as a drill's target.
type local struct {
	*localstack.Stack
	cfg localstack.Config
}

func (local) Components() []string { return localstack.Components }

// RestartTemporal restarts the stack's own dev server; a stack on an
// outside Temporal cannot.
func (l local) RestartTemporal(ctx context.Context, down time.Duration, crash bool) error {
	if l.cfg.ExternalTemporal != "" {
		return errors.New("the restart drill restarts the stack's own Temporal dev server; unset TEMPORAL_ADDRESS")
	}
	return l.Stack.RestartTemporal(ctx, down, crash)
}

// StartFunc starts a stack whose components get env on top of their
// usual environment, and returns it with the function that stops it.
type StartFunc func(ctx context.Context, env map[string]string) (*Stack, func(), error)

// LocalOptions place a private stack.
type LocalOptions struct {
	// DataDir is the stack's data folder (its SQLite files, the Temporal
	// dev server's history, every component's log).
	DataDir string
	// BinDir holds the built components; empty: built now (stacktest).
	BinDir string
	// TemporalBin is the Temporal CLI; empty: found as the tests find it.
	TemporalBin string
	// Log receives the stack's supervision messages; nil discards them.
	Log io.Writer
}

// LocalStack starts a private stack in this process's environment: free
// loopback ports, its own data folder, the stack-test admin password. It
// sets the environment of this process, so it suits a command (crm-drill),
// not a test (which has stacktest.Start).
func LocalStack(o LocalOptions) StartFunc {
	start := func(ctx context.Context, extra map[string]string) (*Stack, func(), error) {
		bin := o.BinDir
		if bin == "" {
			b, err := stacktest.Binaries()
			if err != nil {
				return nil, nil, err
			}
			bin = b
		}
		env := map[string]string{
			"CRM_DATA_DIR":       o.DataDir,
			"CRM_BIN_DIR":        bin,
			"CRM_ADMIN_PASSWORD": stacktest.AdminPassword,
			// The drill signs in with the known password throughout.
			"CRM_ADMIN_PASSWORD_CHANGE": "false",
			"CRM_LOG_LEVEL":             "warn",
		}
		ports := []string{"CRM_HTTP_ADDR", "CRM_TEMPORAL_PORT", "CRM_TEMPORAL_UI_PORT"}
		if os.Getenv("TEMPORAL_ADDRESS") != "" {
			ports = ports[:1]
		} else {
			t := o.TemporalBin
			if t == "" {
				var err error
				if t, err = stacktest.LocateTemporal(); err != nil {
					return nil, nil, err
				}
			}
			env["CRM_TEMPORAL_BIN"] = t
		}
		for _, name := range ports {
			p, err := stacktest.Port()
			if err != nil {
				return nil, nil, err
			}
			env[name] = strconv.Itoa(p)
		}
		env["CRM_HTTP_ADDR"] = "127.0.0.1:" + env["CRM_HTTP_ADDR"]
		for k, v := range extra {
			env[k] = v
		}
		restore := setenv(env)
		cfg, err := config.Load[localstack.Config]()
		if err != nil {
			restore()
			return nil, nil, err
		}
		logOut := o.Log
		if logOut == nil {
			logOut = io.Discard
		}
		log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
		s, err := localstack.Start(ctx, cfg, log, nil)
		if err != nil {
			restore()
			return nil, nil, fmt.Errorf("starting the stack: %w", err)
		}
		st := &Stack{Target: local{Stack: s, cfg: cfg}, AdminPassword: stacktest.AdminPassword, DataDir: cfg.DataDir}
		return st, func() { s.Stop(); restore() }, nil
	}
	// A free port can be taken by another program before the stack binds
	// it: then the stack starts again on other ports.
	return func(ctx context.Context, extra map[string]string) (*Stack, func(), error) {
		for attempt := 1; ; attempt++ {
			s, stop, err := start(ctx, extra)
			if err == nil || attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
				return s, stop, err
			}
		}
	}
}

// setenv sets env in this process and returns what puts the earlier values
// back, so one drill's settings (its PostgreSQL, say) do not leak into the
// next drill's stack.
func setenv(env map[string]string) (restore func()) {
	before := map[string]*string{}
	for k, v := range env {
		if old, ok := os.LookupEnv(k); ok {
			before[k] = &old
		} else {
			before[k] = nil
		}
		os.Setenv(k, v)
	}
	return func() {
		for k, old := range before {
			if old == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *old)
			}
		}
	}
}
