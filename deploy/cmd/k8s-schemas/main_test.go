package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

const swagger = `{"definitions": {
  "io.k8s.api.apps.v1.Thing": {
    "type": "object",
    "properties": {
      "apiVersion": {"type": "string"},
      "kind": {"type": "string"},
      "spec": {"$ref": "#/definitions/io.k8s.api.apps.v1.ThingSpec"}
    },
    "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Thing", "version": "v1"}]
  },
  "io.k8s.api.apps.v1.ThingSpec": {
    "type": "object",
    "properties": {
      "port": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
      "memory": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"}
    }
  },
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
  "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
  "io.k8s.api.other.v1.Skipped": {
    "type": "object",
    "x-kubernetes-group-version-kind": [{"group": "other", "kind": "Skipped", "version": "v1"}]
  }
}}`

func TestSchemasAreStandaloneStrictAndNamedAsKubeconformLooksThemUp(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "swagger.json")
	if err := os.WriteFile(src, []byte(swagger), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	n, err := generate(src, out, []string{"core", "apps"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d schemas, want only apps' Thing", n)
	}
	raw, err := os.ReadFile(filepath.Join(out, "thing-apps-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s["additionalProperties"] != false {
		t.Error("unknown fields are not refused")
	}
	defs, _ := s["definitions"].(map[string]any)
	for _, d := range []string{"io.k8s.api.apps.v1.ThingSpec", "io.k8s.apimachinery.pkg.util.intstr.IntOrString", "io.k8s.apimachinery.pkg.api.resource.Quantity"} {
		if defs[d] == nil {
			t.Errorf("the schema does not carry %s", d)
		}
	}
	for _, d := range []string{"io.k8s.apimachinery.pkg.util.intstr.IntOrString", "io.k8s.apimachinery.pkg.api.resource.Quantity"} {
		// An integer is a number too: under oneOf, port: 9090 would match
		// two forms and be refused.
		if def, _ := defs[d].(map[string]any); def["anyOf"] == nil || def["oneOf"] != nil || def["type"] != nil {
			t.Errorf("%s does not take either form: %v", d, def)
		}
	}
}
