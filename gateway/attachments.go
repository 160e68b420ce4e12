package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/requestid"
)

// Files do not fit grpc-gateway's JSON mapping: an upload is a multipart
// form and a download is the file's bytes. These handlers speak HTTP and
// pass the bytes to and from the task service's AttachmentService as gRPC
// streams, with the same authentication and error bodies as every other
// call.

// uploadChunk is the size of the pieces an upload is passed on in.
const uploadChunk = 256 << 10

// multipartSlack is what a multipart body may hold beyond its file: the
// boundaries, the part headers and the comment id.
const multipartSlack = 64 << 10

// maxCommentText bounds the bytes of a new comment's text (4000
// characters of up to four bytes each; the service checks characters).
const maxCommentText = 16000

// transferTime bounds the reading of an upload and the writing of a
// download: a 20 MiB file over a slow mobile link takes minutes, more than
// the server's bounds for API calls.
const transferTime = 10 * time.Minute

// mountAttachments adds the upload and download routes; being more
// specific than /api/, they take precedence over grpc-gateway's mux.
func mountAttachments(mux *http.ServeMux, m *metrics.Metrics, authn *authenticator, client taskv1.AttachmentServiceClient, maxBytes int64, log *slog.Logger) {
	a := &attachmentHandlers{client: client, maxBytes: maxBytes, log: log}
	for pattern, h := range map[string]http.Handler{
		"POST /api/v1/tasks/{id}/attachments":    http.HandlerFunc(a.upload),
		"GET /api/v1/attachments/{id}":           a.download(false),
		"GET /api/v1/attachments/{id}/thumbnail": a.download(true),
	} {
		mux.Handle(pattern, m.InstrumentHTTP("attachments", transfer(authn.middleware(h))))
	}
}

// transfer lengthens the connection's deadlines for a file and refuses a
// URL that is not UTF-8, as checkInput does for the other calls.
func transfer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkURL(r.URL); err != nil {
			refuse(w, http.StatusBadRequest, err)
			return
		}
		rc := http.NewResponseController(w)
		deadline := time.Now().Add(transferTime)
		_ = rc.SetReadDeadline(deadline)
		_ = rc.SetWriteDeadline(deadline)
		ctx, cancel := context.WithDeadline(r.Context(), deadline)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type attachmentHandlers struct {
	client   taskv1.AttachmentServiceClient
	maxBytes int64
	log      *slog.Logger
}

// backendContext carries to the service what grpc-gateway's handlers
// carry: the request id; the connection's relay signs the user in.
func backendContext(r *http.Request) context.Context {
	return metadata.NewOutgoingContext(r.Context(), metadata.Pairs(requestid.Header, requestid.From(r.Context())))
}

// fail answers an error of a backend (a status) or of ours.
func (a *attachmentHandlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	failTransfer(w, r, err, a.log, "ATTACHMENT_TOO_LARGE", a.tooLarge)
}

// failTransfer answers a failed file transfer. A file too large is 413
// wherever it was found out (the body's bound here, or the service's
// refusal with the reason tooLargeReason); failures of ours are logged and
// answered with the request id only, as elsewhere.
func failTransfer(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger, tooLargeReason string, tooLarge func() error) {
	var tooLong *http.MaxBytesError
	if errors.As(err, &tooLong) {
		refuse(w, http.StatusRequestEntityTooLarge, tooLarge())
		return
	}
	st, ok := status.FromError(err)
	if !ok || hidden(st.Code()) || st.Code() == codes.Unknown {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "request_id", requestid.From(r.Context()), "err", err)
		st = status.Convert(internalError(r.Context()))
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == tooLargeReason {
			writeStatusAs(w, http.StatusRequestEntityTooLarge, st)
			return
		}
	}
	writeStatus(w, st)
}

func (a *attachmentHandlers) tooLarge() error {
	e := fault.Field("file", "the file is larger than %d MiB, the most an attachment may be", a.maxBytes>>20)
	e.Reason = "ATTACHMENT_TOO_LARGE"
	e.Meta = map[string]string{"maxBytes": strconv.FormatInt(a.maxBytes, 10)}
	return e
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.Field(name, "%s must be a positive whole number", name)
	}
	return id, nil
}

// upload takes a multipart form: commentId (a comment of the caller's) or
// commentText (a new comment), then file. The size is enforced as the body
// is read.
func (a *attachmentHandlers) upload(w http.ResponseWriter, r *http.Request) {
	taskID, err := pathID(r, "id")
	if err != nil {
		refuse(w, http.StatusBadRequest, err)
		return
	}
	if !signedIn(r.Context()) {
		writeStatus(w, status.New(codes.Unauthenticated, "sign in first"))
		return
	}
	limit := a.maxBytes + multipartSlack
	if r.ContentLength > limit {
		refuse(w, http.StatusRequestEntityTooLarge, a.tooLarge())
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		refuse(w, http.StatusBadRequest, fault.New(fault.Invalid, "send the file as multipart/form-data with the parts commentId and file"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		refuse(w, http.StatusBadRequest, fault.New(fault.Invalid, "the multipart body is malformed"))
		return
	}
	var commentID int64
	var commentText string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			refuse(w, http.StatusBadRequest, fault.Field("file", "the form has no file part"))
			return
		}
		if err != nil {
			a.failRead(w, r, err)
			return
		}
		switch part.FormName() {
		case "commentId":
			b, err := io.ReadAll(io.LimitReader(part, 32))
			if err != nil {
				a.failRead(w, r, err)
				return
			}
			commentID, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err != nil || commentID <= 0 {
				refuse(w, http.StatusBadRequest, fault.Field("commentId", "commentId must be a positive whole number"))
				return
			}
		case "commentText":
			b, err := io.ReadAll(io.LimitReader(part, maxCommentText+1))
			if err != nil {
				a.failRead(w, r, err)
				return
			}
			if len(b) > maxCommentText || !utf8.Valid(b) {
				refuse(w, http.StatusBadRequest, fault.Field("commentText", "commentText is UTF-8 text of at most 4000 characters"))
				return
			}
			commentText = string(b)
		case "file":
			if commentID == 0 && commentText == "" {
				refuse(w, http.StatusBadRequest, fault.Field("commentId", "commentId or commentText comes before the file in the form"))
				return
			}
			a.pass(w, r, &taskv1.AttachmentHeader{TaskId: taskID, CommentId: commentID, CommentText: commentText}, part)
			return
		default:
			refuse(w, http.StatusBadRequest, fault.New(fault.Invalid, "the form has a part %q; it takes commentId and file", truncate(part.FormName(), 40)))
			return
		}
	}
}

// failRead answers a body that could not be read: too large is 413.
func (a *attachmentHandlers) failRead(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		a.fail(w, r, err)
		return
	}
	refuse(w, http.StatusBadRequest, fault.New(fault.Invalid, "the multipart body could not be read"))
}

// pass streams the file part to the service.
func (a *attachmentHandlers) pass(w http.ResponseWriter, r *http.Request, h *taskv1.AttachmentHeader, part *multipart.Part) {
	name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
	if name == "." || name == "/" || name == "" {
		refuse(w, http.StatusBadRequest, fault.Field("file", "the file part has no file name"))
		return
	}
	ctx, cancel := context.WithCancel(backendContext(r))
	defer cancel()
	stream, err := a.client.UploadAttachment(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h.FileName = name
	header := &taskv1.UploadAttachmentRequest{Part: &taskv1.UploadAttachmentRequest_Header{Header: h}}
	if err := stream.Send(header); err != nil {
		a.fail(w, r, endedEarly(stream))
		return
	}
	sendFailed, rerr := sendBody(stream, part, func(b []byte) *taskv1.UploadAttachmentRequest {
		return &taskv1.UploadAttachmentRequest{Part: &taskv1.UploadAttachmentRequest_Chunk{Chunk: b}}
	})
	switch {
	case sendFailed: // the service has answered already (a refusal)
		a.fail(w, r, endedEarly(stream))
		return
	case rerr != nil:
		cancel() // nothing is stored of a body cut short
		a.failRead(w, r, rerr)
		return
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	body, _ := protojson.Marshal(resp.GetAttachment())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	w.Write(body)
}

// sendBody sends a body's bytes to a stream in chunks made by chunk. It
// tells a send the service ended early (it has answered: a refusal) from a
// body that could not be read.
func sendBody[Req, Resp any](stream grpc.ClientStreamingClient[Req, Resp], body io.Reader, chunk func([]byte) *Req) (sendFailed bool, readErr error) {
	buf := make([]byte, uploadChunk)
	for {
		n, err := io.ReadFull(body, buf)
		if n > 0 {
			if serr := stream.Send(chunk(append([]byte(nil), buf[:n]...))); serr != nil {
				return true, nil
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// endedEarly is the service's reason for ending an upload before its end.
func endedEarly[Req, Resp any](stream grpc.ClientStreamingClient[Req, Resp]) error {
	_, err := stream.CloseAndRecv()
	if err == nil {
		err = errors.New("the service ended the upload without an answer")
	}
	return err
}

// download streams a file (or its thumbnail) to a caller who may read its
// task; for anyone else it does not exist.
func (a *attachmentHandlers) download(thumbnail bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			refuse(w, http.StatusBadRequest, err)
			return
		}
		ctx, cancel := context.WithCancel(backendContext(r))
		defer cancel()
		stream, err := a.client.DownloadAttachment(ctx, &taskv1.DownloadAttachmentRequest{Id: id, Thumbnail: thumbnail})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		first, err := stream.Recv()
		if status.Code(err) == codes.PermissionDenied {
			// one who may not read tasks learns nothing of which
			// attachments exist
			err = status.Errorf(codes.NotFound, "attachment %d does not exist", id)
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		att := first.GetAttachment()
		if att == nil {
			a.fail(w, r, errors.New("the attachment service sent bytes before the description"))
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "private, no-store")
		// A file is never run as a page of ours, whatever it holds.
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		if thumbnail {
			h.Set("Content-Type", "image/jpeg")
			h.Set("Content-Disposition", "inline")
		} else {
			h.Set("Content-Type", att.GetContentType())
			h.Set("Content-Length", strconv.FormatInt(att.GetSizeBytes(), 10))
			h.Set("Content-Disposition", contentDisposition(att.GetFileName(), att.GetContentType()))
		}
		w.WriteHeader(http.StatusOK)
		for {
			msg, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				// the status line is sent; the cut-short body tells the client
				a.log.WarnContext(r.Context(), "attachment download cut short", "id", id, "request_id", requestid.From(r.Context()), "err", err)
				return
			}
			if _, err := w.Write(msg.GetChunk()); err != nil {
				return
			}
		}
	}
}

// contentDisposition offers the file under its name: images and PDF
// inline (the browser shows them), anything else as a download. The plain
// filename is an ASCII stand-in; filename* carries the real name.
func contentDisposition(name, contentType string) string {
	kind := "attachment"
	if strings.HasPrefix(contentType, "image/") || contentType == "application/pdf" {
		kind = "inline"
	}
	return mime.FormatMediaType(kind, map[string]string{"filename": asciiName(name)}) +
		"; filename*=UTF-8''" + encodeRFC5987(name)
}

func asciiName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._- ()", r)):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "file"
	}
	return b.String()
}

func encodeRFC5987(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
