package task

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"gorm.io/gorm"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/blobstore"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// AttachmentConfig bounds what may be attached and says where files go.
type AttachmentConfig struct {
	blobstore.Config
	// MaxBytes bounds one file.
	MaxBytes int64 `env:"CRM_ATTACHMENT_MAX_BYTES" envDefault:"20971520"`
	// PerComment bounds the files on one comment.
	PerComment int `env:"CRM_ATTACHMENT_MAX_PER_COMMENT" envDefault:"10"`
}

// downloadChunk is the size of the pieces a file is streamed in.
const downloadChunk = 256 << 10

type attachmentRow struct {
	ID           int64
	TaskID       int64
	CommentID    int64
	FileName     string
	ContentType  string
	SizeBytes    int64
	Sha256       string
	StorageKey   string
	ThumbnailKey string
	UploaderID   int64
	UploaderName string
	CreatedAt    int64 `gorm:"autoCreateTime:false"`
}

func (attachmentRow) TableName() string { return "attachments" }

func (r *attachmentRow) toProto() *taskv1.Attachment {
	return &taskv1.Attachment{
		Id: r.ID, TaskId: r.TaskID, CommentId: r.CommentID, FileName: r.FileName,
		ContentType: r.ContentType, SizeBytes: r.SizeBytes, Sha256: r.Sha256,
		HasThumbnail: r.ThumbnailKey != "", UploaderId: r.UploaderID, UploaderName: r.UploaderName,
		CreateTime: micros.Proto(r.CreatedAt),
	}
}

// AttachmentServer implements taskv1.AttachmentServiceServer: files on
// comments, kept in a blob store, described by rows beside the tasks.
type AttachmentServer struct {
	taskv1.UnimplementedAttachmentServiceServer
	tasks  *Server
	store  *store
	blobs  blobstore.Store
	limits AttachmentConfig
	log    *slog.Logger
}

// NewAttachmentServer serves the attachments of the tasks s keeps.
func NewAttachmentServer(s *Server, blobs blobstore.Store, limits AttachmentConfig) *AttachmentServer {
	return &AttachmentServer{tasks: s, store: s.store, blobs: blobs, limits: limits, log: s.log}
}

func (a *AttachmentServer) UploadAttachment(stream grpc.ClientStreamingServer[taskv1.UploadAttachmentRequest, taskv1.UploadAttachmentResponse]) error {
	ctx := stream.Context()
	att, err := a.upload(ctx, stream)
	if err != nil {
		return err
	}
	return stream.SendAndClose(&taskv1.UploadAttachmentResponse{Attachment: att.toProto()})
}

func (a *AttachmentServer) upload(ctx context.Context, stream grpc.ClientStreamingServer[taskv1.UploadAttachmentRequest, taskv1.UploadAttachmentResponse]) (*attachmentRow, error) {
	first, err := stream.Recv()
	if err != nil {
		return nil, fault.New(fault.Invalid, "the upload ended before its header")
	}
	if err := grpcserver.Check(protovalidate.GlobalValidator, first, ""); err != nil {
		return nil, err
	}
	h := first.GetHeader()
	if h == nil {
		return nil, fault.New(fault.Invalid, "an upload starts with its header (task, comment, file name)")
	}
	p, _ := auth.From(ctx)
	if err := a.mayAttach(ctx, h, p); err != nil {
		return nil, err
	}

	// The file is spooled to a temporary file, counted as it comes, so a
	// file over the limit is refused without reading the rest, and its
	// type is judged on the whole of it before anything is stored.
	tmp, err := os.CreateTemp("", "crm-attachment-*")
	if err != nil {
		return nil, err
	}
	defer func() { tmp.Close(); os.Remove(tmp.Name()) }()
	sum := sha256.New()
	var size int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := grpcserver.Check(protovalidate.GlobalValidator, msg, ""); err != nil {
			return nil, err
		}
		if msg.GetHeader() != nil {
			return nil, fault.New(fault.Invalid, "an upload has one header, first")
		}
		chunk := msg.GetChunk()
		size += int64(len(chunk))
		if size > a.limits.MaxBytes {
			e := refusal(reasonTooLarge, "the file is larger than %s, the most an attachment may be", humanBytes(a.limits.MaxBytes))
			e.Meta = map[string]string{"maxBytes": strconv.FormatInt(a.limits.MaxBytes, 10)}
			return nil, e
		}
		sum.Write(chunk)
		if _, err := tmp.Write(chunk); err != nil {
			return nil, err
		}
	}
	if size == 0 {
		return nil, refusal(reasonEmpty, "the file is empty")
	}
	kind, err := sniff(tmp, size, h.GetFileName())
	if err != nil {
		return nil, err
	}

	key, err := newStorageKey(h.GetTaskId())
	if err != nil {
		return nil, err
	}
	if err := a.blobs.Put(ctx, key, io.NewSectionReader(tmp, 0, size), size, kind.contentType); err != nil {
		return nil, fmt.Errorf("storing attachment: %w", err)
	}
	commentID := h.GetCommentId()
	row := &attachmentRow{
		TaskID: h.GetTaskId(), FileName: h.GetFileName(),
		ContentType: kind.contentType, SizeBytes: size, Sha256: hex.EncodeToString(sum.Sum(nil)),
		StorageKey: key, UploaderID: p.UserID, UploaderName: displayName(p),
		CreatedAt: a.store.clock(),
	}
	if thumb, ok := thumbnail(tmp, kind); ok {
		if err := a.blobs.Put(ctx, key+"-thumb", bytes.NewReader(thumb), int64(len(thumb)), "image/jpeg"); err != nil {
			a.deleteBlobs(ctx, row)
			return nil, fmt.Errorf("storing thumbnail: %w", err)
		}
		row.ThumbnailKey = key + "-thumb"
	}
	if commentID == 0 {
		if commentID, err = a.newComment(ctx, h.GetTaskId(), h.GetCommentText()); err != nil {
			a.deleteBlobs(ctx, row)
			return nil, err
		}
	}
	row.CommentID = commentID
	if err := a.insert(ctx, row); err != nil {
		a.deleteBlobs(ctx, row)
		return nil, err
	}
	return row, nil
}

// newComment writes the comment a file goes on, through the task's
// workflow as every comment is; it refuses as AddComment does.
func (a *AttachmentServer) newComment(ctx context.Context, taskID int64, text string) (int64, error) {
	step, err := a.tasks.command(ctx, taskID, taskflow.UpdateComment, taskflow.Comment{Actor: actor(ctx), Text: text})
	if err != nil {
		return 0, err
	}
	c, err := a.store.comment(ctx, taskID, step.Sequence)
	if err != nil {
		return 0, err
	}
	return c.ID, nil
}

// mayAttach checks the header against the task and its comment: the
// comment is the caller's own, on that task, and has room; or a new
// comment's text is there.
func (a *AttachmentServer) mayAttach(ctx context.Context, h *taskv1.AttachmentHeader, p *auth.Principal) error {
	if _, err := a.store.get(ctx, h.GetTaskId()); err != nil {
		return err
	}
	if h.GetCommentId() == 0 {
		return requireText("commentText", h.GetCommentText())
	}
	if h.GetCommentText() != "" {
		return fault.Field("commentText", "a file goes on an existing comment (commentId) or a new one (commentText), not both")
	}
	var c commentRow
	err := a.store.db.WithContext(ctx).Take(&c, "id = ? AND task_id = ?", h.GetCommentId(), h.GetTaskId()).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fault.New(fault.NotFound, "task %d has no comment %d", h.GetTaskId(), h.GetCommentId())
	}
	if err != nil {
		return err
	}
	if p == nil || c.AuthorID != p.UserID {
		return fault.New(fault.PermissionDenied, "files are attached to one's own comments")
	}
	n, err := a.count(ctx, a.store.db, h.GetCommentId())
	if err != nil {
		return err
	}
	if n >= int64(a.limits.PerComment) {
		return a.tooMany()
	}
	return nil
}

func (a *AttachmentServer) tooMany() error {
	return refusal(reasonTooMany, "a comment holds at most %d files", a.limits.PerComment)
}

func (a *AttachmentServer) count(ctx context.Context, db *gorm.DB, commentID int64) (int64, error) {
	var n int64
	err := db.WithContext(ctx).Model(&attachmentRow{}).Where("comment_id = ?", commentID).Count(&n).Error
	return n, err
}

// insert writes the row unless the comment filled up meanwhile; the
// comment's row is locked on PostgreSQL so two uploads count one after the
// other (SQLite writes one transaction at a time anyway).
func (a *AttachmentServer) insert(ctx context.Context, row *attachmentRow) error {
	return a.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if tx.Dialector.Name() == "postgres" {
			if err := tx.Exec(`SELECT id FROM comments WHERE id = ? FOR UPDATE`, row.CommentID).Error; err != nil {
				return err
			}
		}
		n, err := a.count(ctx, tx, row.CommentID)
		if err != nil {
			return err
		}
		if n >= int64(a.limits.PerComment) {
			return a.tooMany()
		}
		return tx.Create(row).Error
	})
}

func (a *AttachmentServer) deleteBlobs(ctx context.Context, row *attachmentRow) {
	ctx = context.WithoutCancel(ctx)
	for _, key := range []string{row.StorageKey, row.ThumbnailKey} {
		if key == "" {
			continue
		}
		if err := a.blobs.Delete(ctx, key); err != nil {
			a.log.WarnContext(ctx, "an unrecorded attachment file is left in the store", "key", key, "err", err)
		}
	}
}

func (a *AttachmentServer) DownloadAttachment(req *taskv1.DownloadAttachmentRequest, stream grpc.ServerStreamingServer[taskv1.DownloadAttachmentResponse]) error {
	return a.download(stream.Context(), req, stream)
}

func (a *AttachmentServer) download(ctx context.Context, req *taskv1.DownloadAttachmentRequest, stream grpc.ServerStreamingServer[taskv1.DownloadAttachmentResponse]) error {
	if err := grpcserver.Check(protovalidate.GlobalValidator, req, ""); err != nil {
		return err
	}
	row, err := a.readable(ctx, req.GetId())
	if err != nil {
		return err
	}
	key := row.StorageKey
	if req.GetThumbnail() {
		if row.ThumbnailKey == "" {
			return fault.New(fault.NotFound, "attachment %d has no thumbnail", row.ID)
		}
		key = row.ThumbnailKey
	}
	r, err := a.blobs.Open(ctx, key)
	if errors.Is(err, blobstore.ErrNotFound) {
		return fmt.Errorf("attachment %d: its file %s is missing from the store", row.ID, key)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	if err := stream.Send(&taskv1.DownloadAttachmentResponse{Part: &taskv1.DownloadAttachmentResponse_Attachment{Attachment: row.toProto()}}); err != nil {
		return err
	}
	buf := make([]byte, downloadChunk)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			chunk := &taskv1.DownloadAttachmentResponse{Part: &taskv1.DownloadAttachmentResponse_Chunk{Chunk: buf[:n]}}
			if err := stream.Send(chunk); err != nil {
				return err
			}
		}
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil
		case err != nil:
			return err
		}
	}
}

// readable finds an attachment the caller may read: the guard has checked
// tasks.read, and its task is read as GetTask and ListComments read it. An
// attachment the caller may not read is not found, as a missing one is.
func (a *AttachmentServer) readable(ctx context.Context, id int64) (*attachmentRow, error) {
	var row attachmentRow
	err := a.store.db.WithContext(ctx).Take(&row, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "attachment %d does not exist", id)
	}
	if err != nil {
		return nil, err
	}
	if _, err := a.store.get(ctx, row.TaskID); err != nil {
		return nil, fault.New(fault.NotFound, "attachment %d does not exist", id)
	}
	return &row, nil
}

// maxListed bounds a task's list; comments times files per comment stays
// well below it in practice.
const maxListed = 1000

func (a *AttachmentServer) ListAttachments(ctx context.Context, req *taskv1.ListAttachmentsRequest) (*taskv1.ListAttachmentsResponse, error) {
	if _, err := a.store.get(ctx, req.GetTaskId()); err != nil {
		return nil, err
	}
	var rows []attachmentRow
	if err := a.store.db.WithContext(ctx).Where("task_id = ?", req.GetTaskId()).Order("id").Limit(maxListed).Find(&rows).Error; err != nil {
		return nil, err
	}
	resp := &taskv1.ListAttachmentsResponse{}
	for i := range rows {
		resp.Attachments = append(resp.Attachments, rows[i].toProto())
	}
	return resp, nil
}

// newStorageKey names a new file: random, so nothing about it can be
// guessed from the key, and grouped by task.
func newStorageKey(taskID int64) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return fmt.Sprintf("tasks/%d/%s", taskID, hex.EncodeToString(b)), nil
}

func displayName(p *auth.Principal) string {
	if p == nil {
		return ""
	}
	if p.Name != "" {
		return p.Name
	}
	return p.Login
}

func humanBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
