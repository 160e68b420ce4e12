// Package fault is the one vocabulary of domain errors. Services return
// these; the gRPC server turns them into google.rpc.Status in one place
// (Status), so a client sees the same codes and field details everywhere.
package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// Kind is the class of a domain error; each maps to one gRPC code.
type Kind int

const (
	// Invalid input: 400.
	Invalid Kind = iota + 1
	// NotFound: 404.
	NotFound
	// Conflict with existing data (a taken phone number, a duplicate login): 409.
	Conflict
	// Aborted: a concurrent change won (a stale etag, a lost race): 409.
	Aborted
	// FailedPrecondition: the object is in a state that forbids it: 400.
	FailedPrecondition
	// PermissionDenied: 403.
	PermissionDenied
	// Unauthenticated: 401.
	Unauthenticated
	// Unavailable: a dependency is down; the caller may retry: 503.
	Unavailable
)

var codeOf = map[Kind]codes.Code{
	Invalid:            codes.InvalidArgument,
	NotFound:           codes.NotFound,
	Conflict:           codes.AlreadyExists,
	Aborted:            codes.Aborted,
	FailedPrecondition: codes.FailedPrecondition,
	PermissionDenied:   codes.PermissionDenied,
	Unauthenticated:    codes.Unauthenticated,
	Unavailable:        codes.Unavailable,
}

// Error is a domain error: a kind, a message a person understands, and the
// request fields it is about.
type Error struct {
	Kind       Kind
	Message    string
	Violations []Violation
	// Reason is a stable machine-readable code ("PHONE_TAKEN").
	Reason string
	// Meta carries facts a client may show ("customerId" of the holder).
	Meta map[string]string
}

// Violation names one bad field of a request (lowerCamelCase path).
type Violation struct {
	Field       string
	Description string
}

func (e *Error) Error() string { return e.Message }

// New makes an error of a kind.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Field makes an Invalid error about one field.
func Field(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Kind: Invalid, Message: msg, Violations: []Violation{{Field: field, Description: msg}}}
}

// Fields makes one Invalid error of several field violations: its message
// is the first one's, followed by "(and N more problems)" when there are
// more, and every violation goes along for the form. No violations give
// nil, so a validator can end with "return fault.Fields(problems)".
func Fields(vs []Violation) error {
	if len(vs) == 0 {
		return nil
	}
	e := &Error{Kind: Invalid, Message: vs[0].Description, Violations: vs}
	if len(vs) > 1 {
		e.Message = fmt.Sprintf("%s (and %d more problems)", vs[0].Description, len(vs)-1)
	}
	return e
}

// At adds a field to an error (for a conflict about one field, say).
func (e *Error) At(field string) *Error {
	e.Violations = append(e.Violations, Violation{Field: field, Description: e.Message})
	return e
}

// Because sets the machine-readable reason and its facts.
func (e *Error) Because(reason string, meta map[string]string) *Error {
	e.Reason, e.Meta = reason, meta
	return e
}

// Is reports whether err is a domain error of the kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}

// Peer turns the error of a call to another service (named by peer, as
// "customer") into what this service answers: a peer that cannot be reached
// or did not answer in time becomes Unavailable, so the caller knows to try
// again; a peer's NotFound becomes notFound when that is given (the object
// the request named does not exist), else stays NotFound; anything else
// (the peer's own status, a domain error) passes unchanged.
func Peer(peer string, err error, notFound *Error) error {
	switch {
	case err == nil:
		return nil
	case Unreachable(err):
		return New(Unavailable, "the %s service does not answer; try again in a moment", peer)
	case notFound != nil && status.Code(err) == codes.NotFound:
		return notFound
	}
	return err
}

// Unreachable tells an error of a service that could not be reached or did
// not answer in time: a gRPC status (or an error carrying one, as Temporal's
// service errors do) of Unavailable or DeadlineExceeded, a network error, or
// the call's own deadline.
func Unreachable(err error) bool {
	code := codes.Unknown
	var carrier interface{ Status() *status.Status }
	if st, ok := status.FromError(err); ok {
		code = st.Code()
	} else if errors.As(err, &carrier) {
		code = carrier.Status().Code()
	}
	var netErr *net.OpError
	return code == codes.Unavailable || code == codes.DeadlineExceeded ||
		errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded)
}

// Status converts any error a handler returned into a gRPC status error.
// Domain errors keep their message and details; gRPC status errors pass
// through; context ends map to their codes; anything else is an internal
// error whose text is not shown to the caller. The second result tells
// whether the error was unexpected (worth logging in full).
func Status(err error) (error, bool) {
	if err == nil {
		return nil, false
	}
	var e *Error
	if errors.As(err, &e) {
		st := status.New(codeOf[e.Kind], e.Message)
		var details []protoadapt.MessageV1
		if len(e.Violations) > 0 {
			br := &errdetails.BadRequest{}
			for _, v := range e.Violations {
				br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
			}
			details = append(details, br)
		}
		if e.Reason != "" {
			details = append(details, &errdetails.ErrorInfo{Reason: e.Reason, Domain: "crm", Metadata: e.Meta})
		}
		if len(details) > 0 {
			withDetails, derr := st.WithDetails(details...)
			if derr == nil {
				st = withDetails
			}
		}
		return st.Err(), false
	}
	if _, ok := status.FromError(err); ok {
		return err, false
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the request was cancelled"), false
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the request took too long"), false
	}
	return status.Error(codes.Internal, "internal error"), true
}

// Etag is the etag of an object at version: what an update sends back to
// say which version it changes.
func Etag(version int64) string { return strconv.FormatInt(version, 10) }

// Version is the version an update is based on: the one its etag names,
// or current when it sends none (the update then wins over any other).
// An etag this system did not give is refused.
func Version(etag string, current int64) (int64, error) {
	if etag == "" {
		return current, nil
	}
	v, err := strconv.ParseInt(etag, 10, 64)
	if err != nil {
		return 0, Field("etag", "the etag %q is not one this service gave", etag)
	}
	return v, nil
}

// Mask returns the fields an update changes (its update mask's paths); an
// update that names none is refused, with fields listing those it may name
// when given.
func Mask(paths []string, fields ...string) ([]string, error) {
	if len(paths) > 0 {
		return paths, nil
	}
	if len(fields) == 0 {
		return nil, Field("updateMask", "name the fields to change")
	}
	return nil, Field("updateMask", "name the fields to change: %s", strings.Join(fields, ", "))
}

// UpdatedID is the id of the object an update changes. REST names it in
// the path (the request's own id), a gRPC caller may set it on the object
// instead; either serves, and two that differ are refused.
func UpdatedID(what string, pathID, bodyID int64) (int64, error) {
	switch {
	case pathID == 0 && bodyID == 0:
		return 0, Field("id", "say which %s to change", what)
	case pathID != 0 && bodyID != 0 && pathID != bodyID:
		return 0, Field("id", "the path names %s %d, the body %d", what, pathID, bodyID)
	case pathID != 0:
		return pathID, nil
	}
	return bodyID, nil
}
