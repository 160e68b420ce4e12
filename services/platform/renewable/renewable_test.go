package renewable_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/renewable"
)

// readWord reads a file holding a word; "broken" cannot be used.
func readWord(path string) func(time.Time) (string, error) {
	return func(time.Time) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		if s := string(b); s != "broken" {
			return s, nil
		}
		return "", errors.New("cannot be used")
	}
}

func TestFilesAreReadAgainWhenTheyChangeAndABrokenStateKeepsThePrevious(t *testing.T) {
	path := filepath.Join(t.TempDir(), "value")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	f, err := renewable.Read("test", readWord(path), path)
	if err != nil {
		t.Fatal(err)
	}
	var renewed []string
	refused := 0
	f.Renewed = func(v string) { renewed = append(renewed, v) }
	f.Refused = func(error) { refused++ }

	if v := f.Current(); v != "one" || len(renewed) != 0 {
		t.Fatalf("unchanged files: %q, renewed %v", v, renewed)
	}
	write("two!") // another size: a change whatever the clock's resolution
	if v := f.Current(); v != "two!" || len(renewed) != 1 {
		t.Fatalf("after a renewal: %q, renewed %v", v, renewed)
	}
	write("broken")
	for range 3 {
		if v := f.Current(); v != "two!" {
			t.Fatalf("a broken renewal replaced the value with %q", v)
		}
	}
	if refused != 1 {
		t.Errorf("the broken state was reported %d times, want once", refused)
	}
	if v := f.Last(); v != "two!" {
		t.Errorf("Last = %q", v)
	}
}

func TestAMissingFileIsNamedAfterWhatItIs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.pem")
	_, err := renewable.Read("mutual TLS", readWord(path), path)
	if err == nil || !strings.HasPrefix(err.Error(), "mutual TLS: ") || !strings.Contains(err.Error(), "absent.pem") {
		t.Fatalf("Read = %v, want an error naming what and the file", err)
	}
}
