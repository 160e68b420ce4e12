package config

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

const minKeyBytes = 32

// SigningKey returns the internal signing key: CRM_INTERNAL_KEY when set,
// otherwise the key file in DataDir, created on first use. Concurrent first
// starts agree on one key: the file is created exclusively and read back.
func (c *Common) SigningKey() ([]byte, error) {
	if c.InternalKey != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.InternalKey))
		if err != nil || len(key) < minKeyBytes {
			return nil, fmt.Errorf("configuration: CRM_INTERNAL_KEY must be base64 of at least %d bytes", minKeyBytes)
		}
		return key, nil
	}
	if err := c.EnsureDataDir(); err != nil {
		return nil, err
	}
	path := filepath.Join(c.DataDir, "internal.key")
	fresh := make([]byte, minKeyBytes)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(fresh))
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("configuration: writing %s: %w", path, werr)
		}
		return fresh, nil
	case errors.Is(err, fs.ErrExist):
		return readKeyFile(path)
	default:
		return nil, fmt.Errorf("configuration: creating %s: %w", path, err)
	}
}

// readKeyFile waits briefly for a key file another process is still writing.
func readKeyFile(path string) ([]byte, error) {
	invalid := errors.New("not a valid key yet")
	key, err := backoff.Retry(context.Background(), func() ([]byte, error) {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, backoff.Permanent(fmt.Errorf("configuration: reading %s: %w", path, err))
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(key) < minKeyBytes {
			return nil, invalid
		}
		return key, nil
	}, backoff.WithBackOff(backoff.NewConstantBackOff(20*time.Millisecond)), backoff.WithMaxTries(50))
	if errors.Is(err, invalid) {
		return nil, fmt.Errorf("configuration: %s does not hold a valid key; remove it to have a new one made", path)
	}
	return key, err
}
