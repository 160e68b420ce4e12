package e2e

import (
	"flag"
	"net/url"
	"os"
	"testing"
)

// TestMain runs four tests at once unless -parallel says otherwise: each
// starts a stack of its own and spends most of its time waiting on it
// (reminders, retries, rate limits), so two cores carry four well.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "4")
	}
	os.Exit(m.Run())
}

func urlQuery(s string) string { return url.QueryEscape(s) }
