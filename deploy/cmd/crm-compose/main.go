// Command crm-compose runs the production compose stack on this host from
// the images `make images` built (make compose-up, compose-down,
// compose-test):
//
//	crm-compose up              # project crm; prints the URLs
//	crm-compose down [-volumes]
//	crm-compose test [-tasks N] [-kill worker,task,temporal] # project crm-test: browser suite, then the kill drill
//
// The stack's secrets (database and first admin's passwords, the internal
// key) are made once into .data/compose/secrets.env, its certificates (a
// CA and one per component, for mutual TLS) into .data/compose/certs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/telecomcrm/crm/deploy/composestack"
	"github.com/telecomcrm/crm/deploy/drill"
	"github.com/telecomcrm/crm/deploy/stacktest"
	"github.com/telecomcrm/crm/services/platform/certs"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: crm-compose up | down [-volumes] | test [-tasks N] [-browser=false] [-keep]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := stacktest.Root()
	flags := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	volumes := flags.Bool("volumes", false, "down: remove the database's volume too")
	tasks := flags.Int("tasks", 200, "test: tasks the kill drill's clients open and walk")
	browser := flags.Bool("browser", true, "test: run the console's browser suite against the stack")
	keep := flags.Bool("keep", false, "test: leave a failed stack up to look at")
	kill := flags.String("kill", "worker,task,temporal", "test: the containers the drill kills")
	_ = flags.Parse(os.Args[2:])

	if os.Getenv("CRM_VERSION") == "" {
		log.Fatal("crm-compose: set CRM_VERSION, the image tag make images built (the Makefile does)")
	}
	if err := composestack.Engine(ctx); err != nil {
		log.Fatal(err)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(ctx, root)
	case "down":
		err = down(ctx, root, *volumes)
	case "test":
		err = test(ctx, root, testOptions{tasks: *tasks, browser: *browser, keep: *keep, kill: strings.Split(*kill, ",")})
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Fatal("crm-compose: ", err)
	}
}

func up(ctx context.Context, root string) error {
	cfg, err := composestack.Prepare(root, "crm", filepath.Join(root, ".data", "compose"))
	if err != nil {
		return err
	}
	fmt.Printf("starting the compose stack crm (images %s)…\n", cfg.Env["CRM_VERSION"])
	if _, err := composestack.Up(ctx, cfg, os.Stdout); err != nil {
		return err
	}
	admin := certs.Files(cfg.Certs, "admin")
	fmt.Printf("\nThe compose stack is up.\n  Console and REST API: %s (admin; the first password is CRM_ADMIN_PASSWORD in %s)\n  Temporal Web UI:      %s (read-only, signed in to the console)\n  Temporal CLI:         temporal --address %s --namespace %s --tls-ca-path %s --tls-cert-path %s --tls-key-path %s workflow list\n  Stop it:              make compose-down\n",
		composestack.ConsoleURL, filepath.Join(".data", "compose", "secrets.env"), composestack.TemporalUIURL,
		composestack.TemporalAddress, composestack.Namespace, rel(root, admin.CAFile), rel(root, admin.CertFile), rel(root, admin.KeyFile))
	return nil
}

func down(ctx context.Context, root string, volumes bool) error {
	// The compose files insist on these even to take a stack down.
	placeholders := map[string]string{"POSTGRES_PASSWORD": "-", "CRM_INTERNAL_KEY": "-", "CRM_ADMIN_PASSWORD": "-", "CRM_CERTS_DIR": "-"}
	for _, project := range []string{"crm", "crm-test"} {
		s, err := composestack.Attach(composestack.ForProject(root, project, placeholders))
		if err != nil {
			return err
		}
		if err := s.Down(ctx, volumes || project == "crm-test", os.Stdout); err != nil {
			return err
		}
	}
	return nil
}

type testOptions struct {
	tasks   int
	browser bool
	keep    bool
	kill    []string
}

// test runs the browser suite on a fresh stack, then the kill drill on
// another: the worker, the task service and Temporal killed with docker
// kill mid-route and started again, the ledger checked against what the
// stack kept.
func test(ctx context.Context, root string, o testOptions) error {
	began := time.Now()
	work := filepath.Join(root, ".build", "compose-test")
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	base, err := composestack.Prepare(root, "crm-test", work)
	if err != nil {
		return err
	}
	adminPassword := base.Env["CRM_ADMIN_PASSWORD"]
	// The test's fakes and receivers listen on loopback; the first admin
	// keeps the password the suites sign in with.
	extra := map[string]string{"CRM_WEBHOOK_ALLOW_PRIVATE": "true", "CRM_ADMIN_PASSWORD_CHANGE": "false"}
	start := func(ctx context.Context, env map[string]string) (*composestack.Stack, func(failed bool), error) {
		cfg := base
		cfg.Extra = map[string]string{}
		for k, v := range extra {
			cfg.Extra[k] = v
		}
		for k, v := range env {
			cfg.Extra[k] = v
		}
		if s, err := composestack.Attach(cfg); err == nil {
			_ = logTo(work, "down.log", func(w io.Writer) error { return s.Down(ctx, true, w) })
		}
		fmt.Println("compose up (project crm-test)…")
		t0 := time.Now()
		var s *composestack.Stack
		err := logTo(work, "up.log", func(w io.Writer) (err error) {
			s, err = composestack.Up(ctx, cfg, w)
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("%w (see %s)", err, filepath.Join(work, "up.log"))
		}
		fmt.Printf("the stack is up in %s\n", time.Since(t0).Round(time.Second))
		stop := func(failed bool) {
			logs := filepath.Join(work, fmt.Sprintf("stack-%d.log", time.Now().Unix()))
			_ = logTo(work, filepath.Base(logs), func(w io.Writer) error { return s.Logs(context.WithoutCancel(ctx), w) })
			if failed && o.keep {
				fmt.Printf("left up for a look (make compose-down removes it); logs in %s\n", logs)
				return
			}
			if err := logTo(work, "down.log", func(w io.Writer) error { return s.Down(context.WithoutCancel(ctx), true, w) }); err != nil {
				fmt.Println("compose down:", err)
			}
			if failed {
				fmt.Println("the containers' logs:", logs)
			}
		}
		return s, stop, nil
	}

	if o.browser {
		s, stop, err := start(ctx, nil)
		if err != nil {
			return err
		}
		err = browserSuite(ctx, root, s, adminPassword)
		stop(err != nil)
		if err != nil {
			return fmt.Errorf("browser suite: %w", err)
		}
	}

	opt := drill.Defaults()
	opt.Tasks = o.tasks
	opt.Components = o.kill
	opt.KillMin, opt.KillMax = 5*time.Second, 15*time.Second
	startDrill := func(ctx context.Context, env map[string]string) (*drill.Stack, func(), error) {
		s, stop, err := start(ctx, env)
		if err != nil {
			return nil, nil, err
		}
		return &drill.Stack{Target: s, AdminPassword: adminPassword}, func() { stop(false) }, nil
	}
	v, err := drill.Run(ctx, drill.Kill, opt, startDrill, os.Stdout)
	if err != nil {
		return fmt.Errorf("kill drill: %w", err)
	}
	if !v.Pass() {
		return errors.New("kill drill: FAIL")
	}
	ran := "the kill drill"
	if o.browser {
		ran = "the browser suite, then the kill drill"
	}
	fmt.Printf("\ncompose-test: PASS in %s (%s on the compose stack)\n", time.Since(began).Round(time.Second), ran)
	return nil
}

// browserSuite runs the console's Playwright suite against the stack.
func browserSuite(ctx context.Context, root string, s *composestack.Stack, adminPassword string) error {
	fmt.Println("the console's browser suite against the compose stack…")
	cmd := exec.CommandContext(ctx, "npx", "--no-install", "playwright", "test")
	cmd.Dir = filepath.Join(root, "frontend")
	cmd.Env = append(os.Environ(),
		"E2E_BASE_URL="+s.ConsoleURL(), "E2E_ADMIN_LOGIN=admin", "E2E_ADMIN_PASSWORD="+adminPassword)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// logTo runs fn writing to a log in the test's folder, appended to and
// closed after; a log that cannot be opened drops the output.
func logTo(dir, name string, fn func(io.Writer) error) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fn(io.Discard)
	}
	defer f.Close()
	return fn(f)
}

// rel names path from root, as the README's commands run there.
func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}
