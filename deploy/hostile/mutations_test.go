package hostile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// request is one call of the suite: a route with a filled path, a query
// and a body (a JSON value, raw bytes, or none).
type request struct {
	path  string
	query url.Values
	body  any // nil, a JSON value, or raw []byte
}

// mutation turns a valid request into a hostile one. class groups
// mutations for the smaller SQLite pass, which tries one of each.
type mutation struct {
	name, class string
	apply       func(rq *request)
}

const (
	// badUTF8 is a placeholder swapped for bytes that are not UTF-8 once
	// the body is encoded (encoding/json would replace them).
	badUTF8     = "HOSTILE-NOT-UTF8"
	hugeBody    = 8 << 20
	longest     = 5000
	textSane    = 200 // comments, descriptions, reasons, addresses
	defaultSane = 50  // names, logins, codes
)

// sane is a sensible length for a string field, by its name.
func sane(field string) int {
	f := strings.ToLower(field)
	for _, w := range []string{"comment", "text", "description", "reason", "address"} {
		if strings.Contains(f, w) {
			return textSane
		}
	}
	return defaultSane
}

func isIntString(s *schema) bool {
	return s.Type == "string" && (s.Format == "int64" || s.Format == "uint64")
}

// bodyMutations are the hostile variants of a body with the given fields.
func bodyMutations(fields []leaf) []mutation {
	var out []mutation
	set := func(l leaf, v any) func(rq *request) {
		return func(rq *request) { rq.body = setAt(rq.body, l.at, v) }
	}
	for _, l := range fields {
		n := l.name()
		switch s := l.s; {
		case len(s.Enum) > 0:
			out = append(out,
				mutation{n + " = an unknown enum name", "type", set(l, "NOT_A_VALUE")},
				mutation{n + " = an unknown enum number", "type", set(l, 999)})
		case isIntString(s):
			out = append(out,
				mutation{n + " = non-numeric", "type", set(l, "abc")},
				mutation{n + " = negative", "number", set(l, "-1")},
				mutation{n + " = beyond int64", "number", set(l, "99999999999999999999")},
				mutation{n + " = an object", "type", set(l, map[string]any{})})
		case s.Type == "string":
			size := sane(n)
			out = append(out,
				mutation{fmt.Sprintf("%s at %d characters (10× sane)", n, 10*size), "long", set(l, strings.Repeat("ж", 10*size))},
				mutation{fmt.Sprintf("%s at %d characters", n, longest), "longest", set(l, strings.Repeat("a", longest))},
				mutation{n + " with NUL", "nul", set(l, "a\u0000b")},
				mutation{n + " with BEL", "control", set(l, "a\u0007b")},
				mutation{n + " with ESC", "control", set(l, "a\u001bb")},
				mutation{n + " not UTF-8", "utf8", set(l, badUTF8)},
				mutation{n + " = a number", "type", set(l, 12345)})
		case s.Type == "integer" || s.Type == "number":
			out = append(out,
				mutation{n + " = a string", "type", set(l, "abc")},
				mutation{n + " = negative", "number", set(l, -1)},
				mutation{n + " = beyond int32", "number", set(l, 1e12)})
		case s.Type == "boolean":
			out = append(out, mutation{n + " = a string", "type", set(l, "yes")})
		case s.Type == "array":
			out = append(out, mutation{n + " = an object", "type", set(l, map[string]any{"a": 1})})
		case s.Type == "object":
			out = append(out,
				mutation{n + " = an array", "type", set(l, []any{1})},
				mutation{n + " with an unknown field", "unknown", func(rq *request) {
					rq.body = setAt(rq.body, append(l.at, "hostileUnknownField"), 1)
				}})
		}
	}
	out = append(out,
		mutation{"an unknown field", "unknown", func(rq *request) { rq.body = setAt(rq.body, []any{"hostileUnknownField"}, "x") }},
		mutation{"a body that is not JSON", "shape", func(rq *request) { rq.body = []byte("not json") }},
		mutation{"a body cut short", "shape", func(rq *request) { rq.body = []byte(`{"a":`) }},
		mutation{"an array for the body", "shape", func(rq *request) { rq.body = []any{} }},
		mutation{hugeName, "huge", func(rq *request) {
			rq.body = setAt(rq.body, hugeField(fields), strings.Repeat("a", hugeBody))
		}},
	)
	return out
}

// hugeName names the 8 MiB body, which must be answered 413.
const hugeName = "an 8 MiB body"

// hugeField is where the 8 MiB go: the first string field, so that only
// the size is wrong (a field the route does not know would be refused for
// its name alone).
func hugeField(fields []leaf) []any {
	for _, l := range fields {
		if l.s.Type == "string" && len(l.s.Enum) == 0 && !isIntString(l.s) {
			return l.at
		}
	}
	return []any{"hostileUnknownField"}
}

// queryMutations are the hostile variants of a route's query parameters.
func (a *api) queryMutations(r route) []mutation {
	var out []mutation
	set := func(k, v string) func(rq *request) {
		return func(rq *request) {
			if rq.query == nil {
				rq.query = url.Values{}
			}
			rq.query.Set(k, v)
		}
	}
	for _, p := range r.op.Parameters {
		if p.In != "query" {
			continue
		}
		s, n := a.resolve(p.Schema), "?"+p.Name
		switch {
		case s == nil:
		case p.Name == "pageToken":
			out = append(out,
				mutation{n + " = garbage", "pagetoken", set(p.Name, "garbage")},
				mutation{n + " = a forged signature", "pagetoken", set(p.Name, "eyJxIjoiIiwiYyI6eyJhIjoxfX0.AAAA")},
				mutation{n + " not UTF-8", "pagetoken", set(p.Name, "\xff\xfe")},
				mutation{n + " with NUL", "pagetoken", set(p.Name, "a\x00b")},
				mutation{fmt.Sprintf("%s at %d characters", n, longest), "pagetoken", set(p.Name, strings.Repeat("A", longest))})
		case len(s.Enum) > 0:
			out = append(out, mutation{n + " = an unknown enum name", "query", set(p.Name, "NOT_A_VALUE")})
		case isIntString(s), s.Type == "integer", s.Type == "number":
			out = append(out,
				mutation{n + " non-numeric", "query", set(p.Name, "abc")},
				mutation{n + " negative", "query", set(p.Name, "-1")},
				mutation{n + " beyond int64", "query", set(p.Name, "99999999999999999999")})
		case s.Type == "boolean":
			out = append(out, mutation{n + " = maybe", "query", set(p.Name, "maybe")})
		case s.Type == "string":
			out = append(out,
				mutation{fmt.Sprintf("%s at %d characters", n, longest), "longest", set(p.Name, strings.Repeat("a", longest))},
				mutation{n + " with NUL", "nul", set(p.Name, "a\x00b")},
				mutation{n + " with ESC", "control", set(p.Name, "a\x1bb")},
				mutation{n + " not UTF-8", "utf8", set(p.Name, "\xff\xfe")})
		}
	}
	out = append(out, mutation{"an unknown query parameter", "unknown", set("hostileUnknown", "1")})
	return out
}

// pathMutations put ids that are no ids into each path parameter.
func pathMutations(r route) []mutation {
	var out []mutation
	for _, p := range r.op.Parameters {
		if p.In != "path" {
			continue
		}
		for _, bad := range []struct{ name, v string }{
			{"non-numeric", "abc"}, {"negative", "-1"}, {"zero", "0"}, {"fractional", "1.5"},
			{"beyond int64", "99999999999999999999"}, {"not UTF-8", "%FF%FE"}, {"NUL", "%00"},
		} {
			out = append(out, mutation{fmt.Sprintf("{%s} %s", p.Name, bad.name), "path", func(rq *request) {
				rq.path = strings.Replace(rq.path, "{"+p.Name+"}", bad.v, 1)
			}})
		}
	}
	return out
}

// setAt sets v at the path at inside the JSON value root, making the
// objects and arrays on the way, and returns the root.
func setAt(root any, at []any, v any) any {
	if len(at) == 0 {
		return v
	}
	switch k := at[0].(type) {
	case string:
		m, ok := root.(map[string]any)
		if !ok {
			m = map[string]any{}
		}
		m[k] = setAt(m[k], at[1:], v)
		return m
	case int:
		arr, ok := root.([]any)
		if !ok {
			arr = nil
		}
		for len(arr) <= k {
			arr = append(arr, nil)
		}
		arr[k] = setAt(arr[k], at[1:], v)
		return arr
	}
	return root
}

// encode writes a request's body; the badUTF8 placeholder becomes bytes
// that are not UTF-8.
func encode(body any) ([]byte, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case []byte:
		return b, nil
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(raw, []byte(badUTF8), []byte("\xff\xfe")), nil
}
