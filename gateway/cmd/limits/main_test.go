package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"
)

func TestTheConsoleGetsTheProtosLimits(t *testing.T) {
	out, err := render(protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  Customer: {\n",
		"    name: { maxLength: 200 },\n",
		"    phones: { maxItems: 10 },\n",
		"  CancelTaskRequest: {\n    reason: { maxLength: 500 },\n  },\n",
		"    roles: { maxLength: 64, maxItems: 20 },\n",
		"    password: { maxLength: 1024 },\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the module lacks %q", want)
		}
	}
}
