package blobstore

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Options address a bucket of an S3-compatible object store.
type S3Options struct {
	// Endpoint is host:port or an http(s):// URL (plain http only when
	// written so).
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string
}

// S3 keeps objects in one bucket of an S3-compatible store.
type S3 struct {
	client *minio.Client
	bucket string
}

// NewS3 connects and makes the bucket when it does not exist yet.
func NewS3(ctx context.Context, o S3Options) (*S3, error) {
	host, secure := o.Endpoint, true
	if u, err := url.Parse(o.Endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		host, secure = u.Host, u.Scheme == "https"
	}
	if host == "" || strings.Contains(host, "/") {
		return nil, fmt.Errorf("CRM_S3_ENDPOINT %q is not host:port or an http(s) URL", o.Endpoint)
	}
	if o.Bucket == "" {
		return nil, fmt.Errorf("CRM_S3_BUCKET is empty")
	}
	client, err := minio.New(host, &minio.Options{
		Creds:  credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure: secure,
		Region: o.Region,
		// Path-style addressing works with every S3-compatible server
		// without wildcard DNS.
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("CRM_S3_ENDPOINT: %w", err)
	}
	exists, err := client.BucketExists(ctx, o.Bucket)
	if err != nil {
		return nil, fmt.Errorf("object store at %s cannot be asked for bucket %s: %w", o.Endpoint, o.Bucket, err)
	}
	if !exists {
		if err := client.MakeBucket(ctx, o.Bucket, minio.MakeBucketOptions{Region: o.Region}); err != nil {
			return nil, fmt.Errorf("making bucket %s: %w", o.Bucket, err)
		}
	}
	return &S3{client: client, bucket: o.Bucket}, nil
}

func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{ContentType: contentType})
	return err
}

// Open asks for the object's metadata first, so a missing key is
// ErrNotFound here rather than an error on the first read.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, notFound(err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, notFound(err)
	}
	return obj, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
}

func notFound(err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return ErrNotFound
	}
	return err
}
