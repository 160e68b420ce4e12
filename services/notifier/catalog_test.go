package notifier

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestEveryLanguageHasEveryMessage(t *testing.T) {
	codes := map[string][]string{}
	for _, name := range []string{"en.json", "ru.json"} {
		raw, err := messageFiles.ReadFile("messages/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		codes[name] = slices.Sorted(maps.Keys(m))
	}
	if !slices.Equal(codes["en.json"], codes["ru.json"]) {
		t.Fatalf("the languages hold different codes:\nen %v\nru %v", codes["en.json"], codes["ru.json"])
	}
	for _, code := range codes["en.json"] {
		for _, l := range []string{"en", "ru"} {
			if got := messages.text(l, code); got == code || got == "" {
				t.Errorf("%s has no text for %s", l, code)
			}
		}
	}
}

func TestRussianCountsTakeTheirPluralForm(t *testing.T) {
	for n, word := range map[int]string{1: "минуту", 21: "минуту", 2: "минуты", 4: "минуты", 5: "минут", 11: "минут", 12: "минут"} {
		got := messages.count("ru", "start.wait", n, n)
		if !strings.Contains(got, " "+word+" ") {
			t.Errorf("%d: %q, want %q", n, got, word)
		}
	}
	if got := messages.count("en", "start.wait", 1, 1); !strings.Contains(got, "1 minute,") {
		t.Errorf("en 1: %q", got)
	}
	if got := messages.count("en", "start.wait", 5, 5); !strings.Contains(got, "5 minutes,") {
		t.Errorf("en 5: %q", got)
	}
}

func TestAReaderIsWrittenToInTheirLanguageElseTheDeployments(t *testing.T) {
	for _, locale := range []string{"ru", "en"} {
		o := Config{Locale: locale}
		for code, want := range map[string]string{"en": "en", "en-GB": "en", "RU": "ru", "ru_RU": "ru", "de": locale, "": locale} {
			if got := o.readerLang(code); got != want {
				t.Errorf("CRM_LOCALE %s, reader %q: %q, want %q", locale, code, got, want)
			}
		}
		if got := o.telegramLang(nil); got != locale {
			t.Errorf("CRM_LOCALE %s, unknown chat: %q", locale, got)
		}
	}
	if got := messages.text("de", "closed"); got != messages.text(defaultLocale, "closed") {
		t.Errorf("a language the catalog lacks falls back to %s: %q", defaultLocale, got)
	}
}

func TestALocaleOutsideTheCatalogIsRefused(t *testing.T) {
	o := Config{Locale: "fr"}
	o.defaults()
	if err := o.check(); err == nil || !strings.Contains(err.Error(), "CRM_LOCALE") {
		t.Fatalf("check = %v, want CRM_LOCALE refused", err)
	}
	o = Config{}
	o.defaults()
	if o.Locale != "ru" {
		t.Fatalf("default locale %q, want ru", o.Locale)
	}
}
