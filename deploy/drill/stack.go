package drill

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/stacktest"
	"github.com/telecomcrm/crm/services/platform/config"
)

// Stack is the running stack a drill works on.
type Stack struct {
	*localstack.Stack
	Config localstack.Config
	// AdminPassword signs the first admin in.
	AdminPassword string
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
		return &Stack{Stack: s, Config: cfg, AdminPassword: stacktest.AdminPassword}, func() { s.Stop(); restore() }, nil
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
