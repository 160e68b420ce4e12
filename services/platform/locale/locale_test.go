package locale

import (
	"maps"
	"testing"
)

func TestTextPicksTheLocaleAndFallsBackToRussian(t *testing.T) {
	tx := Text{RU: "Продажи", EN: "Sales"}
	for locale, want := range map[string]string{"ru": "Продажи", "en": "Sales", "": "Продажи", "de": "Продажи"} {
		if got := tx.In(locale); got != want {
			t.Errorf("In(%q) = %q, want %q", locale, got, want)
		}
	}
}

func TestCatalogRendersParametersAndKeepsUnknownCodes(t *testing.T) {
	c := Catalog{"task.title.connection": {RU: "Подключение {contract}", EN: "Connect {contract}"}}
	params := map[string]string{"contract": "C-000005"}
	if got := c.Render("ru", "task.title.connection", params); got != "Подключение C-000005" {
		t.Fatalf("ru: %q", got)
	}
	if got := c.Render("en", "task.title.connection", params); got != "Connect C-000005" {
		t.Fatalf("en: %q", got)
	}
	if got := c.Render("en", "other", map[string]string{"b": "2", "a": "1"}); got != "other a=1 b=2" {
		t.Fatalf("unknown: %q", got)
	}
}

func TestParamsRoundTripThroughAColumn(t *testing.T) {
	if EncodeParams(nil) != "" || DecodeParams("") != nil || DecodeParams("not json") != nil {
		t.Fatal("empty or broken parameters must read as none")
	}
	in := map[string]string{"number": "T-000001", "name": "Ремонт"}
	if out := DecodeParams(EncodeParams(in)); !maps.Equal(in, out) {
		t.Fatalf("%v came back as %v", in, out)
	}
}
