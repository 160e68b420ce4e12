// Command k8s-schemas writes the per-kind JSON schemas kubeconform reads
// (<kind>-<group>-<version>.json), generated from Kubernetes' own OpenAPI
// document (api/openapi-spec/swagger.json of the k8s.io/kubernetes
// module), for checking rendered manifests offline.
//
// Each file is standalone (the definitions it reaches travel with it) and
// strict (an unknown field is an error), and fields may be null, as the
// API server accepts. Quantities and int-or-strings take either form.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

type schema = map[string]any

func main() {
	swagger := flag.String("swagger", "", "Kubernetes' swagger.json")
	out := flag.String("out", "", "folder to write the schemas into")
	groups := flag.String("groups", "core,apps,batch,autoscaling,policy,networking.k8s.io,rbac.authorization.k8s.io", "API groups to write schemas for (core is the unnamed group)")
	flag.Parse()
	if *swagger == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	n, err := generate(*swagger, *out, strings.Split(*groups, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-schemas:", err)
		os.Exit(1)
	}
	fmt.Printf("k8s-schemas: %d schemas in %s\n", n, *out)
}

func generate(swaggerPath, out string, groups []string) (int, error) {
	raw, err := os.ReadFile(swaggerPath)
	if err != nil {
		return 0, err
	}
	var doc struct {
		Definitions map[string]schema `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return 0, fmt.Errorf("%s: %w", swaggerPath, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	defs := map[string]schema{}
	for name, d := range doc.Definitions {
		defs[name] = adjust(name, d).(schema)
	}
	written := 0
	for name, d := range doc.Definitions {
		gvks, _ := d["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			kind, _ := gvk["kind"].(string)
			if !slices.Contains(groups, group) && !(group == "" && slices.Contains(groups, "core")) {
				continue
			}
			root := copyOf(defs[name])
			reached := map[string]any{}
			collect(root, defs, reached)
			if len(reached) > 0 {
				root["definitions"] = reached
			}
			root["$schema"] = "http://json-schema.org/draft-04/schema#"
			suffix := "-" + version
			if group != "" {
				suffix = "-" + strings.ToLower(strings.Split(group, ".")[0]) + suffix
			}
			b, err := json.Marshal(root)
			if err != nil {
				return written, err
			}
			if err := os.WriteFile(filepath.Join(out, strings.ToLower(kind)+suffix+".json"), b, 0o644); err != nil {
				return written, err
			}
			written++
		}
	}
	return written, nil
}

var refRx = regexp.MustCompile(`^#/definitions/(.+)$`)

// collect adds to reached every definition s refers to, transitively.
func collect(s any, defs map[string]schema, reached map[string]any) {
	switch v := s.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			if m := refRx.FindStringSubmatch(ref); m != nil {
				if _, seen := reached[m[1]]; !seen {
					reached[m[1]] = defs[m[1]]
					collect(defs[m[1]], defs, reached)
				}
			}
		}
		for k, e := range v {
			if k != "definitions" {
				collect(e, defs, reached)
			}
		}
	case []any:
		for _, e := range v {
			collect(e, defs, reached)
		}
	}
}

// adjust makes a definition strict, lets optional fields be null, and
// gives quantities and int-or-strings both their forms.
func adjust(name string, s any) any {
	switch v := s.(type) {
	case map[string]any:
		out := schema{}
		for k, e := range v {
			if k == "properties" {
				props := schema{}
				for pk, pv := range e.(map[string]any) {
					props[pk] = nullable(adjust("", pv))
				}
				out[k] = props
				continue
			}
			out[k] = adjust("", e)
		}
		// anyOf, not oneOf: an integer is a number too, so it would match
		// two branches of a oneOf and be refused.
		switch {
		case out["format"] == "int-or-string":
			delete(out, "type")
			delete(out, "format")
			out["anyOf"] = []any{schema{"type": "string"}, schema{"type": "integer"}}
		case name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
			delete(out, "type")
			out["anyOf"] = []any{schema{"type": "string"}, schema{"type": "number"}}
		}
		if _, ok := out["properties"]; ok {
			if _, set := out["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = adjust("", e)
		}
		return out
	}
	return s
}

// nullable lets a field be null: its type gains "null", or a reference is
// wrapped so null is accepted beside it.
func nullable(s any) any {
	m, ok := s.(map[string]any)
	if !ok {
		return s
	}
	if t, ok := m["type"].(string); ok {
		m["type"] = []any{t, "null"}
		return m
	}
	if _, ok := m["$ref"]; ok {
		return schema{"oneOf": []any{schema{"type": "null"}, m}}
	}
	return m
}

func copyOf(s schema) schema {
	out := schema{}
	for k, v := range s {
		out[k] = v
	}
	return out
}
