package gateway

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/metrics"
)

// An import's file is the body of POST /api/v1/imports?fileName=…, as it
// is (text/csv): a browser sends a chosen file so without a form, and so
// does curl --data-binary. The handler streams it to the contract
// service's ImportService.CheckImport and answers the checked import.

// mountImports adds the import upload; the other import calls are
// grpc-gateway's.
func mountImports(mux *http.ServeMux, m *metrics.Metrics, authn *authenticator, client contractv1.ImportServiceClient, maxBytes int64, log *slog.Logger) {
	h := &importHandler{client: client, maxBytes: maxBytes, log: log}
	mux.Handle("POST /api/v1/imports", m.InstrumentHTTP("imports", transfer(authn.middleware(h))))
}

type importHandler struct {
	client   contractv1.ImportServiceClient
	maxBytes int64
	log      *slog.Logger
}

func (h *importHandler) tooLarge() error {
	e := fault.Field("file", "the file is larger than %d MiB, the most an import may be; split it", h.maxBytes>>20)
	e.Reason = "IMPORT_TOO_LARGE"
	e.Meta = map[string]string{"maxBytes": strconv.FormatInt(h.maxBytes, 10)}
	return e
}

func (h *importHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	failTransfer(w, r, err, h.log, "IMPORT_TOO_LARGE", h.tooLarge)
}

func (h *importHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !signedIn(r.Context()) {
		writeStatus(w, status.New(codes.Unauthenticated, "sign in first"))
		return
	}
	name := path.Base(strings.ReplaceAll(strings.TrimSpace(r.URL.Query().Get("fileName")), `\`, "/"))
	if name == "." || name == "/" || name == "" || utf8.RuneCountInString(name) > 200 {
		refuse(w, http.StatusBadRequest, fault.Field("fileName", "give the file's name (at most 200 characters) as fileName"))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "text/csv" && mt != "text/plain" && mt != "application/octet-stream" {
		refuse(w, http.StatusBadRequest, fault.New(fault.Invalid, "send the file itself as the body, as text/csv"))
		return
	}
	if r.ContentLength > h.maxBytes {
		refuse(w, http.StatusRequestEntityTooLarge, h.tooLarge())
		return
	}
	body := http.MaxBytesReader(w, r.Body, h.maxBytes)
	ctx, cancel := context.WithCancel(backendContext(r))
	defer cancel()
	stream, err := h.client.CheckImport(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	header := &contractv1.CheckImportRequest{Part: &contractv1.CheckImportRequest_Header{Header: &contractv1.ImportHeader{FileName: name}}}
	if err := stream.Send(header); err != nil {
		h.fail(w, r, endedEarly(stream))
		return
	}
	sendFailed, rerr := sendBody(stream, body, func(b []byte) *contractv1.CheckImportRequest {
		return &contractv1.CheckImportRequest{Part: &contractv1.CheckImportRequest_Chunk{Chunk: b}}
	})
	switch {
	case sendFailed:
		h.fail(w, r, endedEarly(stream))
		return
	case rerr != nil:
		cancel() // nothing is kept of a body cut short
		h.fail(w, r, rerr)
		return
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out, _ := protojson.Marshal(resp.GetImport())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	w.Write(out)
}
