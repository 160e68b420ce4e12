package task

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auditlog"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/egress"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// WebhookConfig is the outbound webhooks' configuration.
type WebhookConfig struct {
	// AllowPrivate accepts subscriptions to loopback and private addresses
	// (a development stack, a receiver inside the operator's network). The
	// worker's CRM_WEBHOOK_ALLOW_PRIVATE must match.
	AllowPrivate bool `env:"CRM_WEBHOOK_ALLOW_PRIVATE"`
	// Attempts bounds the tries of each delivery (5 s apart at first,
	// doubling to 5 minutes: twenty span about 75 minutes).
	Attempts int32 `env:"CRM_WEBHOOK_ATTEMPTS" envDefault:"20"`
	// DisableAfter switches a subscription off after this many failed
	// deliveries in a row.
	DisableAfter int32 `env:"CRM_WEBHOOK_DISABLE_AFTER" envDefault:"5"`
}

// webhookRow is a subscription. Its secret is not stored: it is derived
// from the internal key, the id and the salt (taskflow.WebhookSecret).
type webhookRow struct {
	ID             int64
	Name           string
	URL            string
	Kinds          string // the event kinds' numbers, comma-separated
	Enabled        bool
	Failures       int32
	DisabledReason string
	// DisabledEvent is the delivery whose failure switched it off, whose
	// notice to the supervisors is sent again when that outcome is.
	DisabledEvent  string
	Salt           string
	CreatedBy      int64
	CreatedAt      int64
	UpdatedAt      int64
	LastDeliveryAt int64
}

func (webhookRow) TableName() string { return "webhooks" }

type deliveryRow struct {
	ID         int64
	WebhookID  int64
	EventID    string
	Kind       int32
	State      int32
	Attempts   int32
	StatusCode int32
	Error      string
	TaskID     int64
	ContractID int64
	CreatedAt  int64
	FinishedAt int64
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

// hookEventRow is an event waiting to be handed to the subscriptions,
// written in the same transaction as what it tells of.
type hookEventRow struct {
	ID         int64
	EventID    string
	Kind       int32
	Body       string
	TaskID     int64
	ContractID int64
	At         int64
	// Sequence is the step's; Held while the step is pending (see
	// store.confirm), when the event waits.
	Sequence int64
	Held     bool
}

func (hookEventRow) TableName() string { return "webhook_outbox" }

func (r *webhookRow) kinds() []taskv1.WebhookEventKind {
	var out []taskv1.WebhookEventKind
	for _, f := range strings.Split(r.Kinds, ",") {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, taskv1.WebhookEventKind(n))
		}
	}
	return out
}

// toProto answers the subscription; key is the internal key its secret is
// derived from, whose first characters tell it apart.
func (r *webhookRow) toProto(key []byte) *taskv1.Webhook {
	return &taskv1.Webhook{
		Id: r.ID, Name: r.Name, Url: r.URL, EventKinds: r.kinds(), Enabled: r.Enabled, Failures: r.Failures,
		DisabledReason: r.DisabledReason, SecretPrefix: taskflow.WebhookSecret(key, r.ID, r.Salt)[:12] + "…", CreatedBy: r.CreatedBy,
		CreateTime: micros.Proto(r.CreatedAt), UpdateTime: micros.Proto(r.UpdatedAt), LastDeliveryTime: micros.Proto(r.LastDeliveryAt),
	}
}

func (r *deliveryRow) toProto() *taskv1.WebhookDelivery {
	return &taskv1.WebhookDelivery{
		Id: r.ID, WebhookId: r.WebhookID, EventId: r.EventID, EventKind: taskv1.WebhookEventKind(r.Kind),
		State: taskv1.WebhookDeliveryState(r.State), Attempts: r.Attempts, StatusCode: r.StatusCode, Error: r.Error,
		TaskId: r.TaskID, ContractId: r.ContractID, CreateTime: micros.Proto(r.CreatedAt), FinishTime: micros.Proto(r.FinishedAt),
	}
}

// hookKind is the webhook event a task step makes, if any.
func hookKind(k taskv1.TaskEventKind) taskv1.WebhookEventKind {
	switch k {
	case taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED:
		return taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_CREATED
	case taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskEventKind_TASK_EVENT_KIND_RETURNED, taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED:
		return taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_PROCESS_ENTERED
	case taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED:
		return taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_CLOSED
	}
	return taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_UNSPECIFIED
}

// hookTypes are the events' "type" in the JSON a receiver gets.
var hookTypes = map[taskv1.WebhookEventKind]string{
	taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_CREATED:            "task.created",
	taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_PROCESS_ENTERED:    "task.process_entered",
	taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_CLOSED:             "task.closed",
	taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_CONTRACT_STATUS_CHANGED: "contract.status_changed",
}

// hookBody is the JSON a subscription receives (docs/webhooks.md). It
// carries ids and numbers, not the customer's name or phones: a receiver
// that needs more asks the REST API with a token.
type hookBody struct {
	ID       string        `json:"id"`
	Type     string        `json:"type"`
	Time     time.Time     `json:"time"`
	Task     *hookTask     `json:"task,omitempty"`
	Contract *hookContract `json:"contract,omitempty"`
}

type hookTask struct {
	ID          int64  `json:"id"`
	Number      string `json:"number"`
	Kind        string `json:"kind"`
	State       string `json:"state"`
	Priority    string `json:"priority"`
	Title       string `json:"title"`
	RouteID     int64  `json:"routeId"`
	Route       string `json:"route"`
	ProcessID   int64  `json:"processId,omitempty"`
	Process     string `json:"process,omitempty"`
	GroupID     int64  `json:"groupId,omitempty"`
	FromProcess string `json:"fromProcess,omitempty"`
	Resolution  string `json:"resolution,omitempty"`
	CloseReason string `json:"closeReason,omitempty"`
	CustomerID  int64  `json:"customerId"`
	ContractID  int64  `json:"contractId"`
}

type hookContract struct {
	ID         int64  `json:"id"`
	Number     string `json:"number"`
	CustomerID int64  `json:"customerId"`
	Status     string `json:"status"`
	TariffID   int64  `json:"tariffId,omitempty"`
}

// enumWord is an enum value's name without its prefix, lower-case
// ("TASK_STATE_OPEN" → "open").
func enumWord(name, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}

// queueHook writes a task step's webhook event into the outbox, inside
// the step's transaction: r is the task after the step, ev the step and
// groupID its process's group. Steps that make no webhook event are
// skipped; a step written again (a retry) is taken once.
func queueHook(tx *gorm.DB, r *taskRow, ev *eventRow, state taskv1.TaskState, groupID int64) error {
	kind := hookKind(taskv1.TaskEventKind(ev.Kind))
	if kind == taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_UNSPECIFIED {
		return nil
	}
	t := &hookTask{
		ID: r.ID, Number: r.Number, Kind: enumWord(taskv1.TaskKind(r.Kind).String(), "TASK_KIND_"),
		State: enumWord(state.String(), "TASK_STATE_"), Priority: enumWord(taskv1.TaskPriority(r.Priority).String(), "TASK_PRIORITY_"),
		Title: r.Title, RouteID: r.RouteID, Route: r.RouteName, CustomerID: r.CustomerID, ContractID: r.ContractID,
		FromProcess: ev.FromProcessName, Resolution: ev.Resolution,
	}
	if state == taskv1.TaskState_TASK_STATE_OPEN {
		t.ProcessID, t.Process, t.GroupID = ev.ProcessID, ev.ProcessName, groupID
	} else {
		t.CloseReason = r.CloseReason
	}
	id := eventID(ev)
	body, err := json.Marshal(hookBody{ID: id, Type: hookTypes[kind], Time: time.UnixMicro(ev.At).UTC(), Task: t})
	if err != nil {
		return err
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&hookEventRow{
		EventID: id, Kind: int32(kind), Body: string(body), TaskID: r.ID, ContractID: r.ContractID, At: ev.At,
		Sequence: ev.Sequence, Held: ev.Pending,
	}).Error
}

// hooks hands the outbox's events to the subscriptions: a delivery row
// and a delivery workflow for each subscription that wants the event's
// kind, then the event leaves the outbox. A crash between the two hands
// it over again, which the delivery's unique row and workflow id absorb.
type hooks struct {
	pump
	db    *gorm.DB
	flows Workflows
	cfg   WebhookConfig
	clock func() int64
}

func newHooks(db *gorm.DB, flows Workflows, cfg WebhookConfig, clock func() int64, log *slog.Logger) *hooks {
	h := &hooks{db: db, flows: flows, cfg: cfg, clock: clock}
	h.pump = newPump("cannot hand events to the webhooks; retrying", h.flush, log)
	return h
}

func (h *hooks) flush(ctx context.Context) (int, error) {
	var events []hookEventRow
	if err := h.db.WithContext(ctx).Where("NOT held").Order("id").Limit(100).Find(&events).Error; err != nil || len(events) == 0 {
		return 0, err
	}
	var subs []webhookRow
	if err := h.db.WithContext(ctx).Where("enabled = ?", true).Order("id").Find(&subs).Error; err != nil {
		return 0, err
	}
	for i, e := range events {
		for _, s := range subs {
			if !slices.Contains(s.kinds(), taskv1.WebhookEventKind(e.Kind)) {
				continue
			}
			d := deliveryRow{
				WebhookID: s.ID, EventID: e.EventID, Kind: e.Kind, State: int32(taskv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING),
				TaskID: e.TaskID, ContractID: e.ContractID, CreatedAt: h.clock(),
			}
			if err := h.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&d).Error; err != nil {
				return i, err
			}
			if err := h.flows.Deliver(ctx, taskflow.Delivery{
				WebhookID: s.ID, Salt: s.Salt, URL: s.URL, EventID: e.EventID, Body: json.RawMessage(e.Body), Attempts: h.cfg.Attempts,
			}); err != nil {
				return i, err
			}
		}
		if err := h.db.WithContext(ctx).Delete(&hookEventRow{}, e.ID).Error; err != nil {
			return i, err
		}
	}
	return len(events), nil
}

// WebhookServer implements taskv1.WebhookServiceServer.
type WebhookServer struct {
	taskv1.UnimplementedWebhookServiceServer
	tasks *Server
	db    *gorm.DB
	hooks *hooks
	key   []byte
}

// NewWebhookServer serves the webhook subscriptions of s's tasks; key is
// the internal key their secrets are derived from.
func NewWebhookServer(s *Server, key []byte) *WebhookServer {
	return &WebhookServer{tasks: s, db: s.store.db, hooks: s.hooks, key: key}
}

func (w *WebhookServer) ListWebhooks(ctx context.Context, _ *taskv1.ListWebhooksRequest) (*taskv1.ListWebhooksResponse, error) {
	var rows []webhookRow
	if err := w.db.WithContext(ctx).Order("id DESC").Limit(500).Find(&rows).Error; err != nil {
		return nil, err
	}
	resp := &taskv1.ListWebhooksResponse{}
	for i := range rows {
		resp.Webhooks = append(resp.Webhooks, rows[i].toProto(w.key))
	}
	return resp, nil
}

// check refuses a subscription that cannot be kept, naming the field.
func (w *WebhookServer) check(ctx context.Context, h *taskv1.Webhook) (name, url string, kinds string, err error) {
	name, url = strings.TrimSpace(h.GetName()), strings.TrimSpace(h.GetUrl())
	if name == "" {
		return "", "", "", fault.Field("webhook.name", "name the subscription")
	}
	if err := egress.CheckURL(ctx, url, w.hooks.cfg.AllowPrivate); err != nil {
		return "", "", "", fault.Field("webhook.url", "the address %s", err)
	}
	ks := slices.Clone(h.GetEventKinds())
	slices.Sort(ks)
	ks = slices.Compact(ks)
	if len(ks) == 0 {
		return "", "", "", fault.Field("webhook.eventKinds", "choose at least one event")
	}
	parts := make([]string, len(ks))
	for i, k := range ks {
		if _, ok := hookTypes[k]; !ok {
			return "", "", "", fault.Field("webhook.eventKinds", "event kind %d is unknown", k)
		}
		parts[i] = strconv.Itoa(int(k))
	}
	return name, url, strings.Join(parts, ","), nil
}

func (w *WebhookServer) CreateWebhook(ctx context.Context, req *taskv1.CreateWebhookRequest) (*taskv1.CreateWebhookResponse, error) {
	if len(w.key) == 0 {
		return nil, fault.New(fault.FailedPrecondition, "webhooks are not configured: the service has no internal key")
	}
	name, url, kinds, err := w.check(ctx, req.GetWebhook())
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	p, _ := auth.From(ctx)
	now := w.hooks.clock()
	r := webhookRow{Name: name, URL: url, Kinds: kinds, Enabled: true, Salt: hex.EncodeToString(salt), CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
	if err := w.db.WithContext(ctx).Create(&r).Error; err != nil {
		return nil, err
	}
	w.tasks.audit(ctx, "webhook.create", webhookTarget(r.ID), "webhook_created", "name", r.Name, "after", describeWebhook(nil, &r))
	return &taskv1.CreateWebhookResponse{Webhook: r.toProto(w.key), Secret: taskflow.WebhookSecret(w.key, r.ID, r.Salt)}, nil
}

func webhookTarget(id int64) string { return "webhook:" + strconv.FormatInt(id, 10) }

// webhookFields are what the audit log compares.
func webhookFields(r *webhookRow) map[string]string {
	if r == nil {
		return nil
	}
	var types []string
	for _, k := range r.kinds() {
		types = append(types, hookTypes[k])
	}
	return map[string]string{"name": r.Name, "url": r.URL, "events": strings.Join(types, ", "), "enabled": strconv.FormatBool(r.Enabled)}
}

// describeWebhook is what changed from before to after ("before" nil: all
// of after).
func describeWebhook(before, after *webhookRow) string {
	_, a := auditlog.Change(webhookFields(before), webhookFields(after))
	return a
}

func (w *WebhookServer) UpdateWebhook(ctx context.Context, req *taskv1.UpdateWebhookRequest) (*taskv1.UpdateWebhookResponse, error) {
	id, err := fault.UpdatedID("webhook", req.GetId(), req.GetWebhook().GetId())
	if err != nil {
		return nil, err
	}
	name, url, kinds, err := w.check(ctx, req.GetWebhook())
	if err != nil {
		return nil, err
	}
	var before, after webhookRow
	err = w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&before, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.NotFound, "webhook %d does not exist", id)
		} else if err != nil {
			return err
		}
		after = before
		after.Name, after.URL, after.Kinds, after.Enabled, after.UpdatedAt = name, url, kinds, req.GetWebhook().GetEnabled(), w.hooks.clock()
		if after.Enabled && !before.Enabled {
			after.Failures, after.DisabledReason = 0, ""
		}
		return tx.Save(&after).Error
	})
	if err != nil {
		return nil, err
	}
	if b, a := auditlog.Change(webhookFields(&before), webhookFields(&after)); b != a {
		w.tasks.audit(ctx, "webhook.update", webhookTarget(id), "webhook_changed", "name", after.Name, "before", b, "after", a)
	}
	return &taskv1.UpdateWebhookResponse{Webhook: after.toProto(w.key)}, nil
}

func (w *WebhookServer) DeleteWebhook(ctx context.Context, req *taskv1.DeleteWebhookRequest) (*taskv1.DeleteWebhookResponse, error) {
	var r webhookRow
	err := w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&r, req.GetId()).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.NotFound, "webhook %d does not exist", req.GetId())
		} else if err != nil {
			return err
		}
		if err := tx.Where("webhook_id = ?", r.ID).Delete(&deliveryRow{}).Error; err != nil {
			return err
		}
		return tx.Delete(&r).Error
	})
	if err != nil {
		return nil, err
	}
	w.tasks.audit(ctx, "webhook.delete", webhookTarget(r.ID), "webhook_named", "name", r.Name)
	return &taskv1.DeleteWebhookResponse{}, nil
}

type deliveryCursor struct {
	Before int64 `json:"b"`
}

func (w *WebhookServer) ListWebhookDeliveries(ctx context.Context, req *taskv1.ListWebhookDeliveriesRequest) (*taskv1.ListWebhookDeliveriesResponse, error) {
	if err := w.db.WithContext(ctx).Take(&webhookRow{}, req.GetWebhookId()).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "webhook %d does not exist", req.GetWebhookId())
	} else if err != nil {
		return nil, err
	}
	query := fmt.Sprintf("deliveries|%d|%d", req.GetWebhookId(), req.GetState())
	var cur deliveryCursor
	if _, err := w.tasks.pages.Decode(req.GetPageToken(), query, &cur); err != nil {
		return nil, err
	}
	size := pagetoken.Size(req.GetPageSize(), 50, 200)
	q := w.db.WithContext(ctx).Where("webhook_id = ?", req.GetWebhookId())
	if cur.Before > 0 {
		q = q.Where("id < ?", cur.Before)
	}
	if st := req.GetState(); st != taskv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_UNSPECIFIED {
		q = q.Where("state = ?", int32(st))
	}
	var rows []deliveryRow
	if err := q.Order("id DESC").Limit(size + 1).Find(&rows).Error; err != nil {
		return nil, err
	}
	resp := &taskv1.ListWebhookDeliveriesResponse{}
	rows, resp.NextPageToken = pagetoken.Next(w.tasks.pages, query, rows, size, func(r *deliveryRow) any { return deliveryCursor{Before: r.ID} })
	for i := range rows {
		resp.Deliveries = append(resp.Deliveries, rows[i].toProto())
	}
	return resp, nil
}

// RecordWebhookDelivery writes a delivery's outcome and keeps its
// subscription's count of failures in a row, switching it off at the
// configured count and telling the supervisors. An outcome written already
// is not counted twice; its notice, if it switched the subscription off,
// is sent again (the notifier sends an event once).
func (w *WebhookServer) RecordWebhookDelivery(ctx context.Context, req *taskv1.RecordWebhookDeliveryRequest) (*taskv1.RecordWebhookDeliveryResponse, error) {
	at := micros.FromProto(req.GetTime())
	if at == 0 {
		at = w.hooks.clock()
	}
	var disabled *webhookRow
	err := w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var d deliveryRow
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("webhook_id = ? AND event_id = ?", req.GetWebhookId(), req.GetEventId()).Take(&d).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil // the subscription was removed meanwhile
		} else if err != nil {
			return err
		}
		var s webhookRow
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&s, d.WebhookID).Error; err != nil {
			return err
		}
		if d.State != int32(taskv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING) {
			if !s.Enabled && s.DisabledEvent == d.EventID {
				disabled = &s
			}
			return nil
		}
		d.State, d.Attempts, d.StatusCode, d.Error, d.FinishedAt = int32(taskv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_FAILED), req.GetAttempts(), req.GetStatusCode(), req.GetError(), at
		if req.GetDelivered() {
			d.State, d.Error = int32(taskv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED), ""
		}
		if err := tx.Save(&d).Error; err != nil {
			return err
		}
		if req.GetDelivered() {
			s.Failures, s.LastDeliveryAt = 0, at
		} else {
			s.Failures++
			if s.Enabled && w.hooks.cfg.DisableAfter > 0 && s.Failures >= w.hooks.cfg.DisableAfter {
				// the console tells the count of failures besides
				s.Enabled, s.UpdatedAt, s.DisabledEvent = false, at, d.EventID
				s.DisabledReason = cmp.Or(req.GetError(), "the delivery failed")
				disabled = &s
			}
		}
		return tx.Save(&s).Error
	})
	if err != nil {
		return nil, err
	}
	if disabled != nil {
		w.tasks.log.Warn("webhook switched off after failed deliveries", "webhook", disabled.ID, "name", disabled.Name, "failures", disabled.Failures)
		if err := w.tellSwitchedOff(ctx, disabled); err != nil {
			return nil, err
		}
	}
	return &taskv1.RecordWebhookDeliveryResponse{}, nil
}

// tellSwitchedOff tells the supervisors through Telegram that s was
// switched off.
func (w *WebhookServer) tellSwitchedOff(ctx context.Context, s *webhookRow) error {
	_, err := w.tasks.notices.notifier.EnqueueTaskEvent(ctx, &notifierv1.EnqueueTaskEventRequest{Notice: &notifierv1.TaskNotice{
		EventId: "webhook-" + strconv.FormatInt(s.ID, 10) + "/disabled/" + s.DisabledEvent, Time: micros.Proto(s.UpdatedAt), IncludeSupervisors: true,
		WebhookDisabled: &notifierv1.WebhookDisabled{WebhookId: s.ID, Name: s.Name, Failures: s.Failures, Reason: s.DisabledReason},
	}})
	return err
}

// PublishWebhookEvent queues another service's event for the
// subscriptions.
func (w *WebhookServer) PublishWebhookEvent(ctx context.Context, req *taskv1.PublishWebhookEventRequest) (*taskv1.PublishWebhookEventResponse, error) {
	if req.GetKind() != taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_CONTRACT_STATUS_CHANGED {
		return nil, fault.Field("kind", "only contract.status_changed is published by other services")
	}
	at := micros.FromProto(req.GetTime())
	if at == 0 {
		at = w.hooks.clock()
	}
	body, err := json.Marshal(hookBody{
		ID: req.GetEventId(), Type: hookTypes[req.GetKind()], Time: time.UnixMicro(at).UTC(),
		Contract: &hookContract{
			ID: req.GetContractId(), Number: req.GetContractNumber(), CustomerID: req.GetCustomerId(),
			Status: enumWord(req.GetStatus(), "CONTRACT_STATUS_"), TariffID: req.GetTariffId(),
		},
	})
	if err != nil {
		return nil, err
	}
	err = w.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&hookEventRow{
		EventID: req.GetEventId(), Kind: int32(req.GetKind()), Body: string(body), ContractID: req.GetContractId(), At: at,
	}).Error
	if err != nil {
		return nil, err
	}
	w.hooks.kick()
	return &taskv1.PublishWebhookEventResponse{}, nil
}
