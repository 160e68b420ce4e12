package textsearch

import "testing"

func TestFoldMakesCaseAndYoIrrelevant(t *testing.T) {
	for _, pair := range [][2]string{
		{"Пётр", "петр"}, {"ПЁТР", "петр"}, {"ЁЛКИНА", "елкина"}, {"Petr", "petr"}, {"ООО «Ёж»", "ооо «еж»"},
	} {
		if got := Fold(pair[0]); got != pair[1] {
			t.Errorf("Fold(%q) = %q, want %q", pair[0], got, pair[1])
		}
	}
}

func TestContainsEscapesWildcards(t *testing.T) {
	if got := Contains(`50%_\Ё`); got != `%50\%\_\\е%` {
		t.Fatalf("got %q", got)
	}
}

func TestTrigramUsableNeedsThreeLettersOrDigitsInARow(t *testing.T) {
	for part, want := range map[string]bool{
		"ив": false, "ива": true, "a b c": false, "ООО «Ро": true, "12": false, "123": true, "%_%": false, "ли ан": false, "ёлк": true,
	} {
		if got := TrigramUsable(part); got != want {
			t.Errorf("TrigramUsable(%q) = %v, want %v", part, got, want)
		}
	}
}

func TestEscapeLikeTakesWildcardsLiterally(t *testing.T) {
	for in, want := range map[string]string{"50%": `50\%`, "a_b": `a\_b`, `c:\dir`: `c:\\dir`, "иван": "иван"} {
		if got := EscapeLike(in); got != want {
			t.Errorf("EscapeLike(%q) = %q, want %q", in, got, want)
		}
	}
}
