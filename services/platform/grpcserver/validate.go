package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/telecomcrm/crm/services/platform/fault"
)

// ValidateInterceptor checks every request against the limits its proto
// declares (buf.validate) before the handler runs. A request that breaks
// them is an Invalid fault naming each field by its JSON path within the
// REST body ("phones[1].number" of POST /customers, whose body is the
// customer), as the handlers name theirs and the console's forms read them.
// New places it after the access guard: a caller without the permission
// learns nothing about the rules.
func ValidateInterceptor(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	var bodies sync.Map // full method → the body field of its HTTP rule
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if msg, ok := req.(proto.Message); ok {
			body, ok := bodies.Load(info.FullMethod)
			if !ok {
				body, _ = bodies.LoadOrStore(info.FullMethod, bodyField(info.FullMethod))
			}
			if err := Check(v, msg, body.(string)); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
}

// bodyField is the request field a method's HTTP rule takes as the body
// ("customer"), or "" for "*", no body or no HTTP rule.
func bodyField(fullMethod string) string {
	name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(fullMethod, "/"), "/", "."))
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return ""
	}
	rule, _ := proto.GetExtension(d.Options(), annotations.E_Http).(*annotations.HttpRule)
	if b := rule.GetBody(); b != "*" {
		return b
	}
	return ""
}

// Check validates msg and answers nil, an Invalid fault for a request that
// breaks its rules, or a plain error when the rules themselves cannot be
// evaluated (a fault of ours, not the caller's). Field paths inside body
// (a request field, or "") are written relative to it.
func Check(v protovalidate.Validator, msg proto.Message, body string) error {
	err := v.Validate(msg)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) || len(verr.Violations) == 0 {
		return fmt.Errorf("validating %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	root := msg.ProtoReflect().Descriptor()
	out := &fault.Error{Kind: fault.Invalid}
	for _, vi := range verr.Violations {
		path, name := fieldPath(root, vi.Proto.GetField())
		if body != "" {
			if jb := root.Fields().ByName(protoreflect.Name(body)); jb != nil {
				path = strings.TrimPrefix(path, jb.JSONName()+".")
			}
		}
		out.Violations = append(out.Violations, fault.Violation{Field: path, Description: describe(vi, name)})
	}
	out.Message = out.Violations[0].Description
	return out
}

// fieldPath writes a violation's field path as protojson names it
// ("phones[1].number", "monthlyFee.amountMinor"); name is the last field's
// own name, for the message.
func fieldPath(md protoreflect.MessageDescriptor, fp *validate.FieldPath) (path, name string) {
	var b strings.Builder
	for _, el := range fp.GetElements() {
		name = el.GetFieldName()
		var fd protoreflect.FieldDescriptor
		if md != nil {
			fd = md.Fields().ByNumber(protoreflect.FieldNumber(el.GetFieldNumber()))
		}
		if fd != nil {
			name = fd.JSONName()
			md = fd.Message()
			if fd.IsMap() {
				md = fd.MapValue().Message()
			}
		} else {
			md = nil
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
		switch s := el.GetSubscript().(type) {
		case *validate.FieldPathElement_Index:
			fmt.Fprintf(&b, "[%d]", s.Index)
		case *validate.FieldPathElement_StringKey:
			fmt.Fprintf(&b, "[%q]", s.StringKey)
		case *validate.FieldPathElement_IntKey:
			fmt.Fprintf(&b, "[%d]", s.IntKey)
		case *validate.FieldPathElement_UintKey:
			fmt.Fprintf(&b, "[%d]", s.UintKey)
		case *validate.FieldPathElement_BoolKey:
			fmt.Fprintf(&b, "[%t]", s.BoolKey)
		}
	}
	if name == "" {
		name = "the request"
	}
	return b.String(), name
}

// describe says in plain words what is wrong with the field called name.
// The rules the protos use have their own sentences; any other falls back
// to protovalidate's.
func describe(v *protovalidate.Violation, name string) string {
	rule := v.RuleValue
	id := v.Proto.GetRuleId()
	kind, check, _ := strings.Cut(id, ".")
	switch {
	case id == "string.max_len":
		return fmt.Sprintf("%s is longer than %d characters", name, rule.Uint())
	case id == "string.max_bytes":
		return fmt.Sprintf("%s is longer than %d bytes", name, rule.Uint())
	case id == "repeated.max_items":
		return fmt.Sprintf("%s holds more than %d items", name, rule.Uint())
	case id == "enum.defined_only":
		return fmt.Sprintf("%s is none of %s", name, enumNames(v.FieldDescriptor))
	case id == "required":
		return fmt.Sprintf("%s is required", name)
	case isNumber(kind) && check == "gt" && rule.IsValid() && isZero(rule):
		return fmt.Sprintf("%s must be a positive number", name)
	case isNumber(kind) && check == "gte" && rule.IsValid() && isZero(rule):
		return fmt.Sprintf("%s must not be negative", name)
	case isNumber(kind) && (check == "gte_lte" || check == "lte" || check == "gte"):
		return fmt.Sprintf("%s %s", name, strings.TrimPrefix(v.Proto.GetMessage(), "value "))
	case id == "string.line" || id == "string.text":
		return name + " " + v.Proto.GetMessage()
	}
	if msg := v.Proto.GetMessage(); msg != "" {
		return name + ": " + msg
	}
	return name + " breaks rule " + id
}

// enumNames lists the values an enum field takes, as JSON writes them.
func enumNames(fd protoreflect.FieldDescriptor) string {
	if fd == nil || fd.Enum() == nil {
		return "the known values"
	}
	vals := fd.Enum().Values()
	names := make([]string, vals.Len())
	for i := range names {
		names[i] = string(vals.Get(i).Name())
	}
	return strings.Join(names, ", ")
}

func isNumber(kind string) bool {
	switch kind {
	case "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64", "double", "float":
		return true
	}
	return false
}

func isZero(v protoreflect.Value) bool {
	switch x := v.Interface().(type) {
	case int32:
		return x == 0
	case int64:
		return x == 0
	case uint32:
		return x == 0
	case uint64:
		return x == 0
	case float32:
		return x == 0
	case float64:
		return x == 0
	}
	return false
}
