package notifier

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
)

// fakeFiles stands in for the task service's AttachmentService: a user
// must be behind the call, and only JPEG and PDF bytes pass (as the real
// one sniffs them).
type fakeFiles struct {
	taskv1.UnimplementedAttachmentServiceServer
	mu     sync.Mutex
	stored []storedUpload
}

type storedUpload struct {
	header *taskv1.AttachmentHeader
	data   []byte
	caller int64
}

func (f *fakeFiles) UploadAttachment(stream grpc.ClientStreamingServer[taskv1.UploadAttachmentRequest, taskv1.UploadAttachmentResponse]) error {
	p, ok := auth.From(stream.Context())
	if !ok || p.IsService() {
		return status.Error(codes.PermissionDenied, "a user must be behind this call")
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	var data []byte
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		data = append(data, msg.GetChunk()...)
	}
	switch http.DetectContentType(data) {
	case "image/jpeg", "application/pdf":
	default:
		st, _ := status.New(codes.InvalidArgument, "refused type").WithDetails(&errdetails.ErrorInfo{Reason: "ATTACHMENT_TYPE_REFUSED"})
		return st.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stored = append(f.stored, storedUpload{header: first.GetHeader(), data: data, caller: p.UserID})
	return stream.SendAndClose(&taskv1.UploadAttachmentResponse{Attachment: &taskv1.Attachment{Id: int64(len(f.stored)), FileName: first.GetHeader().GetFileName()}})
}

func (f *fakeFiles) uploads() []storedUpload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]storedUpload(nil), f.stored...)
}

func fileHarness(t *testing.T) (*harness, *fakeFiles) {
	t.Helper()
	h := newStoppedHarness(t)
	ff := &fakeFiles{}
	addr := servicetest.Serve(t, func(s *grpcserver.Server) { taskv1.RegisterAttachmentServiceServer(s, ff) })
	h.deps.Files = taskv1.NewAttachmentServiceClient(h.dial(addr, h.deps.Forwarder))
	h.start()
	return h, ff
}

// send pushes a user's message and waits for the bot's answer in that chat.
func (h *harness) send(chatID int64, update func(int) map[string]any) botapifake.Message {
	h.t.Helper()
	before := len(h.api.SentTo(chatID))
	h.api.Push(update)
	var got botapifake.Message
	eventually(h.t, 10*time.Second, func() bool {
		sent := h.api.SentTo(chatID)
		if len(sent) > before {
			got = sent[before]
			return true
		}
		return false
	}, "the bot answers the file")
	return got
}

func jpegPhoto(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAPhotoRepliedToANotificationIsAttachedToANewCommentAsTheUser(t *testing.T) {
	h, ff := fileHarness(t)
	msg := notification(h, "task-40/1")
	photo := jpegPhoto(t)
	id := h.api.AddFile(photo, 0, ".jpg")
	got := h.send(chatAnna, botapifake.Photo(chatAnna, "en", id, int64(len(photo)), "Cabinet after the repair", msg.MessageID))
	if !strings.Contains(got.Text, "is attached to T-000040 (#40)") || got.ReplyTo == 0 {
		t.Fatalf("the bot answered %q", got.Text)
	}
	up := ff.uploads()
	if len(up) != 1 || !bytes.Equal(up[0].data, photo) || up[0].caller != 1 || up[0].header.GetTaskId() != 40 ||
		up[0].header.GetCommentText() != "Cabinet after the repair" || up[0].header.GetCommentId() != 0 ||
		!strings.HasSuffix(up[0].header.GetFileName(), ".jpg") {
		t.Fatalf("uploads %+v", up)
	}
	if h.api.CallCount("getFile") != 1 || h.api.CallCount("file") != 1 {
		t.Fatalf("getFile %d, file downloads %d", h.api.CallCount("getFile"), h.api.CallCount("file"))
	}

	// a document without a caption: its name is the comment
	pdf := []byte("%PDF-1.4 act of work\n%%EOF\n")
	doc := h.api.AddFile(pdf, 0, ".pdf")
	got = h.send(chatAnna, botapifake.Document(chatAnna, "en", doc, "act.pdf", "application/pdf", int64(len(pdf)), "", msg.MessageID))
	if !strings.Contains(got.Text, "act.pdf is attached") {
		t.Fatalf("the bot answered %q", got.Text)
	}
	if up := ff.uploads(); len(up) != 2 || up[1].header.GetCommentText() != "act.pdf" || up[1].header.GetFileName() != "act.pdf" {
		t.Fatalf("uploads %+v", up)
	}
}

func TestFilesFromChatsThatMayNotAttachAreRefusedInTheChatAndNothingIsStored(t *testing.T) {
	h, ff := fileHarness(t)
	msg := notification(h, "task-40/1")
	photo := jpegPhoto(t)
	id := h.api.AddFile(photo, 0, ".jpg")

	got := h.send(4242, botapifake.Photo(4242, "en", id, int64(len(photo)), "", msg.MessageID))
	if !strings.Contains(got.Text, "Link your account first") {
		t.Fatalf("an unlinked chat got %q", got.Text)
	}
	// Vera may read tasks but not work them.
	got = h.send(1007, botapifake.Photo(1007, "en", id, int64(len(photo)), "", msg.MessageID))
	if !strings.Contains(got.Text, "role") {
		t.Fatalf("a chat without tasks.work got %q", got.Text)
	}
	got = h.send(chatAnna, botapifake.Photo(chatAnna, "en", id, int64(len(photo)), "", 0))
	if !strings.Contains(got.Text, "as a reply to the task's notification") {
		t.Fatalf("a photo replying to nothing got %q", got.Text)
	}
	if len(ff.uploads()) != 0 || h.api.CallCount("file") != 0 {
		t.Fatalf("stored %d, fetched %d", len(ff.uploads()), h.api.CallCount("file"))
	}
}

func TestATooLargeOrRefusedFileGetsAClearAnswerAndNothingIsStored(t *testing.T) {
	h, ff := fileHarness(t)
	msg := notification(h, "task-40/1")

	// Telegram says the size; over the Bot API's download limit the file
	// is not even asked for.
	big := h.api.AddFile([]byte("x"), 30<<20, ".mp4")
	got := h.send(chatAnna, botapifake.Document(chatAnna, "en", big, "video.mp4", "video/mp4", 30<<20, "", msg.MessageID))
	if !strings.Contains(got.Text, "too large") {
		t.Fatalf("a large file got %q", got.Text)
	}
	// A size Telegram did not tell is found out by getFile.
	unsized := h.api.AddFile([]byte("x"), 25<<20, ".bin")
	got = h.send(chatAnna, botapifake.Document(chatAnna, "en", unsized, "dump.bin", "application/octet-stream", 0, "", msg.MessageID))
	if !strings.Contains(got.Text, "too large") {
		t.Fatalf("a file getFile refuses got %q", got.Text)
	}
	exe := h.api.AddFile([]byte("MZ\x90\x00 a program"), 0, ".exe")
	got = h.send(chatAnna, botapifake.Document(chatAnna, "ru", exe, "tool.exe", "application/octet-stream", 16, "", msg.MessageID))
	if !strings.Contains(got.Text, "Files of this type cannot be attached") && !strings.Contains(got.Text, "Такие файлы прикладывать нельзя") {
		t.Fatalf("a refused type got %q", got.Text)
	}
	if len(ff.uploads()) != 0 {
		t.Fatalf("%d files stored", len(ff.uploads()))
	}
}
