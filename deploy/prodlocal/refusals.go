package prodlocal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/certs"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
)

// CheckRefusals proves the internal network is closed to whoever holds no
// certificate of the run's CA, and that a certificate does not let one
// component speak as another: each case must be refused, with the reason
// in the refusing side's log, and the allowed cases beside them answered.
// Each outcome is printed.
func (c *Cluster) CheckRefusals(ctx context.Context) error {
	c.step("refusals: calls without a client certificate, with a forged principal, to Temporal without a certificate")
	ca, err := os.ReadFile(filepath.Join(c.certDir(), "ca.pem"))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	pairs := map[string][]tls.Certificate{}
	for _, name := range []string{"admin", "worker"} {
		f := certs.Files(c.certDir(), name)
		p, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return err
		}
		pairs[name] = []tls.Certificate{p}
	}
	pair := func(name string) []tls.Certificate { return pairs[name] }
	to := func(server string, cert []tls.Certificate) credentials.TransportCredentials {
		return credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: server, Certificates: cert})
	}
	customerLog := filepath.Join(c.dir, "data", "logs", "customer.log")
	keys := auth.NewKeyring(c.key)
	as := func(p auth.Principal) context.Context {
		return metadata.AppendToOutgoingContext(ctx, auth.Header, keys.Sign(p, "customer", auth.TokenTTL))
	}
	findPhone := func(ctx context.Context, creds credentials.TransportCredentials) error {
		return c.callCustomer(ctx, creds, func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := customerv1.NewCustomerServiceClient(conn).FindCustomerByPhone(ctx, &customerv1.FindCustomerByPhoneRequest{Number: "+79990000000"})
			return err
		})
	}
	health := func(ctx context.Context, creds credentials.TransportCredentials) error {
		return c.callCustomer(ctx, creds, func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		})
	}

	refused := []struct {
		what string
		call func() error
		// log must then hold logged: the refusing side's reason.
		log, logged string
	}{
		{"customer service, plaintext", func() error { return health(ctx, insecure.NewCredentials()) }, customerLog, "first record does not look like a TLS handshake"},
		{"customer service, TLS without a client certificate", func() error { return health(ctx, to("customer", nil)) }, customerLog, "client didn't provide a certificate"},
		{"customer service, admin's certificate with a principal claiming to be the task service", func() error {
			return findPhone(as(auth.Principal{Service: "task"}), to("customer", pair("admin")))
		}, customerLog, `"claimed":"task","certificate":"admin"`},
		{"customer service, the worker's certificate with a principal claiming to be the contract service", func() error {
			return findPhone(as(auth.Principal{Service: "contract"}), to("customer", pair("worker")))
		}, customerLog, `"claimed":"contract","certificate":"worker"`},
		{"customer service, the worker's principal signed for the task service", func() error {
			ctx := metadata.AppendToOutgoingContext(ctx, auth.Header, keys.Sign(auth.Principal{Service: "worker"}, "task", auth.TokenTTL))
			return findPhone(ctx, to("customer", pair("worker")))
		}, customerLog, `signed for \"task\", not \"customer\"`},
		{"Temporal frontend, TLS without a client certificate", func() error { return c.temporalWith(ctx, &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots}) }, "", ""},
		{"Temporal frontend, plaintext", func() error { return c.temporalWith(ctx, nil) }, "", ""},
	}
	for _, r := range refused {
		err := r.call()
		if err == nil {
			return fmt.Errorf("%s: served, want refused", r.what)
		}
		if code := status.Code(err); r.log != "" && code != codes.Unauthenticated && code != codes.Unavailable {
			return fmt.Errorf("%s: %v, want refused", r.what, err)
		}
		c.step("refused: %s: %v", r.what, err)
		if r.log != "" {
			if err := waitFor(r.log, r.logged); err != nil {
				return fmt.Errorf("%s: %w", r.what, err)
			}
		}
	}

	// Beside them, what is allowed is answered: the same connections with
	// the right names.
	if err := health(ctx, to("customer", pair("admin"))); err != nil {
		return fmt.Errorf("customer service with admin's certificate: %v", err)
	}
	if err := findPhone(as(auth.Principal{Service: "worker"}), to("customer", pair("worker"))); status.Code(err) == codes.Unauthenticated || status.Code(err) == codes.Unavailable {
		return fmt.Errorf("the worker's principal over its own certificate: %v", err)
	}
	cl, err := c.dialTemporal(ctx, c.cfg.Namespace)
	if err != nil {
		return fmt.Errorf("the Temporal frontend with admin's certificate: %w", err)
	}
	cl.Close()
	c.step("answered: the customer service's health and the worker's call over their certificates; Temporal with admin's")
	return nil
}

func (c *Cluster) callCustomer(ctx context.Context, creds credentials.TransportCredentials, call func(context.Context, *grpc.ClientConn) error) error {
	conn, err := grpc.NewClient(c.endpoints.Customer, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return call(ctx, conn)
}

// temporalWith dials the frontend with cfg (nil: plaintext) and asks for
// the namespace.
func (c *Cluster) temporalWith(ctx context.Context, cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl, err := client.DialContext(ctx, client.Options{HostPort: c.Address, Namespace: c.cfg.Namespace, Logger: temporalclient.Silent(), ConnectionOptions: client.ConnectionOptions{TLS: cfg}})
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// waitFor waits a little for a log file to hold want (a refusal is logged
// as the caller sees it).
func waitFor(path, want string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		raw, _ := os.ReadFile(path)
		if strings.Contains(string(raw), want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not say %q", path, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
