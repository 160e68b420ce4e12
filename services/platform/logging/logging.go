// Package logging builds the slog logger every process uses. Attributes that
// could carry a secret or a customer's phone number are masked here, once,
// so no call site has to remember.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

// sensitive names attribute keys whose values never reach a log: a key
// containing one of the first group, or one of whose dotted/underscored
// parts is one of the second ("code" but not "grpc.code").
var (
	sensitive      = []string{"password", "token", "secret", "authorization", "phone"}
	sensitiveParts = []string{"code", "number"}
)

// New returns a logger writing text or JSON to w at the given level.
func New(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: mask}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func mask(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		return a
	}
	key := strings.ToLower(a.Key)
	for _, s := range sensitive {
		if strings.Contains(key, s) {
			return slog.String(a.Key, "[masked]")
		}
	}
	if key == "grpc.code" {
		return a
	}
	for _, part := range strings.FieldsFunc(key, func(r rune) bool { return r == '.' || r == '_' || r == '-' }) {
		for _, s := range sensitiveParts {
			if part == s {
				return slog.String(a.Key, "[masked]")
			}
		}
	}
	return a
}

type ctxKey struct{}

// With stores a logger in the context, for the request it serves.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the request's logger, or fallback when there is none.
func From(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}
