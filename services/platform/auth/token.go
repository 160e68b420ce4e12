package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Header is the gRPC metadata key that carries the signed principal.
const Header = "x-crm-principal"

// TokenTTL is how long a signed principal is believed. Every call is
// signed afresh for its callee, so a token need only outlast its way
// there; the minute is the clock skew between two hosts it tolerates, and
// bounds the use of a token that leaks (a log, a dump) to that minute and
// that one service.
const TokenTTL = time.Minute

// ErrBadToken is returned for a token that is malformed, forged, expired
// or signed for another service; the wrapped message says which, without
// the token.
var ErrBadToken = errors.New("invalid internal token")

// Keyring signs and verifies principals with the internal key.
type Keyring struct {
	key []byte
	now func() time.Time
}

// NewKeyring derives the principal-signing key from the internal key, so the
// same secret can serve other purposes without one forging the other.
func NewKeyring(internalKey []byte) *Keyring {
	return &Keyring{key: Derive(internalKey, "principal"), now: time.Now}
}

// Derive makes a purpose-bound key from the internal key.
func Derive(internalKey []byte, purpose string) []byte {
	m := hmac.New(sha256.New, internalKey)
	m.Write([]byte("crm/" + purpose))
	return m.Sum(nil)
}

// Sign returns the token for p, valid for ttl at the service audience
// only (see Audience).
func (k *Keyring) Sign(p Principal, audience string, ttl time.Duration) string {
	p.Audience = audience
	p.Expires = k.now().Add(ttl).Unix()
	body, _ := json.Marshal(p) // a Principal always marshals
	enc := base64.RawURLEncoding
	payload := enc.EncodeToString(body)
	return payload + "." + enc.EncodeToString(k.mac(payload))
}

// Verify checks a token's signature, expiry and audience (the service
// verifying it) and returns its principal.
func (k *Keyring) Verify(token, audience string) (*Principal, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok {
		return nil, fmt.Errorf("%w: malformed", ErrBadToken)
	}
	enc := base64.RawURLEncoding
	got, err := enc.DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.mac(payload)) {
		return nil, fmt.Errorf("%w: the signature does not match the internal key", ErrBadToken)
	}
	body, err := enc.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed", ErrBadToken)
	}
	var p Principal
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: malformed", ErrBadToken)
	}
	if now := k.now().Unix(); now >= p.Expires {
		return nil, fmt.Errorf("%w: expired %ds ago", ErrBadToken, now-p.Expires)
	}
	if p.Audience != audience {
		return nil, fmt.Errorf("%w: signed for %q, not %q", ErrBadToken, p.Audience, audience)
	}
	return &p, nil
}

// Audience is the service a call to fullMethod reaches, which its token
// must be signed for: the component that owns the method's proto package,
// crm.<component>.v1 ("/crm.task.v1.AttachmentService/Upload" → "task").
// Read from the method on both sides, it needs no configuration and the
// signer cannot name the wrong service. Methods outside crm.* have none.
func Audience(fullMethod string) string {
	pkg, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	parts := strings.Split(pkg, ".")
	if len(parts) < 4 || parts[0] != "crm" {
		return ""
	}
	return parts[1]
}

func (k *Keyring) mac(payload string) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}
