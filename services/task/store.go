package task

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/textsearch"
	"github.com/telecomcrm/crm/workflows/calendar"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

type taskRow struct {
	ID                   int64
	Number               string
	Kind                 int32
	State                int32
	Title                string
	Description          string
	RouteID              int64
	RouteVersion         int32
	RouteName            string
	ProcessID            int64
	ProcessName          string
	ProcessGroupID       int64
	ProcessPosition      int32
	ContractID           int64
	ContractNumber       string
	CustomerID           int64
	CustomerName         string
	AssigneeID           int64
	AssigneeName         string
	SLADueAt             int64 `gorm:"column:sla_due_at"`
	SLABreached          bool  `gorm:"column:sla_breached"`
	CreatedBy            int64
	CreatedAt            int64 `gorm:"autoCreateTime:false"`
	UpdatedAt            int64 `gorm:"autoUpdateTime:false"`
	ClosedAt             int64
	CloseReason          string
	WorkflowID           string
	Sequence             int64
	ConnectionContractID *int64
	// Stuck is set while the task's workflow cannot write a step;
	// StuckAt is when its workflow last marked or cleared it.
	Stuck       bool
	StuckReason string
	StuckAt     int64
	// TariffID is the tariff a tariff change was opened with.
	TariffID int64
	// SearchLower is the title and the customer's name folded
	// (textsearch.Fold) for the task search.
	SearchLower string
	// AwaitingVisit: the task's process requires a visit and none is
	// booked (the dispatcher's list).
	AwaitingVisit bool
	// Priority is a taskv1.TaskPriority (NORMAL unless set).
	Priority int32 `gorm:"default:2"`
}

func (taskRow) TableName() string { return "tasks" }

type eventRow struct {
	ID                int64
	TaskID            int64
	Sequence          int64
	Kind              int32
	At                int64
	ActorID           int64
	ActorName         string
	ProcessID         int64
	ProcessName       string
	FromProcessID     int64
	FromProcessName   string
	Text              string
	Resolution        string
	AssigneeID        int64
	AssigneeName      string
	NotifyGroups      string
	NotifySupervisors bool
	// NotifyUsers are told besides the groups (a visit's technicians);
	// VisitID is the booking the step wrote.
	NotifyUsers string
	VisitID     int64
	// Audience is the step's comment's (a comment to the customer is sent
	// to them).
	Audience   int32
	NoticeSent bool
	// Revision counts the steps this one replaced at its sequence (see
	// apply); 0 for nearly every step.
	Revision int32
	// LeftAt is when the stay an entry step began ended (see settleStays);
	// 0 while it goes on, and for other steps.
	LeftAt int64
	// Pending marks a step a workflow wrote that its history is not yet
	// known to hold (see confirm): nobody sees it, nor hears of it.
	Pending bool
	// State is the task's after the step (0 in rows written before it was
	// kept): a notice forwarded late tells of the step, not of the task as
	// it stands by then.
	State int32
}

func (eventRow) TableName() string { return "task_events" }

// The steps that move a task: an entry puts it in a process, and begins a
// stay there that the task's next move (an entry or an end) ends.
var (
	entryKinds = []taskv1.TaskEventKind{taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED,
		taskv1.TaskEventKind_TASK_EVENT_KIND_RETURNED, taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED}
	moveKinds = append(slices.Clone(entryKinds), taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED)
	// entrySteps selects the entries; the reports' index has it for its
	// predicate (0022_report_stays).
	entrySteps = "kind IN (" + kindList(entryKinds) + ") AND process_id <> 0"
	// leftAt is when an entry's stay ended: the task's next move, or 0.
	leftAt = `COALESCE((SELECT n.at FROM task_events n WHERE n.task_id = task_events.task_id AND n.sequence > task_events.sequence
		AND n.kind IN (` + kindList(moveKinds) + `) ORDER BY n.sequence LIMIT 1), 0)`
)

func kindList(kinds []taskv1.TaskEventKind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = strconv.Itoa(int(k))
	}
	return strings.Join(s, ", ")
}

// settleStays writes when the stays around a task's step at seq ended: the
// stay the entry before it began, and (for a step written late, after a
// later one) the stay it begins.
func settleStays(tx *gorm.DB, taskID, seq int64) error {
	return tx.Exec(`UPDATE task_events SET left_at = `+leftAt+` WHERE task_id = ? AND `+entrySteps+` AND sequence <= ?
		AND sequence >= (SELECT COALESCE(max(sequence), 0) FROM task_events WHERE task_id = ? AND sequence < ? AND `+entrySteps+`)`,
		taskID, seq, taskID, seq).Error
}

type commentRow struct {
	ID          int64
	TaskID      int64
	Sequence    int64
	AuthorID    int64
	AuthorName  string
	Text        string
	ProcessID   int64
	ProcessName string
	CreatedAt   int64 `gorm:"autoCreateTime:false"`
	// TextLower is the text folded (textsearch.Fold) for the task search.
	TextLower string
	// Audience: 0 among staff, else from or to the customer.
	Audience int32
}

func (commentRow) TableName() string { return "comments" }

type store struct {
	db     *gorm.DB
	routes *routeStore
	clock  func() int64
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func splitIDs(s string) []int64 {
	var out []int64
	for _, p := range strings.Split(s, ",") {
		if id, err := strconv.ParseInt(p, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// taskIDs hands out task ids. A service task's id comes before its row:
// the row is its workflow's first step, and the workflow is named by the
// id. An id allocated under an idempotency key is reserved for it, so a
// retried create joins the workflow of the first; it is kept as long as a
// retry under its key is answered.
var taskIDs = database.IDs{Table: "task_ids", Keep: idempotency.TTL.Microseconds()}

// allocate gives a new task id, or the one already reserved under
// reservation ("" reserves nothing).
func (s *store) allocate(ctx context.Context, reservation string) (int64, error) {
	return taskIDs.Allocate(ctx, s.db, reservation, s.clock())
}

// newTask is a task about to be written in its first process.
type newTask struct {
	row   taskRow
	route routeDef
	actor string
	// calendar is the first process's group's (nil: round the clock).
	calendar *calendar.Calendar
}

// taskNumber is a task's human number.
func taskNumber(id int64) string { return fmt.Sprintf("T-%06d", id) }

// insert writes a task with an allocated id in its first process, with its
// number and its CREATED step (sequence 1).
func insert(tx *gorm.DB, n newTask) (taskRow, error) {
	r := firstStep(n)
	first := n.route.Processes[0]
	if err := tx.Create(&r).Error; err != nil {
		return r, err
	}
	ev := eventRow{
		TaskID: r.ID, Sequence: 1, Kind: int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED), At: r.CreatedAt,
		ActorID: r.CreatedBy, ActorName: n.actor, ProcessID: first.ID, ProcessName: first.Name,
		Text: r.Title, NotifyGroups: joinIDs([]int64{first.GroupID}), State: int32(taskv1.TaskState_TASK_STATE_OPEN),
	}
	if err := tx.Create(&ev).Error; err != nil {
		return r, err
	}
	return r, queueHook(tx, &r, &ev, taskv1.TaskState_TASK_STATE_OPEN, first.GroupID)
}

// firstStep is a new task as its CREATED step leaves it: open in its
// route's first process, numbered, its SLA clock running.
func firstStep(n newTask) taskRow {
	first := n.route.Processes[0]
	r := n.row
	r.State = int32(taskv1.TaskState_TASK_STATE_OPEN)
	r.ProcessID, r.ProcessName, r.ProcessGroupID, r.ProcessPosition = first.ID, first.Name, first.GroupID, 1
	r.UpdatedAt, r.Sequence = r.CreatedAt, 1
	r.Number = taskNumber(r.ID)
	r.SearchLower = searchText(r.Title, r.CustomerName)
	if r.WorkflowID == "" {
		r.WorkflowID = taskflow.WorkflowID(r.ID)
	}
	if first.SLASeconds > 0 && !first.WaitsForCustomer {
		sla := time.Duration(first.SLASeconds*n.route.slaShare(taskv1.TaskPriority(r.Priority))/100) * time.Second
		r.SLADueAt = r.CreatedAt + sla.Microseconds()
		if n.calendar != nil {
			r.SLADueAt = n.calendar.Add(time.UnixMicro(r.CreatedAt), sla).UnixMicro()
		}
	}
	r.AwaitingVisit = first.Visit
	return r
}

// record writes a task as its workflow's first step; a retried
// write finds the task written by the first.
func (s *store) record(ctx context.Context, n newTask) (*taskRow, error) {
	var r taskRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Take(&r, n.row.ID).Error
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		r, err = insert(tx, n)
		return err
	})
	if err != nil && database.IsUniqueViolation(err) {
		// a concurrent retry of the same write won
		if e := s.db.WithContext(ctx).Take(&r, n.row.ID).Error; e == nil {
			return &r, nil
		}
	}
	return &r, err
}

// create writes the connection task of a contract, once per contract: a
// second call finds the first.
func (s *store) create(ctx context.Context, n newTask) (*taskRow, bool, error) {
	r := n.row
	existed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("connection_contract_id = ?", *r.ConnectionContractID).Take(&r).Error
		if err == nil {
			existed = true
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		n.row.CreatedAt = s.clock()
		if n.row.ID, err = taskIDs.AllocateIn(tx, "", n.row.CreatedAt); err != nil {
			return err
		}
		r, err = insert(tx, n)
		return err
	})
	if err != nil && database.IsUniqueViolation(err) {
		// a concurrent call for the same contract won; answer its task
		var prior taskRow
		if e := s.db.WithContext(ctx).Where("connection_contract_id = ?", *r.ConnectionContractID).Take(&prior).Error; e == nil {
			return &prior, true, nil
		}
	}
	return &r, existed, err
}

func (s *store) get(ctx context.Context, id int64) (*taskRow, error) {
	var r taskRow
	err := s.db.WithContext(ctx).Take(&r, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "task %d does not exist", id)
	}
	return &r, err
}

// discard removes a task that holds nothing but its CREATED step (its
// creation is undone); one gone already is no error.
func (s *store) discard(ctx context.Context, id int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r taskRow
		if err := tx.Select("id", "number", "sequence").Take(&r, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if r.Sequence > 1 {
			return fault.New(fault.FailedPrecondition, "task %s has moved on; it is kept", r.Number)
		}
		for _, m := range []any{&eventRow{}, &commentRow{}} {
			if err := tx.Where("task_id = ?", id).Delete(m).Error; err != nil {
				return err
			}
		}
		return tx.Delete(&taskRow{}, id).Error
	})
}

// apply writes one step of a task's workflow: its event (and comment), and
// the task's current state unless a later step is already there. A step
// already written is recognised by (task, sequence) and changes nothing.
func (s *store) apply(ctx context.Context, t *taskv1.Transition, assigneeName string) (*taskRow, bool, error) {
	if err := fits(t); err != nil {
		return nil, false, err
	}
	var (
		out       taskRow
		duplicate bool
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r taskRow
		if err := tx.Take(&r, t.GetTaskId()).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.NotFound, "task %d does not exist", t.GetTaskId())
		} else if err != nil {
			return err
		}
		def, err := s.routes.definition(ctx, r.RouteID, r.RouteVersion)
		if err != nil {
			return err
		}
		to, pos, _ := def.process(t.GetProcessId())
		from, _, _ := def.process(t.GetFromProcessId())
		ev := eventRow{
			TaskID: r.ID, Sequence: t.GetSequence(), Kind: int32(t.GetKind()), At: micros.FromProto(t.GetTime()),
			ActorID: t.GetActorId(), ActorName: t.GetActorName(), ProcessID: to.ID, ProcessName: to.Name,
			FromProcessID: from.ID, FromProcessName: from.Name, Text: t.GetText(), Resolution: t.GetResolution(),
			AssigneeID: t.GetAssigneeId(), NotifyGroups: joinIDs(t.GetNotifyGroupIds()), NotifySupervisors: t.GetNotifySupervisors(),
			NotifyUsers: joinIDs(t.GetNotifyUserIds()), Audience: int32(t.GetAudience()), Pending: true, State: int32(t.GetState()),
		}
		if t.GetKind() == taskv1.TaskEventKind_TASK_EVENT_KIND_ASSIGNED {
			ev.AssigneeName = assigneeName
			if t.GetAssigneeId() == t.GetActorId() {
				ev.AssigneeName = t.GetActorName()
			}
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev)
		if res.Error != nil {
			return res.Error
		}
		replaced := false
		if res.RowsAffected == 0 {
			var prior eventRow
			if err := tx.Where("task_id = ? AND sequence = ?", r.ID, t.GetSequence()).Take(&prior).Error; err != nil {
				return err
			}
			if sameStep(&prior, &ev) {
				duplicate, out = true, r
				return nil
			}
			// The sequence holds a step its workflow's history does not
			// have: the local activity wrote it, then the workflow task
			// was lost (its worker died, or Temporal dropped the update),
			// and the workflow gave the sequence to this step. The
			// history is the truth: this step takes the place.
			if err := tx.Where("task_id = ? AND sequence = ?", r.ID, t.GetSequence()).Delete(&commentRow{}).Error; err != nil {
				return err
			}
			if err := tx.Where("task_id = ? AND event_id = ? AND held", r.ID, eventID(&prior)).Delete(&hookEventRow{}).Error; err != nil {
				return err
			}
			if err := tx.Delete(&prior).Error; err != nil {
				return err
			}
			ev.ID, ev.Revision = 0, prior.Revision+1
			if err := tx.Create(&ev).Error; err != nil {
				return err
			}
			replaced = true
		}
		if slices.Contains(moveKinds, taskv1.TaskEventKind(ev.Kind)) {
			if err := settleStays(tx, r.ID, ev.Sequence); err != nil {
				return err
			}
		}
		if w := t.GetVisit(); w != nil {
			// A booking is written where the task is; one ended by a move,
			// where it was.
			where := to
			if from.ID != 0 {
				where = from
			}
			var by string
			if t.GetKind() == taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED {
				by = t.GetActorName()
			}
			id, err := writeVisit(tx, &r, t.GetSequence(), w, where, by, ev.At)
			if err != nil {
				return err
			}
			if id != 0 {
				ev.VisitID = id
				if err := tx.Model(&ev).Update("visit_id", id).Error; err != nil {
					return err
				}
			}
		}
		if t.GetComment() && t.GetText() != "" {
			where := to
			if from.ID != 0 {
				where = from // a comment made while completing or returning belongs to the process left
			}
			c := commentRow{TaskID: r.ID, Sequence: t.GetSequence(), AuthorID: t.GetActorId(), AuthorName: t.GetActorName(), Text: t.GetText(), ProcessID: where.ID, ProcessName: where.Name, CreatedAt: ev.At, TextLower: textsearch.Fold(t.GetText()), Audience: int32(t.GetAudience())}
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
		}
		if t.GetSequence() > r.Sequence || replaced && t.GetSequence() == r.Sequence {
			r.Sequence, r.UpdatedAt = t.GetSequence(), ev.At
			r.State = int32(t.GetState())
			r.SLADueAt, r.SLABreached = micros.FromProto(t.GetSlaDueAt()), t.GetSlaBreached()
			if p := t.GetPriority(); p != taskv1.TaskPriority_TASK_PRIORITY_UNSPECIFIED {
				r.Priority = int32(p)
			}
			if r.AssigneeID != t.GetAssigneeId() {
				r.AssigneeID, r.AssigneeName = t.GetAssigneeId(), ""
				if r.AssigneeID != 0 {
					if r.AssigneeID == t.GetActorId() {
						r.AssigneeName = t.GetActorName()
					} else {
						r.AssigneeName = assigneeName
					}
				}
			}
			if to.ID != 0 {
				r.ProcessID, r.ProcessName, r.ProcessGroupID, r.ProcessPosition = to.ID, to.Name, to.GroupID, int32(pos+1)
			}
			if t.GetState() != taskv1.TaskState_TASK_STATE_OPEN {
				r.ClosedAt, r.CloseReason = ev.At, t.GetCloseReason()
			} else {
				r.ClosedAt, r.CloseReason = 0, ""
			}
			r.AwaitingVisit = false
			if current, _, ok := def.process(r.ProcessID); ok && current.Visit && r.State == int32(taskv1.TaskState_TASK_STATE_OPEN) {
				var booked int64
				if err := tx.Model(&visitRow{}).Where("task_id = ? AND active = ?", r.ID, true).Count(&booked).Error; err != nil {
					return err
				}
				r.AwaitingVisit = booked == 0
			}
			if err := tx.Save(&r).Error; err != nil {
				return err
			}
		}
		if err := queueHook(tx, &r, &ev, t.GetState(), to.GroupID); err != nil {
			return err
		}
		out = r
		return nil
	})
	return &out, duplicate, err
}

// fits refuses a step whose text does not fit its columns, as PostgreSQL
// would (SQLite takes anything): a data error, not an outage, so the
// workflow answers its command with it instead of retrying.
func fits(t *taskv1.Transition) error {
	for _, f := range []struct {
		field, name, value string
		max                int
	}{
		// a cancel's reason is its text too: named as the reason
		{"closeReason", "reason", t.GetCloseReason(), 500}, {"resolution", "resolution", t.GetResolution(), 100},
		{"text", "text", t.GetText(), 4000}, {"actorName", "actor's name", t.GetActorName(), 200},
	} {
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return fault.Field(f.field, "the %s is %d characters long; at most %d fit", f.name, n, f.max)
		}
		control := func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }
		if strings.IndexFunc(f.value, control) >= 0 || !utf8.ValidString(f.value) {
			return fault.Field(f.field, "the %s holds a control character or bytes that are not UTF-8", f.name)
		}
	}
	return nil
}

// sameStep tells whether two steps at one sequence are the same step (a
// retried write), whenever each was written.
func sameStep(a, b *eventRow) bool {
	return a.Kind == b.Kind && a.ActorID == b.ActorID && a.ProcessID == b.ProcessID && a.FromProcessID == b.FromProcessID &&
		a.Text == b.Text && a.Resolution == b.Resolution && a.AssigneeID == b.AssigneeID
}

// taskFilter selects a queue, its order, and where its page begins.
type taskFilter struct {
	GroupID, ContractID, CustomerID, AssigneeID, RouteID int64
	State                                                int32
	Breached, Stuck, AwaitingVisit                       bool
	// ByPriority sorts by byPriority instead of newest first.
	ByPriority bool
	// After is the last task of the page before; zero on the first page.
	After pageKey
	Limit int
}

// pageKey is a task's place in a list: all that either order sorts by.
type pageKey struct {
	ID       int64 `json:"i"`
	Priority int32 `json:"p,omitempty"`
	SLADueAt int64 `json:"d,omitempty"`
}

func keyOf(r *taskRow) pageKey { return pageKey{ID: r.ID, Priority: r.Priority, SLADueAt: r.SLADueAt} }

// byPriority is the work queue's order, each part ascending so that a
// page begins after the last one's key with one row comparison: the most
// urgent first, then the soonest SLA due (a task with no SLA, 0, after
// every task with one), then the oldest. Migration 0021's indexes hold
// the same expressions, written alike, or the planner does not match them.
const byPriority = "-priority, CASE WHEN sla_due_at = 0 THEN 9223372036854775807 ELSE sla_due_at END, id"

// dueKey is an SLA due time as byPriority sorts it.
func dueKey(at int64) int64 {
	if at == 0 {
		return math.MaxInt64
	}
	return at
}

// order answers f's ORDER BY, and the condition (with its arguments) that
// begins the page after f.After; "" on the first page.
func (f taskFilter) order() (orderBy, after string, args []any) {
	switch {
	case f.ByPriority && f.After.ID != 0:
		return byPriority, "(" + byPriority + ") > (?, ?, ?)", []any{-f.After.Priority, dueKey(f.After.SLADueAt), f.After.ID}
	case f.ByPriority:
		return byPriority, "", nil
	case f.After.ID != 0:
		return "id DESC", "id < ?", []any{f.After.ID}
	}
	return "id DESC", "", nil
}

func (s *store) list(ctx context.Context, f taskFilter) ([]taskRow, error) {
	return s.page(ctx, "", "", nil, f)
}

// page answers the tasks that pass the filter (and the condition cond, when
// given) in the filter's order, after the statement's head (a WITH clause,
// or "").
func (s *store) page(ctx context.Context, head, cond string, args []any, f taskFilter) ([]taskRow, error) {
	where := []string{"1 = 1"}
	if cond != "" {
		where = append(where, cond)
	}
	add := func(c string, v ...any) {
		where, args = append(where, c), append(args, v...)
	}
	if f.State != 0 {
		// Written out, as the count below: a state is one of a few, and
		// the plan must know that open tasks are few among the closed
		// (and the open queues' indexes are partial on it).
		add("state = " + strconv.Itoa(int(f.State)))
	}
	if f.GroupID != 0 {
		add("process_group_id = ?", f.GroupID)
	}
	if f.ContractID != 0 {
		add("contract_id = ?", f.ContractID)
	}
	if f.CustomerID != 0 {
		add("customer_id = ?", f.CustomerID)
	}
	if f.AssigneeID != 0 {
		add("assignee_id = ?", f.AssigneeID)
	}
	if f.RouteID != 0 {
		add("route_id = ?", f.RouteID)
	}
	if f.Breached {
		add("sla_breached = ?", true)
	}
	if f.Stuck {
		add("stuck = true") // written out: the partial index's predicate
	}
	if f.AwaitingVisit {
		add("awaiting_visit = true") // as stuck
	}
	orderBy, after, afterArgs := f.order()
	if after != "" {
		add(after, afterArgs...)
	}
	var rows []taskRow
	// The count is written out: bound as a parameter, a generic plan
	// guesses a tenth of the table and walks the primary key instead of
	// the filter's index.
	err := s.db.WithContext(ctx).Raw(head+"SELECT * FROM tasks WHERE "+strings.Join(where, " AND ")+
		" ORDER BY "+orderBy+" LIMIT "+strconv.Itoa(f.Limit), args...).Scan(&rows).Error
	return rows, err
}

// setStuck records a task's stuck mark as its workflow decided at time
// at; a mark older than the one recorded (a retried write arriving late)
// changes nothing. It tells whether the task was not stuck before.
func (s *store) setStuck(ctx context.Context, id int64, stuck bool, reason string, at int64) (bool, error) {
	var became bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r taskRow
		if err := tx.Select("id", "stuck", "stuck_at").Take(&r, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.NotFound, "task %d does not exist", id)
		} else if err != nil {
			return err
		}
		if at < r.StuckAt {
			return nil
		}
		became = stuck && !r.Stuck
		if !stuck {
			reason = ""
		}
		return tx.Model(&taskRow{}).Where("id = ?", id).Updates(map[string]any{"stuck": stuck, "stuck_reason": reason, "stuck_at": at}).Error
	})
	return became, err
}

// countStuck counts the tasks marked stuck.
func (s *store) countStuck(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&taskRow{}).Where("stuck = true").Count(&n).Error
	return n, err
}

// events is a page of a task's timeline: its confirmed steps.
func (s *store) events(ctx context.Context, taskID, after int64, limit int) ([]eventRow, error) {
	var rows []eventRow
	err := s.db.WithContext(ctx).Where("task_id = ? AND sequence > ? AND NOT pending", taskID, after).Order("sequence").Limit(limit).Find(&rows).Error
	return rows, err
}

// comments is a page of a task's comments, those of confirmed steps.
func (s *store) comments(ctx context.Context, taskID, after int64, limit int) ([]commentRow, error) {
	var rows []commentRow
	err := s.db.WithContext(ctx).Where("task_id = ? AND sequence > ?", taskID, after).
		Where("NOT EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = comments.task_id AND e.sequence = comments.sequence AND e.pending)").
		Order("sequence").Limit(limit).Find(&rows).Error
	return rows, err
}

func (s *store) comment(ctx context.Context, taskID, seq int64) (*commentRow, error) {
	var c commentRow
	if err := s.db.WithContext(ctx).Take(&c, "task_id = ? AND sequence = ?", taskID, seq).Error; err != nil {
		return nil, err
	}
	return &c, nil
}

type loadRow struct {
	RouteID, ProcessID, ProcessGroupID int64
	RouteName, ProcessName             string
	Open, Breached                     int64
}

func (s *store) load(ctx context.Context) ([]loadRow, error) {
	var rows []loadRow
	err := s.db.WithContext(ctx).Model(&taskRow{}).
		Select("route_id, route_name, process_id, process_name, process_group_id, count(*) AS open, sum(CASE WHEN sla_breached THEN 1 ELSE 0 END) AS breached").
		Where("state = ?", int32(taskv1.TaskState_TASK_STATE_OPEN)).
		Group("route_id, route_name, process_id, process_name, process_group_id").
		Order("route_id, process_id").Scan(&rows).Error
	return rows, err
}

func (s *store) countOpenAssigned(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&taskRow{}).Where("state = ? AND assignee_id = ?", int32(taskv1.TaskState_TASK_STATE_OPEN), userID).Count(&n).Error
	return n, err
}

// unsent returns confirmed steps whose notices have not reached the
// notifier yet.
func (s *store) unsent(ctx context.Context, limit int) ([]eventRow, error) {
	var rows []eventRow
	err := s.db.WithContext(ctx).Where("notice_sent = ? AND NOT pending", false).Order("id").Limit(limit).Find(&rows).Error
	return rows, err
}

// confirm marks a task's steps through seq as its workflow's history holds
// them: shown, and their notices and webhook events free to go. It tells
// how many steps were pending.
//
// A workflow's step is written by a local activity inside the workflow
// task that decides it; if that workflow task is lost (Temporal or the
// worker killed before it was recorded), the step is not in the history
// and the workflow gives its sequence to another step, which replaces it
// (apply). Whoever learns that the history holds a sequence confirms it:
// the service when a command's update completes (its outcome is recorded
// with the workflow task), or the forwarder, asking the workflow, for
// steps nobody waited for (timers, automatic work).
func (s *store) confirm(ctx context.Context, taskID, seq int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&eventRow{}).Where("task_id = ? AND sequence <= ? AND pending", taskID, seq).Update("pending", false)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		n = res.RowsAffected
		return tx.Model(&hookEventRow{}).Where("task_id = ? AND sequence <= ? AND held", taskID, seq).Update("held", false).Error
	})
	return n, err
}

// pendingSteps returns steps still pending that were written before the
// given time (micros), oldest first.
func (s *store) pendingSteps(ctx context.Context, before int64, limit int) ([]eventRow, error) {
	var rows []eventRow
	err := s.db.WithContext(ctx).Select("id", "task_id", "sequence", "at").
		Where("notice_sent = ? AND pending AND at < ?", false, before).Order("id").Limit(limit).Find(&rows).Error
	return rows, err
}

// abandon gives up on a pending step its workflow's history does not hold
// long after it was written (its workflow task was lost and no step has
// taken its sequence yet): it stays hidden, its notice and webhook event
// never go, and the next step at its sequence replaces it.
func (s *store) abandon(ctx context.Context, e *eventRow) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&eventRow{}).Where("id = ? AND pending", e.ID).Update("notice_sent", true).Error; err != nil {
			return err
		}
		return tx.Where("task_id = ? AND sequence = ? AND held", e.TaskID, e.Sequence).Delete(&hookEventRow{}).Error
	})
}

func (s *store) markSent(ctx context.Context, id int64) error {
	return s.db.WithContext(ctx).Model(&eventRow{}).Where("id = ?", id).Update("notice_sent", true).Error
}
