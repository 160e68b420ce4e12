package gateway

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// strictQuery refuses query parameters that name no field of the request,
// as unknown body fields are refused: a misspelt filter must not silently
// list everything.
type strictQuery struct{}

func (strictQuery) Parse(msg proto.Message, values url.Values, filter *utilities.DoubleArray) error {
	for key := range values {
		if !knownPath(msg.ProtoReflect().Descriptor(), strings.Split(key, ".")) {
			// grpc-gateway answers a parser error as 400 with its text.
			return fmt.Errorf("unknown query parameter %q", key)
		}
	}
	return (&runtime.DefaultQueryParser{}).Parse(msg, values, filter)
}

func knownPath(md protoreflect.MessageDescriptor, path []string) bool {
	for i, name := range path {
		if md == nil {
			return false
		}
		f := md.Fields().ByName(protoreflect.Name(name))
		if f == nil {
			f = md.Fields().ByJSONName(name)
		}
		if f == nil {
			// map keys ("labels[key]") are not fields; accept the map itself
			return i > 0 && strings.Contains(name, "[")
		}
		md = f.Message()
	}
	return true
}
