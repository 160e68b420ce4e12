package grpcserver_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	validatev1 "github.com/telecomcrm/crm/proto/gen/crm/validate/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
)

// commentServer counts the comments that reached the handler.
type commentServer struct {
	taskv1.UnimplementedTaskServiceServer
	calls int
}

func (s *commentServer) AddComment(context.Context, *taskv1.AddCommentRequest) (*taskv1.AddCommentResponse, error) {
	s.calls++
	return &taskv1.AddCommentResponse{}, nil
}

func TestRequestsBreakingTheirLimitsAreRefusedAfterTheGuardAndBeforeTheHandler(t *testing.T) {
	keys := auth.NewKeyring(make([]byte, 32))
	srv := grpcserver.New(slog.New(slog.DiscardHandler), auth.NewGuard(keys, slog.New(slog.DiscardHandler)))
	impl := &commentServer{}
	taskv1.RegisterTaskServiceServer(srv, impl)
	client := taskv1.NewTaskServiceClient(serve(t, srv))
	ctx := context.Background()
	as := func(perms ...string) context.Context {
		token := keys.Sign(auth.Principal{UserID: 7, Permissions: perms}, "task", time.Minute)
		return metadata.AppendToOutgoingContext(ctx, auth.Header, token)
	}
	worker, reader := as("tasks.work"), as("tasks.read")

	for _, tc := range []struct {
		name    string
		ctx     context.Context
		req     *taskv1.AddCommentRequest
		code    codes.Code
		field   string
		message string
	}{
		{"a caller without the permission hears 403 before any rule", reader, &taskv1.AddCommentRequest{TaskId: 1, Text: "a\x00b"}, codes.PermissionDenied, "", ""},
		{"a NUL is refused", worker, &taskv1.AddCommentRequest{TaskId: 1, Text: "a\x00b"}, codes.InvalidArgument, "text", "text contains a control character"},
		{"an escape character is refused", worker, &taskv1.AddCommentRequest{TaskId: 1, Text: "a\x1b[2Jb"}, codes.InvalidArgument, "text", "text contains a control character"},
		{"one character over the limit is refused", worker, &taskv1.AddCommentRequest{TaskId: 1, Text: strings.Repeat("ж", 4001)}, codes.InvalidArgument, "text", "text is longer than 4000 characters"},
		{"a task id of 0 is refused", worker, &taskv1.AddCommentRequest{Text: "ok"}, codes.InvalidArgument, "taskId", "taskId must be a positive number"},
		{"free text at the limit with newlines and tabs passes", worker, &taskv1.AddCommentRequest{TaskId: 1, Text: "строка\n\tвторая\r\n" + strings.Repeat("ж", 3984)}, codes.OK, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := impl.calls
			_, err := client.AddComment(tc.ctx, tc.req)
			st := status.Convert(err)
			if st.Code() != tc.code {
				t.Fatalf("code %v (%v), want %v", st.Code(), err, tc.code)
			}
			if reached := impl.calls > before; reached != (tc.code == codes.OK) {
				t.Errorf("the handler ran: %v", reached)
			}
			if tc.code != codes.InvalidArgument {
				return
			}
			if st.Message() != tc.message {
				t.Errorf("message %q, want %q", st.Message(), tc.message)
			}
			if got := violations(st); got[tc.field] != tc.message {
				t.Errorf("field violations %v, want %s: %q", got, tc.field, tc.message)
			}
		})
	}
}

func violations(st *status.Status) map[string]string {
	out := map[string]string{}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out[v.GetField()] = v.GetDescription()
			}
		}
	}
	return out
}

func TestViolationsAreNamedByTheRequestsJSONPaths(t *testing.T) {
	for _, tc := range []struct {
		name  string
		req   proto.Message
		body  string
		field string
		desc  string
	}{
		{"a phone of a new customer", &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{Name: "Иван", Phones: []*customerv1.Phone{
			{Number: "+79123456789"}, {Number: strings.Repeat("9", 33)},
		}}}, "", "customer.phones[1].number", "number is longer than 32 characters"},
		{"a single-line name with a newline", &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{Name: "Иван\nИванов"}}, "", "customer.name", "name contains a control character"},
		{"a nested field in lowerCamelCase, relative to the REST body", &contractv1.CreateTariffRequest{Tariff: &contractv1.Tariff{Name: "Home", MonthlyFee: &contractv1.Money{AmountMinor: -1}}}, "tariff", "monthlyFee.amountMinor", "amountMinor must not be negative"},
		{"an unknown enum value", &taskv1.ListTasksRequest{State: taskv1.TaskState(42)}, "", "state", "state is none of TASK_STATE_UNSPECIFIED, TASK_STATE_OPEN, TASK_STATE_CLOSED, TASK_STATE_CANCELLED"},
		{"a page too large", &taskv1.ListTasksRequest{PageSize: 201}, "", "pageSize", "pageSize must be greater than or equal to 0 and less than or equal to 200"},
		{"too many phones", &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{Name: "Иван", Phones: make([]*customerv1.Phone, 11)}}, "customer", "phones", "phones holds more than 10 items"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := grpcserver.Check(protovalidate.GlobalValidator, tc.req, tc.body)
			var f *fault.Error
			if !errors.As(err, &f) || f.Kind != fault.Invalid {
				t.Fatalf("got %v, want an Invalid fault", err)
			}
			for _, v := range f.Violations {
				if v.Field == tc.field {
					if v.Description != tc.desc {
						t.Errorf("%s: %q, want %q", v.Field, v.Description, tc.desc)
					}
					return
				}
			}
			t.Errorf("no violation of %s in %+v", tc.field, f.Violations)
		})
	}
}

// requestMessages are the inputs of every RPC of every CRM service, and
// every message reachable from them.
func requestMessages(t testing.TB) []protoreflect.MessageDescriptor {
	seen := map[protoreflect.FullName]bool{}
	var out []protoreflect.MessageDescriptor
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] || !strings.HasPrefix(string(md.FullName()), "crm.") {
			return
		}
		seen[md.FullName()] = true
		out = append(out, md)
		for i := 0; i < md.Fields().Len(); i++ {
			// a map's entry is no message of its own: its key and value
			// are checked as the map field's rules
			if m := md.Fields().Get(i).Message(); m != nil && !m.IsMapEntry() {
				walk(m)
			}
		}
	}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(string(fd.Package()), "crm.") {
			for i := 0; i < fd.Services().Len(); i++ {
				ms := fd.Services().Get(i).Methods()
				for j := 0; j < ms.Len(); j++ {
					walk(ms.Get(j).Input())
				}
			}
		}
		return true
	})
	if len(out) < 50 {
		t.Fatalf("only %d request messages found; are the services' packages linked?", len(out))
	}
	return out
}

func TestEveryRequestFieldDeclaresItsLimits(t *testing.T) {
	for _, md := range requestMessages(t) {
		for i := 0; i < md.Fields().Len(); i++ {
			fd := md.Fields().Get(i)
			rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
			var problem string
			switch {
			case fd.IsMap():
				problem = mapProblem(fd, rules.GetMap())
			case fd.IsList() && rules.GetRepeated().GetMaxItems() == 0:
				problem = "a repeated field without max_items"
			case fd.Kind() == protoreflect.StringKind:
				sr := rules.GetString()
				if fd.IsList() {
					sr = rules.GetRepeated().GetItems().GetString()
				}
				if !existingPasswords[fd.FullName()] {
					problem = stringProblem(sr)
				}
			case fd.Kind() == protoreflect.EnumKind:
				er := rules.GetEnum()
				if fd.IsList() {
					er = rules.GetRepeated().GetItems().GetEnum()
				}
				if !er.GetDefinedOnly() {
					problem = "an enum without defined_only"
				}
			}
			if problem != "" {
				t.Errorf("%s: %s", fd.FullName(), problem)
			}
		}
	}
}

// stringProblem says what a string field's rules lack: a size, and the
// single-line or free-text rule.
func stringProblem(sr *validate.StringRules) string {
	switch {
	case sr.GetMaxLen() == 0 && sr.GetMaxBytes() == 0:
		return "a string without max_len"
	case !proto.HasExtension(sr, validatev1.E_Line) && !proto.HasExtension(sr, validatev1.E_Text):
		return "a string that neither is single-line nor free text"
	}
	return ""
}

// mapProblem says what a map field's rules lack: a number of pairs, and
// limits on string keys and values.
func mapProblem(fd protoreflect.FieldDescriptor, mr *validate.MapRules) string {
	if mr.GetMaxPairs() == 0 {
		return "a map without max_pairs"
	}
	if fd.MapKey().Kind() == protoreflect.StringKind {
		if p := stringProblem(mr.GetKeys().GetString()); p != "" {
			return "keys: " + p
		}
	}
	if fd.MapValue().Kind() == protoreflect.StringKind {
		if p := stringProblem(mr.GetValues().GetString()); p != "" {
			return "values: " + p
		}
	}
	return ""
}

// existingPasswords are checked against a stored password, which may
// predate the text rules: refusing a character there could lock its owner
// out, so only their size is bounded.
var existingPasswords = map[protoreflect.FullName]bool{
	"crm.identity.v1.LoginRequest.password":                  true,
	"crm.identity.v1.ChangePasswordRequest.current_password": true,
}

func TestEveryRequestsRulesCompile(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range requestMessages(t) {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
		if err != nil {
			t.Fatal(err)
		}
		err = v.Validate(mt.New().Interface())
		var verr *protovalidate.ValidationError
		if err != nil && !errors.As(err, &verr) {
			t.Errorf("%s: %v", md.FullName(), err)
		}
	}
}

// FuzzValidateInterceptor feeds any bytes as any request: the interceptor
// never panics, and whatever it refuses is InvalidArgument.
func FuzzValidateInterceptor(f *testing.F) {
	var types []protoreflect.MessageType
	for _, md := range requestMessages(f) {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
		if err != nil {
			f.Fatal(err)
		}
		types = append(types, mt)
	}
	for _, seed := range []proto.Message{
		&taskv1.AddCommentRequest{TaskId: 1, Text: "a\x00b"},
		&customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{Name: "Иван", Phones: []*customerv1.Phone{{Number: "+79123456789"}}}},
		&contractv1.CreateTariffRequest{Tariff: &contractv1.Tariff{Name: "Home", MonthlyFee: &contractv1.Money{AmountMinor: -1}}},
	} {
		raw, _ := proto.Marshal(seed)
		for i, mt := range types {
			if mt.Descriptor().FullName() == seed.ProtoReflect().Descriptor().FullName() {
				f.Add(uint16(i), raw)
			}
		}
	}
	intercept := grpcserver.ValidateInterceptor(protovalidate.GlobalValidator)
	ok := func(context.Context, any) (any, error) { return "handled", nil }
	f.Fuzz(func(t *testing.T, which uint16, raw []byte) {
		msg := types[int(which)%len(types)].New().Interface()
		if proto.Unmarshal(raw, msg) != nil {
			return // gRPC refuses what does not decode before any interceptor
		}
		resp, err := intercept(context.Background(), msg, &grpc.UnaryServerInfo{FullMethod: "/fuzz"}, ok)
		if err == nil {
			if resp != "handled" {
				t.Fatalf("the handler did not run for a valid %s", msg.ProtoReflect().Descriptor().FullName())
			}
			return
		}
		st, _ := fault.Status(err)
		if c := status.Code(st); c != codes.InvalidArgument {
			t.Fatalf("%s answered %v (%v)", msg.ProtoReflect().Descriptor().FullName(), c, err)
		}
	})
}

func TestTheInterceptorNamesFieldsWithinTheMethodsRESTBody(t *testing.T) {
	intercept := grpcserver.ValidateInterceptor(protovalidate.GlobalValidator)
	never := func(context.Context, any) (any, error) { t.Fatal("the handler ran"); return nil, nil }
	for _, tc := range []struct {
		method string
		req    proto.Message
		field  string
	}{
		{"/crm.customer.v1.CustomerService/CreateCustomer", &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{Name: "Иван", Phones: []*customerv1.Phone{{Number: "1\x002"}}}}, "phones[0].number"},
		{"/crm.customer.v1.CustomerService/AddPhone", &customerv1.AddPhoneRequest{CustomerId: 1, Phone: &customerv1.Phone{Number: "1", Label: "a\tb"}}, "label"},
		{"/crm.contract.v1.ConnectionService/CreateConnection", &contractv1.CreateConnectionRequest{Customer: &customerv1.Customer{Name: "a\x00"}}, "customer.name"},
		{"/crm.task.v1.TaskService/ApplyTransition", &taskv1.ApplyTransitionRequest{Transition: &taskv1.Transition{TaskId: 1, CloseReason: strings.Repeat("x", 501)}}, "transition.closeReason"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			_, err := intercept(context.Background(), tc.req, &grpc.UnaryServerInfo{FullMethod: tc.method}, never)
			var f *fault.Error
			if !errors.As(err, &f) || len(f.Violations) != 1 || f.Violations[0].Field != tc.field {
				t.Fatalf("got %v (%+v), want one violation of %s", err, f, tc.field)
			}
		})
	}
}
