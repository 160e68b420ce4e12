// Command crm-local runs the whole product on this machine (make dev):
// Temporal with its Web UI, the services, the worker and the gateway. It
// prints the addresses once everything answers, and stops it all on Ctrl-C.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/services/identity"
	"github.com/telecomcrm/crm/services/platform/process"
)

func main() { process.Main("crm-local", run) }

func run(ctx context.Context, cfg localstack.Config, log *slog.Logger) error {
	stack, err := localstack.Start(ctx, cfg, log, os.Stdout)
	if err != nil {
		return err
	}
	fmt.Printf(`
CRM is up.
  Console       %s/
  REST API      %s/api/v1   (OpenAPI: %s/api/v1/openapi.json)
`, stack.ConsoleURL(), stack.ConsoleURL(), stack.ConsoleURL())
	if ui := stack.TemporalUIURL(); ui != "" {
		fmt.Printf("  Temporal UI   %s/namespaces/%s/workflows\n", ui, cfg.Temporal.Namespace)
	}
	fmt.Printf("  Temporal      %s (namespace %s)\n  Data          %s\n", stack.TemporalAddress(), cfg.Temporal.Namespace, cfg.DataDir)
	if cfg.MetricsPort != 0 {
		urls := stack.MetricsURLs()
		for _, name := range stack.Processes() {
			fmt.Printf("  Metrics       %-9s %s\n", name, urls[name])
		}
	}
	// The password itself never reaches the terminal or a log.
	if file := identity.AdminPasswordFile(cfg.DataDir); fileExists(file) {
		fmt.Printf("  First admin   login admin, password in %s (change it at the first sign-in)\n", file)
	}
	fmt.Printf("\nCtrl-C stops everything.\n\n")
	select {
	case <-ctx.Done():
	case <-stack.Failed():
		log.Error("the Temporal dev server stopped; stopping the stack")
	}
	stack.Stop()
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
