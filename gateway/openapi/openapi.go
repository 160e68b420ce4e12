// Package openapi holds the REST API's OpenAPI 3 documents, generated from
// the protos (one per proto file), and merges them into the one document
// the gateway serves and the console's typed client is generated from.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
)

//go:embed crm
var generated embed.FS

// Merged returns one OpenAPI 3 document with the paths, schemas and tags of
// every generated document.
func Merged() ([]byte, error) {
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Telecom CRM REST API",
			"version":     "v1",
			"description": "Customers, contracts, tariffs, tasks and their routes, users and groups. Errors are google.rpc.Status.",
		},
	}
	paths := map[string]any{}
	schemas := map[string]any{}
	tags := map[string]any{}
	err := fs.WalkDir(generated, "crm", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		raw, err := generated.ReadFile(path)
		if err != nil {
			return err
		}
		var part struct {
			Paths      map[string]map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
			Tags []map[string]any `json:"tags"`
		}
		if err := json.Unmarshal(raw, &part); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for p, ops := range part.Paths {
			merged, _ := paths[p].(map[string]any)
			if merged == nil {
				merged = map[string]any{}
			}
			for method, op := range ops {
				if _, dup := merged[method]; dup {
					return fmt.Errorf("%s: %s %s is defined twice", path, method, p)
				}
				merged[method] = op
			}
			paths[p] = merged
		}
		maps.Copy(schemas, part.Components.Schemas)
		for _, t := range part.Tags {
			if name, ok := t["name"].(string); ok {
				tags[name] = t
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	methods := operations()
	public, err := publicOperations(methods)
	if err != nil {
		return nil, err
	}
	describeLimits(paths, schemas, methods)
	for _, ops := range paths {
		for method, op := range ops.(map[string]any) {
			if op, ok := op.(map[string]any); ok {
				describeErrors(method, op, public)
			}
		}
	}
	doc["paths"] = paths
	if err := describeDetails(schemas); err != nil {
		return nil, err
	}
	// Paths carry the /api/v1 prefix, so the API is at the server's root.
	doc["servers"] = []any{map[string]any{"url": "/", "description": "the gateway that serves this document"}}
	doc["components"] = map[string]any{
		"schemas":   schemas,
		"responses": errorResponses(),
		"securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "the accessToken of POST /api/v1/auth/login"},
		},
	}
	doc["security"] = []any{map[string]any{"bearer": []any{}}}
	var tagList []any
	for _, name := range slices.Sorted(maps.Keys(tags)) {
		tagList = append(tagList, tags[name])
	}
	doc["tags"] = tagList
	return json.MarshalIndent(doc, "", "  ")
}
