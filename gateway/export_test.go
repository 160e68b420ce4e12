package gateway

import "testing"

func TestCellsASpreadsheetWouldRunAreDefused(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"@SUM(A1)":          "'@SUM(A1)",
		"+cmd":              "'+cmd",
		"-2+3+cmd":          "-2+3+cmd",
		"- list":            "'- list",
		"\tx":               "'\tx",
		"+79123456789":      "+79123456789",
		"Иванов":            "Иванов",
		"":                  "",
		"-":                 "'-",
	} {
		if got := safeCell(in); got != want {
			t.Errorf("safeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
