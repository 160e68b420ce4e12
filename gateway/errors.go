package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/telecomcrm/crm/services/platform/requestid"
)

// errorHandler answers every failed API call with a google.rpc.Status.
// A failure that is not the client's (Internal, Unknown, DataLoss, or an
// error that is no status at all: a marshaller's or a driver's) is logged
// in full and answered with a generic message and the request id only, so
// no internal text reaches a client.
func errorHandler(log *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		var withStatus *runtime.HTTPStatusError
		inner := err
		if errors.As(err, &withStatus) {
			inner = withStatus.Err
		}
		if st, ok := status.FromError(inner); !ok || hidden(st.Code()) {
			log.ErrorContext(ctx, "request failed", "method", r.Method, "path", r.URL.Path, "request_id", requestid.From(ctx), "err", err)
			err = internalError(ctx)
		}
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
	}
}

// hidden are the codes whose messages may hold internal text.
func hidden(c codes.Code) bool {
	return c == codes.Internal || c == codes.Unknown || c == codes.DataLoss
}

// internalError is what a client learns of a failure of ours: that it
// happened, and the id to quote when reporting it.
func internalError(ctx context.Context) error {
	id := requestid.From(ctx)
	st := status.New(codes.Internal, "internal error; quote request id "+id+" when reporting it")
	if d, err := st.WithDetails(&errdetails.RequestInfo{RequestId: id}); err == nil {
		st = d
	}
	return st.Err()
}

// routingErrorHandler answers a path no API call has (404) or a method the
// path does not take (405, where grpc-gateway's default says 501).
func routingErrorHandler(handle runtime.ErrorHandlerFunc) runtime.RoutingErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
		var err error
		switch code {
		case http.StatusMethodNotAllowed:
			err = &runtime.HTTPStatusError{HTTPStatus: code, Err: status.Errorf(codes.Unimplemented, "%s is not allowed here", r.Method)}
		case http.StatusNotFound:
			err = status.Error(codes.NotFound, "no API call has this path; the API is described at /api/v1/openapi.json")
		default:
			err = &runtime.HTTPStatusError{HTTPStatus: code, Err: status.Error(codes.InvalidArgument, http.StatusText(code))}
		}
		handle(ctx, mux, m, w, r, err)
	}
}

// writeStatus answers a status outside grpc-gateway's handlers.
func writeStatus(w http.ResponseWriter, st *status.Status) {
	writeStatusAs(w, runtime.HTTPStatusFromCode(st.Code()), st)
}

func writeStatusAs(w http.ResponseWriter, httpStatus int, st *status.Status) {
	body, _ := protojson.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	w.Write(body)
}
