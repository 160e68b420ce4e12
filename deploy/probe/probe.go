// Package probe asks whether a component is serving: its standard gRPC
// health service, or an HTTP endpoint that answers 200. The local stack,
// the production-mode run and the images' health check share it.
package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// GRPC asks the standard health service at addr; nil means SERVING. It
// speaks plaintext unless opts say otherwise (mutual TLS credentials).
func GRPC(ctx context.Context, addr string, opts ...grpc.DialOption) error {
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s is %s", addr, resp.GetStatus())
	}
	return nil
}

// anyCert asks https:// endpoints without checking their certificate:
// the probes ask a component on its own host whether it serves, not who it
// is (a public certificate names the public host, not 127.0.0.1), as an
// orchestrator's HTTPS probes do.
var anyCert = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// HTTP gets url (http:// or https://); nil means it answered 200.
func HTTP(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := anyCert.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
