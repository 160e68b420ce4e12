// Command crm-probe is the health check the container images carry (they
// have no shell or curl): it asks a service's standard gRPC health
// service, or an HTTP endpoint, and exits 0 only when it is serving.
//
//	crm-probe grpc 127.0.0.1:9090
//	crm-probe http http://127.0.0.1:8080/healthz
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/telecomcrm/crm/deploy/probe"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: crm-probe grpc host:port | crm-probe http URL")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var err error
	switch os.Args[1] {
	case "grpc":
		err = probe.GRPC(ctx, os.Args[2])
	case "http":
		err = probe.HTTP(ctx, os.Args[2])
	default:
		err = fmt.Errorf("unknown probe %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crm-probe:", err)
		os.Exit(1)
	}
}
