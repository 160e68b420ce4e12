// Command crm-certs makes the private CA of a deployment and a certificate
// for each component, for mutual TLS between them (make certs; compose
// mounts the folder). Files already there and still valid are left alone.
//
//	crm-certs -dir .data/certs [-days 365] [-hosts crm.example,10.0.0.5] [-renew]
//
// The folder then holds ca.pem, ca-key.pem and <name>.pem, <name>-key.pem
// for identity, customer, contract, task, notifier, worker, gateway,
// migrate, temporal, temporal-ui and admin (operators' tools). Keep
// ca-key.pem away from the running stack: only this tool needs it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/telecomcrm/crm/services/platform/certs"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "crm-certs:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("crm-certs", flag.ContinueOnError)
	dir := fs.String("dir", "", "the folder to write to (created if missing)")
	days := fs.Int("days", 365, "how many days a component's certificate is valid")
	hosts := fs.String("hosts", "", "more DNS names or IP addresses for every certificate, comma-separated")
	renew := fs.Bool("renew", false, "remake every component's certificate, even if still valid (the CA stays)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("say where with -dir")
	}
	if *days < 1 {
		return errors.New("-days must be at least 1")
	}
	var extra []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			extra = append(extra, h)
		}
	}
	report, err := certs.Make(certs.Options{Dir: *dir, Lifetime: time.Duration(*days) * 24 * time.Hour, Hosts: extra, Renew: *renew})
	if err != nil {
		return err
	}
	for _, line := range report {
		fmt.Fprintf(out, "crm-certs: %s\n", line)
	}
	fmt.Fprintf(out, "crm-certs: in %s\n", *dir)
	return nil
}
