// Package grpcclient opens the connections one service keeps to another:
// one per backend, signing the caller and forwarding the request id on
// every call, over mutual TLS when the process has a certificate, timed
// and counted in the process's metrics (and traced when tracing is on).
package grpcclient

import (
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/mtls"
	"github.com/telecomcrm/crm/services/platform/requestid"
	"github.com/telecomcrm/crm/services/platform/tracing"
)

// Dialer opens a process's connections to the services.
type Dialer struct {
	// Forward signs the caller into every call (see auth.Forwarder). Nil:
	// calls carry only what their context's outgoing metadata holds.
	Forward *auth.Forwarder
	// TLS is the process's certificate: connections are mutual TLS and
	// the server must present the certificate of the service dialled.
	// Nil: plaintext, for the embedded stack and the tests.
	TLS *mtls.Identity
}

// Dial returns a lazily connecting client for service (its component
// name: customer, task, …) at target (host:port, dns:///name:port, or
// unix:/path), or at a fixed list of replicas, those addresses joined by
// commas.
func (d Dialer) Dial(service, target string, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	m := metrics.Default().GRPCClient
	creds := insecure.NewCredentials()
	if d.TLS != nil {
		creds = d.TLS.ClientCredentials(service)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		// A target that resolves to several replicas (dns:///name:port on
		// a headless service) gets its calls spread over all of them.
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
	}
	if d.Forward != nil {
		opts = append(opts,
			grpc.WithChainUnaryInterceptor(m.UnaryClientInterceptor(), requestid.UnaryClientInterceptor(), d.Forward.UnaryClientInterceptor()),
			grpc.WithChainStreamInterceptor(m.StreamClientInterceptor(), d.Forward.StreamClientInterceptor()))
	} else {
		opts = append(opts, grpc.WithChainUnaryInterceptor(m.UnaryClientInterceptor(), requestid.UnaryClientInterceptor()))
	}
	opts = append(opts, tracing.DialOptions()...)
	dialed := target
	if replicas := strings.Split(target, ","); len(replicas) > 1 {
		// A fixed list (replicas on one machine, where no DNS name
		// resolves to them all) is handed to round_robin as it is.
		r := manual.NewBuilderWithScheme("replicas")
		state := resolver.State{}
		for _, addr := range replicas {
			state.Addresses = append(state.Addresses, resolver.Address{Addr: strings.TrimSpace(addr)})
		}
		r.InitialState(state)
		opts = append(opts, grpc.WithResolvers(r))
		dialed = r.Scheme() + ":///" + service
	}
	opts = append(opts, extra...)
	conn, err := grpc.NewClient(dialed, opts...)
	if err != nil {
		return nil, fmt.Errorf("grpc client for %s at %s: %w", service, target, err)
	}
	return conn, nil
}
