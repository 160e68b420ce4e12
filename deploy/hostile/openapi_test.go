package hostile

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/telecomcrm/crm/deploy/stacktest"
)

// schema is the part of an OpenAPI schema the suite reads.
type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Format     string             `json:"format"`
	ReadOnly   bool               `json:"readOnly"`
	Enum       []string           `json:"enum"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
}

type parameter struct {
	Name   string  `json:"name"`
	In     string  `json:"in"`
	Schema *schema `json:"schema"`
}

type operation struct {
	OperationID string      `json:"operationId"`
	Parameters  []parameter `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

// route is one operation of the document.
type route struct {
	method, path string
	op           operation
	body         *schema // nil without a request body
}

func (r route) String() string { return r.method + " " + r.path }

// api is the REST API's OpenAPI document, the one the gateway serves.
type api struct {
	routes  []route
	schemas map[string]*schema
}

func readAPI(t *testing.T) *api {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(stacktest.Root(), "gateway", "openapi", "crm.openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]*schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("the OpenAPI document: %v", err)
	}
	a := &api{schemas: doc.Components.Schemas}
	for path, ops := range doc.Paths {
		for method, rawOp := range ops {
			m := strings.ToUpper(method)
			if !slices.Contains([]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, m) {
				continue
			}
			var op operation
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatalf("%s %s: %v", m, path, err)
			}
			r := route{method: m, path: path, op: op}
			if op.RequestBody != nil {
				r.body = a.resolve(op.RequestBody.Content["application/json"].Schema)
			}
			a.routes = append(a.routes, r)
		}
	}
	if len(a.routes) < 30 {
		t.Fatalf("only %d routes in the OpenAPI document", len(a.routes))
	}
	slices.SortFunc(a.routes, func(x, y route) int { return strings.Compare(x.String(), y.String()) })
	return a
}

func (a *api) resolve(s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = a.schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// route finds an operation by method and path template, whatever its
// parameters are called ("/customers/{id}" is "/customers/{customer_id}").
func (a *api) route(method, path string) (route, bool) {
	for _, r := range a.routes {
		if r.method == method && params.ReplaceAllString(r.path, "{}") == params.ReplaceAllString(path, "{}") {
			return r, true
		}
	}
	return route{}, false
}

var params = regexp.MustCompile(`\{[^}]*\}`)

// leaf is one input field of a body: where it is and what it holds.
type leaf struct {
	at []any // keys (string) and array indexes (int)
	s  *schema
}

func (l leaf) name() string {
	var b strings.Builder
	for _, k := range l.at {
		switch k := k.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			b.WriteString("[0]")
		}
	}
	return b.String()
}

// fields lists every writable field under s, objects and arrays included,
// a few levels deep (messages may nest themselves).
func (a *api) fields(s *schema, at []any, depth int) []leaf {
	s = a.resolve(s)
	if s == nil || depth > 4 {
		return nil
	}
	var out []leaf
	for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[k]
		r := a.resolve(p)
		if p.ReadOnly || r == nil || r.ReadOnly {
			continue
		}
		here := append(slices.Clone(at), k)
		out = append(out, leaf{at: here, s: r})
		switch {
		case r.Type == "array" && r.Items != nil:
			switch item := a.resolve(r.Items); {
			case item == nil:
			case item.Type == "object":
				out = append(out, a.fields(item, append(here, 0), depth+1)...)
			default:
				out = append(out, leaf{at: append(here, 0), s: item})
			}
		case r.Type == "object":
			out = append(out, a.fields(r, here, depth+1)...)
		}
	}
	return out
}
