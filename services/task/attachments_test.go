package task

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/blobstore"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// commentingFlows answers a comment command as the workflow would: it
// writes the comment's row and answers its step.
type commentingFlows struct {
	*flows
	store *store
	// refuse, when set, answers the comment command instead.
	refuse error
}

func (c *commentingFlows) Send(ctx context.Context, taskID int64, update string, arg any) (taskflow.Step, error) {
	if update != taskflow.UpdateComment {
		return c.flows.Send(ctx, taskID, update, arg)
	}
	if c.refuse != nil {
		return taskflow.Step{}, c.refuse
	}
	cm := arg.(taskflow.Comment)
	var seq int64
	c.store.db.Raw(`SELECT COALESCE(max(sequence), 0) + 1 FROM comments WHERE task_id = ?`, taskID).Scan(&seq)
	row := commentRow{TaskID: taskID, Sequence: seq + 1000, AuthorID: cm.Actor.UserID, AuthorName: cm.Actor.Name, Text: cm.Text, ProcessName: "Diagnostics", CreatedAt: time.Now().UnixMicro()}
	if err := c.store.db.Create(&row).Error; err != nil {
		return taskflow.Step{}, err
	}
	return taskflow.Step{Task: &taskv1.Task{Id: taskID}, Sequence: row.Sequence}, nil
}

type attachFixture struct {
	*fixture
	files   taskv1.AttachmentServiceClient
	dir     string
	taskID  int64
	comment int64
	wf      *commentingFlows
}

// newAttachFixture serves the task and attachment services over a local
// blob store, with one service task and one comment of the operator's.
func newAttachFixture(t *testing.T, limits AttachmentConfig) *attachFixture {
	t.Helper()
	wf := &commentingFlows{flows: &flows{answer: true}}
	fx := newFixtureWith(t, wf)
	fx.flows = wf.flows
	wf.flows.tasks = taskv1.NewTaskServiceClient(servicetest.DialAs(t, fx.addr, "worker"))
	wf.store = fx.server.store
	dir := t.TempDir()
	blobs, err := blobstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if limits.MaxBytes == 0 {
		limits.MaxBytes = 20 << 20
	}
	if limits.PerComment == 0 {
		limits.PerComment = 10
	}
	addr := servicetest.Serve(t, func(s *grpcserver.Server) {
		taskv1.RegisterAttachmentServiceServer(s, NewAttachmentServer(fx.server, blobs, limits))
	})
	created, err := fx.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "No signal"})
	if err != nil {
		t.Fatal(err)
	}
	f := &attachFixture{fixture: fx, files: taskv1.NewAttachmentServiceClient(servicetest.Dial(t, addr)), dir: dir, taskID: created.GetTask().GetId(), wf: wf}
	f.comment = f.addComment(t, 7)
	return f
}

func (f *attachFixture) addComment(t *testing.T, author int64) int64 {
	t.Helper()
	row := commentRow{TaskID: f.taskID, Sequence: author*100 + 50, AuthorID: author, AuthorName: "Someone", Text: "see the photos", ProcessName: "Diagnostics", CreatedAt: time.Now().UnixMicro()}
	if err := f.server.store.db.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row.ID
}

// upload sends a file in chunks of chunk bytes.
func upload(ctx context.Context, c taskv1.AttachmentServiceClient, h *taskv1.AttachmentHeader, data []byte) (*taskv1.Attachment, error) {
	stream, err := c.UploadAttachment(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&taskv1.UploadAttachmentRequest{Part: &taskv1.UploadAttachmentRequest_Header{Header: h}}); err != nil {
		_, err = stream.CloseAndRecv()
		return nil, err
	}
	for len(data) > 0 {
		n := min(len(data), 100_000)
		if err := stream.Send(&taskv1.UploadAttachmentRequest{Part: &taskv1.UploadAttachmentRequest_Chunk{Chunk: data[:n]}}); err != nil {
			break // the service answered early; CloseAndRecv says why
		}
		data = data[n:]
	}
	resp, err := stream.CloseAndRecv()
	return resp.GetAttachment(), err
}

func download(ctx context.Context, c taskv1.AttachmentServiceClient, id int64, thumb bool) (*taskv1.Attachment, []byte, error) {
	stream, err := c.DownloadAttachment(ctx, &taskv1.DownloadAttachmentRequest{Id: id, Thumbnail: thumb})
	if err != nil {
		return nil, nil, err
	}
	first, err := stream.Recv()
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return first.GetAttachment(), buf.Bytes(), nil
		}
		if err != nil {
			return nil, nil, err
		}
		buf.Write(msg.GetChunk())
	}
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// stored counts the files in the blob store's folder and the rows.
func (f *attachFixture) stored(t *testing.T) (files int, rows int64) {
	t.Helper()
	filepath.WalkDir(f.dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	f.server.store.db.Model(&attachmentRow{}).Count(&rows)
	return files, rows
}

func TestAPhotoIsStoredWithItsSniffedTypeHashAndThumbnailAndReadBack(t *testing.T) {
	f := newAttachFixture(t, AttachmentConfig{})
	photo := pngImage(t, 800, 600)
	att, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: f.comment, FileName: "cabinet.png"}, photo)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(photo)
	if att.GetContentType() != "image/png" || att.GetSizeBytes() != int64(len(photo)) || att.GetSha256() != hex.EncodeToString(sum[:]) ||
		!att.GetHasThumbnail() || att.GetCommentId() != f.comment || att.GetUploaderId() != 7 || att.GetFileName() != "cabinet.png" {
		t.Fatalf("attachment %v", att)
	}
	got, body, err := download(servicetest.User(context.Background(), 9, servicetest.Viewer), f.files, att.GetId(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, photo) || got.GetId() != att.GetId() {
		t.Fatalf("read back %d bytes of %d", len(body), len(photo))
	}
	_, thumb, err := download(operator(), f.files, att.GetId(), true)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(thumb))
	if err != nil {
		t.Fatalf("the thumbnail is no JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
		t.Fatalf("thumbnail %v, want 320x240", b)
	}
	list, err := f.files.ListAttachments(operator(), &taskv1.ListAttachmentsRequest{TaskId: f.taskID})
	if err != nil || len(list.GetAttachments()) != 1 || list.GetAttachments()[0].GetId() != att.GetId() {
		t.Fatalf("list %v, %v", list, err)
	}
}

func TestOfficeDocumentsAreRecognisedByWhatTheirContainerHolds(t *testing.T) {
	f := newAttachFixture(t, AttachmentConfig{})
	docx := zipOf(t, map[string]string{"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
	att, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: f.comment, FileName: "Акт.docx"}, docx)
	if err != nil {
		t.Fatal(err)
	}
	if att.GetContentType() != kindDOCX.contentType || att.GetHasThumbnail() {
		t.Fatalf("attachment %v", att)
	}
	ods := zipOf(t, map[string]string{"mimetype": kindODS.contentType, "content.xml": "<x/>"})
	if att, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: f.comment, FileName: "sheet.ods"}, ods); err != nil || att.GetContentType() != kindODS.contentType {
		t.Fatalf("ods: %v, %v", att, err)
	}
	pdf := []byte("%PDF-1.7\n1 0 obj << >> endobj\ntrailer\n%%EOF\n")
	if att, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: f.comment, FileName: "scan.PDF"}, pdf); err != nil || att.GetContentType() != "application/pdf" {
		t.Fatalf("pdf: %v, %v", att, err)
	}
}

func TestRefusedFilesAre400WithTheirReasonAndLeaveNothing(t *testing.T) {
	f := newAttachFixture(t, AttachmentConfig{MaxBytes: 64 << 10})
	cases := []struct {
		name, file string
		data       []byte
		reason     string
	}{
		{"larger than the limit", "log.txt", bytes.Repeat([]byte("line of text\n"), 10_000), reasonTooLarge},
		{"an executable", "tool.exe", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 600)...), reasonTypeRefused},
		{"an executable named as a photo", "photo.jpg", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 600)...), reasonTypeRefused},
		{"a PNG named as a PDF", "invoice.pdf", pngImage(t, 20, 20), reasonTypeMismatch},
		{"a PDF named as a photo", "photo.jpeg", []byte("%PDF-1.4\n%%EOF\n"), reasonTypeMismatch},
		{"a zip that is no office document", "report.docx", zipOf(t, map[string]string{"a.txt": "x"}), reasonTypeRefused},
		{"a document named as another kind", "act.xlsx", zipOf(t, map[string]string{"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}), reasonTypeMismatch},
		{"HTML", "page.txt", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), reasonTypeRefused},
		{"an empty file", "empty.txt", nil, reasonEmpty},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: f.comment, FileName: c.file}, c.data)
			if status.Code(err) != codes.InvalidArgument || reason(err) != c.reason {
				t.Fatalf("got %v (reason %q), want InvalidArgument %s", err, reason(err), c.reason)
			}
			if files, rows := f.stored(t); files != 0 || rows != 0 {
				t.Fatalf("%d files and %d rows stored", files, rows)
			}
		})
	}
}

func TestACommentHoldsAtMostItsLimitOfFiles(t *testing.T) {
	f := newAttachFixture(t, AttachmentConfig{PerComment: 2})
	text := []byte("meter reading 42\n")
	for i := range 2 {
		if _, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: f.comment, FileName: "note.txt"}, text); err != nil {
			t.Fatalf("file %d: %v", i+1, err)
		}
	}
	_, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: f.comment, FileName: "note.txt"}, text)
	if status.Code(err) != codes.InvalidArgument || reason(err) != reasonTooMany {
		t.Fatalf("third file: %v", err)
	}
	if files, rows := f.stored(t); files != 2 || rows != 2 {
		t.Fatalf("%d files and %d rows stored, want 2 and 2", files, rows)
	}
}

func TestFilesGoOnlyOnOnesOwnCommentOfThatTask(t *testing.T) {
	f := newAttachFixture(t, AttachmentConfig{})
	others := f.addComment(t, 8)
	text := []byte("hello\n")
	_, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: others, FileName: "a.txt"}, text)
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("on another's comment: %v", err)
	}
	_, err = upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID + 1000, CommentId: f.comment, FileName: "a.txt"}, text)
	if status.Code(err) != codes.NotFound {
		t.Fatalf("on a comment of another task: %v", err)
	}
	viewer := servicetest.User(context.Background(), 7, servicetest.Viewer)
	_, err = upload(viewer, f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: f.comment, FileName: "a.txt"}, text)
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("without tasks.work: %v", err)
	}
	if files, rows := f.stored(t); files != 0 || rows != 0 {
		t.Fatalf("%d files and %d rows stored", files, rows)
	}
}

func TestAFileWithItsCommentTextWritesTheCommentOnlyOnceTheFilePasses(t *testing.T) {
	f := newAttachFixture(t, AttachmentConfig{})
	var before int64
	f.server.store.db.Model(&commentRow{}).Count(&before)
	_, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentText: "meter", FileName: "meter.exe"}, []byte("MZ\x90\x00"))
	if reason(err) != reasonTypeRefused {
		t.Fatalf("refused file: %v", err)
	}
	var after int64
	f.server.store.db.Model(&commentRow{}).Count(&after)
	if after != before {
		t.Fatalf("a refused file left a comment (%d → %d)", before, after)
	}
	att, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentText: "meter", FileName: "meter.png"}, pngImage(t, 10, 10))
	if err != nil {
		t.Fatal(err)
	}
	var c commentRow
	if err := f.server.store.db.Take(&c, att.GetCommentId()).Error; err != nil || c.Text != "meter" || c.AuthorID != 7 {
		t.Fatalf("the file's comment: %+v, %v", c, err)
	}

	f.wf.refuse = status.Error(codes.PermissionDenied, "you are not a member of the group of the task's current process")
	_, err = upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentText: "late", FileName: "late.png"}, pngImage(t, 10, 10))
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a refused comment: %v", err)
	}
	if files, rows := f.stored(t); files != 2 || rows != 1 {
		t.Fatalf("%d files and %d rows stored, want the first file and its thumbnail", files, rows)
	}
}

func TestDownloadsNeedTasksReadAndHideWhatDoesNotExist(t *testing.T) {
	f := newAttachFixture(t, AttachmentConfig{})
	att, err := upload(operator(), f.files, &taskv1.AttachmentHeader{TaskId: f.taskID, CommentId: f.comment, FileName: "doc.txt"}, []byte("plain words\n"))
	if err != nil {
		t.Fatal(err)
	}
	noRead := servicetest.User(context.Background(), 11, strings.Fields("customers.read contracts.read"))
	if _, _, err := download(noRead, f.files, att.GetId(), false); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("without tasks.read: %v", err)
	}
	if _, _, err := download(operator(), f.files, att.GetId()+100, false); status.Code(err) != codes.NotFound {
		t.Fatalf("a missing attachment: %v", err)
	}
	if _, _, err := download(operator(), f.files, att.GetId(), true); status.Code(err) != codes.NotFound {
		t.Fatalf("the thumbnail of a text: %v", err)
	}
}

func TestSniffTellsHEICAndOldOfficeFilesByTheirSignatures(t *testing.T) {
	heic := append([]byte{0, 0, 0, 24}, []byte("ftypheic\x00\x00\x00\x00mif1heic")...)
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 600)...)
	for _, c := range []struct {
		name string
		data []byte
		want fileKind
	}{{"IMG_0001.HEIC", heic, kindHEIC}, {"old.doc", ole, kindOLE}, {"old.xls", ole, kindOLE}, {"noextension", heic, kindHEIC}} {
		got, err := sniff(bytes.NewReader(c.data), int64(len(c.data)), c.name)
		if err != nil || got.contentType != c.want.contentType {
			t.Errorf("%s: %v, %v", c.name, got.contentType, err)
		}
	}
}
