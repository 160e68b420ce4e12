package hostile

import (
	"strings"
	"testing"
)

// The suite is only as good as its reading of the document: every string
// field of a body, every path parameter and every page token must get its
// hostile variants, and every create must be countable.
func TestEveryRouteGetsTheHostileVariantsOfItsFields(t *testing.T) {
	a := readAPI(t)
	total := 0
	for _, r := range a.routes {
		ms := a.mutations(r, true)
		total += len(ms)
		all := names(ms)
		for _, p := range r.op.Parameters {
			switch {
			case p.In == "path" && !strings.Contains(all, "{"+p.Name+"} non-numeric"):
				t.Errorf("%s: no bad ids for {%s}", r, p.Name)
			case p.Name == "pageToken" && !strings.Contains(all, "?pageToken not UTF-8"):
				t.Errorf("%s: no bad page tokens", r)
			}
		}
		if r.body == nil {
			continue
		}
		for _, l := range a.fields(r.body, nil, 0) {
			if l.s.Type == "string" && len(l.s.Enum) == 0 && !isIntString(l.s) && !strings.Contains(all, l.name()+" with NUL") {
				t.Errorf("%s: no NUL in %s", r, l.name())
			}
		}
		if !strings.Contains(all, hugeName) {
			t.Errorf("%s: no huge body", r)
		}
	}
	for _, want := range []string{"customer.phones[0].number with NUL", "processes[0].name at 5000 characters", "comment at 2000 characters (10× sane)"} {
		found := false
		for _, r := range a.routes {
			found = found || strings.Contains(names(a.mutations(r, true)), want)
		}
		if !found {
			t.Errorf("no route got %q", want)
		}
	}
	t.Logf("%d routes, %d hostile variants", len(a.routes), total)
}

func names(ms []mutation) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.name + "\n")
	}
	return b.String()
}

// A fixture whose route the document no longer has would leave its route
// tried from an empty body, which can change what later requests rely on.
func TestEveryFixtureNamesARouteOfTheDocument(t *testing.T) {
	routes := map[string]bool{}
	for _, r := range readAPI(t).routes {
		routes[r.String()] = true
	}
	for key := range fixtures {
		if !routes[key] {
			t.Errorf("the fixture %q names no route of the document", key)
		}
	}
}
