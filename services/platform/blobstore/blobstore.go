// Package blobstore keeps files (attachments) by key: on the local disk
// under CRM_DATA_DIR by default, or in an S3-compatible object store when
// CRM_S3_ENDPOINT is set. Callers see one interface either way.
package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
)

// ErrNotFound answers Open and Stat for a key that holds nothing.
var ErrNotFound = errors.New("blobstore: no such object")

// Store keeps immutable objects by key.
type Store interface {
	// Put writes the object read from r (size bytes, or -1 when unknown)
	// under key. A failed Put leaves nothing readable under key.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open reads the object under key; ErrNotFound when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; deleting a missing key is no error.
	Delete(ctx context.Context, key string) error
}

// Config selects and configures the store. Embed it in a service's
// configuration; the data folder comes from config.Common.
type Config struct {
	S3Endpoint  string `env:"CRM_S3_ENDPOINT"`
	S3Bucket    string `env:"CRM_S3_BUCKET" envDefault:"crm-attachments"`
	S3AccessKey string `env:"CRM_S3_ACCESS_KEY"`
	S3SecretKey string `env:"CRM_S3_SECRET_KEY"`
	S3Region    string `env:"CRM_S3_REGION" envDefault:"us-east-1"`
}

// Open returns the S3 store when an endpoint is configured and the local
// store under dataDir/attachments otherwise.
func Open(ctx context.Context, c Config, dataDir string) (Store, error) {
	if c.S3Endpoint == "" {
		return NewLocal(filepath.Join(dataDir, "attachments"))
	}
	return NewS3(ctx, S3Options{
		Endpoint: c.S3Endpoint, Bucket: c.S3Bucket, AccessKey: c.S3AccessKey,
		SecretKey: c.S3SecretKey, Region: c.S3Region,
	})
}

// keyPattern is what a key may be: slash-separated segments of safe
// characters, so a key is a path inside the local folder and a plain S3
// object name, never an escape from either.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`)

func checkKey(key string) error {
	if len(key) > 512 || !keyPattern.MatchString(key) {
		return fmt.Errorf("blobstore: %q is not a valid key", key)
	}
	return nil
}
