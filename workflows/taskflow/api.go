// Package task is the durable workflow of one task: it carries the task
// along its route, process by process, takes people's commands as updates
// (refused at once when they do not apply), keeps the SLA and idle timers,
// and closes the task by the route's rules. The task service's tables are
// its read model, written by a local activity at every step.
package taskflow

import (
	"fmt"
	"slices"
	"time"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/workflows/calendar"
)

// WorkflowName is the workflow's registered type.
const WorkflowName = "TaskWorkflow"

// Update and query names.
const (
	UpdateAdvance = "advance"
	UpdateReturn  = "return"
	UpdateAssign  = "assign"
	UpdateCancel  = "cancel"
	UpdateComment = "comment"
	// UpdatePriority sets the task's priority (supervisors).
	UpdatePriority = "priority"
	// UpdateRetry (and the signal of the same name, for the Temporal CLI
	// and Web UI) retries the work a stuck task could not write.
	UpdateRetry = "retry"
	SignalRetry = "retry"
	QueryState  = "state"
	// UpdateCreate is sent with a service task's start (Update-with-Start)
	// and answers the task once its workflow has written it.
	UpdateCreate = "create"
	// UpdateReopen is sent with a closed task's new run (Update-with-Start)
	// and answers the task once the run has opened it again.
	UpdateReopen = "reopen"
	// SignalWritten is what a connection task's workflow sends its parent,
	// the contract's connection workflow, once it has written the task:
	// the task, as written.
	SignalWritten = "task-written"
)

// WorkflowID is the id of a task's workflow: one per task.
func WorkflowID(taskID int64) string { return fmt.Sprintf("task-%d", taskID) }

// Process is one step of the route snapshot.
type Process struct {
	ID         int64
	Name       string
	GroupID    int64
	SLASeconds int64
	// Action is what an automatic process does; nil: a manual process,
	// worked by its group.
	Action *Action `json:",omitempty"`
	// Visit: the process's work is a field visit, booked by dispatch.
	Visit bool `json:",omitempty"`
	// WaitsForCustomer: no SLA runs here; the process the task came from
	// keeps the rest of its own (see escalation.go).
	WaitsForCustomer bool `json:",omitempty"`
	// Escalation: a warning at WarnPercent of the SLA; EscalateAfter past a
	// breach, the supervisors told and the priority raised and/or the task
	// returned to the group's queue.
	WarnPercent          int32 `json:",omitempty"`
	EscalateAfterSeconds int64 `json:",omitempty"`
	EscalateRaise        bool  `json:",omitempty"`
	EscalateToQueue      bool  `json:",omitempty"`
}

// Action is an automatic process's action (see actions.go).
type Action struct {
	Kind      taskv1.ActionKind
	Operation taskv1.ContractOperation `json:",omitempty"`
	// WAIT: a duration, or until a time.
	WaitSeconds int64     `json:",omitempty"`
	WaitUntil   time.Time `json:",omitzero"`
	// NOTIFY_GROUP.
	GroupID int64  `json:",omitempty"`
	Message string `json:",omitempty"`
	// WEBHOOK.
	URL string `json:",omitempty"`
	// What a refusal does: stay stuck, or go to FailureProcessID.
	OnFailure        taskv1.FailureRule `json:",omitempty"`
	FailureProcessID int64              `json:",omitempty"`
}

// Params are what a task's actions need, chosen when it was opened.
type Params struct {
	TariffID int64 `json:",omitempty"`
}

// Rule is a close rule of the route snapshot.
type Rule struct {
	Kind        taskv1.CloseRuleKind
	ProcessID   int64 // 0: any process
	IdleSeconds int64
	Resolution  string
	Outcome     taskv1.TaskState
}

// Route is the route version a task runs on, copied into the workflow's
// input: a route edited later does not change a running task.
type Route struct {
	ID        int64
	Version   int32
	Name      string
	Processes []Process
	Rules     []Rule
	Effect    taskv1.ContractEffect
	// FollowUps open service tasks after a task closes.
	FollowUps []FollowUp `json:",omitempty"`
	// HighSLAPercent and UrgentSLAPercent: a high or an urgent task's SLA
	// as a share of each process's (0: the same).
	HighSLAPercent   int32 `json:",omitempty"`
	UrgentSLAPercent int32 `json:",omitempty"`
	// Calendars are the working time of the route's groups, by group, as
	// the task started (a group without one counts round the clock).
	Calendars map[int64]calendar.Calendar `json:",omitempty"`
}

// RouteFromProto snapshots a route.
func RouteFromProto(r *taskv1.Route) Route {
	out := Route{ID: r.GetId(), Version: r.GetVersion(), Name: r.GetName(), Effect: r.GetContractEffect(),
		HighSLAPercent: r.GetHighSlaPercent(), UrgentSLAPercent: r.GetUrgentSlaPercent()}
	for _, p := range r.GetProcesses() {
		out.Processes = append(out.Processes, Process{
			ID: p.GetId(), Name: p.GetName(), GroupID: p.GetGroupId(), SLASeconds: p.GetSlaSeconds(), Action: ActionFromProto(p), Visit: p.GetVisit(),
			WaitsForCustomer: p.GetWaitsForCustomer(), WarnPercent: p.GetWarnPercent(), EscalateAfterSeconds: p.GetEscalateAfterSeconds(),
			EscalateRaise: p.GetEscalateRaisePriority(), EscalateToQueue: p.GetEscalateToQueue(),
		})
	}
	for _, c := range r.GetCalendars() {
		for _, g := range c.GetGroupIds() {
			if out.Calendars == nil {
				out.Calendars = map[int64]calendar.Calendar{}
			}
			out.Calendars[g] = calendar.FromProto(c)
		}
	}
	for _, c := range r.GetCloseRules() {
		out.Rules = append(out.Rules, Rule{Kind: c.GetKind(), ProcessID: c.GetProcessId(), IdleSeconds: c.GetIdleSeconds(), Resolution: c.GetResolution(), Outcome: c.GetOutcome()})
	}
	for _, f := range r.GetFollowUps() {
		out.FollowUps = append(out.FollowUps, FollowUp{RouteID: f.GetRouteId(), AfterSeconds: f.GetAfterSeconds(), Title: f.GetTitle(), Description: f.GetDescription()})
	}
	return out
}

func (r Route) index(processID int64) int {
	return slices.IndexFunc(r.Processes, func(p Process) bool { return p.ID == processID })
}

// Input starts a task's workflow, and carries its state across
// continue-as-new.
type Input struct {
	TaskID     int64
	Number     string
	Kind       taskv1.TaskKind
	ContractID int64
	CustomerID int64
	CreatedBy  int64
	Route      Route
	State      State
	// Params are what its actions need (a tariff change's tariff).
	Params Params `json:",omitzero"`
	// Create, on a task's first run, is the task its workflow writes as
	// its first step; nil when the row was written before the workflow
	// started (tasks opened before their workflows wrote them).
	Create *NewTask
	// Reopen, on the run that opens a closed task again, is that step:
	// State is the task as it ended (its last sequence, groups, priority).
	Reopen *Reopen `json:",omitempty"`
}

// Reopen opens an ended task again in a process of its route.
type Reopen struct {
	Actor     Actor
	ProcessID int64
	Reason    string
	// After is the sequence of the task's last step; the reopening is the
	// next.
	After int64
}

// NewTask is what a task's row holds beyond its input, as the task
// service found it when the task was opened.
type NewTask struct {
	Title          string
	Description    string
	ContractNumber string
	CustomerName   string
	// ActorName names the creator on the timeline.
	ActorName string
	// Priority chosen at creation (UNSPECIFIED: normal).
	Priority taskv1.TaskPriority `json:",omitempty"`
}

// State is where the task stands. A new task starts in its first process
// with the CREATED step (sequence 1) already written by the task service.
type State struct {
	Position   int
	Sequence   int64
	AssigneeID int64
	// EnteredAt starts the current process's SLA clock.
	EnteredAt time.Time
	// LastActivity is the last command or comment (idle rules).
	LastActivity time.Time
	Breached     bool
	// Groups lists every group whose process the task has been in.
	Groups  []int64
	Outcome taskv1.TaskState
	Reason  string
	// StuckSince is when a step last could not be written after its
	// bounded retry (zero: the task is not stuck); StuckError says why and
	// StuckAttempts counts the retries since. StuckMarked tells whether
	// the read model knows.
	StuckSince    time.Time
	StuckError    string
	StuckAttempts int
	StuckMarked   bool
	// Acting: the current process is automatic and its action is still to
	// run. Acted: it has run (ActionError says why it failed, empty when
	// it succeeded) and the step it leads to is still to be written.
	// ActionRefused: the task is stuck because its action was refused; a
	// retry runs the action again.
	Acting        bool   `json:",omitempty"`
	Acted         bool   `json:",omitempty"`
	ActionError   string `json:",omitempty"`
	ActionRefused bool   `json:",omitempty"`
	// Visit is the booking of the current process's visit (nil: none).
	Visit *Booking `json:",omitempty"`
	// Priority: UNSPECIFIED in a task begun before priorities (normal).
	Priority taskv1.TaskPriority `json:",omitempty"`
	// Warned and Escalated: the current process's escalation levels that
	// have fired (each fires once).
	Warned    bool `json:",omitempty"`
	Escalated bool `json:",omitempty"`
	// SLASpent is the working time the current process's SLA had used
	// before the task last came back to it from waiting for the customer;
	// Paused is that process while the task waits.
	SLASpent time.Duration `json:",omitempty"`
	Paused   *Pause        `json:",omitempty"`
}

// Pause is the SLA a process kept while its task waits for the customer.
type Pause struct {
	ProcessID int64
	Spent     time.Duration
	Warned    bool `json:",omitempty"`
	Breached  bool `json:",omitempty"`
	Escalated bool `json:",omitempty"`
}

// clone copies the state deeply, so a step computed on the copy leaves
// the task as it was when the step cannot be written.
func (s State) clone() State {
	s.Groups = slices.Clone(s.Groups)
	s.Visit = s.Visit.clone()
	if s.Paused != nil {
		p := *s.Paused
		s.Paused = &p
	}
	return s
}

// Actor is the person behind a command, as the task service vouches for:
// their groups and whether they may act outside them (tasks.manage).
type Actor struct {
	UserID    int64
	Name      string
	Groups    []int64
	CanManage bool
	// Service: a service acting for someone outside the staff (the
	// notifier, for a customer writing in the chat).
	Service bool
}

// Advance completes the current process.
type Advance struct {
	Actor      Actor
	ProcessID  int64
	Comment    string
	Resolution string
}

// SetPriority changes how urgent the task is.
type SetPriority struct {
	Actor    Actor
	Priority taskv1.TaskPriority
}

// SLAShare is the share of a process's SLA a task of priority p has on
// route r, in per cent.
func (r Route) SLAShare(p taskv1.TaskPriority) int64 {
	share := int32(0)
	switch p {
	case taskv1.TaskPriority_TASK_PRIORITY_HIGH:
		share = r.HighSLAPercent
	case taskv1.TaskPriority_TASK_PRIORITY_URGENT:
		share = r.UrgentSLAPercent
	}
	if share <= 0 || share > 100 {
		return 100
	}
	return int64(share)
}

// Return sends the task back to an earlier process (0: the previous one).
type Return struct {
	Actor       Actor
	ProcessID   int64
	ToProcessID int64
	Comment     string
}

// Assign gives the task to a member of the current group.
type Assign struct {
	Actor     Actor
	ProcessID int64
	UserID    int64
	// AssigneeInGroup is the identity service's answer, asked by the task
	// service before sending the command.
	AssigneeInGroup bool
}

// Cancel ends the task with outcome CANCELLED.
type Cancel struct {
	Actor  Actor
	Reason string
}

// Retry asks a stuck task to write its pending work again now.
type Retry struct {
	Actor Actor
}

// Comment adds a comment; it resets idle timers.
type Comment struct {
	Actor    Actor
	Text     string
	Audience taskv1.CommentAudience
}

// Step is what a command's update answers: the task as the read model now
// has it, and the step's sequence (to find the comment it wrote).
type Step struct {
	Task     *taskv1.Task
	Sequence int64
}

// Result is how a task ended.
type Result struct {
	Outcome taskv1.TaskState
	Reason  string
}

// Snapshot is what the state query answers.
type Snapshot struct {
	TaskID     int64
	Open       bool
	ProcessID  int64
	Process    string
	GroupID    int64
	AssigneeID int64
	SLADueAt   time.Time
	Breached   bool
	Sequence   int64
	Stuck      bool
	StuckSince time.Time
	StuckError string
	// NextRetryAt is when a stuck task next retries on its own.
	NextRetryAt time.Time
	// Action is the activity (or timer) an automatic process runs, while
	// it runs; WaitUntil when a WAIT process's timer fires.
	Action    string    `json:",omitempty"`
	WaitUntil time.Time `json:",omitzero"`
}

// Reasons a command is refused; the task service maps each to a status.
const (
	ErrClosed    = "TaskClosed"
	ErrMoved     = "TaskMoved"
	ErrNotMember = "NotInGroup"
	ErrInvalid   = "InvalidCommand"
	// ErrRefused: the read model refused the step's data (a 400).
	ErrRefused = "StepRefused"
	// ErrStuck: the task's last step could not be written (a 503).
	ErrStuck = "TaskStuck"
	// ErrNotStuck: a retry of a task that is not stuck.
	ErrNotStuck = "TaskNotStuck"
	// ErrNotWritten: a new task's first step could not be written; the
	// task does not exist (a 503).
	ErrNotWritten = "TaskNotWritten"
	// ErrAutomatic: a person's move in a process that runs on its own.
	ErrAutomatic = "ProcessAutomatic"
)
