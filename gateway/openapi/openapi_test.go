package openapi

import (
	"encoding/json"
	"regexp"
	"testing"
)

func merged(t *testing.T) map[string]any {
	t.Helper()
	raw, err := Merged()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestEveryPathIsUniqueUpToItsParameterNames(t *testing.T) {
	param := regexp.MustCompile(`\{[^}]+\}`)
	seen := map[string]string{}
	for p := range merged(t)["paths"].(map[string]any) {
		shape := param.ReplaceAllString(p, "{}")
		if other, dup := seen[shape]; dup {
			t.Errorf("%s and %s differ only by a parameter's name", p, other)
		}
		seen[shape] = p
	}
}

func TestEveryOperationHasASummaryAndItsRefusals(t *testing.T) {
	for p, ops := range merged(t)["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			op := op.(map[string]any)
			if s, _ := op["summary"].(string); s == "" {
				t.Errorf("%s %s has no summary", method, p)
			}
			responses := op["responses"].(map[string]any)
			for _, code := range []string{"400", "401"} {
				if _, ok := responses[code]; !ok {
					t.Errorf("%s %s does not document %s", method, p, code)
				}
			}
			_, public := responses["429"]
			if _, ok := responses["403"]; !ok && !public {
				t.Errorf("%s %s documents neither 403 nor, as a public operation, 429", method, p)
			}
		}
	}
}

func TestSignInIsTheOnlyOperationWithoutAToken(t *testing.T) {
	var open []string
	for p, ops := range merged(t)["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			if sec, ok := op.(map[string]any)["security"].([]any); ok && len(sec) == 0 {
				open = append(open, method+" "+p)
			}
		}
	}
	if len(open) != 1 || open[0] != "post /api/v1/auth/login" {
		t.Errorf("operations without a token: %v", open)
	}
}

func TestRequestLimitsReachTheDocument(t *testing.T) {
	doc := merged(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	name := schemas["crm.customer.v1.Customer"].(map[string]any)["properties"].(map[string]any)["name"].(map[string]any)
	if name["maxLength"] != float64(200) || name["pattern"] != linePattern {
		t.Errorf("a customer's name reads %v", name)
	}
	cancel := doc["paths"].(map[string]any)["/api/v1/tasks/{id}:cancel"].(map[string]any)["post"].(map[string]any)
	reason := cancel["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["properties"].(map[string]any)["reason"].(map[string]any)
	if reason["maxLength"] != float64(500) || reason["pattern"] != textPattern {
		t.Errorf("a cancel reason reads %v", reason)
	}
	pageSize := map[string]any{}
	for _, p := range doc["paths"].(map[string]any)["/api/v1/tasks"].(map[string]any)["get"].(map[string]any)["parameters"].([]any) {
		if p := p.(map[string]any); p["name"] == "pageSize" {
			pageSize = p["schema"].(map[string]any)
		}
	}
	if pageSize["maximum"] != float64(200) || pageSize["minimum"] != float64(0) {
		t.Errorf("a task list's pageSize reads %v", pageSize)
	}
}

func TestThePatternsRefuseWhatTheRulesRefuse(t *testing.T) {
	line, text := regexp.MustCompile(linePattern), regexp.MustCompile(textPattern)
	for _, c := range []struct {
		s          string
		line, text bool
	}{
		{"Иван Петров", true, true},
		{"two\nlines\tand a tab", false, true},
		{"nul\x00", false, false},
		{"bell\a", false, false},
		{"c1\u0085", false, false},
	} {
		if line.MatchString(c.s) != c.line || text.MatchString(c.s) != c.text {
			t.Errorf("%q: line %v text %v, want %v %v", c.s, line.MatchString(c.s), text.MatchString(c.s), c.line, c.text)
		}
	}
}
