package requestid

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func sent(t *testing.T, ctx context.Context) []string {
	t.Helper()
	var got []string
	invoker := func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
		md, _ := metadata.FromOutgoingContext(ctx)
		got = md.Get(Header)
		return nil
	}
	if err := UnaryClientInterceptor()(ctx, "/m", nil, nil, nil, invoker); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestTheClientSendsTheRequestsIDOnce(t *testing.T) {
	if got := sent(t, With(context.Background(), "abc")); len(got) != 1 || got[0] != "abc" {
		t.Fatalf("sent %q, want [abc]", got)
	}
	// The gateway puts the id in the metadata itself.
	ctx := metadata.AppendToOutgoingContext(With(context.Background(), "abc"), Header, "abc")
	if got := sent(t, ctx); len(got) != 1 || got[0] != "abc" {
		t.Fatalf("sent %q, want one abc", got)
	}
	if got := sent(t, context.Background()); len(got) != 0 {
		t.Fatalf("sent %q without a request id", got)
	}
}

func TestTheServerKeepsOneSaneIDAndReplacesTheRest(t *testing.T) {
	in := func(vals ...string) context.Context {
		return metadata.NewIncomingContext(context.Background(), metadata.Pairs(append([]string{}, pairs(vals)...)...))
	}
	if got := fromIncoming(in("abc")); got != "abc" {
		t.Fatalf("got %q, want abc", got)
	}
	if got := fromIncoming(in("abc", "def")); got == "abc" || got == "def" || got == "" {
		t.Fatalf("two ids: got %q, want a fresh one", got)
	}
}

func pairs(vals []string) []string {
	var out []string
	for _, v := range vals {
		out = append(out, Header, v)
	}
	return out
}
