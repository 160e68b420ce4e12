package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"unicode/utf8"

	"google.golang.org/grpc/status"

	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
)

// idempotencyKeyHeader names a retried request as the same one (see the
// idempotency package); it is forwarded on every method but GET and HEAD.
const idempotencyKeyHeader = "Idempotency-Key"

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// checkInput refuses, before any backend is asked, what cannot be a valid
// API call: a path or query that is not UTF-8 (a protobuf string cannot
// hold it, and the call would fail inside as Internal), a malformed
// Idempotency-Key, and a body over maxBody (413). The body is read here,
// whole, so its size is known before anything acts on it.
func checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkURL(r.URL); err != nil {
			refuse(w, http.StatusBadRequest, err)
			return
		}
		if keys := r.Header.Values(idempotencyKeyHeader); len(keys) > 0 && !safeMethod(r.Method) {
			if len(keys) > 1 {
				refuse(w, http.StatusBadRequest, fault.Field(idempotencyKeyHeader, "send one Idempotency-Key header, not %d", len(keys)))
				return
			}
			if err := idempotency.Check(keys[0]); err != nil {
				refuse(w, http.StatusBadRequest, err)
				return
			}
		}
		if r.ContentLength > maxBody {
			refuse(w, http.StatusRequestEntityTooLarge, errTooLarge)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			refuse(w, http.StatusRequestEntityTooLarge, errTooLarge)
			return
		case err != nil:
			refuse(w, http.StatusBadRequest, fault.New(fault.Invalid, "the request body could not be read"))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

var errTooLarge = fault.New(fault.Invalid, "the request body is larger than 1 MiB; no API call takes that much")

func checkURL(u *url.URL) error {
	if !utf8.ValidString(u.Path) {
		return fault.New(fault.Invalid, "the path is not valid UTF-8")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fault.New(fault.Invalid, "the query string is malformed: each parameter is name=value, percent-encoded")
	}
	for name, values := range q {
		if !utf8.ValidString(name) {
			return fault.New(fault.Invalid, "a query parameter's name is not valid UTF-8")
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return fault.Field(name, "the query parameter %s is not valid UTF-8", name)
			}
		}
	}
	return nil
}

// refuse answers a domain error as google.rpc.Status with the HTTP status
// given.
func refuse(w http.ResponseWriter, httpStatus int, err error) {
	st, _ := fault.Status(err)
	writeStatusAs(w, httpStatus, status.Convert(st))
}
