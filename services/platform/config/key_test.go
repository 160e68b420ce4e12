package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAKeyFileThatNeverHoldsAKeyIsRefusedWithAdvice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("half-written"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := readKeyFile(path)
	if err == nil || !strings.Contains(err.Error(), "remove it to have a new one made") {
		t.Fatalf("readKeyFile = %v, want the advice to remove the file", err)
	}
}

func TestAMissingKeyFileIsReportedAtOnce(t *testing.T) {
	_, err := readKeyFile(filepath.Join(t.TempDir(), "absent"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("readKeyFile = %v, want a not-exist error", err)
	}
}

func TestAKeyFileIsRead(t *testing.T) {
	key := bytes.Repeat([]byte{7}, minKeyBytes)
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readKeyFile(path)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("readKeyFile = %x, %v; want %x", got, err, key)
	}
}
