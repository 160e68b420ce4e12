// Command crm-probe is the health check the container images carry (they
// have no shell or curl): it asks a service's standard gRPC health
// service, or an HTTP endpoint, and exits 0 only when it is serving.
// With CRM_TLS_* set (as for the service in the same container) it asks
// over mutual TLS with that certificate, and expects the service to
// present the same component's. With CRM_HTTP_TLS_CERT_FILE set (the
// gateway serving HTTPS itself) an http:// URL is asked over https://, so
// one health check fits either way the gateway is configured.
//
//	crm-probe grpc 127.0.0.1:9090
//	crm-probe http http://127.0.0.1:8080/healthz
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/telecomcrm/crm/deploy/probe"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/mtls"
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
		var opts []grpc.DialOption
		if opts, err = ownCertificate(); err == nil {
			err = probe.GRPC(ctx, os.Args[2], opts...)
		}
	case "http":
		err = probe.HTTP(ctx, ownScheme(os.Args[2], os.Getenv("CRM_HTTP_TLS_CERT_FILE") != ""))
	default:
		err = fmt.Errorf("unknown probe %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crm-probe:", err)
		os.Exit(1)
	}
}

// ownCertificate is the dial option of the component's certificate, when
// CRM_TLS_* name one.
func ownCertificate() ([]grpc.DialOption, error) {
	files, err := config.Load[config.TLS]()
	if err != nil {
		return nil, err
	}
	id, err := mtls.Load(files, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil || id == nil {
		return nil, err
	}
	return []grpc.DialOption{grpc.WithTransportCredentials(id.ClientCredentials(id.Name()))}, nil
}

// ownScheme is url over https:// when the component serves HTTPS itself.
func ownScheme(url string, https bool) string {
	if rest, ok := strings.CutPrefix(url, "http://"); ok && https {
		return "https://" + rest
	}
	return url
}
