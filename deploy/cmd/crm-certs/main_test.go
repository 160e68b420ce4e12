package main

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTheToolMakesTheFolderThenKeepsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	var first, second strings.Builder
	if err := run([]string{"-dir", dir, "-days", "2", "-hosts", "crm.example, 10.0.0.5"}, &first); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(first.String(), "crm-certs: made "); n != 12 {
		t.Errorf("the first run made %d pairs, want the CA and 11 components:\n%s", n, first.String())
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "gateway.pem"), filepath.Join(dir, "gateway-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pair.Leaf.VerifyHostname("crm.example"); err != nil {
		t.Error(err)
	}
	if left := time.Until(pair.Leaf.NotAfter); left < 47*time.Hour || left > 49*time.Hour {
		t.Errorf("-days 2 made a certificate valid for %s more", left)
	}
	if err := run([]string{"-dir", dir, "-days", "2", "-hosts", "crm.example,10.0.0.5"}, &second); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(second.String(), "made") {
		t.Errorf("a second run over valid files made some:\n%s", second.String())
	}
}

func TestTheToolRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{}, {"-dir", t.TempDir(), "-days", "0"}, {"-dir", t.TempDir(), "-bogus"}} {
		if err := run(args, &strings.Builder{}); err == nil {
			t.Errorf("crm-certs %v was accepted", args)
		}
	}
}
