package notifier

import (
	"encoding/json"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	tele "gopkg.in/telebot.v3"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// Limits on what a message quotes, so one stays well under Telegram's 4096
// characters whatever people typed.
const (
	maxQuoted = 1500
	maxField  = 200
)

// Button actions, as carried in callback data: t:<task>:<process>:<action>.
const (
	actTake    = "take"
	actAdvance = "adv"
	actReturn  = "ret"
)

// actions are every action a button may carry.
var actions = []string{actTake, actAdvance, actReturn, actOnTheWay, actArrived, actDone, actCantDo}

// tr is a word or phrase of a notification in a language.
func tr(l, key string) string { return messages.text(l, key) }

// esc escapes people's text for Telegram's HTML parse mode, shortened to n
// characters.
func esc(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n]) + "…"
	}
	return html.EscapeString(s)
}

// taskURL links to the task in the console.
func taskURL(publicURL string, taskID int64) string {
	return strings.TrimRight(publicURL, "/") + "/tasks/" + strconv.FormatInt(taskID, 10)
}

// taskLabel names a task: its number and id ("T-000123 (#123)").
func taskLabel(number string, id int64) string {
	if number == "" {
		return "#" + strconv.FormatInt(id, 10)
	}
	return number + " (#" + strconv.FormatInt(id, 10) + ")"
}

// render writes the message one recipient gets for a notice.
func render(n *notifierv1.TaskNotice, language, publicURL string, zone *time.Location) string {
	l := language
	if w := n.GetWebhookDisabled(); w != nil {
		return renderWebhookDisabled(w, l, publicURL)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<b>%s</b>", esc(taskLabel(n.GetTaskNumber(), n.GetTaskId()), maxField))
	if t := n.GetTaskTitle(); t != "" {
		fmt.Fprintf(&b, " · %s", esc(t, maxField))
	}
	b.WriteString("\n<b>")
	if h := visitHeadline(n, l); h != "" {
		b.WriteString(h)
	} else {
		b.WriteString(headline(n, l))
	}
	b.WriteString("</b>\n")
	line := func(key, value string) {
		if strings.TrimSpace(value) != "" {
			fmt.Fprintf(&b, "\n%s: %s", tr(l, key), value)
		}
	}
	line("customer", esc(n.GetCustomerName(), maxField))
	line("contract", esc(n.GetContractNumber(), maxField))
	line("route", esc(n.GetRouteName(), maxField))
	if n.GetTaskState() == taskv1.TaskState_TASK_STATE_OPEN || n.GetTaskState() == taskv1.TaskState_TASK_STATE_UNSPECIFIED {
		line("process", esc(n.GetProcessName(), maxField))
	}
	if n.GetAssigneeName() != "" && n.GetKind() != taskv1.TaskEventKind_TASK_EVENT_KIND_ASSIGNED {
		line("assignee", esc(n.GetAssigneeName(), maxField))
	}
	actor := n.GetActorName()
	if actor == "" && n.GetActorId() == 0 {
		actor = tr(l, "system")
	}
	line("by", esc(actor, maxField))
	if v := n.GetVisit(); v != nil && v.GetStartTime() != nil {
		visitLines(&b, v, l, zone)
	}
	line("resolution", esc(n.GetResolution(), maxField))
	switch n.GetKind() {
	case taskv1.TaskEventKind_TASK_EVENT_KIND_ESCALATED:
		// the text says what was done: "priority", "queue"
		for _, how := range strings.Split(n.GetText(), ",") {
			if how == "priority" || how == "queue" {
				fmt.Fprintf(&b, "\n%s", tr(l, "escalated."+how))
			}
		}
	case taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_WARNING:
		// the text is the share, told in the headline
	default:
		if txt := n.GetText(); strings.TrimSpace(txt) != "" {
			fmt.Fprintf(&b, "\n%s: <i>%s</i>", tr(l, textKey(n.GetKind())), esc(txt, maxQuoted))
		}
	}
	if publicURL != "" {
		u := taskURL(publicURL, n.GetTaskId())
		fmt.Fprintf(&b, "\n\n<a href=\"%s\">%s</a>", html.EscapeString(u), tr(l, "open"))
	}
	return b.String()
}

// textKey names a step's text: a reason for an ending, a cancelled or
// failed visit, a reopening; else a comment.
func textKey(k taskv1.TaskEventKind) string {
	switch k {
	case taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED,
		taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_CANCELLED, taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_FAILED, taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED:
		return "reason"
	}
	return "comment"
}

// renderWebhookDisabled tells the supervisors a webhook subscription was
// switched off, and where to switch it on again.
func renderWebhookDisabled(w *notifierv1.WebhookDisabled, l, publicURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<b>%s</b>", messages.count(l, "webhook.disabled", int(w.GetFailures()), esc(w.GetName(), maxField), w.GetFailures()))
	if r := strings.TrimSpace(w.GetReason()); r != "" {
		fmt.Fprintf(&b, "\n%s: <i>%s</i>", tr(l, "webhook.reason"), esc(r, maxQuoted))
	}
	fmt.Fprintf(&b, "\n%s", tr(l, "webhook.fix"))
	if publicURL != "" {
		u := strings.TrimRight(publicURL, "/") + "/settings/webhooks"
		fmt.Fprintf(&b, "\n\n<a href=\"%s\">%s</a>", html.EscapeString(u), tr(l, "webhook.open"))
	}
	return b.String()
}

// headline says what happened, in a line.
func headline(n *notifierv1.TaskNotice, l string) string {
	proc := func(s string) string { return esc(s, maxField) }
	switch n.GetKind() {
	case taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED:
		return fmt.Sprintf(tr(l, "created"), proc(n.GetProcessName()))
	case taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED:
		if n.GetTaskState() != taskv1.TaskState_TASK_STATE_OPEN && n.GetTaskState() != taskv1.TaskState_TASK_STATE_UNSPECIFIED {
			return tr(l, "closed")
		}
		return fmt.Sprintf(tr(l, "advanced"), proc(n.GetFromProcessName()), proc(n.GetProcessName()))
	case taskv1.TaskEventKind_TASK_EVENT_KIND_RETURNED:
		return fmt.Sprintf(tr(l, "returned"), proc(n.GetFromProcessName()), proc(n.GetProcessName()))
	case taskv1.TaskEventKind_TASK_EVENT_KIND_ASSIGNED:
		who := n.GetAssigneeName()
		if who == "" {
			who = "#" + strconv.FormatInt(n.GetAssigneeId(), 10)
		}
		return fmt.Sprintf(tr(l, "assigned"), esc(who, maxField))
	case taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED:
		return tr(l, "commented")
	case taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED:
		return fmt.Sprintf(tr(l, "sla"), proc(n.GetProcessName()))
	case taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED:
		if n.GetTaskState() == taskv1.TaskState_TASK_STATE_CANCELLED {
			return tr(l, "cancelled")
		}
		return tr(l, "closed")
	case taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED:
		return tr(l, "cancelled")
	case taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED:
		return fmt.Sprintf(tr(l, "reopened"), proc(n.GetProcessName()))
	case taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_WARNING:
		return fmt.Sprintf(tr(l, "sla.warning"), esc(n.GetText(), 3), proc(n.GetProcessName()))
	case taskv1.TaskEventKind_TASK_EVENT_KIND_ESCALATED:
		return fmt.Sprintf(tr(l, "escalated"), proc(n.GetProcessName()))
	}
	return tr(l, "event")
}

// callbackData is what a button carries back: t:<task>:<process>:<action>
// (a task's actions, and a visit's reports).
// At most 2+19+1+19+1+4 = 46 bytes, within Telegram's 64.
func callbackData(taskID, processID int64, action string) string {
	return "t:" + strconv.FormatInt(taskID, 10) + ":" + strconv.FormatInt(processID, 10) + ":" + action
}

// parseCallback reads a button's data; ok is false for anything else.
func parseCallback(data string) (taskID, processID int64, action string, ok bool) {
	parts := strings.Split(data, ":")
	if len(parts) != 4 || parts[0] != "t" {
		return 0, 0, "", false
	}
	taskID, err1 := strconv.ParseInt(parts[1], 10, 64)
	processID, err2 := strconv.ParseInt(parts[2], 10, 64)
	switch {
	case err1 != nil, err2 != nil, taskID <= 0, processID < 0:
		return 0, 0, "", false
	case strconv.FormatInt(taskID, 10) != parts[1], strconv.FormatInt(processID, 10) != parts[2]:
		// only the spelling callbackData writes ("+5" or "05" is forged)
		return 0, 0, "", false
	}
	if !slices.Contains(actions, parts[3]) {
		return 0, 0, "", false
	}
	return taskID, processID, parts[3], true
}

// buttons are the actions a member of the task's current group gets:
// take (unless the task is theirs already), complete, return.
func buttons(n *notifierv1.TaskNotice, userID int64, language string) *tele.ReplyMarkup {
	l := language
	var row []tele.InlineButton
	if n.GetAssigneeId() != userID {
		row = append(row, tele.InlineButton{Text: tr(l, "btn.take"), Data: callbackData(n.GetTaskId(), n.GetProcessId(), actTake)})
	}
	row = append(row,
		tele.InlineButton{Text: tr(l, "btn.adv"), Data: callbackData(n.GetTaskId(), n.GetProcessId(), actAdvance)},
		tele.InlineButton{Text: tr(l, "btn.ret"), Data: callbackData(n.GetTaskId(), n.GetProcessId(), actReturn)},
	)
	return &tele.ReplyMarkup{InlineKeyboard: [][]tele.InlineButton{row}}
}

// encodeMarkup stores a keyboard as Bot API JSON.
func encodeMarkup(m *tele.ReplyMarkup) (string, error) {
	if m == nil {
		return "", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodeMarkup(s string) (*tele.ReplyMarkup, error) {
	if s == "" {
		return nil, nil
	}
	var m tele.ReplyMarkup
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return &m, nil
}
