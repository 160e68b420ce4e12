package gateway

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

// fakeAttachments stands in for the task service's AttachmentService: it
// refuses files over limit bytes as the service does, and serves one
// attachment (id 1); id 2 is one the caller may not read.
type fakeAttachments struct {
	taskv1.UnimplementedAttachmentServiceServer
	limit int

	mu       sync.Mutex
	uploads  int
	header   *taskv1.AttachmentHeader
	received []byte
	signed   bool
}

var servedFile = []byte("%PDF-1.7 the report's bytes")

func (f *fakeAttachments) UploadAttachment(stream grpc.ClientStreamingServer[taskv1.UploadAttachmentRequest, taskv1.UploadAttachmentResponse]) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	var got []byte
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		got = append(got, msg.GetChunk()...)
		if len(got) > f.limit {
			st, _ := status.New(codes.InvalidArgument, "the file is too large").WithDetails(&errdetails.ErrorInfo{Reason: "ATTACHMENT_TOO_LARGE"})
			return st.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads++
	f.header, f.received, f.signed = first.GetHeader(), got, len(md.Get(auth.Header)) == 1
	return stream.SendAndClose(&taskv1.UploadAttachmentResponse{Attachment: &taskv1.Attachment{
		Id: 5, TaskId: f.header.GetTaskId(), CommentId: f.header.GetCommentId(), FileName: f.header.GetFileName(), SizeBytes: int64(len(got)),
	}})
}

func (f *fakeAttachments) DownloadAttachment(req *taskv1.DownloadAttachmentRequest, stream grpc.ServerStreamingServer[taskv1.DownloadAttachmentResponse]) error {
	switch req.GetId() {
	case 1:
	case 2:
		return status.Error(codes.PermissionDenied, "tasks.read is needed")
	default:
		return status.Errorf(codes.NotFound, "attachment %d does not exist", req.GetId())
	}
	att := &taskv1.Attachment{Id: 1, FileName: `Отчёт "final"; v2.pdf`, ContentType: "application/pdf", SizeBytes: int64(len(servedFile))}
	if err := stream.Send(&taskv1.DownloadAttachmentResponse{Part: &taskv1.DownloadAttachmentResponse_Attachment{Attachment: att}}); err != nil {
		return err
	}
	for _, chunk := range [][]byte{servedFile[:10], servedFile[10:]} {
		if err := stream.Send(&taskv1.DownloadAttachmentResponse{Part: &taskv1.DownloadAttachmentResponse_Chunk{Chunk: chunk}}); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeAttachments) seen() (int, *taskv1.AttachmentHeader, []byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uploads, f.header, f.received, f.signed
}

const testMaxBytes = 4096

func attachmentHarness(t *testing.T) (*harness, *fakeAttachments) {
	t.Helper()
	fa := &fakeAttachments{limit: testMaxBytes}
	h := newHarness(t, func(c *Config) { c.AttachmentMaxBytes = testMaxBytes }, func(s *grpc.Server) {
		taskv1.RegisterAttachmentServiceServer(s, fa)
	})
	return h, fa
}

// form builds a multipart upload of the parts in order.
func form(t *testing.T, parts ...[2]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		if p[0] == "file" {
			fw, err := w.CreateFormFile("file", "site photo.txt")
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(fw, p[1])
			continue
		}
		w.WriteField(p[0], p[1])
	}
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func uploadRequest(contentType string, body io.Reader, token string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "/api/v1/tasks/3/attachments", body)
	r.Header.Set("Content-Type", contentType)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

func TestAnUploadIsPassedToTheTaskServiceAsTheSignedInUser(t *testing.T) {
	h, fa := attachmentHarness(t)
	ct, body := form(t, [2]string{"commentId", "12"}, [2]string{"file", "meter reading 42\n"})
	w := h.do(t, uploadRequest(ct, bytes.NewReader(body), "good"))
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"fileName":"site photo.txt"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	n, header, got, signed := fa.seen()
	if n != 1 || header.GetTaskId() != 3 || header.GetCommentId() != 12 || header.GetFileName() != "site photo.txt" || string(got) != "meter reading 42\n" || !signed {
		t.Fatalf("the service got %d uploads: %v %q (signed %v)", n, header, got, signed)
	}
}

func TestUploadMistakesAreRefusedBeforeTheService(t *testing.T) {
	h, fa := attachmentHarness(t)
	ct, body := form(t, [2]string{"commentId", "12"}, [2]string{"file", "x"})
	noComment, noCommentBody := form(t, [2]string{"file", "x"})
	for _, c := range []struct {
		name string
		r    *http.Request
		want int
	}{
		{"signed out", uploadRequest(ct, bytes.NewReader(body), ""), http.StatusUnauthorized},
		{"not multipart", uploadRequest("application/json", strings.NewReader(`{"file":"x"}`), "good"), http.StatusBadRequest},
		{"no comment", uploadRequest(noComment, bytes.NewReader(noCommentBody), "good"), http.StatusBadRequest},
		{"a bad task id", func() *http.Request {
			r := uploadRequest(ct, bytes.NewReader(body), "good")
			r.URL.Path = "/api/v1/tasks/x/attachments"
			return r
		}(), http.StatusBadRequest},
		{"a declared length over the limit", func() *http.Request {
			r := uploadRequest(ct, bytes.NewReader(body), "good")
			r.ContentLength = testMaxBytes + 1<<20
			return r
		}(), http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := h.do(t, c.r)
			if code, _ := statusOf(t, w); w.Code != c.want || code == 0 {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, c.want)
			}
		})
	}
	if n, _, _, _ := fa.seen(); n != 0 {
		t.Fatalf("%d uploads reached the service", n)
	}
}

func TestAFileOverTheLimitIs413WhileItIsRead(t *testing.T) {
	h, fa := attachmentHarness(t)
	big := strings.Repeat("line of text\n", 2*testMaxBytes/13+100)
	for _, name := range []string{"refused by the service", "cut at the gateway"} {
		t.Run(name, func(t *testing.T) {
			file := big
			if name == "cut at the gateway" {
				// past the gateway's own bound (file and multipart slack)
				file = strings.Repeat(big, 40)
			}
			ct, body := form(t, [2]string{"commentId", "12"}, [2]string{"file", file})
			r := uploadRequest(ct, io.MultiReader(bytes.NewReader(body)), "good")
			r.ContentLength = -1 // sent chunked: the size is learned by reading
			w := h.do(t, r)
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			statusOf(t, w)
		})
	}
	if n, _, _, _ := fa.seen(); n != 0 {
		t.Fatalf("%d uploads were stored", n)
	}
}

func TestADownloadIsStreamedWithASafeNameAndNoSniffing(t *testing.T) {
	h, _ := attachmentHarness(t)
	r, _ := http.NewRequest(http.MethodGet, "/api/v1/attachments/1", nil)
	r.Header.Set("Authorization", "Bearer good")
	w := h.do(t, r)
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), servedFile) {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	hd := w.Header()
	want := `inline; filename="_____ _final__ v2.pdf"; filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%20%22final%22%3B%20v2.pdf`
	if hd.Get("Content-Type") != "application/pdf" || hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Content-Disposition") != want ||
		!strings.Contains(hd.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("headers %v", hd)
	}
}

func TestADownloadTheCallerMayNotReadIsNotFoundLikeAMissingOne(t *testing.T) {
	h, _ := attachmentHarness(t)
	for _, path := range []string{"/api/v1/attachments/2", "/api/v1/attachments/3", "/api/v1/attachments/2/thumbnail"} {
		r, _ := http.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer good")
		w := h.do(t, r)
		if code, _ := statusOf(t, w); w.Code != http.StatusNotFound || code != int(codes.NotFound) {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
	}
}
