package openapi

import (
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	validatev1 "github.com/telecomcrm/crm/proto/gen/crm/validate/v1"
)

// The predefined text rules (crm/validate/v1/text.proto) as the patterns an
// OpenAPI client can check: single-line text has no control character,
// free text none but tab, newline and carriage return.
const (
	linePattern = `^[^\x00-\x1F\x7F-\x9F]*$`
	textPattern = `^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$`
)

// describeLimits copies the protos' buf.validate rules, which the OpenAPI
// generator leaves out, into the document: a string's maxLength and
// pattern, a list's maxItems, a 32-bit number's bounds. Schemas of the
// components are matched to their messages by name; an operation's
// parameters and inline body to the fields of its request.
func describeLimits(paths, schemas map[string]any, methods map[string]protoreflect.MethodDescriptor) {
	for name, s := range schemas {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if md, ok := d.(protoreflect.MessageDescriptor); err == nil && ok {
			limitObject(s, md)
		}
	}
	for _, ops := range paths {
		for _, op := range ops.(map[string]any) {
			op, _ := op.(map[string]any)
			id, _ := op["operationId"].(string)
			m, ok := methods[id]
			if !ok {
				continue
			}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				p, _ := p.(map[string]any)
				name, _ := p["name"].(string)
				if fd := fieldAt(m.Input(), name); fd != nil {
					limitValue(p["schema"], fd)
				}
			}
			body, _ := op["requestBody"].(map[string]any)
			content, _ := body["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			limitObject(media["schema"], m.Input()) // a $ref has no properties: left to its component
		}
	}
}

// limitObject gives the properties of an object schema their fields' limits.
func limitObject(schema any, md protoreflect.MessageDescriptor) {
	s, _ := schema.(map[string]any)
	props, _ := s["properties"].(map[string]any)
	for name, p := range props {
		if fd := md.Fields().ByJSONName(name); fd != nil {
			limitValue(p, fd)
		}
	}
}

// limitValue sets a field's limits on its schema (a list's on the array and
// its items).
func limitValue(schema any, fd protoreflect.FieldDescriptor) {
	s, _ := schema.(map[string]any)
	if s == nil {
		return
	}
	rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
	if rules == nil {
		return
	}
	if fd.IsList() {
		if n := rules.GetRepeated().GetMaxItems(); n > 0 {
			s["maxItems"] = n
		}
		if items, ok := s["items"].(map[string]any); ok {
			limitScalar(items, rules.GetRepeated().GetItems())
		}
		return
	}
	limitScalar(s, rules)
}

func limitScalar(s map[string]any, rules *validate.FieldRules) {
	if sr := rules.GetString(); sr != nil {
		if n := sr.GetMaxLen(); n > 0 {
			s["maxLength"] = n
		}
		switch {
		case proto.GetExtension(sr, validatev1.E_Line).(bool):
			s["pattern"] = linePattern
		case proto.GetExtension(sr, validatev1.E_Text).(bool):
			s["pattern"] = textPattern
		}
	}
	if ir := rules.GetInt32(); ir != nil {
		if ir.HasGte() {
			s["minimum"] = ir.GetGte()
		}
		if ir.HasGt() {
			s["exclusiveMinimum"] = ir.GetGt()
		}
		if ir.HasLte() {
			s["maximum"] = ir.GetLte()
		}
	}
}

// fieldAt finds the field a parameter names: a dotted path of JSON or proto
// names ("customer.id", "pageSize", "task_id").
func fieldAt(md protoreflect.MessageDescriptor, path string) protoreflect.FieldDescriptor {
	var fd protoreflect.FieldDescriptor
	for part := range strings.SplitSeq(path, ".") {
		if md == nil {
			return nil
		}
		fd = md.Fields().ByJSONName(part)
		if fd == nil {
			fd = md.Fields().ByName(protoreflect.Name(part))
		}
		if fd == nil {
			return nil
		}
		md = fd.Message()
	}
	return fd
}
