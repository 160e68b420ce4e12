package notifier

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	tele "gopkg.in/telebot.v3"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// A photo or file sent to the bot as a reply to a task's notification is
// attached to a new comment on that task (the caption, or the file's name,
// is the comment's text). The task service judges the file (size, type
// sniffed from its bytes) before it writes the comment, so a refused file
// leaves nothing behind.

// telegramMaxDownload is the largest file the Bot API lets a bot fetch.
const telegramMaxDownload = 20 << 20

// fileChunk is the size of the pieces a file is passed on in.
const fileChunk = 256 << 10

// fileTransferTime bounds fetching a file from Telegram and storing it,
// which takes longer than answering a button.
const fileTransferTime = 3 * time.Minute

// sentFile is the file a message carries and the name it is stored under.
func sentFile(m *tele.Message) (*tele.File, string, bool) {
	switch {
	case m.Photo != nil:
		// Telegram sends photos as JPEG, without a name.
		name := "photo-" + time.Unix(m.Unixtime, 0).UTC().Format("20060102-150405") + ".jpg"
		return &m.Photo.File, name, true
	case m.Document != nil:
		name := strings.TrimSpace(m.Document.FileName)
		if name == "" {
			name = "file"
		}
		return &m.Document.File, name, true
	}
	return nil, "", false
}

// onFile handles a photo or a document.
func (b *chatBot) onFile(c tele.Context) error {
	if !private(c) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), fileTransferTime)
	defer cancel()
	m := c.Message()
	// an unlinked chat is told so here, and nothing is fetched
	who, ok := b.answerLinked(ctx, c)
	if !ok {
		return nil
	}
	l := b.svc.cfg.readerLang(who.GetLanguage())
	if !slices.Contains(who.GetPermissions(), "tasks.work") {
		b.reply(c, say(l, "err.role"))
		return nil
	}
	if m.ReplyTo == nil {
		b.send(c, say(l, "file.hint"))
		return nil
	}
	d, err := b.svc.replyTarget(ctx, c.Chat().ID, int64(m.ReplyTo.ID), nil)
	if err != nil {
		b.svc.log.Warn("finding the notification replied to failed", "err", err)
		b.send(c, say(l, "err.failed"))
		return nil
	}
	if d == nil {
		b.send(c, say(l, "file.hint"))
		return nil
	}
	file, name, ok := sentFile(m)
	if !ok {
		return nil
	}
	if file.FileSize > telegramMaxDownload {
		b.reply(c, say(l, "file.large", telegramMaxDownload>>20))
		return nil
	}
	if b.svc.files == nil {
		b.reply(c, say(l, "err.failed"))
		return nil
	}
	text := strings.TrimSpace(m.Caption)
	if text == "" {
		text = name
	}
	uctx := b.asUser(ctx, who)
	att, err := b.attach(uctx, file, &taskv1.AttachmentHeader{TaskId: d.TaskID, FileName: name, CommentText: text})
	if err != nil {
		b.reply(c, html.EscapeString(b.fileRefusal(uctx, l, err, d.TaskID, d.ProcessID)))
		return nil
	}
	b.reply(c, say(l, "file.attached", html.EscapeString(att.GetFileName()), html.EscapeString(taskLabel(d.TaskNumber, d.TaskID))))
	return nil
}

// errTooBig is Telegram's refusal to hand over a file above its limit.
var errTooBig = errors.New("telegram: file is too big")

// attach fetches the file from Telegram and streams it to the task
// service.
func (b *chatBot) attach(uctx context.Context, file *tele.File, h *taskv1.AttachmentHeader) (*taskv1.Attachment, error) {
	body, err := b.bot.File(file)
	if err != nil {
		if strings.Contains(err.Error(), "too big") {
			return nil, errTooBig
		}
		return nil, fmt.Errorf("fetching the file from Telegram: %w", err)
	}
	defer body.Close()
	ctx, cancel := context.WithCancel(uctx)
	defer cancel()
	stream, err := b.svc.files.UploadAttachment(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&taskv1.UploadAttachmentRequest{Part: &taskv1.UploadAttachmentRequest_Header{Header: h}}); err != nil {
		_, err = stream.CloseAndRecv()
		return nil, err
	}
	buf := make([]byte, fileChunk)
	for {
		n, rerr := io.ReadFull(body, buf)
		if n > 0 {
			chunk := &taskv1.UploadAttachmentRequest{Part: &taskv1.UploadAttachmentRequest_Chunk{Chunk: append([]byte(nil), buf[:n]...)}}
			if err := stream.Send(chunk); err != nil {
				_, err = stream.CloseAndRecv() // the service's refusal
				return nil, err
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("fetching the file from Telegram: %w", rerr)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return resp.GetAttachment(), nil
}

// fileRefusal words why a file was not attached.
func (b *chatBot) fileRefusal(uctx context.Context, l string, err error, taskID, processID int64) string {
	if errors.Is(err, errTooBig) {
		return say(l, "file.large", telegramMaxDownload>>20)
	}
	st := status.Convert(err)
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok {
			continue
		}
		switch info.GetReason() {
		case "ATTACHMENT_TOO_LARGE":
			limit, _ := strconv.ParseInt(info.GetMetadata()["maxBytes"], 10, 64)
			return say(l, "file.large", max(1, limit>>20))
		case "ATTACHMENT_TYPE_REFUSED":
			return say(l, "file.type")
		case "ATTACHMENT_TYPE_MISMATCH":
			return say(l, "file.mismatch")
		case "ATTACHMENT_LIMIT":
			return say(l, "file.limit")
		case "ATTACHMENT_EMPTY":
			return say(l, "file.empty")
		}
	}
	if st.Code() == codes.Unknown || st.Code() == codes.Internal {
		b.svc.log.Warn("attaching a file from Telegram failed", "task", taskID, "err", err)
		return say(l, "err.failed")
	}
	return b.explain(uctx, l, err, taskID, processID)
}
