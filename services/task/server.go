package task

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auditlog"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

const (
	defaultPage = 50
	maxPage     = 200
	manageTasks = "tasks.manage"
)

// Workflows starts task workflows and sends them commands.
type Workflows interface {
	// Create starts a service task's workflow, which writes the task, and
	// answers the task.
	Create(ctx context.Context, in taskflow.Input) (*taskv1.Task, error)
	Send(ctx context.Context, taskID int64, update string, arg any) (taskflow.Step, error)
	// Sequence tells the last step a task's workflow's history holds.
	Sequence(ctx context.Context, taskID int64) (int64, error)
	// Action tells how the action of the automatic process a task is in
	// stands (nil: none is running).
	Action(ctx context.Context, taskID int64) (*taskv1.ActionStatus, error)
	// Deliver starts the delivery of an event to a webhook subscription,
	// once however often it is asked.
	Deliver(ctx context.Context, d taskflow.Delivery) error
	// Reopen starts the run that opens an ended task again, and answers
	// its step once written.
	Reopen(ctx context.Context, in taskflow.Input) (taskflow.Step, error)
}

// Server implements taskv1.TaskServiceServer.
type Server struct {
	taskv1.UnimplementedTaskServiceServer
	store     *store
	routes    *routeStore
	pages     *pagetoken.Codec
	flows     Workflows
	contracts contractv1.ContractServiceClient
	customers customerv1.CustomerServiceClient
	identity  identityv1.IdentityServiceClient
	auditLog  *auditlog.Log
	notices   *forwarder
	hooks     *hooks
	calendars calendarStore
	log       *slog.Logger
	// locale is the deployment's language, of the titles it composes.
	locale string
	// reopenWithin is how long after its end a task may be opened again
	// (0: never).
	reopenWithin time.Duration
}

// contract fetches a contract for a task, as the caller.
func (s *Server) contract(ctx context.Context, id int64) (*contractv1.Contract, error) {
	resp, err := s.contracts.GetContract(ctx, &contractv1.GetContractRequest{Id: id})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return nil, fault.Field("contractId", "contract %d does not exist", id)
		}
		return nil, err
	}
	return resp.GetContract(), nil
}

func (s *Server) customerName(ctx context.Context, id int64) string {
	resp, err := s.customers.GetCustomer(ctx, &customerv1.GetCustomerRequest{Id: id})
	if err != nil {
		return "#" + strconv.FormatInt(id, 10)
	}
	return resp.GetCustomer().GetName()
}

// withProcesses adds the route version's processes to a task (the detail
// view shows them; lists do not).
func (s *Server) withProcesses(ctx context.Context, t *taskv1.Task) *taskv1.Task {
	if def, err := s.routes.definition(ctx, t.GetRouteId(), t.GetRouteVersion()); err == nil {
		for i, p := range def.Processes {
			t.Processes = append(t.Processes, def.processProto(i))
			if p.ID == t.GetCurrentProcess().GetId() {
				t.CurrentProcess.Kind, t.CurrentProcess.Action, t.CurrentProcess.Visit = t.Processes[i].Kind, t.Processes[i].Action, t.Processes[i].Visit
			}
		}
	}
	return t
}

// actor is the caller as a task workflow sees them.
func actor(ctx context.Context) taskflow.Actor {
	p, _ := auth.From(ctx)
	name := p.Name
	if name == "" {
		name = p.Login
	}
	return taskflow.Actor{UserID: p.UserID, Name: name, Groups: p.Groups, CanManage: p.Can(manageTasks) && !p.IsService(), Service: p.IsService()}
}

// command sends a command to a task's workflow and answers the task as it
// stands after the step.
func (s *Server) command(ctx context.Context, id int64, update string, arg any) (taskflow.Step, error) {
	row, err := s.store.get(ctx, id)
	if err != nil {
		return taskflow.Step{}, err
	}
	if row.State != int32(taskv1.TaskState_TASK_STATE_OPEN) {
		return taskflow.Step{}, fault.New(fault.FailedPrecondition, "task %s is %s", row.Number, strings.ToLower(strings.TrimPrefix(taskv1.TaskState(row.State).String(), "TASK_STATE_")))
	}
	// The task's row is its workflow's first step: a row found has its
	// workflow, and one not found there has ended.
	step, err := s.flows.Send(ctx, row.ID, update, arg)
	if err != nil {
		return taskflow.Step{}, commandError(row, err)
	}
	s.confirm(ctx, row.ID, step.Sequence)
	s.audit(ctx, "task."+update, "task:"+strconv.FormatInt(id, 10), "task_step", "number", row.Number, "process", row.ProcessName)
	return step, nil
}

// commandError maps a refused command to the status people see.
func commandError(row *taskRow, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		msg := app.Message()
		switch app.Type() {
		case taskflow.ErrClosed:
			return fault.New(fault.FailedPrecondition, "%s", msg)
		case taskflow.ErrMoved:
			return fault.New(fault.Aborted, "%s", msg).Because("TASK_MOVED", nil)
		case taskflow.ErrNotMember:
			return fault.New(fault.PermissionDenied, "%s", msg)
		case taskflow.ErrInvalid, taskflow.ErrRefused:
			return fault.New(fault.Invalid, "%s", msg)
		case taskflow.ErrVisit:
			return fault.New(fault.FailedPrecondition, "%s", msg).Because("VISIT_REFUSED", nil)
		case taskflow.ErrClash:
			return fault.New(fault.Conflict, "%s", msg).Because("VISIT_CLASH", nil)
		case taskflow.ErrStuck:
			return fault.New(fault.Unavailable, "%s", msg).Because("TASK_STUCK", nil)
		case taskflow.ErrNotStuck:
			return fault.New(fault.FailedPrecondition, "%s", msg)
		case taskflow.ErrAutomatic:
			return fault.New(fault.FailedPrecondition, "%s", msg).Because("PROCESS_AUTOMATIC", nil)
		}
	}
	if taskflow.IsGone(err) {
		return fault.New(fault.FailedPrecondition, "task %s is closed", row.Number)
	}
	return err
}

// confirm marks a task's steps through seq as its workflow's history holds
// them (an update's outcome is recorded with its workflow task), and lets
// their notices go. One that fails is confirmed by the forwarder instead.
func (s *Server) confirm(ctx context.Context, taskID, seq int64) {
	if _, err := s.store.confirm(ctx, taskID, seq); err != nil {
		s.log.Warn("cannot mark a task's steps as recorded; the forwarder will", "task", taskID, "err", err)
	}
	s.notices.kick()
	s.hooks.kick()
}

func (s *Server) respond(ctx context.Context, step taskflow.Step) *taskv1.Task {
	if row, err := s.store.get(ctx, step.Task.GetId()); err == nil {
		return s.withProcesses(ctx, row.toProto())
	}
	return step.Task
}

// requireText refuses a blank text; its length and characters are the
// proto's rules, checked before the handler runs.
func requireText(field, text string) error {
	if strings.TrimSpace(text) == "" {
		return fault.Field(field, "the %s is empty", field)
	}
	return nil
}

// userName is a user's display name, or their id when unknown.
func (s *Server) userName(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	if resp, err := s.identity.GetUser(auth.AsService(ctx), &identityv1.GetUserRequest{Id: id}); err == nil {
		if n := resp.GetUser().GetDisplayName(); n != "" {
			return n
		}
		return resp.GetUser().GetLogin()
	}
	return "#" + strconv.FormatInt(id, 10)
}
