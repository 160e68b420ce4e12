package blobstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// stores runs a test against the local store and against the S3 store
// speaking to an in-process S3 fake.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	local, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	s3, err := NewS3(context.Background(), S3Options{
		Endpoint: srv.URL, Bucket: "attachments", AccessKey: "test", SecretKey: "test-secret", Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Store{"local": local, "s3": s3}
}

func TestStoreKeepsWhatWasPutAndForgetsWhatWasDeleted(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			body := bytes.Repeat([]byte("photo-bytes "), 100_000)
			if err := s.Put(ctx, "tasks/7/1-original", bytes.NewReader(body), int64(len(body)), "image/jpeg"); err != nil {
				t.Fatal(err)
			}
			r, err := s.Open(ctx, "tasks/7/1-original")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("read back %d bytes (err %v), want the %d put", len(got), err, len(body))
			}
			if err := s.Delete(ctx, "tasks/7/1-original"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Open(ctx, "tasks/7/1-original"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after delete: %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "tasks/7/1-original"); err != nil {
				t.Fatalf("deleting twice: %v", err)
			}
		})
	}
}

func TestStoreAnswersNotFoundForAKeyNeverPut(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Open(context.Background(), "tasks/1/none"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
	}
}

func TestStoreRefusesKeysThatCouldEscape(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			for _, key := range []string{"../x", "a/../../x", "/abs", "a//b", ".hidden", "a/b/", "", "a\\b", strings.Repeat("k", 600)} {
				if err := s.Put(context.Background(), key, strings.NewReader("x"), 1, "text/plain"); err == nil {
					t.Errorf("Put(%q) succeeded", key)
				}
				if _, err := s.Open(context.Background(), key); err == nil || errors.Is(err, ErrNotFound) {
					t.Errorf("Open(%q) = %v, want a key error", key, err)
				}
			}
		})
	}
}

// failingReader fails after some bytes, as a client that goes away does.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("client went away")
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestLocalStoreLeavesNothingOfAFailedPut(t *testing.T) {
	dir := t.TempDir()
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "tasks/1/a", &failingReader{n: 5000}, -1, ""); err == nil {
		t.Fatal("a failed read was stored")
	}
	if _, err := s.Open(context.Background(), "tasks/1/a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "tasks", "1", "*"))
	if len(left) != 0 {
		t.Fatalf("files left behind: %v", left)
	}
}

func TestOpenChoosesLocalWithoutAnEndpoint(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "k", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "attachments", "k")); err != nil {
		t.Fatalf("not under CRM_DATA_DIR/attachments: %v", err)
	}
}

func TestNewS3RefusesAMalformedEndpoint(t *testing.T) {
	if _, err := NewS3(context.Background(), S3Options{Endpoint: "http://", Bucket: "b"}); err == nil {
		t.Fatal("an endpoint without a host was accepted")
	}
}
