package task

import (
	"regexp"
	"strings"

	"github.com/telecomcrm/crm/services/platform/locale"
)

// What the service composes itself is answered as a code and parameters
// beside the text (docs/language.md); the text is written once, in the
// deployment's language, for those that read it as it is (search, Telegram).
const titleConnection = "task.title.connection"

var composed = locale.Catalog{
	titleConnection: {RU: "Подключение {contract}", EN: "Connect {contract}"},
}

// connectionTitle is a connection task's title in loc.
func connectionTitle(loc, contract string) string {
	return composed.Render(loc, titleConnection, map[string]string{"contract": contract})
}

var contractNumber = regexp.MustCompile(`^C-[0-9]{6,}$`)

// titleMessage recognises a title the service composed, in any language
// (older tasks were titled in English), as its code and parameters.
func titleMessage(title string) (string, map[string]string, bool) {
	for _, loc := range []string{locale.Russian, locale.English} {
		prefix := connectionTitle(loc, "")
		if rest, ok := strings.CutPrefix(title, prefix); ok && contractNumber.MatchString(rest) {
			return titleConnection, map[string]string{"contract": rest}, true
		}
	}
	return "", nil, false
}
