package notifier

import (
	"context"
	"errors"
	"fmt"
	"html"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	tele "gopkg.in/telebot.v3"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

const (
	// promptTTL is how long a question (why return?) waits for its reply.
	promptTTL = 24 * time.Hour
	// maxTaskLines bounds the /tasks answer.
	maxTaskLines = 20
	// maxCallbackText is Telegram's limit on a button press's answer.
	maxCallbackText = 200
	permWork        = "tasks.work"
	permManage      = "tasks.manage"
)

// plain is an answer without its HTML, for a button press's answer
// (Telegram shows it as plain text).
func plain(s string) string { return html.UnescapeString(tagRx.ReplaceAllString(s, "")) }

var tagRx = regexp.MustCompile(`<[^>]*>`)

// say is a phrase of the bot in a language.
func say(l, key string, args ...any) string { return messages.text(l, key, args...) }

func (b *chatBot) register() {
	b.bot.Handle("/start", b.onStart)
	b.bot.Handle("/stop", b.onStop)
	b.bot.Handle("/tasks", b.onTasks)
	b.bot.Handle("/today", b.onToday)
	b.bot.Handle("/tomorrow", b.onTomorrow)
	b.bot.Handle("/help", b.onHelp)
	b.bot.Handle(tele.OnText, b.onText)
	b.bot.Handle(tele.OnCallback, b.onCallback)
	b.bot.Handle(tele.OnPhoto, b.onFile)
	b.bot.Handle(tele.OnDocument, b.onFile)
	b.bot.Handle(tele.OnContact, b.onContact)
}

// ctx bounds the work on one update. It does not end with the service, so
// an answer under way is still given while the service stops.
func (b *chatBot) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), b.svc.cfg.HandlerTimeout)
}

func private(c tele.Context) bool { return c.Chat() != nil && c.Chat().Type == tele.ChatPrivate }

// linked is the user a chat is linked to; errNotLinked when none.
func (b *chatBot) linked(ctx context.Context, chatID int64) (*identityv1.ResolveTelegramChatResponse, error) {
	who, err := b.svc.identity.ResolveTelegramChat(ctx, &identityv1.ResolveTelegramChatRequest{ChatId: chatID})
	if status.Code(err) == codes.NotFound {
		return nil, errNotLinked
	}
	return who, err
}

// principal is the user a chat acts as.
func principal(who *identityv1.ResolveTelegramChatResponse) auth.Principal {
	return auth.Principal{
		UserID:      who.GetUserId(),
		Login:       who.GetLogin(),
		Permissions: who.GetPermissions(),
		Groups:      who.GetGroupIds(),
	}
}

// asUser makes calls to the task service carry the chat's user, so the
// task service checks them as it checks the console's.
func (b *chatBot) asUser(ctx context.Context, who *identityv1.ResolveTelegramChatResponse) context.Context {
	return b.svc.fwd.AsUser(ctx, principal(who))
}

// answerLinked resolves the chat's user, or answers why it cannot.
func (b *chatBot) answerLinked(ctx context.Context, c tele.Context) (*identityv1.ResolveTelegramChatResponse, bool) {
	who, err := b.linked(ctx, c.Chat().ID)
	l := b.svc.cfg.telegramLang(c.Sender())
	switch {
	case errors.Is(err, errNotLinked):
		b.send(c, say(l, "not.linked"))
		return nil, false
	case err != nil:
		b.svc.log.Warn("resolving a Telegram chat failed", "err", err)
		b.send(c, say(l, "unavailable"))
		return nil, false
	}
	return who, true
}

// send answers in the update's chat; a failure is logged, as there is no
// one else to tell.
func (b *chatBot) send(c tele.Context, text string, opts ...any) {
	if err := c.Send(text, opts...); err != nil {
		b.svc.log.Warn("answering in a Telegram chat failed", "err", err)
	}
}

// respond answers a button press. A press that changes its message's
// keyboard answers after the edit: updates are handled concurrently, so
// an edit made after the answer could land after the next press's edit
// and leave the card with a stale keyboard.
func (b *chatBot) respond(c tele.Context, text string, alert bool) {
	err := c.Respond(&tele.CallbackResponse{Text: clip(text, maxCallbackText), ShowAlert: alert})
	if err != nil {
		b.svc.log.Warn("answering a button press failed", "err", err)
	}
}

// onStart links the chat with a code from the console: /start CODE.
func (b *chatBot) onStart(c tele.Context) error {
	ctx, cancel := b.ctx()
	defer cancel()
	l := b.svc.cfg.telegramLang(c.Sender())
	if !private(c) {
		b.send(c, say(l, "start.private"))
		return nil
	}
	code := strings.TrimSpace(c.Message().Payload)
	if code == "" {
		b.greet(ctx, c, l)
		return nil
	}
	username := ""
	if c.Sender() != nil {
		username = c.Sender().Username
	}
	resp, err := b.svc.identity.RedeemTelegramLink(ctx, &identityv1.RedeemTelegramLinkRequest{
		Code: code, ChatId: c.Chat().ID, TelegramUsername: username,
	})
	if wait, ok := mustWait(err); ok {
		b.send(c, messages.count(l, "start.wait", int((wait+time.Minute-1)/time.Minute), int((wait+time.Minute-1)/time.Minute)))
		return nil
	}
	if err != nil {
		key := linkRefusal(err)
		if key == "unavailable" {
			b.svc.log.Warn("redeeming a Telegram link code failed", "err", err)
		}
		b.send(c, say(l, key))
		return nil
	}
	if err := b.svc.store.chatLinked(ctx, c.Chat().ID); err != nil {
		b.svc.log.Warn("forgetting that a chat was unreachable failed", "err", err)
	}
	l = b.svc.cfg.readerLang(resp.GetLanguage())
	b.send(c, say(l, "start.ok", html.EscapeString(resp.GetDisplayName())))
	return nil
}

// mustWait tells whether the identity service asked the chat to wait
// (too many link codes tried), and how long.
func mustWait(err error) (time.Duration, bool) {
	st := status.Convert(err)
	if err == nil || st.Code() != codes.ResourceExhausted {
		return 0, false
	}
	wait := time.Minute
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			wait = max(ri.GetRetryDelay().AsDuration(), time.Second)
		}
	}
	return wait, true
}

// linkRefusal names the answer to a code the identity service refused.
func linkRefusal(err error) string {
	st := status.Convert(err)
	reason := ""
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.GetReason()
		}
	}
	msg := strings.ToLower(st.Message())
	switch {
	case st.Code() == codes.NotFound, st.Code() == codes.InvalidArgument:
		return "start.unknown"
	case st.Code() != codes.FailedPrecondition:
		return "unavailable"
	case reason == "LINK_CODE_EXPIRED", strings.Contains(msg, "expired"):
		return "start.expired"
	case reason == "LINK_CODE_USED", strings.Contains(msg, "used"):
		return "start.used"
	case reason == "USER_INACTIVE", strings.Contains(msg, "deactivated"):
		return "start.inactive"
	}
	return "start.unknown"
}

// onStop unlinks the chat.
func (b *chatBot) onStop(c tele.Context) error {
	ctx, cancel := b.ctx()
	defer cancel()
	l := b.svc.cfg.telegramLang(c.Sender())
	who, err := b.linked(ctx, c.Chat().ID)
	switch {
	case errors.Is(err, errNotLinked) && private(c):
		// a customer's chat: STOP turns its messages off
		b.customerText(ctx, c, "stop")
		return nil
	case errors.Is(err, errNotLinked):
		b.send(c, say(l, "stop.none"))
		return nil
	case err != nil:
		b.send(c, say(l, "unavailable"))
		return nil
	}
	l = who.GetLanguage()
	if _, err := b.svc.identity.UnlinkTelegram(ctx, &identityv1.UnlinkTelegramRequest{ChatId: c.Chat().ID, Reason: "stop"}); err != nil {
		b.svc.log.Warn("unlinking a Telegram chat failed", "err", err)
		b.send(c, say(l, "unavailable"))
		return nil
	}
	b.send(c, say(l, "stop.ok"))
	return nil
}

func (b *chatBot) onHelp(c tele.Context) error {
	ctx, cancel := b.ctx()
	defer cancel()
	l := b.svc.cfg.telegramLang(c.Sender())
	who, err := b.linked(ctx, c.Chat().ID)
	if err == nil {
		l = who.GetLanguage()
	} else if cust, cerr := b.svc.store.chatCustomer(ctx, c.Chat().ID); cerr == nil && cust != nil {
		// a customer's chat: what the bot does for customers
		b.send(c, say(b.svc.cfg.readerLang(cust.Language), "cust.hint"))
		return nil
	}
	b.send(c, say(l, "help"), &tele.SendOptions{DisableWebPagePreview: true})
	return nil
}

// linkedHandler answers a command of a linked chat's user.
type linkedHandler func(ctx context.Context, c tele.Context, who *identityv1.ResolveTelegramChatResponse)

// linkedCommand runs a command that works only in a private chat linked
// to a user; an unlinked chat is told how to link.
func (b *chatBot) linkedCommand(c tele.Context, h linkedHandler) error {
	ctx, cancel := b.ctx()
	defer cancel()
	if !private(c) {
		return nil
	}
	if who, ok := b.answerLinked(ctx, c); ok {
		h(ctx, c, who)
	}
	return nil
}

func (b *chatBot) onTasks(c tele.Context) error { return b.linkedCommand(c, b.listTasks) }

// listTasks lists the open tasks of the user's groups, asked as the user.
func (b *chatBot) listTasks(ctx context.Context, c tele.Context, who *identityv1.ResolveTelegramChatResponse) {
	l := who.GetLanguage()
	groups := uniqueIDs(who.GetGroupIds())
	if len(groups) == 0 {
		b.send(c, say(l, "tasks.nogroups"))
		return
	}
	uctx := b.asUser(ctx, who)
	byID := map[int64]*taskv1.Task{}
	more := false
	for _, g := range groups {
		resp, err := b.svc.tasks.ListTasks(uctx, &taskv1.ListTasksRequest{
			GroupId: g, State: taskv1.TaskState_TASK_STATE_OPEN, PageSize: maxTaskLines + 1,
		})
		if err != nil {
			if status.Code(err) == codes.PermissionDenied {
				b.send(c, say(l, "tasks.denied"))
				return
			}
			b.svc.log.Warn("listing tasks for a chat failed", "err", err)
			b.send(c, say(l, "unavailable"))
			return
		}
		more = more || resp.GetNextPageToken() != ""
		for _, t := range resp.GetTasks() {
			byID[t.GetId()] = t
		}
	}
	if len(byID) == 0 {
		b.send(c, say(l, "tasks.none"))
		return
	}
	list := make([]*taskv1.Task, 0, len(byID))
	for _, t := range byID {
		list = append(list, t)
	}
	// Breached first, then oldest first.
	sort.Slice(list, func(i, j int) bool {
		if list[i].GetSlaBreached() != list[j].GetSlaBreached() {
			return list[i].GetSlaBreached()
		}
		return list[i].GetId() < list[j].GetId()
	})
	var sb strings.Builder
	sb.WriteString(say(l, "tasks.head"))
	for _, t := range list[:min(len(list), maxTaskLines)] {
		sb.WriteString("\n• ")
		if b.svc.cfg.PublicURL != "" {
			fmt.Fprintf(&sb, "<a href=\"%s\">%s</a>", html.EscapeString(taskURL(b.svc.cfg.PublicURL, t.GetId())), esc(taskLabel(t.GetNumber(), t.GetId()), maxField))
		} else {
			sb.WriteString(esc(taskLabel(t.GetNumber(), t.GetId()), maxField))
		}
		if t.GetSlaBreached() {
			sb.WriteString(" ⏰")
		}
		fmt.Fprintf(&sb, " %s", esc(t.GetTitle(), 80))
		if p := t.GetCurrentProcess().GetName(); p != "" {
			fmt.Fprintf(&sb, " — %s", esc(p, 60))
		}
	}
	if rest := len(list) - maxTaskLines; rest > 0 || more {
		link := html.EscapeString(strings.TrimRight(b.svc.cfg.PublicURL, "/") + "/tasks")
		sb.WriteString("\n")
		sb.WriteString(say(l, "tasks.more", link))
	}
	b.send(c, sb.String(), &tele.SendOptions{DisableWebPagePreview: true})
}

// onCallback acts on a notification's button as the chat's user.
func (b *chatBot) onCallback(c tele.Context) error {
	ctx, cancel := b.ctx()
	defer cancel()
	cb := c.Callback()
	if strings.HasPrefix(cb.Data, "r:") {
		b.onRequestButton(ctx, c, cb.Data)
		return nil
	}
	l := b.svc.cfg.telegramLang(c.Sender())
	taskID, processID, action, ok := parseCallback(cb.Data)
	if !ok || c.Chat() == nil {
		b.respond(c, say(l, "err.button"), false)
		return nil
	}
	chatID := c.Chat().ID
	who, err := b.linked(ctx, chatID)
	switch {
	case errors.Is(err, errNotLinked):
		b.respond(c, plain(say(l, "not.linked")), true)
		return nil
	case err != nil:
		b.svc.log.Warn("resolving a Telegram chat failed", "err", err)
		b.respond(c, say(l, "unavailable"), true)
		return nil
	}
	l = who.GetLanguage()
	p := principal(who)
	if !slices.Contains(p.Permissions, permWork) {
		b.respond(c, say(l, "err.role"), true)
		return nil
	}
	if _, ok := visitReport[action]; ok {
		b.onVisitButton(ctx, c, who, taskID, processID, action)
		return nil
	}
	uctx := b.svc.fwd.AsUser(ctx, p)
	switch action {
	case actTake:
		resp, err := b.svc.tasks.AssignTask(uctx, &taskv1.AssignTaskRequest{Id: taskID, UserId: 0, ProcessId: processID})
		if err != nil {
			b.respond(c, b.explain(uctx, l, err, taskID, processID), true)
			return nil
		}
		t := resp.GetTask()
		b.dropButton(cb, actTake)
		b.respond(c, say(l, "act.taken", taskLabel(t.GetNumber(), taskID)), false)
	case actAdvance:
		resp, err := b.svc.tasks.AdvanceTask(uctx, &taskv1.AdvanceTaskRequest{Id: taskID, ProcessId: processID})
		if err != nil {
			b.respond(c, b.explain(uctx, l, err, taskID, processID), true)
			return nil
		}
		t := resp.GetTask()
		b.clearButtons(chatID, cb.Message)
		if t.GetState() == taskv1.TaskState_TASK_STATE_OPEN {
			b.respond(c, say(l, "act.advanced", taskLabel(t.GetNumber(), taskID), t.GetCurrentProcess().GetName()), false)
		} else {
			b.respond(c, say(l, "act.closed", taskLabel(t.GetNumber(), taskID)), false)
		}
	case actReturn:
		// Return needs a comment: check the button is still good, then ask.
		t, err := b.svc.tasks.GetTask(uctx, &taskv1.GetTaskRequest{Id: taskID})
		if err != nil {
			b.respond(c, b.explain(uctx, l, err, taskID, processID), true)
			return nil
		}
		if why := stale(t.GetTask(), processID, p); why != "" {
			b.respond(c, say(l, why), true)
			return nil
		}
		number := t.GetTask().GetNumber()
		q, err := b.bot.Send(tele.ChatID(chatID), say(l, "act.ask.return", html.EscapeString(taskLabel(number, taskID))),
			&tele.SendOptions{ReplyMarkup: &tele.ReplyMarkup{ForceReply: true, Placeholder: say(l, "act.placeholder")}})
		if err != nil {
			b.svc.log.Warn("asking for a return comment failed", "err", err)
			b.respond(c, say(l, "err.failed"), true)
			return nil
		}
		var source int64
		if cb.Message != nil {
			source = int64(cb.Message.ID)
		}
		if err := b.svc.store.savePrompt(ctx, &promptRow{
			ChatID: chatID, MessageID: int64(q.ID), Kind: promptReturn,
			TaskID: taskID, TaskNumber: clip(number, 50), ProcessID: processID, SourceMessageID: source,
		}); err != nil {
			b.svc.log.Warn("saving a prompt failed", "err", err)
			b.respond(c, say(l, "err.failed"), true)
			return nil
		}
		b.respond(c, say(l, "act.ask.short"), false)
	}
	return nil
}

// stale tells why a button no longer fits the task ("" when it does).
func stale(t *taskv1.Task, processID int64, p auth.Principal) string {
	switch {
	case t.GetState() != taskv1.TaskState_TASK_STATE_OPEN:
		return "err.closed"
	case t.GetCurrentProcess().GetId() != processID:
		return "err.moved"
	case !p.InGroup(t.GetCurrentProcess().GetGroupId()) && !slices.Contains(p.Permissions, permManage):
		return "err.group"
	}
	return ""
}

// explain turns the task service's refusal into a clear answer. When the
// refusal is about the task's state, the task is read to say which: closed,
// or moved on.
func (b *chatBot) explain(uctx context.Context, l string, err error, taskID, processID int64) string {
	st := status.Convert(err)
	switch st.Code() {
	case codes.PermissionDenied:
		return say(l, "err.group")
	case codes.NotFound:
		return say(l, "err.gone")
	case codes.Aborted, codes.FailedPrecondition:
		if t, gerr := b.svc.tasks.GetTask(uctx, &taskv1.GetTaskRequest{Id: taskID}); gerr == nil {
			switch {
			case t.GetTask().GetState() != taskv1.TaskState_TASK_STATE_OPEN:
				return say(l, "err.closed")
			case t.GetTask().GetCurrentProcess().GetId() != processID:
				return say(l, "err.moved")
			}
		}
		if st.Code() == codes.Aborted {
			return say(l, "err.moved")
		}
		return say(l, "err.refused", st.Message())
	case codes.InvalidArgument:
		return say(l, "err.refused", st.Message())
	case codes.Unavailable, codes.DeadlineExceeded:
		return say(l, "unavailable")
	}
	b.svc.log.Warn("a task action from Telegram failed", "task", taskID, "err", err)
	return say(l, "err.failed")
}

// dropButton removes one action from a notification's keyboard.
func (b *chatBot) dropButton(cb *tele.Callback, action string) {
	if cb.Message == nil || cb.Message.ReplyMarkup == nil {
		return
	}
	var rows [][]tele.InlineButton
	for _, row := range cb.Message.ReplyMarkup.InlineKeyboard {
		var kept []tele.InlineButton
		for _, btn := range row {
			if _, _, a, ok := parseCallback(btn.Data); ok && a == action {
				continue
			}
			kept = append(kept, btn)
		}
		if len(kept) > 0 {
			rows = append(rows, kept)
		}
	}
	if _, err := b.bot.EditReplyMarkup(cb.Message, &tele.ReplyMarkup{InlineKeyboard: rows}); err != nil {
		b.svc.log.Debug("updating a notification's buttons failed", "err", err)
	}
}

// clearButtons removes a notification's keyboard once its task moved on.
func (b *chatBot) clearButtons(chatID int64, msg *tele.Message) {
	if msg == nil {
		return
	}
	b.clearButtonsOf(chatID, int64(msg.ID))
}

func (b *chatBot) clearButtonsOf(chatID, messageID int64) {
	if messageID == 0 {
		return
	}
	m := tele.StoredMessage{ChatID: chatID, MessageID: strconv.FormatInt(messageID, 10)}
	if _, err := b.bot.EditReplyMarkup(m, nil); err != nil {
		b.svc.log.Debug("removing a notification's buttons failed", "err", err)
	}
}

// onText handles plain messages: a reply to the bot's question (why
// return? what was done? why can't it be done?) gives the command it was
// asked for; a reply to a notification or to a visit of a day's list
// comments on its task.
func (b *chatBot) onText(c tele.Context) error {
	if !private(c) {
		return nil
	}
	ctx, cancel := b.ctx()
	defer cancel()
	m := c.Message()
	l := b.svc.cfg.telegramLang(c.Sender())
	who, err := b.linked(ctx, c.Chat().ID)
	switch {
	case errors.Is(err, errNotLinked):
		// not staff: a customer, or someone to tell how to link
		b.customerText(ctx, c, m.Text)
		return nil
	case err != nil:
		b.svc.log.Warn("resolving a Telegram chat failed", "err", err)
		b.send(c, say(l, "unavailable"))
		return nil
	}
	l = who.GetLanguage()
	if m.ReplyTo == nil {
		b.send(c, say(l, "hint"))
		return nil
	}
	text := strings.TrimSpace(m.Text)
	chatID := c.Chat().ID
	replied := int64(m.ReplyTo.ID)
	uctx := b.asUser(ctx, who)

	pr, err := b.svc.store.prompt(ctx, chatID, replied)
	if err != nil {
		b.svc.log.Warn("reading a prompt failed", "err", err)
		b.send(c, say(l, "err.failed"))
		return nil
	}
	if pr != nil && pr.Kind != promptVisitCard {
		if b.svc.now().Sub(time.UnixMicro(pr.CreatedAt)) > promptTTL {
			b.send(c, say(l, "act.expired"))
			return nil
		}
		if text == "" {
			b.send(c, say(l, "act.empty"))
			return nil
		}
		if pr.Kind != promptReturn {
			b.answerVisit(ctx, c, who, pr, text)
			return nil
		}
		resp, err := b.svc.tasks.ReturnTask(uctx, &taskv1.ReturnTaskRequest{Id: pr.TaskID, Comment: text, ProcessId: pr.ProcessID})
		if err != nil {
			b.reply(c, html.EscapeString(b.explain(uctx, l, err, pr.TaskID, pr.ProcessID)))
			return nil
		}
		if err := b.svc.store.deletePrompt(ctx, chatID, replied); err != nil {
			b.svc.log.Warn("removing an answered prompt failed", "err", err)
		}
		t := resp.GetTask()
		b.reply(c, say(l, "act.returned", html.EscapeString(taskLabel(t.GetNumber(), pr.TaskID)), html.EscapeString(t.GetCurrentProcess().GetName())))
		b.clearButtonsOf(chatID, pr.SourceMessageID)
		return nil
	}

	d, err := b.svc.replyTarget(ctx, chatID, replied, pr)
	if err != nil {
		b.svc.log.Warn("finding the notification replied to failed", "err", err)
		b.send(c, say(l, "err.failed"))
		return nil
	}
	if d == nil {
		b.send(c, say(l, "hint"))
		return nil
	}
	if text == "" {
		b.send(c, say(l, "act.empty"))
		return nil
	}
	if _, err := b.svc.tasks.AddComment(uctx, &taskv1.AddCommentRequest{TaskId: d.TaskID, Text: text}); err != nil {
		b.reply(c, html.EscapeString(b.explain(uctx, l, err, d.TaskID, d.ProcessID)))
		return nil
	}
	b.reply(c, say(l, "act.commented", html.EscapeString(taskLabel(d.TaskNumber, d.TaskID))))
	return nil
}

func (b *chatBot) reply(c tele.Context, text string) {
	if err := c.Reply(text); err != nil {
		b.svc.log.Warn("answering in a Telegram chat failed", "err", err)
	}
}
