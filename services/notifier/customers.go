package notifier

import (
	"context"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
)

// The customer's channel: the milestones of a customer's contract and
// requests are told to them once per event, by Telegram when they linked a
// chat (sharing their contact, matched to their unique phone), else by SMS
// to their first mobile number; not by a channel they opted out of. The
// milestones are read from the task notices the notifier already receives,
// so no route needs a step for them.

// Milestones a customer is told of.
const (
	msContractOpened   = "contract_opened"
	msVisitBooked      = "visit_booked"
	msVisitRescheduled = "visit_rescheduled"
	msVisitOnTheWay    = "visit_on_the_way"
	msConnected        = "connected"
	msRequestReceived  = "request_received"
	msRequestResolved  = "request_resolved"
	msStaffComment     = "staff_comment"
)

// Customer message states beyond the deliveries' own: an SMS the provider
// confirmed delivered, or that will not arrive.
const (
	stateDelivered   = "delivered"
	stateUndelivered = "undelivered"
)

// Reasons a customer message was not sent.
const (
	reasonOptedOut   = "the customer opted out of this channel"
	reasonNoNumber   = "the customer has no number to text"
	reasonNoProvider = "no SMS provider configured"
	reasonQuiet      = "quiet hours"
)

const (
	channelSMS      = int32(notifierv1.CustomerChannel_CUSTOMER_CHANNEL_SMS)
	channelTelegram = int32(notifierv1.CustomerChannel_CUSTOMER_CHANNEL_TELEGRAM)
)

// customerMessageRow is one milestone message to a customer.
type customerMessageRow struct {
	ID            int64
	EventID       string
	CustomerID    int64
	TaskID        int64
	Milestone     string
	Channel       int32
	Address       string
	Text          string
	State         string
	Urgent        bool
	NextAttemptAt int64
	Attempts      int32
	ProviderID    string
	StatusCheckAt int64
	SentAt        int64
	Uncertain     bool
	Reason        string
	CreatedAt     int64 `gorm:"autoCreateTime:false"`
	UpdatedAt     int64 `gorm:"autoUpdateTime:false"`
}

func (customerMessageRow) TableName() string { return "customer_messages" }

type customerChatRow struct {
	CustomerID int64 `gorm:"primaryKey;autoIncrement:false"`
	ChatID     int64
	Phone      string
	Language   string
	LinkedAt   int64
}

func (customerChatRow) TableName() string { return "customer_chats" }

type customerOptOutRow struct {
	CustomerID int64 `gorm:"primaryKey;autoIncrement:false"`
	Channel    int32 `gorm:"primaryKey;autoIncrement:false"`
	Since      int64
}

func (customerOptOutRow) TableName() string { return "customer_opt_outs" }

// milestone is what a notice means to the customer: which milestone, and
// whether it is urgent (sent in quiet hours too). "" when nothing.
func (s *Service) milestone(ctx context.Context, n *notifierv1.TaskNotice) (string, bool, error) {
	connection := n.GetTaskKind() == taskv1.TaskKind_TASK_KIND_CONNECTION
	closed := n.GetTaskState() == taskv1.TaskState_TASK_STATE_CLOSED
	switch n.GetKind() {
	case taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED:
		if connection {
			return msContractOpened, false, nil
		}
		return msRequestReceived, false, nil
	case taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED:
		if !closed {
			return "", false, nil
		}
		if connection {
			return msConnected, false, nil
		}
		return msRequestResolved, false, nil
	case taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED:
		told, err := s.store.toldOfVisit(ctx, n.GetCustomerId(), n.GetTaskId())
		if err != nil {
			return "", false, err
		}
		if told {
			return msVisitRescheduled, false, nil
		}
		return msVisitBooked, false, nil
	case taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ON_THE_WAY:
		return msVisitOnTheWay, true, nil
	case taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED:
		if n.GetCommentAudience() == taskv1.CommentAudience_COMMENT_AUDIENCE_TO_CUSTOMER {
			return msStaffComment, false, nil
		}
	}
	return "", false, nil
}

// customerText renders a milestone's message in a language: plain text
// (an SMS has no markup; Telegram's copy is escaped).
func (s *Service) customerText(ctx context.Context, n *notifierv1.TaskNotice, ms, l string) (string, error) {
	tpl, err := s.template(ctx, ms, l)
	if err != nil {
		return "", err
	}
	vars := map[string]string{
		"name": strings.TrimSpace(n.GetCustomerName()), "contract": n.GetContractNumber(),
		"task": n.GetTaskNumber(), "title": n.GetTaskTitle(), "text": strings.TrimSpace(n.GetText()),
	}
	if v := n.GetVisit(); v.GetStartTime() != nil {
		start, end := v.GetStartTime().AsTime().In(s.zone), v.GetEndTime().AsTime().In(s.zone)
		vars["date"], vars["from"], vars["to"], vars["until"] = start.Format("02.01.2006"), start.Format("15:04"), end.Format("15:04"), end.Format("15:04")
	}
	return fill(tpl, vars), nil
}

// tellCustomer queues the customer's message about a notice, if it is a
// milestone: by Telegram when linked, else by SMS, once per event. What
// cannot be sent is recorded with the reason, for the customer's log.
func (s *Service) tellCustomer(ctx context.Context, n *notifierv1.TaskNotice) error {
	if n.GetCustomerId() == 0 {
		return nil
	}
	ms, urgent, err := s.milestone(ctx, n)
	if err != nil || ms == "" {
		return err
	}
	if (ms == msVisitBooked || ms == msVisitRescheduled || ms == msVisitOnTheWay) && n.GetVisit().GetStartTime() == nil {
		return nil
	}
	cid := n.GetCustomerId()
	out, err := s.store.optOuts(ctx, cid)
	if err != nil {
		return err
	}
	row := customerMessageRow{EventID: stepKey(n.GetEventId()), CustomerID: cid, TaskID: n.GetTaskId(), Milestone: ms, Urgent: urgent, State: statePending}
	chat, err := s.store.customerChat(ctx, cid)
	if err != nil {
		return err
	}
	if chat != nil && s.BotEnabled() && !out[channelTelegram] {
		l := s.cfg.readerLang(chat.Language)
		text, err := s.customerText(ctx, n, ms, l)
		if err != nil {
			return err
		}
		row.Channel, row.Text = channelTelegram, text
		d := deliveryRow{
			EventID: customerEventID(row.EventID), ChatID: chat.ChatID, TaskID: n.GetTaskId(),
			TaskNumber: clip(n.GetTaskNumber(), 50), Language: l, Text: html.EscapeString(row.Text), State: statePending,
		}
		if err := s.store.queueCustomer(ctx, &row, &d); err != nil {
			return err
		}
		s.wakeSender([]int64{chat.ChatID})
		return nil
	}
	text, err := s.customerText(ctx, n, ms, s.cfg.Locale)
	if err != nil {
		return err
	}
	row.Channel, row.Text = channelSMS, text
	switch {
	case out[channelSMS]:
		row.State, row.Reason = stateSkipped, reasonOptedOut
	case s.sms == nil:
		row.State, row.Reason = stateSkipped, reasonNoProvider
	default:
		number, err := s.smsNumber(ctx, cid)
		if err != nil {
			return err
		}
		if number == "" {
			row.State, row.Reason = stateSkipped, reasonNoNumber
		}
		row.Address = number
	}
	if err := s.store.queueCustomer(ctx, &row, nil); err != nil {
		return err
	}
	if row.State == statePending {
		s.wake(s.wakeSMS)
	}
	return nil
}

// stepKey is a step's event id without its revision ("task-5/7.1" →
// "task-5/7"). A step replaced at its sequence (written, then dropped by
// its workflow's history and written anew) is the same moment to the
// customer: they hear of it once, though its first notice already went
// out.
func stepKey(eventID string) string {
	slash := strings.LastIndexByte(eventID, '/')
	if dot := strings.LastIndexByte(eventID, '.'); slash >= 0 && dot > slash {
		return eventID[:dot]
	}
	return eventID
}

// customerEventID names a customer's Telegram message among the
// deliveries, apart from the staff's messages of the same event.
func customerEventID(eventID string) string { return "customer:" + eventID }

// smsNumber is the number a customer's SMS go to: the first mobile one,
// else the first; "" when the customer has none (or is gone).
func (s *Service) smsNumber(ctx context.Context, customerID int64) (string, error) {
	if s.customers == nil {
		return "", nil
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := s.customers.GetCustomer(rctx, &customerv1.GetCustomerRequest{Id: customerID})
	if status.Code(err) == codes.NotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	phones := resp.GetCustomer().GetPhones()
	if i := slices.IndexFunc(phones, func(p *customerv1.Phone) bool { return strings.EqualFold(p.GetLabel(), "mobile") }); i >= 0 {
		return phones[i].GetNumber(), nil
	}
	if len(phones) > 0 {
		return phones[0].GetNumber(), nil
	}
	return "", nil
}

// queueCustomer writes a customer message (and its Telegram delivery),
// once per (event, customer): a repeated event writes nothing.
func (s *store) queueCustomer(ctx context.Context, m *customerMessageRow, d *deliveryRow) error {
	now := s.micros()
	m.CreatedAt, m.UpdatedAt, m.NextAttemptAt = now, now, now
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		create := func() (bool, error) {
			res := tx.Clauses(clause.OnConflict{
				Columns: []clause.Column{{Name: "event_id"}, {Name: "customer_id"}}, DoNothing: true,
			}).Create(m)
			return res.RowsAffected > 0, res.Error
		}
		created, err := create()
		if err == nil && !created {
			// A replaced step that is another milestone than the one
			// its sequence first held is news of its own.
			var prior customerMessageRow
			if err = tx.Where("event_id = ? AND customer_id = ?", m.EventID, m.CustomerID).Take(&prior).Error; err == nil && prior.Milestone != m.Milestone {
				m.ID, m.EventID = 0, m.EventID+"#"+m.Milestone
				if d != nil {
					d.EventID = customerEventID(m.EventID)
				}
				created, err = create()
			}
		}
		if err != nil || !created || d == nil {
			return err
		}
		d.CreatedAt, d.UpdatedAt, d.NextAttemptAt = now, now, now
		return tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "event_id"}, {Name: "user_id"}}, DoNothing: true,
		}).Create(d).Error
	})
}

// toldOfVisit tells whether a customer was already told of a booking of
// the task's visit (a new booking is then a rescheduling).
func (s *store) toldOfVisit(ctx context.Context, customerID, taskID int64) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&customerMessageRow{}).
		Where("customer_id = ? AND task_id = ? AND milestone IN ?", customerID, taskID, []string{msVisitBooked, msVisitRescheduled}).
		Count(&n).Error
	return n > 0, err
}

// customerChat is a customer's linked chat; chatCustomer a chat's
// customer; nil when none.
func (s *store) customerChat(ctx context.Context, customerID int64) (*customerChatRow, error) {
	return s.linkWhere(ctx, "customer_id = ?", customerID)
}

func (s *store) chatCustomer(ctx context.Context, chatID int64) (*customerChatRow, error) {
	return s.linkWhere(ctx, "chat_id = ?", chatID)
}

func (s *store) linkWhere(ctx context.Context, cond string, id int64) (*customerChatRow, error) {
	var rows []customerChatRow
	if err := s.db.WithContext(ctx).Where(cond, id).Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// linkCustomer links a chat to a customer; a chat or a customer linked
// before is linked anew (one chat a customer, one customer a chat).
func (s *store) linkCustomer(ctx context.Context, c *customerChatRow) error {
	c.LinkedAt = s.micros()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("chat_id = ? OR customer_id = ?", c.ChatID, c.CustomerID).Delete(&customerChatRow{}).Error; err != nil {
			return err
		}
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		return tx.Where("chat_id = ?", c.ChatID).Delete(&unreachableChatRow{}).Error
	})
}

func (s *store) optOuts(ctx context.Context, customerID int64) (map[int32]bool, error) {
	var rows []customerOptOutRow
	if err := s.db.WithContext(ctx).Where("customer_id = ?", customerID).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[int32]bool{}
	for _, r := range rows {
		out[r.Channel] = true
	}
	return out, nil
}

// setOptOut records (or lifts) a customer's opt-out of a channel.
func (s *store) setOptOut(ctx context.Context, customerID int64, channel int32, out bool) error {
	db := s.db.WithContext(ctx)
	if !out {
		return db.Where("customer_id = ? AND channel = ?", customerID, channel).Delete(&customerOptOutRow{}).Error
	}
	return db.Clauses(clause.OnConflict{DoNothing: true}).Create(&customerOptOutRow{CustomerID: customerID, Channel: channel, Since: s.micros()}).Error
}

// customerLog is a page of a customer's messages, newest first, with the
// state of the Telegram ones read from their deliveries.
func (s *store) customerLog(ctx context.Context, customerID, beforeID int64, n int) ([]customerMessageRow, map[string]deliveryRow, error) {
	q := s.db.WithContext(ctx).Where("customer_id = ?", customerID)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	var rows []customerMessageRow
	if err := q.Order("id DESC").Limit(n).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	var events []string
	for _, r := range rows {
		if r.Channel == channelTelegram {
			events = append(events, customerEventID(r.EventID))
		}
	}
	byEvent := map[string]deliveryRow{}
	if len(events) > 0 {
		var ds []deliveryRow
		if err := s.db.WithContext(ctx).Where("event_id IN ?", events).Find(&ds).Error; err != nil {
			return nil, nil, err
		}
		for _, d := range ds {
			byEvent[d.EventID] = d
		}
	}
	return rows, byEvent, nil
}

// maxCustomerLog bounds a page of a customer's messages.
const maxCustomerLog = 200

func (srv *Server) ListCustomerMessages(ctx context.Context, req *notifierv1.ListCustomerMessagesRequest) (*notifierv1.ListCustomerMessagesResponse, error) {
	size := pagetoken.Size(req.GetPageSize(), 50, maxCustomerLog)
	query := "customer-messages:" + strconv.FormatInt(req.GetCustomerId(), 10)
	var before int64
	if _, err := srv.svc.pages.Decode(req.GetPageToken(), query, &before); err != nil {
		return nil, err
	}
	rows, deliveries, err := srv.svc.store.customerLog(ctx, req.GetCustomerId(), before, size+1)
	if err != nil {
		return nil, err
	}
	out := &notifierv1.ListCustomerMessagesResponse{}
	rows, out.NextPageToken = pagetoken.Next(srv.svc.pages, query, rows, size, func(last *customerMessageRow) any { return last.ID })
	for _, r := range rows {
		m := &notifierv1.CustomerMessage{
			Id: r.ID, EventId: r.EventID, Channel: notifierv1.CustomerChannel(r.Channel), Milestone: r.Milestone,
			TaskId: r.TaskID, Text: r.Text, Address: r.Address, State: r.State, Reason: r.Reason, Attempts: r.Attempts,
			CreateTime: micros.Proto(r.CreatedAt), UpdateTime: micros.Proto(r.UpdatedAt),
		}
		if r.Channel == channelTelegram {
			m.Address = "telegram"
			if d, ok := deliveries[customerEventID(r.EventID)]; ok {
				m.State, m.Reason, m.Attempts, m.UpdateTime = d.State, d.Reason, d.Attempts, micros.Proto(d.UpdatedAt)
			}
		}
		if m.State == statePending && r.NextAttemptAt > 0 && r.Channel == channelSMS {
			m.NextAttemptTime = micros.Proto(r.NextAttemptAt)
		}
		out.Messages = append(out.Messages, m)
	}
	return out, nil
}

func (srv *Server) channels(ctx context.Context, customerID int64) (*notifierv1.CustomerChannels, error) {
	s := srv.svc
	chat, err := s.store.customerChat(ctx, customerID)
	if err != nil {
		return nil, err
	}
	out, err := s.store.optOuts(ctx, customerID)
	if err != nil {
		return nil, err
	}
	number, err := s.smsNumber(ctx, customerID)
	if err != nil {
		return nil, err
	}
	c := &notifierv1.CustomerChannels{SmsNumber: number, SmsOptOut: out[channelSMS], TelegramOptOut: out[channelTelegram]}
	if chat != nil {
		c.TelegramLinked, c.TelegramLinkTime = true, micros.Proto(chat.LinkedAt)
	}
	return c, nil
}

func (srv *Server) GetCustomerChannels(ctx context.Context, req *notifierv1.GetCustomerChannelsRequest) (*notifierv1.GetCustomerChannelsResponse, error) {
	c, err := srv.channels(ctx, req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	return &notifierv1.GetCustomerChannelsResponse{Channels: c}, nil
}

func (srv *Server) UpdateCustomerChannels(ctx context.Context, req *notifierv1.UpdateCustomerChannelsRequest) (*notifierv1.UpdateCustomerChannelsResponse, error) {
	if req.GetChannels() == nil {
		return nil, fault.Field("channels", "send the opt-outs to set")
	}
	cid := req.GetCustomerId()
	if srv.svc.customers != nil {
		if _, err := srv.svc.customers.GetCustomer(ctx, &customerv1.GetCustomerRequest{Id: cid}); err != nil {
			return nil, err
		}
	}
	st := srv.svc.store
	if err := st.setOptOut(ctx, cid, channelSMS, req.GetChannels().GetSmsOptOut()); err != nil {
		return nil, err
	}
	if err := st.setOptOut(ctx, cid, channelTelegram, req.GetChannels().GetTelegramOptOut()); err != nil {
		return nil, err
	}
	c, err := srv.channels(ctx, cid)
	if err != nil {
		return nil, err
	}
	return &notifierv1.UpdateCustomerChannelsResponse{Channels: c}, nil
}
