package servicetest

import (
	"context"

	"google.golang.org/grpc/metadata"

	"github.com/telecomcrm/crm/services/platform/auth"
)

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, auth.Header, token)
}
