package grpcclient_test

import (
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/telecomcrm/crm/services/platform/grpcclient"
)

func TestCallsAreSpreadOverAListOfReplicas(t *testing.T) {
	dir := t.TempDir()
	// one replica on a socket, one on a loopback port: both address forms
	// a list may hold
	socket, err := net.Listen("unix", filepath.Join(dir, "task.sock"))
	if err != nil {
		t.Fatal(err)
	}
	port, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var calls [2]atomic.Int64
	for i, lis := range []net.Listener{socket, port} {
		srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
			calls[i].Add(1)
			return next(ctx, req)
		}))
		healthpb.RegisterHealthServer(srv, health.NewServer())
		go func() { _ = srv.Serve(lis) }()
		t.Cleanup(srv.Stop)
	}
	conn, err := grpcclient.Dialer{}.Dial("task", "unix:"+socket.Addr().String()+", "+port.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	// round_robin uses a replica once its connection is up: calls go on
	// until both have answered, or fail the test after a generous while
	deadline := time.Now().Add(10 * time.Second)
	for calls[0].Load() == 0 || calls[1].Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("calls reached the replicas %d and %d times: not spread over both", calls[0].Load(), calls[1].Load())
		}
		if _, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOneAddressIsDialledAsItIs(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpcclient.Dialer{}.Dial("task", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if conn.Target() != lis.Addr().String() {
		t.Errorf("target %q, want the address as given", conn.Target())
	}
	if _, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
}
