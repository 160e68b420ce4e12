package contract

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// formatNumber is a contract's human number: its id, zero-padded to six
// digits, after "C-" ("C-000123"; "C-1234567" past a million).
func formatNumber(id int64) string { return fmt.Sprintf("C-%06d", id) }

// maxNumberDigits bounds what is read as a contract number (an int64 id).
const maxNumberDigits = 18

// parseNumber reads a contract number as people type it — "C-000123",
// "c-123", "C123", "C 123", with a Latin or Cyrillic C — and returns the
// stored form. ok is false when it is not a contract number.
func parseNumber(raw string) (string, bool) {
	s := strings.TrimSpace(raw)
	rest, ok := cutLetterC(s)
	if !ok {
		return "", false
	}
	rest = strings.TrimLeftFunc(rest, func(r rune) bool { return r == '-' || unicode.IsSpace(r) })
	if rest == "" || len(rest) > maxNumberDigits {
		return "", false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 {
		return "", false
	}
	return formatNumber(id), true
}

// cutLetterC removes the leading C (Latin or Cyrillic, either case).
func cutLetterC(s string) (string, bool) {
	for _, c := range []string{"C", "c", "С", "с"} {
		if rest, ok := strings.CutPrefix(s, c); ok {
			return rest, true
		}
	}
	return "", false
}
