package pagetoken

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/telecomcrm/crm/services/platform/fault"
)

type cursor struct {
	After int64  `json:"a"`
	Name  string `json:"n"`
}

// FuzzDecode: any string a client sends as a page token is read without a
// panic, and anything but a token issued for this listing is an Invalid
// error about pageToken — in particular an issued token changed in any one
// byte, or one issued for another listing.
func FuzzDecode(f *testing.F) {
	c := New([]byte("fuzz-internal-key"))
	valid := c.Encode("customers/", cursor{After: 42, Name: "Иван"})
	for _, seed := range []string{"", valid, valid + "x", "garbage", ".", "a.b", "\xff\xfe", "eyJxIjoiIn0.", valid[:len(valid)-1] + "B"} {
		f.Add(seed, "customers/", int64(42), "Иван", 3, byte('A'))
	}
	// The signature's last character carries two unused bits: its twin
	// that differs only there must be refused too.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	twin := alphabet[strings.IndexByte(alphabet, valid[len(valid)-1])^1]
	f.Add("", "customers/", int64(42), "Иван", len(valid)-1, twin)
	f.Fuzz(func(t *testing.T, token, query string, after int64, name string, at int, b byte) {
		var got cursor
		if ok, err := c.Decode(token, query, &got); err != nil {
			wantInvalid(t, token, err)
		} else if ok != (token != "") {
			t.Fatalf("Decode(%q) = %v without an error", token, ok)
		}

		if !utf8.ValidString(query) {
			// listings are named from proto strings, which are UTF-8
			return
		}
		want := cursor{After: after, Name: name}
		issued := c.Encode(query, want)
		var back cursor
		if ok, err := c.Decode(issued, query, &back); err != nil || !ok || back.After != want.After {
			t.Fatalf("an issued token read back as %+v, %v, %v", back, ok, err)
		}
		if _, err := c.Decode(issued, query+"/other", &back); err == nil {
			t.Fatalf("a token of listing %q was accepted for another", query)
		}
		if len(issued) == 0 {
			return
		}
		i := at % len(issued)
		if i < 0 {
			i = -i
		}
		tampered := []byte(issued)
		tampered[i] = b
		if string(tampered) == issued {
			return
		}
		if _, err := c.Decode(string(tampered), query, &back); err == nil {
			t.Fatalf("token %q changed at byte %d to %q was accepted", issued, i, tampered)
		} else {
			wantInvalid(t, string(tampered), err)
		}
	})
}

func wantInvalid(t *testing.T, token string, err error) {
	t.Helper()
	if !fault.Is(err, fault.Invalid) {
		t.Fatalf("Decode(%q): %v, want an Invalid error", token, err)
	}
}
