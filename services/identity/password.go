package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	// minPassword is the shortest password accepted, in characters.
	minPassword = 12
	// maxPassword bounds the bytes hashed, so a huge body costs nothing.
	maxPassword = 1024
)

// argonParams are the cost parameters of an argon2id hash.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	keyLen  uint32
	saltLen int
}

// owasp is the parameter set OWASP's Password Storage Cheat Sheet names for
// argon2id: 19 MiB of memory, 2 passes, one lane.
var owasp = argonParams{memory: 19456, time: 2, threads: 1, keyLen: 32, saltLen: 16}

var errBadHash = errors.New("stored password hash is malformed")

// orOWASP returns p, or the OWASP parameters when p is unset. (Only tests
// set other parameters, to keep a suite under the race detector quick.)
func (p argonParams) orOWASP() argonParams {
	if p == (argonParams{}) {
		return owasp
	}
	return p
}

// hashPassword returns the PHC string of a fresh argon2id hash with the
// parameters p (unset: OWASP's):
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64).
func hashPassword(p argonParams, password string) (string, error) {
	p = p.orOWASP()
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, p.keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verifyPassword tells whether password matches a PHC string, with the
// parameters the string names (so older hashes keep working after the
// parameters change), comparing in constant time.
func verifyPassword(encoded, password string) (bool, error) {
	p, salt, want, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, p.keyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parsePHC(encoded string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, nil, nil, errBadHash
	}
	// Bounds keep a tampered row from making one check cost a fortune.
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 16 || p.threads < 1 {
		return p, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errBadHash
	}
	p.keyLen, p.saltLen = uint32(len(key)), len(salt)
	return p, salt, key, nil
}
