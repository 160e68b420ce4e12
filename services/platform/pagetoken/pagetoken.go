// Package pagetoken makes the opaque page tokens of keyset pagination. A
// token carries the cursor (the sort key of the last row shown) and the query
// it belongs to, signed, so a tampered token or one reused with another query
// is refused instead of silently paging wrong.
package pagetoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// Codec signs and reads page tokens.
type Codec struct{ key []byte }

// New derives the token key from the internal key.
func New(internalKey []byte) *Codec { return &Codec{key: auth.Derive(internalKey, "pagetoken")} }

type envelope struct {
	Query  string          `json:"q"`
	Cursor json.RawMessage `json:"c"`
}

// Encode returns the token for cursor under query (any string that names
// the listing: its filters and order).
func (c *Codec) Encode(query string, cursor any) string {
	raw, _ := json.Marshal(cursor)
	body, _ := json.Marshal(envelope{Query: query, Cursor: raw})
	enc := base64.RawURLEncoding
	payload := enc.EncodeToString(body)
	return payload + "." + enc.EncodeToString(c.mac(payload))
}

// Decode reads token into cursor. An empty token leaves cursor alone and
// reports false; a bad one is an Invalid error about page_token.
func (c *Codec) Decode(token, query string, cursor any) (bool, error) {
	if token == "" {
		return false, nil
	}
	bad := fault.Field("pageToken", "the page token is not valid for this listing; start from the first page")
	payload, sig, ok := strings.Cut(token, ".")
	if !ok {
		return false, bad
	}
	// Strict: otherwise the last character's unused bits could change
	// and the token still pass.
	enc := base64.RawURLEncoding.Strict()
	got, err := enc.DecodeString(sig)
	if err != nil || !hmac.Equal(got, c.mac(payload)) {
		return false, bad
	}
	body, err := enc.DecodeString(payload)
	if err != nil {
		return false, bad
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Query != query {
		return false, bad
	}
	if err := json.Unmarshal(env.Cursor, cursor); err != nil {
		return false, bad
	}
	return true, nil
}

func (c *Codec) mac(payload string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Size clamps a requested page size: 0 means def, at most max.
func Size(requested int32, def, max int) int {
	switch {
	case requested <= 0:
		return def
	case int(requested) > max:
		return max
	}
	return int(requested)
}

// Next cuts rows, read one beyond size, to the page and answers the token
// of the page after it under query, its cursor made from the page's last
// row; "" when rows end within the page.
func Next[R any](c *Codec, query string, rows []R, size int, cursor func(last *R) any) ([]R, string) {
	if len(rows) <= size {
		return rows, ""
	}
	rows = rows[:size]
	return rows, c.Encode(query, cursor(&rows[size-1]))
}
