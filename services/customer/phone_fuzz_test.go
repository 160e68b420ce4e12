package customer

import (
	"strings"
	"testing"
)

// FuzzNormalizeNumber feeds the normaliser and the search's prefix reader
// whatever an operator may type: neither panics; a normalised number is
// E.164 (a plus and 7 to 15 digits) and normalises to itself; a search
// prefix is a plus and digits, with a range bound above it.
func FuzzNormalizeNumber(f *testing.F) {
	for _, seed := range []string{
		"8 912 345-67-89", "+7 (495) 123-45-67", "9123456789", "+79123456789", "+1 202 555 0143",
		"", " ", "+", "++79123456789", "8 912", "12345", "+7912\x00345", "８９１２３４５６７８９", "+7 912 345 67 89 ext. 12",
		"tel:+79123456789", strings.Repeat("9", 5000), "\xff\xfe", "+٧٩١٢٣٤٥٦٧٨٩",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if n, ok := normalizeNumber(raw); ok {
			if !isE164(n) {
				t.Fatalf("normalizeNumber(%q) = %q, not E.164", raw, n)
			}
			if again, ok := normalizeNumber(n); !ok || again != n {
				t.Fatalf("normalizeNumber(%q) = %q, but that normalises to %q, %v", raw, n, again, ok)
			}
		}
		if p, ok := numberPrefix(raw); ok {
			if len(p) < 2 || p[0] != '+' || strings.Trim(p[1:], "0123456789") != "" {
				t.Fatalf("numberPrefix(%q) = %q, not a plus and digits", raw, p)
			}
			if up := prefixUpperBound(p); up <= p || !strings.HasPrefix(p+"9", p) || p+"9" >= up {
				t.Fatalf("prefixUpperBound(%q) = %q does not bound the numbers starting with it", p, up)
			}
		}
	})
}

func isE164(n string) bool {
	digits := strings.TrimPrefix(n, "+")
	return len(n) == len(digits)+1 && len(digits) >= 7 && len(digits) <= 15 && strings.Trim(digits, "0123456789") == ""
}
