// Package locale holds what the services need to write text in the
// deployment's language (CRM_LOCALE): default data with one entry per
// language, and a small catalog that renders a message — a code with named
// parameters — for a reader who gets no rendering of their own (a Telegram
// chat, a log, an older client).
//
// Text the services compose is stored and answered as a code and its
// parameters (the proto's <field>_code and <field>_params pairs); the
// console renders the code in its reader's language. See docs/language.md.
package locale

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
)

// The languages a deployment is seeded and rendered in.
const (
	Russian = "ru"
	English = "en"
	// Default is the language of a deployment that names none.
	Default = Russian
)

// Text is one entry of default data in every language.
type Text struct {
	RU, EN string
}

// In returns the entry in locale; anything but English is Russian.
func (t Text) In(locale string) string {
	if locale == English {
		return t.EN
	}
	return t.RU
}

// Catalog maps a message code to its text, whose {name} placeholders are
// filled from the message's parameters.
type Catalog map[string]Text

// Render writes code with params in locale. An unknown code renders as the
// code itself followed by its parameters, so nothing is ever lost.
func (c Catalog) Render(locale, code string, params map[string]string) string {
	t, ok := c[code]
	if !ok {
		keys := make([]string, 0, len(params))
		for k := range params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString(code)
		for _, k := range keys {
			b.WriteString(" " + k + "=" + params[k])
		}
		return b.String()
	}
	out := t.In(locale)
	for k, v := range params {
		out = strings.ReplaceAll(out, "{"+k+"}", v)
	}
	return out
}

// EncodeParams is how parameters are stored in a column: a JSON object,
// or the empty string when there are none.
func EncodeParams(params map[string]string) string {
	if len(params) == 0 {
		return ""
	}
	raw, _ := json.Marshal(params) // a map of strings always encodes
	return string(raw)
}

// DecodeParams reads a column written by EncodeParams; what does not
// decode reads as no parameters.
func DecodeParams(s string) map[string]string {
	if s == "" {
		return nil
	}
	var params map[string]string
	if json.Unmarshal([]byte(s), &params) != nil {
		return nil
	}
	return params
}

// Normal is l as a supported locale: English or, for anything else, Russian.
func Normal(l string) string {
	if l == English {
		return English
	}
	return Russian
}

type contextKey struct{}

// WithContext carries the deployment's locale to what runs under ctx: the
// database's migrations get it this way, so a seed step reads it with
// FromContext(tx.Statement.Context).
func WithContext(ctx context.Context, loc string) context.Context {
	return context.WithValue(ctx, contextKey{}, Normal(loc))
}

// FromContext is the locale WithContext put in ctx, or Default.
func FromContext(ctx context.Context) string {
	if ctx != nil {
		if loc, ok := ctx.Value(contextKey{}).(string); ok {
			return loc
		}
	}
	return Default
}
