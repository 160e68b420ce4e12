// Package idempotency makes a retried command answer its first result. A
// client names a request with an Idempotency-Key header; the gateway
// forwards it as the metadata Header; the interceptor of a service keeps,
// per (caller, method, key), the request's hash and its answer in the
// service's own database (see the ledger package), so a repeat is answered
// from there instead of running again.
//
// This package holds what the gateway and the services share: the
// metadata name, what a valid key is, and how a key reaches code that
// deduplicates on its own (Temporal update ids).
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// Header is the gRPC metadata that carries a request's idempotency key.
const Header = "x-crm-idempotency-key"

// MaxKeyLen bounds a key: room for a UUID or a client's own scheme.
const MaxKeyLen = 128

// Check tells whether key is a usable idempotency key: 1 to MaxKeyLen
// printable ASCII characters (what gRPC metadata can carry unchanged).
func Check(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fault.Field("Idempotency-Key", "the Idempotency-Key header must be 1 to %d characters", MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return fault.Field("Idempotency-Key", "the Idempotency-Key header may hold only printable ASCII characters")
		}
	}
	return nil
}

// incoming returns the key the caller sent, "" when none; more than one
// value is refused, as is a malformed one.
func incoming(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	v := md.Get(Header)
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], Check(v[0])
	}
	return "", fault.Field("Idempotency-Key", "send one Idempotency-Key header, not %d", len(v))
}

// caller names who sent a request, for scoping keys: one user's key never
// answers another's request. Anonymous callers get "" (no deduplication:
// the only anonymous command is signing in).
func caller(ctx context.Context) string {
	p, ok := auth.From(ctx)
	switch {
	case !ok:
		return ""
	case p.UserID != 0:
		return "user:" + strconv.FormatInt(p.UserID, 10)
	case p.Service != "":
		return "service:" + p.Service
	}
	return ""
}

type scopeKey struct{}

// withScope records the scoped key of the request being served.
func withScope(ctx context.Context, scope string) context.Context {
	return context.WithValue(ctx, scopeKey{}, scope)
}

// UpdateID returns an id for a Temporal update sent while serving the
// current request, derived from its idempotency key, caller and the
// update's name, so Temporal itself answers a retried command with the
// first outcome; "" when the request carries no key.
func UpdateID(ctx context.Context, update string) string {
	scope, _ := ctx.Value(scopeKey{}).(string)
	if scope == "" {
		return ""
	}
	return fmt.Sprintf("idem/%s/%s", update, scope)
}

// Record is what the store keeps of a request under a key.
type Record struct {
	// Hash identifies the request's content.
	Hash string
	// Done is false while the first request runs.
	Done bool
	// Code is the answer's gRPC code; Body its response message or, for an
	// error, its google.rpc.Status, both in protobuf wire form.
	Code      codes.Code
	Body      []byte
	CreatedAt time.Time
}

// Store keeps the records, one per (caller, method, key).
type Store interface {
	// Claim reserves the key for a request, reporting false when a record
	// exists already.
	Claim(ctx context.Context, caller, method, key, hash string, now time.Time) (bool, error)
	// Get returns the record, nil when there is none.
	Get(ctx context.Context, caller, method, key string) (*Record, error)
	// Finish stores the answer of the request that claimed the key.
	Finish(ctx context.Context, caller, method, key string, code codes.Code, body []byte) error
	// Drop removes the record if it is still the one created at createdAt;
	// a zero createdAt removes it whatever it is.
	Drop(ctx context.Context, caller, method, key string, createdAt time.Time) error
}

const (
	// TTL is how long an answer is kept for retries.
	TTL = 24 * time.Hour
	// lease is how long a request may run before its claim counts as
	// abandoned (its process died) and a retry may run again. It outlasts
	// the slowest call: the gateway gives up on a request after 80 s.
	lease = 2 * time.Minute
)

// UnaryServerInterceptor deduplicates calls that carry a key: the first
// runs and its answer is kept; a repeat with the same request gets that
// answer; a different request under the same key, or a repeat while the
// first still runs, is refused with 409. Answers a retry could change
// (unavailable, timed out, internal, aborted) are not kept: the key is
// released so the retry runs. Calls without a key, or from no one, pass.
//
// It sits innermost, so it sees the handler's own errors and keeps them
// as the fault package maps them.
func UnaryServerInterceptor(store Store, now func() time.Time) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		key, err := incoming(ctx)
		if err != nil {
			return nil, err
		}
		who := caller(ctx)
		if key == "" || who == "" {
			return handler(ctx, req)
		}
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(wire)
		hash := hex.EncodeToString(sum[:])
		for range 3 {
			claimed, err := store.Claim(ctx, who, info.FullMethod, key, hash, now())
			if err != nil {
				return nil, err
			}
			if claimed {
				return run(withScope(ctx, who+"/"+key), req, info, handler, store, who, key)
			}
			rec, err := store.Get(ctx, who, info.FullMethod, key)
			if err != nil {
				return nil, err
			}
			if rec == nil {
				continue // expired and swept meanwhile
			}
			age := now().Sub(rec.CreatedAt)
			if age > TTL || !rec.Done && age > lease {
				if err := store.Drop(ctx, who, info.FullMethod, key, rec.CreatedAt); err != nil {
					return nil, err
				}
				continue
			}
			switch {
			case rec.Hash != hash:
				return nil, fault.New(fault.Conflict, "this Idempotency-Key was used for a different request; send a new key with a new request").
					Because("IDEMPOTENCY_KEY_REUSED", nil)
			case !rec.Done:
				return nil, fault.New(fault.Aborted, "a request with this key is still being processed; retry in a moment").
					Because("IDEMPOTENCY_KEY_IN_USE", nil)
			}
			return replay(rec, info.FullMethod)
		}
		return nil, fault.New(fault.Aborted, "a request with this key is still being processed; retry in a moment").
			Because("IDEMPOTENCY_KEY_IN_USE", nil)
	}
}

// run serves the request that claimed the key and keeps its answer. The
// record is written even if the caller has gone meanwhile: the work is done
// and its retry must see it.
func run(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler, store Store, who, key string) (resp any, err error) {
	kept := false
	defer func() {
		if !kept {
			// a panic or an answer a retry may change: let the retry run
			_ = store.Drop(context.WithoutCancel(ctx), who, info.FullMethod, key, time.Time{})
		}
	}()
	resp, err = handler(ctx, req)
	var (
		code = codes.OK
		body []byte
	)
	if err != nil {
		st, _ := fault.Status(err)
		s := status.Convert(st)
		if !final(s.Code()) {
			return resp, err
		}
		code = s.Code()
		body, _ = proto.Marshal(s.Proto())
	} else if m, ok := resp.(proto.Message); ok {
		if body, err = proto.Marshal(m); err != nil {
			return resp, nil
		}
	}
	if ferr := store.Finish(context.WithoutCancel(ctx), who, info.FullMethod, key, code, body); ferr == nil {
		kept = true
	}
	return resp, err
}

// final tells the answers a retry of the same request would get again.
func final(c codes.Code) bool {
	switch c {
	case codes.OK, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition,
		codes.PermissionDenied, codes.OutOfRange, codes.Unimplemented:
		return true
	}
	return false
}

// replay answers from a record: the kept response, or the kept error.
func replay(rec *Record, fullMethod string) (any, error) {
	if rec.Code != codes.OK {
		st := &spb.Status{}
		if err := proto.Unmarshal(rec.Body, st); err != nil {
			return nil, fmt.Errorf("reading the kept answer of %s: %w", fullMethod, err)
		}
		return nil, status.ErrorProto(st)
	}
	out, err := responseType(fullMethod)
	if err != nil {
		return nil, err
	}
	resp := out.New().Interface()
	if err := proto.Unmarshal(rec.Body, resp); err != nil {
		return nil, fmt.Errorf("reading the kept answer of %s: %w", fullMethod, err)
	}
	return resp, nil
}

// responseType finds a method's response message from its full name
// ("/crm.customer.v1.CustomerService/CreateCustomer").
func responseType(fullMethod string) (protoreflect.MessageType, error) {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return nil, fmt.Errorf("%q is not a method name", fullMethod)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, fmt.Errorf("service of %s: %w", fullMethod, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a service", service)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil, fmt.Errorf("no method %s", fullMethod)
	}
	return protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
}
