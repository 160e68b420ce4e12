package notifier

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	tele "gopkg.in/telebot.v3"
)

// The message catalog: every text the bot writes, by code, in each
// language of messages/*.json (one file a language, the same codes in
// each). A text may take parameters in fmt's notation; one that counts
// something has CLDR plural forms (Russian: one, few, many, other), chosen
// by the count. The catalog is read once from the embedded files and never
// changes.
//
//go:embed messages/*.json
var messageFiles embed.FS

// defaultLocale is the language of a reader whose own is not known, unless
// CRM_LOCALE says otherwise: the product's users are in Russia.
const defaultLocale = "ru"

var messages = loadCatalog()

type catalog struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
}

func loadCatalog() *catalog {
	bundle := i18n.NewBundle(language.Russian)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := messageFiles.ReadDir("messages")
	if err != nil {
		panic(err)
	}
	c := &catalog{bundle: bundle, localizers: map[string]*i18n.Localizer{}}
	for _, f := range files {
		mf, err := bundle.LoadMessageFileFS(messageFiles, "messages/"+f.Name())
		if err != nil {
			panic(fmt.Sprintf("message catalog %s: %v", f.Name(), err))
		}
		tag := mf.Tag.String()
		// A code missing in a language falls back to the default one.
		c.localizers[tag] = i18n.NewLocalizer(bundle, tag, defaultLocale)
	}
	return c
}

// supported returns the catalog's language for a language code ("en-GB"
// gives "en"), or "" when the catalog has none for it.
func (c *catalog) supported(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	if i := strings.IndexAny(code, "-_"); i > 0 {
		code = code[:i]
	}
	if _, ok := c.localizers[code]; ok {
		return code
	}
	return ""
}

// text renders the message code in language l with its parameters.
func (c *catalog) text(l, code string, args ...any) string {
	return c.render(l, code, nil, args)
}

// count renders the message code whose form depends on n (n is the first
// parameter when the text shows it).
func (c *catalog) count(l, code string, n int, args ...any) string {
	return c.render(l, code, n, args)
}

func (c *catalog) render(l, code string, n any, args []any) string {
	loc, ok := c.localizers[l]
	if !ok {
		loc = c.localizers[defaultLocale]
	}
	s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: code, PluralCount: n})
	if err != nil {
		// A code is missing from every file: a bug the catalog test
		// catches; show the code rather than nothing.
		return code
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// readerLang is the language to write to a reader in: theirs (their
// profile's, or for a chat not linked yet their Telegram client's) when the
// catalog has it, else the deployment's (CRM_LOCALE).
func (c *Config) readerLang(code string) string {
	if l := messages.supported(code); l != "" {
		return l
	}
	return c.Locale
}

// telegramLang is readerLang for a chat whose user is not known yet.
func (c *Config) telegramLang(u *tele.User) string {
	if u == nil {
		return c.Locale
	}
	return c.readerLang(u.LanguageCode)
}
