// The README's configuration table and the settings' defaults in the code
// must agree: an operator sets up a deployment from the table, and a
// default changed in code alone leaves it telling the old one.
package services_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readmeSetting is a row of the README's table: | `CRM_X` | what | `default` … |
var readmeSetting = regexp.MustCompile("^\\| `(CRM_[A-Z0-9_]+)` \\|.*\\| `([^`]*)`[^|]*\\|\\s*$")

func TestTheReadmeTellsTheDefaultsTheCodeHas(t *testing.T) {
	root := filepath.Join("..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	told := map[string]string{}
	for line := range strings.SplitSeq(string(readme), "\n") {
		if m := readmeSetting.FindStringSubmatch(line); m != nil {
			told[m[1]] = m[2]
		}
	}
	if len(told) < 10 {
		t.Fatalf("read %d settings with a default from the README's table; has its layout changed?", len(told))
	}

	defaults := map[string]map[string]string{} // setting → default → where
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			field, ok := n.(*ast.Field)
			if !ok || field.Tag == nil {
				return true
			}
			tag, err := strconv.Unquote(field.Tag.Value)
			if err != nil {
				return true
			}
			name := reflect.StructTag(tag).Get("env")
			def, hasDefault := reflect.StructTag(tag).Lookup("envDefault")
			if name == "" || !hasDefault {
				return true
			}
			if defaults[name] == nil {
				defaults[name] = map[string]string{}
			}
			defaults[name][def] = path
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	checked := 0
	for name, want := range told {
		have, ok := defaults[name]
		if !ok {
			continue // set without a default in code (a required setting, or one the README describes in words)
		}
		checked++
		if _, same := have[want]; !same {
			t.Errorf("README: %s defaults to %q; the code: %v", name, want, have)
		}
	}
	if checked < 10 {
		t.Errorf("compared %d settings' defaults; want the table's rows found in the code", checked)
	}
}
