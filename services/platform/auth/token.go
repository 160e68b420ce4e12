package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Header is the gRPC metadata key that carries the signed principal.
const Header = "x-crm-principal"

// ErrBadToken is returned for a token that is malformed, forged or expired.
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

// Sign returns the token for p, valid for ttl.
func (k *Keyring) Sign(p Principal, ttl time.Duration) string {
	p.Expires = k.now().Add(ttl).Unix()
	body, _ := json.Marshal(p) // a Principal always marshals
	enc := base64.RawURLEncoding
	payload := enc.EncodeToString(body)
	return payload + "." + enc.EncodeToString(k.mac(payload))
}

// Verify checks a token's signature and expiry and returns its principal.
func (k *Keyring) Verify(token string) (*Principal, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok {
		return nil, ErrBadToken
	}
	enc := base64.RawURLEncoding
	got, err := enc.DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.mac(payload)) {
		return nil, ErrBadToken
	}
	body, err := enc.DecodeString(payload)
	if err != nil {
		return nil, ErrBadToken
	}
	var p Principal
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, ErrBadToken
	}
	if k.now().Unix() >= p.Expires {
		return nil, ErrBadToken
	}
	return &p, nil
}

func (k *Keyring) mac(payload string) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}
