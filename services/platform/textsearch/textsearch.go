// Package textsearch holds what the services' searches share: how a name
// or a text is folded before it is stored for searching and before it is
// searched for, and how a folded part becomes a LIKE pattern.
//
// A stored folded column and the query must go through the same Fold, or
// "Петр" stops finding "Пётр": the fold is done in Go, never by the
// database's lower(), whose result depends on the database's locale.
package textsearch

import (
	"strings"
	"unicode"
)

// folder maps the letters people write interchangeably to one of them:
// ё is written е in most Russian text.
var folder = strings.NewReplacer("ё", "е")

// Fold lowers s and maps ё to е, so that "Пётр", "ПЕТР" and "петр" fold
// alike.
func Fold(s string) string {
	return folder.Replace(strings.ToLower(s))
}

// Contains is the LIKE pattern (with ESCAPE '\') that finds the folded
// part anywhere in a folded column.
func Contains(part string) string {
	return "%" + EscapeLike(Fold(part)) + "%"
}

// EscapeLike escapes LIKE's wildcards and its escape character.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// MinTrigramRun is the least a trigram index can search by: three letters
// or digits in a row.
const MinTrigramRun = 3

// TrigramUsable tells whether a part has MinTrigramRun letters or digits
// in a row.
func TrigramUsable(part string) bool {
	run := 0
	for _, r := range part {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			run++
			if run >= MinTrigramRun {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
