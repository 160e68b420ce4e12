package notifier

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseCallback feeds the parser what any Telegram client may send as
// a button's data: it never panics, accepts only what callbackData writes
// (one spelling per button, so a forged variant is refused), and reads
// back every button it writes.
func FuzzParseCallback(f *testing.F) {
	for _, seed := range []string{
		"t:1:2:take", "t:9223372036854775807:0:adv", "t:5:5:ret", "t:7:3:way", "t:7:3:cant",
		"", "t:1:2", "t:x:2:take", "t:1:2:delete", "t:-1:2:take", "u:1:2:take",
		"t:+1:2:take", "t:01:2:take", "t:1:-0:ret", "t:1:2:take:", "t:1:2:take\x00", "t:٣:2:take",
	} {
		f.Add(seed, int64(1), int64(2), actTake)
	}
	f.Fuzz(func(t *testing.T, data string, task, proc int64, action string) {
		if tk, pr, act, ok := parseCallback(data); ok {
			if tk <= 0 || pr < 0 || !slices.Contains(actions, act) {
				t.Fatalf("parseCallback(%q) = %d %d %q: out of range", data, tk, pr, act)
			}
			if again := callbackData(tk, pr, act); again != data {
				t.Fatalf("parseCallback(%q) accepted a spelling callbackData never writes (%q)", data, again)
			}
		}
		if task <= 0 || proc < 0 || strings.ContainsRune(action, ':') {
			return
		}
		d := callbackData(task, proc, action)
		tk, pr, act, ok := parseCallback(d)
		known := slices.Contains(actions, action)
		if ok != known || ok && (tk != task || pr != proc || act != action) {
			t.Fatalf("parseCallback(callbackData(%d, %d, %q)) = %d %d %q %v", task, proc, action, tk, pr, act, ok)
		}
		if known && len(d) > 64 {
			t.Fatalf("%q is over Telegram's 64 bytes", d)
		}
	})
}
