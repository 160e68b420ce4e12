// Command crm-prod runs the product the production way on this machine: a
// Temporal server on PostgreSQL with its Web UI, the namespace registered
// by the operator's tools, the migrate job, and every component on
// PostgreSQL (make prod-local / make prod-test).
//
//	crm-prod run    start it all, print the addresses, stop on Ctrl-C
//	crm-prod test   start it, check it (and that calls without a client
//	                certificate or with a forged principal are refused),
//	                run the end-to-end suite against it, print a verdict,
//	                remove everything it made
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/telecomcrm/crm/deploy/prodlocal"
	"github.com/telecomcrm/crm/services/platform/process"
)

type settings struct {
	prodlocal.Config
	BinDir        string `env:"CRM_BIN_DIR,required"`
	ConsoleDir    string `env:"CRM_CONSOLE_DIR"`
	HTTPAddr      string `env:"CRM_PROD_HTTP_ADDR"`
	AdminPassword string `env:"CRM_ADMIN_PASSWORD" envDefault:"prod-local-admin-password"`
	// DeployDir is the deploy module, whose e2e suite the test runs.
	DeployDir string `env:"CRM_DEPLOY_DIR" envDefault:"."`
	// TestFlags go to go test for the end-to-end suite.
	TestFlags string `env:"CRM_PROD_TEST_FLAGS" envDefault:"-count=1 -timeout=40m"`
}

func main() {
	mode := "run"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "run":
		process.Main("crm-prod", runInteractive)
	case "test":
		process.Main("crm-prod", runTest)
	default:
		fmt.Fprintln(os.Stderr, "usage: crm-prod run|test")
		os.Exit(2)
	}
}

func product(s settings) prodlocal.Product {
	return prodlocal.Product{BinDir: s.BinDir, ConsoleDir: s.ConsoleDir, HTTPAddr: s.HTTPAddr, AdminPassword: s.AdminPassword}
}

func runInteractive(ctx context.Context, s settings, log *slog.Logger) error {
	c, err := prodlocal.Up(ctx, s.Config, log, os.Stdout)
	if err != nil {
		return err
	}
	defer c.Down(false)
	if err := c.Migrate(ctx, product(s)); err != nil {
		return err
	}
	stack, err := c.StartProduct(ctx, product(s), log, os.Stdout)
	if err != nil {
		return err
	}
	defer stack.Stop()
	fmt.Printf(`
CRM is up in production mode (Temporal server and services on PostgreSQL).
  Console       %s/   (admin / CRM_ADMIN_PASSWORD)
  Temporal UI   %s/namespaces/%s/workflows
  Temporal      %s (namespace %s; mutual TLS, certificates in %s)
  Databases     %s_temporal, _visibility, _crm (dropped on exit)
`, stack.ConsoleURL(), c.UIURL, s.Namespace, c.Address, s.Namespace, c.CertDir(), c.Prefix())
	urls := stack.MetricsURLs()
	for _, name := range stack.Processes() {
		fmt.Printf("  Metrics       %-9s %s\n", name, urls[name])
	}
	fmt.Printf("\nCtrl-C stops everything and drops the databases.\n\n")
	<-ctx.Done()
	return nil
}

func runTest(ctx context.Context, s settings, log *slog.Logger) error {
	started := time.Now()
	err := test(ctx, s, log)
	if err != nil {
		fmt.Printf("\nprod-mode run: FAIL after %s: %v\n", time.Since(started).Round(time.Second), err)
		return errors.New("the production-mode run failed")
	}
	fmt.Printf("\nprod-mode run: PASS in %s (Temporal server and services on PostgreSQL, mutual TLS throughout; smoke, refusals and end-to-end suite)\n", time.Since(started).Round(time.Second))
	return nil
}

func test(ctx context.Context, s settings, log *slog.Logger) (err error) {
	c, err := prodlocal.Up(ctx, s.Config, log, os.Stdout)
	if err != nil {
		return err
	}
	defer func() { c.Down(err != nil) }()
	if err := c.Migrate(ctx, product(s)); err != nil {
		return err
	}
	logs, err := os.Create(filepath.Join(c.Dir(), "stack.log"))
	if err != nil {
		return err
	}
	defer logs.Close()
	stack, err := c.StartProduct(ctx, product(s), log, logs)
	if err != nil {
		return err
	}
	smoke := c.Smoke(ctx, stack, s.AdminPassword)
	if smoke == nil {
		if err := c.CheckRefusals(ctx); err != nil {
			smoke = fmt.Errorf("refusals: %w", err)
		}
	}
	stack.Stop()
	if smoke != nil {
		return fmt.Errorf("smoke: %w", smoke)
	}
	if err := c.EndToEnd(ctx, s.DeployDir, os.Stdout, strings.Fields(s.TestFlags)...); err != nil {
		return fmt.Errorf("end-to-end suite: %w", err)
	}
	return nil
}
