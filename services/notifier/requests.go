package notifier

import (
	"context"
	"html"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	tele "gopkg.in/telebot.v3"
	"gorm.io/gorm"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// A linked customer's message to the bot is a request: the bot asks which
// contract (when they have more than one in service) and which kind of
// request, then opens the service task on the kind's route with their
// words as its description, and tells them its number. A customer with no
// contract in service is told to call the office; nothing is created.

// requestTTL is how long a request waits for its contract and kind.
const requestTTL = 24 * time.Hour

type requestKindRow struct {
	ID       int64
	Code     string
	Label    string
	RouteID  int64
	Position int32
	Active   bool
}

func (requestKindRow) TableName() string { return "request_kinds" }

// label is the kind's name in a language: an admin's label, else the
// catalog's words for its code.
func (k *requestKindRow) label(l string) string {
	if k.Label != "" {
		return k.Label
	}
	return say(l, "kind."+k.Code)
}

type customerRequestRow struct {
	ID         int64
	ChatID     int64
	CustomerID int64
	Text       string
	ContractID int64
	TaskID     int64
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
}

func (customerRequestRow) TableName() string { return "customer_requests" }

func (s *store) requestKinds(ctx context.Context) ([]requestKindRow, error) {
	var rows []requestKindRow
	err := s.db.WithContext(ctx).Where("active = ?", true).Order("position, id").Find(&rows).Error
	return rows, err
}

func (s *store) requestKind(ctx context.Context, id int64) (*requestKindRow, error) {
	var rows []requestKindRow
	if err := s.db.WithContext(ctx).Where("id = ? AND active = ?", id, true).Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

func (s *store) saveRequest(ctx context.Context, r *customerRequestRow) error {
	r.CreatedAt = s.micros()
	return s.db.WithContext(ctx).Create(r).Error
}

func (s *store) request(ctx context.Context, id, chatID int64) (*customerRequestRow, error) {
	var rows []customerRequestRow
	if err := s.db.WithContext(ctx).Where("id = ? AND chat_id = ?", id, chatID).Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// openedRequest records the task a request opened; false when another
// press opened it first.
func (s *store) openedRequest(ctx context.Context, id, taskID int64) (bool, error) {
	res := s.db.WithContext(ctx).Model(&customerRequestRow{}).Where("id = ? AND task_id = 0", id).Update("task_id", taskID)
	return res.RowsAffected == 1, res.Error
}

func (s *store) purgeRequests(ctx context.Context, before time.Time) error {
	return s.db.WithContext(ctx).Where("created_at < ? AND task_id = 0", before.UTC().UnixMicro()).Delete(&customerRequestRow{}).Error
}

// requestData is a request button's data: r:<request>:<contract>:<kind>,
// contract or kind 0 while not chosen. At most 2+3×19+3 = 62 bytes.
func requestData(req, contract, kind int64) string {
	return "r:" + strconv.FormatInt(req, 10) + ":" + strconv.FormatInt(contract, 10) + ":" + strconv.FormatInt(kind, 10)
}

func parseRequestData(data string) (req, contract, kind int64, ok bool) {
	parts := strings.Split(data, ":")
	if len(parts) != 4 || parts[0] != "r" {
		return 0, 0, 0, false
	}
	var ids [3]int64
	for i, p := range parts[1:] {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id < 0 || strconv.FormatInt(id, 10) != p {
			return 0, 0, 0, false
		}
		ids[i] = id
	}
	if ids[0] == 0 {
		return 0, 0, 0, false
	}
	return ids[0], ids[1], ids[2], true
}

// inService are a customer's contracts a service task may be opened on.
func (s *Service) inService(ctx context.Context, customerID int64) ([]*contractv1.Contract, error) {
	resp, err := s.contracts.ListContracts(ctx, &contractv1.ListContractsRequest{CustomerId: customerID, PageSize: 100})
	if err != nil {
		return nil, err
	}
	var out []*contractv1.Contract
	for _, c := range resp.GetContracts() {
		switch c.GetStatus() {
		case contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE, contractv1.ContractStatus_CONTRACT_STATUS_SUSPENDED:
			out = append(out, c)
		}
	}
	return out, nil
}

// newRequest takes a linked customer's words as a request and asks for
// its contract or its kind.
func (b *chatBot) newRequest(ctx context.Context, c tele.Context, cust *customerChatRow, l, text string) {
	s := b.svc
	if s.contracts == nil {
		b.send(c, say(l, "cust.hint"))
		return
	}
	contracts, err := s.inService(ctx, cust.CustomerID)
	if err != nil {
		s.log.Warn("listing a customer's contracts failed", "err", err)
		b.send(c, say(l, "unavailable"))
		return
	}
	if len(contracts) == 0 {
		b.send(c, b.callOffice(l, "cust.req.nocontract"))
		return
	}
	r := &customerRequestRow{ChatID: c.Chat().ID, CustomerID: cust.CustomerID, Text: clip(text, 4000)}
	if len(contracts) == 1 {
		r.ContractID = contracts[0].GetId()
	}
	if err := s.store.saveRequest(ctx, r); err != nil {
		s.log.Warn("saving a customer's request failed", "err", err)
		b.send(c, say(l, "err.failed"))
		return
	}
	if r.ContractID != 0 {
		kb, err := b.kindButtons(ctx, r, l)
		if err != nil {
			b.send(c, say(l, "err.failed"))
			return
		}
		b.send(c, say(l, "cust.req.kind"), &tele.SendOptions{ReplyMarkup: kb})
		return
	}
	var rows [][]tele.InlineButton
	for _, k := range contracts[:min(len(contracts), 10)] {
		label := k.GetNumber()
		if a := strings.TrimSpace(k.GetAddress()); a != "" {
			label += " · " + clip(a, 40)
		}
		rows = append(rows, []tele.InlineButton{{Text: label, Data: requestData(r.ID, k.GetId(), 0)}})
	}
	b.send(c, say(l, "cust.req.contract"), &tele.SendOptions{ReplyMarkup: &tele.ReplyMarkup{InlineKeyboard: rows}})
}

func (b *chatBot) kindButtons(ctx context.Context, r *customerRequestRow, l string) (*tele.ReplyMarkup, error) {
	kinds, err := b.svc.store.requestKinds(ctx)
	if err != nil {
		return nil, err
	}
	var rows [][]tele.InlineButton
	for i := range kinds {
		rows = append(rows, []tele.InlineButton{{Text: kinds[i].label(l), Data: requestData(r.ID, r.ContractID, kinds[i].ID)}})
	}
	return &tele.ReplyMarkup{InlineKeyboard: rows}, nil
}

// callOffice is a phrase that sends the customer to the office: the
// key's ".phone" form with the office's number last when one is set.
func (b *chatBot) callOffice(l, key string, args ...any) string {
	if p := strings.TrimSpace(b.svc.cfg.OfficePhone); p != "" {
		return say(l, key+".phone", append(args, html.EscapeString(p))...)
	}
	return say(l, key, args...)
}

// onRequestButton takes the contract or the kind of a customer's request;
// with both, it opens the service task.
func (b *chatBot) onRequestButton(ctx context.Context, c tele.Context, data string) {
	s := b.svc
	l := s.cfg.telegramLang(c.Sender())
	reqID, contractID, kindID, ok := parseRequestData(data)
	if !ok || c.Chat() == nil {
		b.respond(c, say(l, "err.button"), false)
		return
	}
	cust, err := s.store.chatCustomer(ctx, c.Chat().ID)
	if err != nil || cust == nil {
		b.respond(c, say(l, "err.button"), true)
		return
	}
	if cust.Language != "" {
		l = cust.Language
	}
	r, err := s.store.request(ctx, reqID, c.Chat().ID)
	switch {
	case err != nil:
		b.respond(c, say(l, "err.failed"), true)
		return
	case r == nil || r.CustomerID != cust.CustomerID || s.now().Sub(time.UnixMicro(r.CreatedAt)) > requestTTL:
		b.respond(c, say(l, "cust.req.expired"), true)
		return
	case r.TaskID != 0:
		b.respond(c, say(l, "cust.req.done"), true)
		return
	}
	contracts, err := s.inService(ctx, cust.CustomerID)
	if err != nil {
		b.respond(c, say(l, "unavailable"), true)
		return
	}
	var contract *contractv1.Contract
	for _, k := range contracts {
		if k.GetId() == contractID {
			contract = k
		}
	}
	if contract == nil {
		b.respond(c, say(l, "cust.req.notinservice"), true)
		return
	}
	r.ContractID = contractID
	if kindID == 0 {
		kb, err := b.kindButtons(ctx, r, l)
		if err != nil {
			b.respond(c, say(l, "err.failed"), true)
			return
		}
		if _, err := b.bot.Edit(c.Callback().Message, say(l, "cust.req.kind"), &tele.SendOptions{ReplyMarkup: kb}); err != nil {
			s.log.Debug("asking a request's kind failed", "err", err)
		}
		b.respond(c, "", false)
		return
	}
	kind, err := s.store.requestKind(ctx, kindID)
	if err != nil || kind == nil {
		b.respond(c, say(l, "err.button"), true)
		return
	}
	resp, err := s.tasks.CreateTask(ctx, &taskv1.CreateTaskRequest{
		ContractId: contractID, RouteId: kind.RouteID, Title: clip(kind.label(s.cfg.Locale), 200), Description: r.Text,
	})
	if err != nil {
		if st := status.Convert(err); st.Code() == codes.InvalidArgument || st.Code() == codes.FailedPrecondition || st.Code() == codes.NotFound {
			b.respond(c, say(l, "err.refused", st.Message()), true)
			return
		}
		s.log.Warn("opening a customer's request failed", "err", err)
		b.respond(c, say(l, "unavailable"), true)
		return
	}
	t := resp.GetTask()
	if _, err := s.store.openedRequest(ctx, r.ID, t.GetId()); err != nil {
		s.log.Warn("recording a customer's request failed", "err", err)
	}
	text := say(l, "cust.req.opened", html.EscapeString(t.GetNumber()), html.EscapeString(kind.label(l)), html.EscapeString(contract.GetNumber()))
	if _, err := b.bot.Edit(c.Callback().Message, text); err != nil {
		b.send(c, text)
	}
	b.respond(c, "", false)
}

// openRequestWindow is how long after a request its chat's messages may
// still be comments on it (while its task is open).
const openRequestWindow = 30 * 24 * time.Hour

// lastRequestTask is the task of the chat's newest request opened within
// the window; 0 when none.
func (s *store) lastRequestTask(ctx context.Context, chatID int64, since time.Time) (int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&customerRequestRow{}).
		Where("chat_id = ? AND task_id <> 0 AND created_at >= ?", chatID, since.UTC().UnixMicro()).
		Order("id DESC").Limit(1).Pluck("task_id", &ids).Error
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// toOpenRequest adds a customer's message to their open request as a
// comment marked as theirs; false when they have no open request.
func (b *chatBot) toOpenRequest(ctx context.Context, c tele.Context, cust *customerChatRow, l, text string) bool {
	s := b.svc
	taskID, err := s.store.lastRequestTask(ctx, c.Chat().ID, s.now().Add(-openRequestWindow))
	if err != nil || taskID == 0 || text == "" {
		return false
	}
	t, err := s.tasks.GetTask(ctx, &taskv1.GetTaskRequest{Id: taskID})
	if err != nil || t.GetTask().GetState() != taskv1.TaskState_TASK_STATE_OPEN || t.GetTask().GetCustomerId() != cust.CustomerID {
		return false
	}
	_, err = s.tasks.AddComment(ctx, &taskv1.AddCommentRequest{TaskId: taskID, Text: clip(text, 4000), Audience: taskv1.CommentAudience_COMMENT_AUDIENCE_FROM_CUSTOMER})
	if err != nil {
		s.log.Warn("adding a customer's words to their request failed", "err", err)
		b.send(c, say(l, "unavailable"))
		return true
	}
	b.send(c, say(l, "cust.req.commented", html.EscapeString(t.GetTask().GetNumber())))
	return true
}

// forgetRequests removes requests never finished.
func (s *Service) forgetRequests(ctx context.Context) {
	if err := s.store.purgeRequests(ctx, s.now().Add(-requestTTL)); err != nil && ctx.Err() == nil {
		s.log.Warn("purging unfinished customer requests failed", "err", err)
	}
}

// maxRequestKinds bounds the kinds the bot offers (one button each).
const maxRequestKinds = 20

func (s *Service) kindProto(k *requestKindRow) *notifierv1.RequestKind {
	return &notifierv1.RequestKind{Id: k.ID, Label: k.Label, RouteId: k.RouteID, Code: k.Code, Name: k.label(s.cfg.Locale)}
}

func (srv *Server) ListRequestKinds(ctx context.Context, _ *notifierv1.ListRequestKindsRequest) (*notifierv1.ListRequestKindsResponse, error) {
	rows, err := srv.svc.store.requestKinds(ctx)
	if err != nil {
		return nil, err
	}
	out := &notifierv1.ListRequestKindsResponse{}
	for i := range rows {
		out.Kinds = append(out.Kinds, srv.svc.kindProto(&rows[i]))
	}
	return out, nil
}

func (srv *Server) UpdateRequestKinds(ctx context.Context, req *notifierv1.UpdateRequestKindsRequest) (*notifierv1.UpdateRequestKindsResponse, error) {
	s := srv.svc
	kinds := req.GetKinds()
	if len(kinds) > maxRequestKinds {
		return nil, fault.Field("kinds", "at most %d kinds", maxRequestKinds)
	}
	current, err := s.store.requestKinds(ctx)
	if err != nil {
		return nil, err
	}
	known := map[int64]*requestKindRow{}
	for i := range current {
		known[current[i].ID] = &current[i]
	}
	rows := make([]requestKindRow, len(kinds))
	for i, k := range kinds {
		field := "kinds[" + strconv.Itoa(i) + "]"
		label := strings.TrimSpace(k.GetLabel())
		prior, ok := known[k.GetId()]
		switch {
		case k.GetId() != 0 && !ok:
			return nil, fault.Field(field+".id", "request kind %d does not exist", k.GetId())
		case label == "" && (!ok || prior.Code == ""):
			return nil, fault.Field(field+".label", "a kind needs a name")
		case k.GetRouteId() == 1:
			return nil, fault.Field(field+".routeId", "route No. 1 is reserved for connection tasks; choose a service route")
		}
		if _, err := s.tasks.GetRoute(ctx, &taskv1.GetRouteRequest{Id: k.GetRouteId()}); status.Code(err) == codes.NotFound {
			return nil, fault.Field(field+".routeId", "route %d does not exist", k.GetRouteId())
		} else if err != nil {
			return nil, err
		}
		rows[i] = requestKindRow{ID: k.GetId(), Label: label, RouteID: k.GetRouteId(), Position: int32(i + 1), Active: true}
		if ok {
			rows[i].Code = prior.Code
		}
	}
	if err := s.store.replaceKinds(ctx, rows); err != nil {
		return nil, err
	}
	list, err := srv.ListRequestKinds(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &notifierv1.UpdateRequestKindsResponse{Kinds: list.GetKinds()}, nil
}

// replaceKinds makes rows the active kinds, in their order: the others
// are withdrawn (kept, for the requests that name them).
func (s *store) replaceKinds(ctx context.Context, rows []requestKindRow) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&requestKindRow{}).Where("active = ?", true).Update("active", false).Error; err != nil {
			return err
		}
		for i := range rows {
			if err := tx.Save(&rows[i]).Error; err != nil {
				return err
			}
		}
		return nil
	})
}
