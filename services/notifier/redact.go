package notifier

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// The bot token is part of every Bot API address, and so of the transport
// errors that name the address. redact keeps it out of logs and tables.

const tokenMask = "<bot token>"

// redact hides the token in s.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, tokenMask)
}

// redactingHandler is a slog handler that hides the bot token in the
// message and in every attribute.
type redactingHandler struct {
	next  slog.Handler
	token string
}

func newRedactingLogger(log *slog.Logger, token string) *slog.Logger {
	if token == "" {
		return log
	}
	return slog.New(&redactingHandler{next: log.Handler(), token: token})
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redact(r.Message, h.token), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &redactingHandler{next: h.next.WithAttrs(clean), token: h.token}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(name), token: h.token}
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redact(v.String(), h.token))
	case slog.KindAny:
		return slog.String(a.Key, redact(fmt.Sprint(v.Any()), h.token))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	}
	return slog.Attr{Key: a.Key, Value: v}
}
