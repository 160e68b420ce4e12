package pagetoken

import (
	"strings"
	"testing"

	"github.com/telecomcrm/crm/services/platform/fault"
)

func TestEveryMalformedTokenIsAnInvalidPageToken(t *testing.T) {
	c := New([]byte("pagetoken-test-internal-key-0123456789"))
	type cursor struct{ After int64 }
	good := c.Encode("q", cursor{After: 5})
	payload, sig, _ := strings.Cut(good, ".")
	other := New([]byte("another-internal-key-0123456789abcdef")).Encode("q", cursor{After: 5})
	for name, token := range map[string]string{
		"no signature":             payload,
		"tampered payload":         "x" + good,
		"signature not base64":     payload + ".!!",
		"signed with another key":  other,
		"another listing's token":  c.Encode("other", cursor{After: 5}),
		"cursor of another shape":  c.Encode("q", "not a cursor"),
		"bytes that are not UTF-8": "\xff\xfe." + sig,
		"only a dot":               ".",
		"very long":                strings.Repeat("a", 10000) + "." + sig,
	} {
		t.Run(name, func(t *testing.T) {
			var cur cursor
			ok, err := c.Decode(token, "q", &cur)
			if ok || !fault.Is(err, fault.Invalid) {
				t.Fatalf("Decode = %v, %v; want an Invalid error", ok, err)
			}
		})
	}
	var cur cursor
	if ok, err := c.Decode(good, "q", &cur); !ok || err != nil || cur.After != 5 {
		t.Fatalf("a good token: %v %v %+v", ok, err, cur)
	}
}

func TestNextCutsTheRowReadBeyondThePageAndPointsPastTheLastKept(t *testing.T) {
	c := New([]byte("pagetoken-test-internal-key-0123456789"))
	type row struct{ ID int64 }
	mark := func(r *row) any { return r.ID }
	rows, token := Next(c, "q", []row{{9}, {8}, {7}}, 2, mark)
	if len(rows) != 2 || token == "" {
		t.Fatalf("rows %v, token %q: want two rows and a next page", rows, token)
	}
	var after int64
	if ok, err := c.Decode(token, "q", &after); !ok || err != nil || after != 8 {
		t.Fatalf("the next page starts after %d (%v, %v), want after 8", after, ok, err)
	}
	if rows, token := Next(c, "q", []row{{9}, {8}}, 2, mark); len(rows) != 2 || token != "" {
		t.Fatalf("a last page: rows %v, token %q", rows, token)
	}
}
