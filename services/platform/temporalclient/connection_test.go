package temporalclient

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/telecomcrm/crm/services/platform/config"
)

// compressions records the compression each call arrived with, by method.
type compressions struct {
	mu   sync.Mutex
	seen [][2]string
}

func (c *compressions) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (c *compressions) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (c *compressions) HandleConn(context.Context, stats.ConnStats) {}
func (c *compressions) HandleRPC(_ context.Context, s stats.RPCStats) {
	if h, ok := s.(*stats.InHeader); ok {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.seen = append(c.seen, [2]string{h.FullMethod, h.Compression})
	}
}

func TestCallsToTheFrontendAreNotCompressed(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := &compressions{}
	// a frontend that refuses everything, after noting how it was asked
	srv := grpc.NewServer(grpc.StatsHandler(got), grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return status.Error(codes.Unavailable, "not a frontend")
	}))
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := Connection(config.Temporal{Address: lis.Addr().String()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewLazyClient(client.Options{HostPort: lis.Addr().String(), Namespace: "crm", ConnectionOptions: conn, Logger: Silent()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = c.CheckHealth(ctx, &client.CheckHealthRequest{})

	got.mu.Lock()
	defer got.mu.Unlock()
	if len(got.seen) == 0 {
		t.Fatal("no call reached the frontend")
	}
	for _, call := range got.seen {
		if call[1] != "" {
			t.Errorf("%s arrived compressed with %s", call[0], call[1])
		}
	}
}
