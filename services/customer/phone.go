package customer

import (
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// region is where numbers written without a country code are taken to be.
const region = "RU"

// normalizeNumber parses a number written in any common format and returns
// it in E.164 ("+79123456789"); ok is false when it is not a valid number.
func normalizeNumber(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// minPrefixDigits keeps a search from matching every number of a country.
const minPrefixDigits = 3

// numberPrefix reads a search query as the leading part of a phone number
// and returns the E.164 prefix it stands for. ok is false when the query is
// not phone-like (letters, or too few digits).
//
// A complete number in any format is normalised. A partial one follows the
// Russian conventions of how people type: "+7912…" and "7912…" carry the
// country code, "8912…" has the trunk prefix 8 in its place, and "912…"
// is the national number alone.
func numberPrefix(query string) (string, bool) {
	query = strings.TrimSpace(query)
	var digits strings.Builder
	for _, r := range query {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' || r == '-' || r == '(' || r == ')' || r == '.' || unicode.IsSpace(r):
		default:
			return "", false
		}
	}
	d := digits.String()
	if len(d) < minPrefixDigits {
		return "", false
	}
	if full, ok := normalizeNumber(query); ok {
		return full, true
	}
	switch {
	case strings.HasPrefix(query, "+"):
		return "+" + d, true
	case d[0] == '8':
		return "+7" + d[1:], true
	case d[0] == '7':
		return "+" + d, true
	}
	return "+7" + d, true
}

// minPartDigits is the least part of a number searched for anywhere in
// it: the last four digits, or more. Three would match one number in a
// hundred (a trigram index narrows nothing then), and fewer would not be
// searchable by trigrams at all.
const minPartDigits = 4

// numberPart reads a search query as digits to find anywhere in a phone
// number ("345-67", the last four digits "6789"). ok is false for a query
// that is not phone-like, has fewer than minPartDigits digits, starts with
// "+" (a number written from its start is a prefix), or is a complete
// number (found exactly).
func numberPart(query string) (string, bool) {
	query = strings.TrimSpace(query)
	if strings.HasPrefix(query, "+") {
		return "", false
	}
	if _, phoneLike := numberPrefix(query); !phoneLike {
		return "", false
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, query)
	if len(digits) < minPartDigits {
		return "", false
	}
	if _, full := normalizeNumber(query); full {
		return "", false
	}
	return digits, true
}

// prefixUpperBound returns the least string above every string that starts
// with prefix, for a range scan: the last character raised by one. Phone
// prefixes are "+" and digits, so the last one is never the maximum byte.
func prefixUpperBound(prefix string) string {
	b := []byte(prefix)
	b[len(b)-1]++
	return string(b)
}
