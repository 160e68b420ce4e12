package openapi

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	authv1 "github.com/telecomcrm/crm/proto/gen/crm/auth/v1"
	// The API's files, registered so their access options can be read.
	_ "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// The refusals an operation can answer, each a google.rpc.Status; an
// integrator's generated client gets a type for every one.
var refusals = []struct{ code, name, description string }{
	{"400", "InvalidArgument", "The request is malformed or a field breaks its limits (details: google.rpc.BadRequest with the fields), or the object's state forbids the action."},
	{"401", "Unauthenticated", "No valid access token (or, for sign-in, a wrong login or password)."},
	{"403", "PermissionDenied", "The caller lacks the permission, or is not in the group the object's state requires."},
	{"404", "NotFound", "No object with that id."},
	{"409", "Conflict", "The data conflicts with what is stored: a taken unique value (details: google.rpc.ErrorInfo with the reason), a stale etag or version, a task that moved meanwhile, or an Idempotency-Key reused for another request."},
	{"413", "PayloadTooLarge", "The request body is larger than the gateway accepts."},
	{"429", "TooManyRequests", "Too many attempts; wait before trying again."},
}

// describeDetails spells out the two details the services put in a
// google.rpc.Status — google.rpc.BadRequest's field violations and
// google.rpc.ErrorInfo's reason — so a client reads them typed; an item
// is either, told apart by its @type.
func describeDetails(schemas map[string]any) error {
	st, _ := schemas["google.rpc.Status"].(map[string]any)
	props, _ := st["properties"].(map[string]any)
	details, _ := props["details"].(map[string]any)
	if details == nil {
		return fmt.Errorf("the google.rpc.Status schema has no details to describe")
	}
	str := map[string]any{"type": "string"}
	details["items"] = map[string]any{
		"type":                 "object",
		"additionalProperties": true,
		"properties": map[string]any{
			"@type": map[string]any{"type": "string", "description": "type.googleapis.com/google.rpc.BadRequest or type.googleapis.com/google.rpc.ErrorInfo"},
			"fieldViolations": map[string]any{
				"type":        "array",
				"description": "BadRequest: the request fields that are wrong, by their JSON path (\"phones[1].number\").",
				"items": map[string]any{"type": "object", "properties": map[string]any{
					"field": str, "description": str,
				}},
			},
			"reason":   map[string]any{"type": "string", "description": "ErrorInfo: a stable code for the refusal (\"PHONE_TAKEN\", \"TASK_MOVED\")."},
			"domain":   map[string]any{"type": "string", "description": "ErrorInfo: always \"crm\"."},
			"metadata": map[string]any{"type": "object", "additionalProperties": str, "description": "ErrorInfo: facts a client may show (\"customerId\" of a number's holder)."},
		},
	}
	return nil
}

func errorResponses() map[string]any {
	out := map[string]any{}
	for _, r := range refusals {
		out[r.name] = map[string]any{
			"description": r.description,
			"content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": "#/components/schemas/google.rpc.Status"},
			}},
		}
	}
	return out
}

// describeErrors lists the refusals an operation can answer, from what it
// takes: a body can be too large or
// conflict, a path names an object that may not exist, and only a signed-in
// caller can lack a permission.
func describeErrors(method string, op map[string]any, public map[string]bool) {
	responses, _ := op["responses"].(map[string]any)
	if responses == nil {
		responses = map[string]any{}
		op["responses"] = responses
	}
	id, _ := op["operationId"].(string)
	_, hasBody := op["requestBody"]
	hasPath := false
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		if p, ok := p.(map[string]any); ok && p["in"] == "path" {
			hasPath = true
		}
	}
	add := func(code string) {
		for _, r := range refusals {
			if r.code == code {
				responses[code] = map[string]any{"$ref": "#/components/responses/" + r.name}
			}
		}
	}
	add("400")
	add("401")
	if public[id] {
		op["security"] = []any{}
		add("429")
	} else {
		add("403")
	}
	if hasPath {
		add("404")
	}
	if method != "get" {
		add("409")
	}
	if hasBody {
		add("413")
	}
}

// operations maps each RPC of the API to its operationId (Service_Method).
func operations() map[string]protoreflect.MethodDescriptor {
	out := map[string]protoreflect.MethodDescriptor{}
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "crm.") {
			return true
		}
		for i := range f.Services().Len() {
			svc := f.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				out[string(svc.Name())+"_"+string(m.Name())] = m
			}
		}
		return true
	})
	return out
}

// publicOperations names the operations anyone may call without a token,
// from the access option every RPC declares.
func publicOperations(methods map[string]protoreflect.MethodDescriptor) (map[string]bool, error) {
	public := map[string]bool{}
	for id, m := range methods {
		a, ok := proto.GetExtension(m.Options(), authv1.E_Access).(*authv1.Access)
		if !ok || a == nil {
			return nil, fmt.Errorf("%s has no access option", m.FullName())
		}
		if a.GetPublic() {
			public[id] = true
		}
	}
	return public, nil
}
