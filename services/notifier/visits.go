package notifier

import (
	"context"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
	tele "gopkg.in/telebot.v3"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// The technician's day in the chat: the visits booked for them (/today,
// /tomorrow, and the notices of their bookings) carry buttons to report
// from the field — on my way, arrived, done (asks what was done), can't do
// (asks why). A report is the task service's ReportVisit made as the
// technician, so it is checked at press time as the console's would be.

// defaultTimeZone is the zone of the technicians' day unless CRM_TIME_ZONE
// says otherwise.
const defaultTimeZone = "Europe/Moscow"

// maxDayVisits bounds the visits a day's list shows (one message each).
const maxDayVisits = 10

// Visit report actions, as carried in callback data (see callbackData).
const (
	actOnTheWay = "way"
	actArrived  = "arr"
	actDone     = "done"
	actCantDo   = "cant"
)

// Kinds of prompt a visit uses: the questions after Done and Can't do, and
// a visit's card in a day list (a reply to it comments on the task, a photo
// is attached to it).
const (
	promptVisitDone = "visit-done"
	promptVisitCant = "visit-cant"
	promptVisitCard = "visit-card"
)

// visitOpen tells whether a visit still takes reports.
func visitOpen(s taskv1.VisitState) bool {
	switch s {
	case taskv1.VisitState_VISIT_STATE_BOOKED, taskv1.VisitState_VISIT_STATE_ON_THE_WAY, taskv1.VisitState_VISIT_STATE_ARRIVED:
		return true
	}
	return false
}

// booked tells whether the user is one of the visit's technicians.
func booked(v *taskv1.Visit, userID int64) bool {
	return slices.ContainsFunc(v.GetTechnicians(), func(t *taskv1.VisitTechnician) bool { return t.GetUserId() == userID })
}

// visitButtons are the reports that fit a visit's state: on my way and
// arrived until the technician is on site, done and can't do until the
// visit ends.
func visitButtons(taskID, processID int64, state taskv1.VisitState, l string) *tele.ReplyMarkup {
	btn := func(key, action string) tele.InlineButton {
		return tele.InlineButton{Text: tr(l, key), Data: callbackData(taskID, processID, action)}
	}
	var rows [][]tele.InlineButton
	switch state {
	case taskv1.VisitState_VISIT_STATE_BOOKED:
		rows = append(rows, []tele.InlineButton{btn("btn.way", actOnTheWay), btn("btn.arr", actArrived)})
	case taskv1.VisitState_VISIT_STATE_ON_THE_WAY:
		rows = append(rows, []tele.InlineButton{btn("btn.arr", actArrived)})
	case taskv1.VisitState_VISIT_STATE_ARRIVED:
	default:
		return nil
	}
	rows = append(rows, []tele.InlineButton{btn("btn.done", actDone), btn("btn.cant", actCantDo)})
	return &tele.ReplyMarkup{InlineKeyboard: rows}
}

// noticeVisitButtons are the report buttons a technician booked for the
// visit gets under its notices while it is open; nil for anyone else.
func noticeVisitButtons(n *notifierv1.TaskNotice, userID int64, l string) *tele.ReplyMarkup {
	v := n.GetVisit()
	if v == nil || n.GetProcessId() == 0 || n.GetTaskState() != taskv1.TaskState_TASK_STATE_OPEN ||
		!visitOpen(v.GetState()) || !slices.Contains(n.GetUserIds(), userID) {
		return nil
	}
	return visitButtons(n.GetTaskId(), n.GetProcessId(), v.GetState(), l)
}

// window writes a visit's window in the technicians' zone: "Thu 04.12
// 10:00–12:00".
func window(v *taskv1.Visit, l string, zone *time.Location) string {
	start, end := v.GetStartTime().AsTime().In(zone), v.GetEndTime().AsTime().In(zone)
	return fmt.Sprintf("%s %s %s–%s", tr(l, "day."+strconv.Itoa(int(start.Weekday()))), start.Format("02.01"), start.Format("15:04"), end.Format("15:04"))
}

// visitLines are what a technician needs of a visit: when, where (with a
// map link), whom to call, the tariff and the dispatcher's note.
func visitLines(b *strings.Builder, v *taskv1.Visit, l string, zone *time.Location) {
	line := func(key, value string) {
		if strings.TrimSpace(value) != "" {
			fmt.Fprintf(b, "\n%s: %s", tr(l, key), value)
		}
	}
	line("visit.when", window(v, l, zone))
	addr := esc(v.GetAddress(), maxField)
	if u := v.GetMapUrl(); addr != "" && u != "" {
		addr += fmt.Sprintf(" (<a href=\"%s\">%s</a>)", html.EscapeString(u), tr(l, "visit.map"))
	}
	line("visit.address", addr)
	line("visit.phone", esc(v.GetCustomerPhone(), maxField))
	line("visit.tariff", esc(v.GetTariffName(), maxField))
	line("visit.note", esc(v.GetNote(), maxQuoted))
	var names []string
	for _, t := range v.GetTechnicians() {
		if t.GetName() != "" {
			names = append(names, t.GetName())
		}
	}
	line("visit.techs", esc(strings.Join(names, ", "), maxField))
}

// visitCard is one visit of a day's list.
func (s *Service) visitCard(v *taskv1.Visit, l string) string {
	var b strings.Builder
	start, end := v.GetStartTime().AsTime().In(s.zone), v.GetEndTime().AsTime().In(s.zone)
	fmt.Fprintf(&b, "<b>%s–%s</b> · ", start.Format("15:04"), end.Format("15:04"))
	label := esc(taskLabel(v.GetTaskNumber(), v.GetTaskId()), maxField)
	if s.cfg.PublicURL != "" {
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>", html.EscapeString(taskURL(s.cfg.PublicURL, v.GetTaskId())), label)
	} else {
		b.WriteString(label)
	}
	if p := v.GetProcessName(); p != "" {
		fmt.Fprintf(&b, " · %s", esc(p, maxField))
	}
	if v.GetLate() {
		fmt.Fprintf(&b, "\n⏰ %s", tr(l, "visit.islate"))
	}
	if st := v.GetState(); st != taskv1.VisitState_VISIT_STATE_BOOKED {
		fmt.Fprintf(&b, "\n%s: %s", tr(l, "visit.state"), tr(l, "visit.state."+strings.ToLower(strings.TrimPrefix(st.String(), "VISIT_STATE_"))))
	}
	name := esc(v.GetCustomerName(), maxField)
	fmt.Fprintf(&b, "\n%s: %s", tr(l, "customer"), name)
	visitLines(&b, v, l, s.zone)
	return b.String()
}

// visitHeadlines say what happened to a visit, in a line.
var visitHeadlines = map[taskv1.TaskEventKind]string{
	taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED:     "visit.booked",
	taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_CANCELLED:  "visit.cancelled",
	taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_REMINDED:   "visit.reminded",
	taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_LATE:       "visit.late",
	taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ON_THE_WAY: "visit.ontheway",
	taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ARRIVED:    "visit.arrived",
	taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_FAILED:     "visit.failed",
}

// visitHeadline is a visit step's headline; "" for other steps.
func visitHeadline(n *notifierv1.TaskNotice, l string) string {
	if key, ok := visitHeadlines[n.GetKind()]; ok {
		return tr(l, key)
	}
	return ""
}

func (b *chatBot) onToday(c tele.Context) error    { return b.linkedCommand(c, b.day(0)) }
func (b *chatBot) onTomorrow(c tele.Context) error { return b.linkedCommand(c, b.day(1)) }

// day lists the visits booked for the chat's user on a day (today plus
// days), one message each with its report buttons, asked as the user.
func (b *chatBot) day(days int) linkedHandler {
	return func(ctx context.Context, c tele.Context, who *identityv1.ResolveTelegramChatResponse) {
		b.listDay(ctx, c, who, days)
	}
}

func (b *chatBot) listDay(ctx context.Context, c tele.Context, who *identityv1.ResolveTelegramChatResponse, days int) {
	l := who.GetLanguage()
	s := b.svc
	if s.visits == nil {
		b.send(c, say(l, "unavailable"))
		return
	}
	now := s.now().In(s.zone)
	from := time.Date(now.Year(), now.Month(), now.Day()+days, 0, 0, 0, 0, s.zone)
	to := time.Date(now.Year(), now.Month(), now.Day()+days+1, 0, 0, 0, 0, s.zone)
	resp, err := s.visits.ListVisits(b.asUser(ctx, who), &taskv1.ListVisitsRequest{
		Technician: "me", From: timestamppb.New(from), To: timestamppb.New(to),
	})
	switch {
	case status.Code(err) == codes.PermissionDenied:
		b.send(c, say(l, "tasks.denied"))
		return
	case err != nil:
		s.log.Warn("listing a technician's visits failed", "err", err)
		b.send(c, say(l, "unavailable"))
		return
	}
	day := tr(l, "day."+strconv.Itoa(int(from.Weekday()))) + " " + from.Format("02.01")
	which := "today"
	if days > 0 {
		which = "tomorrow"
	}
	visits := resp.GetVisits()
	if len(visits) == 0 {
		b.send(c, say(l, "visits.none."+which, day))
		return
	}
	b.send(c, messages.count(l, "visits.head."+which, len(visits), day, len(visits)))
	for _, v := range visits[:min(len(visits), maxDayVisits)] {
		opts := &tele.SendOptions{DisableWebPagePreview: true}
		if visitOpen(v.GetState()) && booked(v, who.GetUserId()) {
			opts.ReplyMarkup = visitButtons(v.GetTaskId(), v.GetProcessId(), v.GetState(), l)
		}
		m, err := b.bot.Send(tele.ChatID(c.Chat().ID), s.visitCard(v, l), opts)
		if err != nil {
			s.log.Warn("sending a visit of the day failed", "err", err)
			return
		}
		if err := s.store.savePrompt(ctx, &promptRow{
			ChatID: c.Chat().ID, MessageID: int64(m.ID), Kind: promptVisitCard,
			TaskID: v.GetTaskId(), TaskNumber: clip(v.GetTaskNumber(), 50), ProcessID: v.GetProcessId(),
		}); err != nil {
			s.log.Warn("remembering a visit's card failed", "err", err)
		}
	}
	if len(visits) > maxDayVisits {
		b.send(c, say(l, "tasks.more", html.EscapeString(strings.TrimRight(s.cfg.PublicURL, "/")+"/visits")))
	}
}

// visitReport is the report a button gives.
var visitReport = map[string]taskv1.VisitReport{
	actOnTheWay: taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY,
	actArrived:  taskv1.VisitReport_VISIT_REPORT_ARRIVED,
	actDone:     taskv1.VisitReport_VISIT_REPORT_DONE,
	actCantDo:   taskv1.VisitReport_VISIT_REPORT_CANT_DO,
}

// onVisitButton acts on a visit's button: on my way and arrived are
// reported at once; done and can't do ask for a comment first. The visit
// is read as the technician, so a button of a visit since cancelled, moved
// on or booked for someone else is refused before anything is asked.
func (b *chatBot) onVisitButton(ctx context.Context, c tele.Context, who *identityv1.ResolveTelegramChatResponse, taskID, processID int64, action string) {
	l := who.GetLanguage()
	s := b.svc
	if s.visits == nil {
		b.respond(c, say(l, "unavailable"), true)
		return
	}
	p := principal(who)
	uctx := s.fwd.AsUser(ctx, p)
	got, err := s.visits.GetVisit(uctx, &taskv1.GetVisitRequest{TaskId: taskID})
	if status.Code(err) == codes.NotFound {
		b.clearButtons(c.Chat().ID, c.Callback().Message)
		b.respond(c, say(l, "err.novisit"), true)
		return
	}
	if err != nil {
		b.respond(c, b.explain(uctx, l, err, taskID, processID), true)
		return
	}
	v := got.GetVisit()
	switch {
	case v.GetProcessId() != processID || !visitOpen(v.GetState()):
		b.clearButtons(c.Chat().ID, c.Callback().Message)
		b.respond(c, say(l, "err.novisit"), true)
		return
	case !booked(v, p.UserID) && !slices.Contains(p.Permissions, permManage):
		b.respond(c, say(l, "err.notbooked"), true)
		return
	}
	label := taskLabel(v.GetTaskNumber(), taskID)
	if action == actDone || action == actCantDo {
		kind, key := promptVisitDone, "visit.ask.done"
		if action == actCantDo {
			kind, key = promptVisitCant, "visit.ask.cant"
		}
		b.ask(ctx, c, l, say(l, key, html.EscapeString(label)), &promptRow{
			Kind: kind, TaskID: taskID, TaskNumber: clip(v.GetTaskNumber(), 50), ProcessID: processID,
		})
		return
	}
	resp, err := s.visits.ReportVisit(uctx, &taskv1.ReportVisitRequest{TaskId: taskID, Report: visitReport[action]})
	if err != nil {
		b.respond(c, b.explain(uctx, l, err, taskID, processID), true)
		return
	}
	if m := c.Callback().Message; m != nil {
		if _, err := b.bot.EditReplyMarkup(m, visitButtons(taskID, processID, resp.GetVisit().GetState(), l)); err != nil {
			s.log.Debug("updating a visit's buttons failed", "err", err)
		}
	}
	b.respond(c, say(l, "act."+action, label), false)
}

// ask puts a question to the chat that a reply answers (the prompt
// remembers what it is about), and tells the button's presser to reply.
func (b *chatBot) ask(ctx context.Context, c tele.Context, l, question string, pr *promptRow) {
	chatID := c.Chat().ID
	q, err := b.bot.Send(tele.ChatID(chatID), question,
		&tele.SendOptions{ReplyMarkup: &tele.ReplyMarkup{ForceReply: true, Placeholder: say(l, "act.placeholder."+pr.Kind)}})
	if err != nil {
		b.svc.log.Warn("asking a question in a chat failed", "err", err)
		b.respond(c, say(l, "err.failed"), true)
		return
	}
	pr.ChatID, pr.MessageID = chatID, int64(q.ID)
	if m := c.Callback().Message; m != nil {
		pr.SourceMessageID = int64(m.ID)
	}
	if err := b.svc.store.savePrompt(ctx, pr); err != nil {
		b.svc.log.Warn("saving a prompt failed", "err", err)
		b.respond(c, say(l, "err.failed"), true)
		return
	}
	b.respond(c, say(l, "act.ask.short"), false)
}

// answerVisit takes the reply to Done or Can't do: the report with the
// technician's words.
func (b *chatBot) answerVisit(ctx context.Context, c tele.Context, who *identityv1.ResolveTelegramChatResponse, pr *promptRow, text string) {
	l := who.GetLanguage()
	if b.svc.visits == nil {
		b.send(c, say(l, "unavailable"))
		return
	}
	report, done := taskv1.VisitReport_VISIT_REPORT_CANT_DO, "act.cant"
	if pr.Kind == promptVisitDone {
		report, done = taskv1.VisitReport_VISIT_REPORT_DONE, "act.done"
	}
	uctx := b.asUser(ctx, who)
	if _, err := b.svc.visits.ReportVisit(uctx, &taskv1.ReportVisitRequest{TaskId: pr.TaskID, Report: report, Comment: text}); err != nil {
		b.reply(c, html.EscapeString(b.explain(uctx, l, err, pr.TaskID, pr.ProcessID)))
		return
	}
	if err := b.svc.store.deletePrompt(ctx, pr.ChatID, pr.MessageID); err != nil {
		b.svc.log.Warn("removing an answered prompt failed", "err", err)
	}
	b.reply(c, say(l, done, html.EscapeString(taskLabel(pr.TaskNumber, pr.TaskID))))
	b.clearButtonsOf(pr.ChatID, pr.SourceMessageID)
}

// replyTarget is the task a reply is about: the notification replied to,
// or a visit's card from a day's list (pr: the prompt of that message when
// already read). Nil when the message is neither.
func (s *Service) replyTarget(ctx context.Context, chatID, messageID int64, pr *promptRow) (*deliveryRow, error) {
	d, err := s.store.byMessage(ctx, chatID, messageID)
	if err != nil || d != nil {
		return d, err
	}
	if pr == nil {
		if pr, err = s.store.prompt(ctx, chatID, messageID); err != nil {
			return nil, err
		}
	}
	if pr == nil || pr.Kind != promptVisitCard {
		return nil, nil
	}
	return &deliveryRow{TaskID: pr.TaskID, TaskNumber: pr.TaskNumber, ProcessID: pr.ProcessID}, nil
}
